"""Serve any Policy over websocket (msgpack + numpy), the exchange of openpi and RoboArena:
on connect the server sends the policy's metadata; then each observation in gets an action
chunk out ({"actions": K x 14}). Our clients may also send {"reset": {episode}} messages.

Every connection gets its own policy instance, so clients never disturb one another; inference
runs in a thread so one slow client does not stall the rest; a malformed message gets an
{"error": ...} reply and the connection stays open.
"""

from __future__ import annotations

import asyncio
import logging
import traceback
from collections.abc import Callable
from typing import Any

import websockets
from websockets.asyncio.server import ServerConnection, serve

from sim2real.core.policy import Policy, check_actions
from sim2real.core.records import EpisodeInfo
from sim2real.policy.msgpack_numpy import packb, unpackb

log = logging.getLogger("sim2real.serve")
MAX_MESSAGE_BYTES = 64 * 2**20  # three 640x480 images and change, with room to spare


class PolicyServer:
    def __init__(self, make_policy: Callable[[], Policy], host: str = "127.0.0.1", port: int = 8000):
        self.make_policy = make_policy
        self.host = host
        self.port = port
        self.metadata = make_policy().metadata.as_dict()

    async def handle(self, connection: ServerConnection) -> None:
        policy = self.make_policy()
        await connection.send(packb({**self.metadata, "supports_reset": True}))
        try:
            async for message in connection:
                reply = await asyncio.to_thread(self._answer, policy, message)
                await connection.send(packb(reply))
        except websockets.ConnectionClosed:
            pass  # the client went away mid-episode: only its own policy instance is dropped

    def _answer(self, policy: Policy, message: bytes | str) -> dict[str, Any]:
        try:
            if isinstance(message, str):
                return {"error": "expected a binary msgpack message, got text"}
            try:
                request = unpackb(message)
            except Exception as error:
                return {"error": f"message is not valid msgpack ({type(error).__name__}: {error})"}
            if not isinstance(request, dict):
                return {"error": f"expected a map (observation or reset), got {type(request).__name__}"}
            if "reset" in request:
                episode = request["reset"]
                policy.reset(EpisodeInfo.from_dict(episode) if episode else None)
                return {"ok": True}
            if "state" not in request:
                return {"error": "an observation needs at least 'state' (14 joint values)"}
            return {"actions": check_actions(policy.infer([request]), 1)[0]}
        except Exception as error:  # a bad request must never take the server down
            log.debug("request failed: %s", traceback.format_exc())
            return {"error": f"{type(error).__name__}: {error}"}

    async def serve_forever(self, ready: Callable[[int], None] | None = None) -> None:
        async with serve(self.handle, self.host, self.port, max_size=MAX_MESSAGE_BYTES,
                         compression=None) as server:
            port = next(iter(server.sockets)).getsockname()[1]
            if ready is not None:
                ready(port)
            await server.serve_forever()
