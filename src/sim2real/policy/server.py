"""Serve any Policy over websocket (msgpack + numpy), the exchange of openpi and RoboArena:
on connect the server sends the policy's metadata; then each observation in gets an action
chunk out ({"actions": K x 14}). Our clients may also send {"reset": {episode}} messages;
openpi's client never does, so an episode also starts implicitly on a connection's first
observation.

One model per server: a stateless policy (the reference VLA) is loaded once and shared by every
connection, its calls serialised; a stateful one (replay, zero, the expert) gets a fresh instance
per connection, built off the event loop. Inference runs in a thread, so one slow client does
not stall the rest. Errors follow openpi's convention: the error text comes back as a text frame
(openpi's client raises it). Unlike openpi's server, which then closes the connection with 1011,
ours keeps it open after a bad request, so a client can correct itself; a server at its
connection limit refuses the handshake with HTTP 503 and says why.
"""

from __future__ import annotations

import asyncio
import http
import logging
import threading
import traceback
from collections.abc import Callable
from contextlib import nullcontext
from typing import Any

import numpy as np
import websockets
from websockets.asyncio.server import ServerConnection, serve

from sim2real.core.contract import ACTION_DIM, INSTRUCTION_KEY, STATE_KEY, image_key
from sim2real.core.policy import Policy, PolicyMetadata, check_actions
from sim2real.core.records import EpisodeInfo
from sim2real.policy.msgpack_numpy import packb, unpackb

log = logging.getLogger("sim2real.serve")
MAX_MESSAGE_BYTES = 64 * 2**20  # three 640x480 images and change, with room to spare
DEFAULT_MAX_CONNECTIONS = 64


class RequestError(ValueError):
    """What is wrong with a client's message, in words the client can act on."""


def check_observation(observation: dict[str, Any], metadata: PolicyMetadata) -> None:
    """The observation has what the policy's metadata promises to read, in the contract's
    types: uint8 H x W x 3 images (at the policy's size, if it names one), 14 state values and
    an instruction string."""
    if STATE_KEY not in observation:
        raise RequestError(f"observation lacks {STATE_KEY!r} ({ACTION_DIM} joint values)")
    state = np.asarray(observation[STATE_KEY])
    if state.shape != (ACTION_DIM,) or not np.issubdtype(state.dtype, np.number):
        raise RequestError(f"{STATE_KEY!r} has shape {state.shape} and dtype {state.dtype}; "
                           f"expected ({ACTION_DIM},) numbers")
    if not metadata.privileged and INSTRUCTION_KEY not in observation:
        raise RequestError(f"observation lacks {INSTRUCTION_KEY!r} (a string)")
    if INSTRUCTION_KEY in observation and not isinstance(observation[INSTRUCTION_KEY], str):
        raise RequestError(f"{INSTRUCTION_KEY!r} is a {type(observation[INSTRUCTION_KEY]).__name__}; "
                           "expected a string")
    width, height = metadata.image_size or (None, None)
    expected = f"({height or 'H'}, {width or 'W'}, 3) uint8"
    for camera in metadata.cameras:
        key = image_key(camera)
        if key not in observation:
            raise RequestError(f"observation lacks {key!r}, expected {expected}")
        image = observation[key]
        if not isinstance(image, np.ndarray):
            raise RequestError(f"{key!r} is a {type(image).__name__}; expected an array {expected}")
        if image.dtype != np.uint8:
            # A float image in [0, 1] read on a 0-255 scale would be nearly black: refuse it.
            raise RequestError(f"{key!r} has dtype {image.dtype}; expected uint8 (0-255), shape {expected}")
        good = image.ndim == 3 and image.shape[2] == 3 and (
            width is None or image.shape[:2] == (height, width))
        if not good:
            raise RequestError(f"{key!r} has shape {image.shape}; expected {expected}")


