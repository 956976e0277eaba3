"""The policy server against real clients: ours and openpi's own (PyPI `openpi-client`), a shared
model for stateless policies, checked observations, a connection cap."""

import asyncio
import re
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
from websockets.sync.client import connect

from sim2real.core.contract import HOME_ACTION
from sim2real.core.policy import PolicyError, PolicyMetadata
from sim2real.errors import Sim2RealError
from sim2real.policy.client import RemotePolicy
from sim2real.policy.msgpack_numpy import packb, unpackb
from sim2real.policy.server import PolicyServer, ServerThread  # noqa: F401  (test_train_encoder imports it from here)


class SeeingPolicy:
    """Stateless and looks at a 32 x 24 head image: answers the mean brightness in a slot."""

    metadata = PolicyMetadata(name="seeing", cameras=("head",), image_size=(32, 24), stateful=False)

    def reset(self, episode=None):
        pass

    def infer(self, observations):
        chunk = np.tile(HOME_ACTION, (len(observations), 1, 1))
        chunk[:, 0, 0] = [o["images/head"].mean() / 255.0 for o in observations]
        return chunk


@pytest.fixture
def observation():
    return {"images/head": np.full((24, 32, 3), 51, np.uint8), "state": HOME_ACTION.copy(),
            "instruction": "Click the bell."}


def test_a_stateless_policy_is_loaded_once_and_shared_by_all_connections(observation):
    built = []

    def make():
        built.append(1)
        return SeeingPolicy()

    server = ServerThread(make)
    try:
        clients = [RemotePolicy(server.url) for _ in range(20)]
        answers = [client.infer([observation]) for client in clients]
        assert len(built) == 1  # today every connection loaded its own copy of the model
        assert all(np.isclose(a[0, 0, 0], 0.2) for a in answers)
        for client in clients:
            client.close()
    finally:
        server.stop()


def test_a_stateful_policy_gets_an_instance_per_connection(observation):
    from sim2real.policy.builtin import ZeroMotionPolicy

    built = []

    def make():
        built.append(1)
        return ZeroMotionPolicy()

    server = ServerThread(make)
    try:
        first, second = RemotePolicy(server.url), RemotePolicy(server.url)
        held = first.infer([{**observation, "state": HOME_ACTION + 0.1}])
        other = second.infer([observation])
        assert len(built) == 2  # the first connection reuses the instance probed for metadata
        np.testing.assert_allclose(held[0, 0], HOME_ACTION + 0.1)
        np.testing.assert_allclose(other[0, 0], HOME_ACTION)  # its own episode, not the first's
        first.close()
        second.close()
    finally:
        server.stop()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"images/head": np.full((24, 32, 3), 0.2, np.float32)}, r"'images/head' has dtype float32; expected uint8"),
        ({"images/head": np.zeros((48, 64, 3), np.uint8)}, r"'images/head' has shape \(48, 64, 3\); expected \(24, 32, 3\)"),
        ({"images/head": None}, r"lacks 'images/head', expected \(24, 32, 3\) uint8"),
        ({"state": None}, r"lacks 'state'"),
        ({"state": np.zeros(7)}, r"'state' has shape \(7,\)"),
        ({"instruction": None}, r"lacks 'instruction'"),
    ],
)
def test_observations_are_checked_against_the_metadata_and_errors_name_the_key(observation, change, message):
    """The server's own check, for any client (openpi's sends raw messages like these)."""
    server = ServerThread(SeeingPolicy)
    try:
        sent = {k: v for k, v in {**observation, **change}.items() if v is not None}
        with connect(server.url) as socket:
            unpackb(socket.recv(timeout=30))  # metadata
            socket.send(packb(sent))
            reply = socket.recv(timeout=30)
            assert isinstance(reply, str) and re.search(message, reply), reply
            socket.send(packb(observation))  # the connection stays usable
            assert unpackb(socket.recv(timeout=30))["actions"].shape == (1, 14)
    finally:
        server.stop()


def test_our_client_sends_images_at_the_size_the_server_declared(observation):
    server = ServerThread(SeeingPolicy)
    try:
        client = RemotePolicy(server.url)
        larger = {**observation, "images/head": np.zeros((48, 64, 3), np.uint8)}
        assert client.infer([larger]).shape == (1, 1, 14)  # resized by the client, as our VLA resizes
        client.close()
    finally:
        server.stop()


def test_a_server_at_its_connection_limit_refuses_with_the_reason():
    server = ServerThread(SeeingPolicy, max_connections=2)
    try:
        first, second = RemotePolicy(server.url), RemotePolicy(server.url)
        with pytest.raises(Sim2RealError, match="at its limit of 2 connections"):
            RemotePolicy(server.url)
        first.close()
        deadline = time.time() + 10
        while True:  # the server notices the close a moment later
            try:
                RemotePolicy(server.url).close()
                break
            except Sim2RealError:
                assert time.time() < deadline
                time.sleep(0.05)
        second.close()
    finally:
        server.stop()


@pytest.fixture(scope="module")
def zero_server():
    """`sim2real serve --policy zero` as a user starts it."""
    process = subprocess.Popen([sys.executable, "-m", "sim2real", "serve", "--policy", "zero", "--port", "0"],
                               stderr=subprocess.PIPE, text=True)
    url = None
    deadline = time.time() + 120
    while url is None and time.time() < deadline:
        match = re.search(r"(ws://127\.0\.0\.1:\d+)", process.stderr.readline())
        if match:
            url = match.group(1)
        elif process.poll() is not None:
            break
    if url is None:
        process.kill()
        pytest.fail("the policy server did not start")
    yield url
    process.terminate()
    process.wait(timeout=20)


def test_openpis_own_client_is_served_without_a_reset_and_raises_our_errors(zero_server):
    """openpi's WebsocketClientPolicy never sends a reset: the zero policy's episode starts at its
    first observation. Errors come back as a text frame, which openpi's client raises."""
    from openpi_client.websocket_client_policy import WebsocketClientPolicy  # a test dependency

    client = WebsocketClientPolicy(zero_server)
    assert client.get_server_metadata()["name"] == "zero"
    state = HOME_ACTION + 0.05
    reply = client.infer({"state": state, "instruction": "Hold still."})
    np.testing.assert_allclose(reply["actions"], state[None])
    later = client.infer({"state": HOME_ACTION, "instruction": "Hold still."})
    np.testing.assert_allclose(later["actions"], state[None])  # holds the episode's first state
    with pytest.raises(RuntimeError, match="lacks 'state'"):
        client.infer({"instruction": "no state"})


@pytest.mark.parametrize(
    ("message", "error"),
    [
        (b"\xc1\xff not msgpack", "not valid msgpack"),
        (packb([1, 2, 3]), "expected a map"),
        ("a text frame", "expected a binary msgpack message"),
    ],
)
def test_malformed_messages_get_an_error_text_frame_and_the_server_keeps_serving(zero_server, message, error):
    with connect(zero_server) as socket:
        unpackb(socket.recv(timeout=30))  # metadata
        socket.send(message)
        reply = socket.recv(timeout=30)
        assert isinstance(reply, str) and re.search(error, reply), reply
        socket.send(packb({"state": HOME_ACTION, "instruction": "still there?"}))
        assert unpackb(socket.recv(timeout=30))["actions"].shape == (1, 14)
