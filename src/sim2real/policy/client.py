"""RemotePolicy: a Policy served elsewhere (ours, openpi's or RoboArena's) over websocket."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import ExitStack
from typing import Any

import numpy as np
from websockets.exceptions import InvalidStatus, WebSocketException
from websockets.sync.client import connect

from sim2real.core.contract import IMAGE_PREFIX
from sim2real.core.environment import Observation
from sim2real.core.policy import PolicyError, PolicyMetadata, only_observation
from sim2real.core.records import EpisodeInfo
from sim2real.errors import Sim2RealError
from sim2real.policy.msgpack_numpy import ReusablePacker, unpackb
from sim2real.policy.server import MAX_MESSAGE_BYTES


class RemotePolicy:
    def __init__(self, url: str, timeout: float = 60.0) -> None:
        self.url = url
        self.timeout = timeout
        self._connection = ExitStack()  # websockets wants its sync connection used as a context
        try:
            self._socket = self._connection.enter_context(
                connect(url, max_size=MAX_MESSAGE_BYTES, compression=None, open_timeout=timeout)
            )
            info = unpackb(self._socket.recv(timeout=timeout))
        except InvalidStatus as error:  # refused at the handshake (at its connection limit, say)
            reason = error.response.body.decode(errors="replace").strip() or str(error)
            raise Sim2RealError(f"the policy server at {url} refused the connection: {reason}") from None
        except (OSError, WebSocketException, TimeoutError) as error:
            raise Sim2RealError(f"cannot reach the policy server at {url}: {error}") from None
        self._packer = ReusablePacker()
        self.supports_reset = bool(info.pop("supports_reset", False))
        # One connection is one session on the server (openpi's servers keep per-connection
        # state), so a RemotePolicy serves one episode at a time.
        self.metadata = PolicyMetadata.from_dict({"name": url, **info, "stateful": True})

    def _request(self, message: dict[str, Any]) -> dict[str, Any]:
        try:
            self._socket.send(self._packer.pack(message))
            reply = self._socket.recv(timeout=self.timeout)
        except (OSError, WebSocketException, TimeoutError) as error:
            raise PolicyError(f"lost the policy server at {self.url}: {error}") from None
        if isinstance(reply, str):  # openpi's convention: an error comes back as a text frame
            raise PolicyError(f"policy server error: {reply}")
        reply = unpackb(reply)
        if isinstance(reply, dict) and "error" in reply:  # older servers of ours
            raise PolicyError(f"policy server error: {reply['error']}")
        return reply

    def reset(self, episode: EpisodeInfo | None = None) -> None:
        if self.supports_reset:  # openpi-style servers have no reset message
            self._request({"reset": episode.as_dict() if episode else {}})

    def infer(self, observations: Sequence[Observation]) -> np.ndarray:
        reply = self._request(self._fit_images(only_observation(observations, self.url)))
        if "actions" not in reply:
            raise PolicyError(f"policy server replied without 'actions': keys {sorted(reply)}")
        return np.asarray(reply["actions"])[None]

    def _fit_images(self, observation: Observation) -> dict[str, Any]:
        """The observation with every image at the size the server declared (a robot's cameras
        or an env rendering for another policy may give other sizes), resized as our own VLA
        resizes its inputs."""
        message = dict(observation)
        if not self.metadata.image_size:
            return message
        width, height = self.metadata.image_size
        for key, value in observation.items():
            image = np.asarray(value)
            if key.startswith(IMAGE_PREFIX) and image.ndim == 3 and image.shape[:2] != (height, width):
                from sim2real.policy.transforms import resize_images

                message[key] = resize_images(image[None], height, width)[0].numpy()
        return message

    def close(self) -> None:
        self._connection.close()