class PolicyServer:
    def __init__(self, make_policy: Callable[[], Policy], host: str = "127.0.0.1", port: int = 8000,
                 max_connections: int = DEFAULT_MAX_CONNECTIONS) -> None:
        self.make_policy = make_policy
        self.host = host
        self.port = port
        self.max_connections = max_connections
        first = make_policy()
        self.policy_metadata: PolicyMetadata = first.metadata
        self.metadata = first.metadata.as_dict()
        self._shared = None if first.metadata.stateful else first
        self._spare = first if first.metadata.stateful else None  # the first connection's
        self._lock = threading.Lock()  # a shared model answers one request at a time
        self._connections = 0

    async def _new_policy(self) -> Policy:
        if self._shared is not None:
            return self._shared
        if self._spare is not None:
            policy, self._spare = self._spare, None
            return policy
        return await asyncio.to_thread(self.make_policy)

    def _refuse_when_full(self, connection: ServerConnection, request):
        if self._connections >= self.max_connections:
            return connection.respond(
                http.HTTPStatus.SERVICE_UNAVAILABLE,
                f"the policy server is at its limit of {self.max_connections} connections; "
                "try again when a client has disconnected\n",
            )
        return None

    async def handle(self, connection: ServerConnection) -> None:
        self._connections += 1
        try:
            policy = await self._new_policy()
            await connection.send(packb({**self.metadata, "supports_reset": True}))
            async for message in connection:
                reply = await asyncio.to_thread(self._answer, policy, message)
                await connection.send(reply if isinstance(reply, str) else packb(reply))
        except websockets.ConnectionClosed:
            pass  # the client went away mid-episode: only its own session is dropped
        finally:
            self._connections -= 1

    def _answer(self, policy: Policy, message: bytes | str) -> dict[str, Any] | str:
        """The reply to one message: a map, or the error text (sent as a text frame)."""
        try:
            request = self._parse(message)
            guard = self._lock if policy is self._shared else nullcontext()
            with guard:
                if "reset" in request:
                    episode = request["reset"]
                    policy.reset(EpisodeInfo.from_dict(episode) if episode else None)
                    return {"ok": True}
                check_observation(request, self.policy_metadata)
                return {"actions": check_actions(policy.infer([request]), 1)[0]}
        except RequestError as error:
            return f"bad request: {error}"
        except Exception as error:  # a failing policy must never take the server down
            log.debug("request failed: %s", traceback.format_exc())
            return f"policy error: {type(error).__name__}: {error}"

    @staticmethod
    def _parse(message: bytes | str) -> dict[str, Any]:
        if isinstance(message, str):
            raise RequestError("expected a binary msgpack message, got text")
        try:
            request = unpackb(message)
        except Exception as error:
            raise RequestError(f"message is not valid msgpack ({type(error).__name__}: {error})") from None
        if not isinstance(request, dict):
            raise RequestError(f"expected a map (observation or reset), got {type(request).__name__}")
        return request

    async def serve_forever(self, ready: Callable[[int], None] | None = None) -> None:
        async with serve(self.handle, self.host, self.port, max_size=MAX_MESSAGE_BYTES,
                         compression=None, process_request=self._refuse_when_full) as server:
            port = next(iter(server.sockets)).getsockname()[1]
            if ready is not None:
                ready(port)
            await server.serve_forever()


class ServerThread:
    """A PolicyServer on 127.0.0.1 with an OS-chosen port, in a thread of this process: what a
    station serves an uploaded checkpoint or a built-in baseline with, and what tests serve by."""

    def __init__(self, make_policy: Callable[[], Policy], host: str = "127.0.0.1", **options: Any) -> None:
        self.server = PolicyServer(make_policy, host, 0, **options)
        self.url = ""
        self._ready = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._failed: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="policy-server", daemon=True)
        self._thread.start()
        if not self._ready.wait(30) or self._failed is not None:
            raise OSError(f"the local policy server did not start: {self._failed or 'timeout'}")

    def _run(self) -> None:
        def ready(port: int) -> None:
            self.url = f"ws://{self.server.host}:{port}"
            self._ready.set()

        asyncio.set_event_loop(self._loop)
        self._task = self._loop.create_task(self.server.serve_forever(ready))
        try:
            self._loop.run_until_complete(self._task)
        except asyncio.CancelledError:
            pass
        except BaseException as error:  # noqa: BLE001 - a bind failure, reported by __init__
            self._failed = error
            self._ready.set()
        finally:
            self._loop.close()

    def stop(self) -> None:
        try:
            self._loop.call_soon_threadsafe(self._task.cancel)
        except RuntimeError:  # the loop has already ended
            pass
        self._thread.join(10)

    def __enter__(self) -> ServerThread:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
