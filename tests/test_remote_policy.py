"""Remote policies over websocket: a real server process on 127.0.0.1, real clients."""

import re
import subprocess
import sys
import time

import numpy as np
import pytest

import sim2real
from websockets.sync.client import connect

from sim2real.evaluate.rollout import run_episode
from sim2real.policy.builtin import ExpertPolicy
from sim2real.policy.client import RemotePolicy
from sim2real.policy.msgpack_numpy import packb, unpackb


@pytest.fixture(scope="module")
def server_url():
    process = subprocess.Popen(
        [sys.executable, "-m", "sim2real", "serve", "--policy", "expert", "--port", "0"],
        stderr=subprocess.PIPE, text=True,
    )
    url = None
    deadline = time.time() + 120
    while url is None and time.time() < deadline:
        line = process.stderr.readline()
        match = re.search(r"(ws://127\.0\.0\.1:\d+)", line)
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


def test_metadata_on_connect(server_url):
    policy = RemotePolicy(server_url)
    assert policy.metadata.name == "expert" and policy.metadata.privileged
    assert policy.supports_reset
    policy.close()


def test_remote_expert_equals_local_expert_per_seed(server_url, blind_env):
    remote = RemotePolicy(server_url)
    for seed in (1, 2, 3):
        local_record = run_episode(blind_env, ExpertPolicy(), seed)
        remote_record = run_episode(blind_env, remote, seed)
        assert remote_record.success == local_record.success
        assert remote_record.steps == local_record.steps
        assert remote_record.inferences == local_record.inferences
    remote.close()


def test_a_client_leaving_mid_episode_does_not_disturb_another(server_url, blind_env):
    observation, info = blind_env.reset(seed=4)
    leaver = RemotePolicy(server_url)
    leaver.reset(info["episode"])
    leaver.infer([observation])
    stayer = RemotePolicy(server_url)
    leaver.close()  # gone mid-episode
    record = run_episode(blind_env, stayer, seed=4)
    assert record.success
    stayer.close()


def test_simultaneous_clients_and_an_abrupt_drop(server_url, blind_env):
    """Three clients at once: one vanishes without a close handshake while its request is in
    flight; the other two finish their episodes exactly as a local expert does."""
    import socket
    from concurrent.futures import ThreadPoolExecutor

    observation, info = blind_env.reset(seed=6)
    dropper = RemotePolicy(server_url)
    dropper.reset(info["episode"])
    dropper._socket.send(packb(dict(observation)))  # a request in flight...
    dropper._socket.socket.shutdown(socket.SHUT_RDWR)  # ...and the client is gone, no close frame

    def episode(seed: int) -> tuple[bool, int]:
        env = sim2real.make("click_bell", cameras=())
        policy = RemotePolicy(server_url)
        try:
            record = run_episode(env, policy, seed=seed)
            return record.success, record.steps
        finally:
            policy.close()
            env.close()

    with ThreadPoolExecutor(2) as pool:
        remote = list(pool.map(episode, (7, 8)))
    local = []
    for seed in (7, 8):
        record = run_episode(blind_env, ExpertPolicy(), seed=seed)
        local.append((record.success, record.steps))
    assert remote == local and all(success for success, _ in remote)


def test_arrays_round_trip_exactly():
    images = {"images/head": np.random.default_rng(0).integers(0, 255, (24, 32, 3), dtype=np.uint8)}
    message = {**images, "state": np.linspace(0, 1, 14), "instruction": "Click the bell."}
    back = unpackb(packb(message))
    np.testing.assert_array_equal(back["images/head"], message["images/head"])
    assert back["state"].dtype == np.float64 and back["instruction"] == "Click the bell."


def test_reusable_packer_gives_the_same_bytes_message_after_message():
    from sim2real.policy.msgpack_numpy import ReusablePacker

    packer = ReusablePacker()
    rng = np.random.default_rng(1)
    for size in (48, 16, 64):  # larger and smaller than the last message
        message = {"images/head": rng.integers(0, 255, (size, size, 3), dtype=np.uint8),
                   "state": rng.normal(size=14), "instruction": "Stack the bowls."}
        assert bytes(packer.pack(message)) == packb(message)
