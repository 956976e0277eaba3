"""The submitted policy server, checked before any job is scheduled: it answers the websocket
handshake, announces its metadata (openpi's exchange: the first message is a msgpack map), and
that metadata fits what the benchmark's stations offer. Nothing it sends is executed: the
metadata is read as plain msgpack data."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from sim2real.core.contract import ACTION_DIM, ACTION_SPACE
from sim2real.core.policy import PolicyMetadata
from sim2real.platform.errors import Refused


class EndpointRefused(Refused):
    """The endpoint is unreachable or its metadata does not fit the benchmark."""


def check_policy(policy: str) -> str:
    """A submission's policy: a policy server's address, or one the station serves itself (an
    uploaded checkpoint by its digest, or the built-in expert)."""
    from sim2real.platform.checkpoints import BUILTIN_EXPERT, CHECKPOINT_PREFIX, digest_of

    if policy.startswith(CHECKPOINT_PREFIX):
        digest_of(policy)
        return policy
    if policy == BUILTIN_EXPERT:
        return policy
    return check_url(policy)


def check_url(url: str) -> str:
    parsed = urlparse(url)
    if parsed.scheme not in ("ws", "wss") or not parsed.hostname or parsed.port is None and parsed.scheme == "ws":
        raise EndpointRefused(f"invalid policy: {url!r}; allowed: ws://HOST:PORT or wss://HOST[:PORT] "
                              "(a policy server speaking openpi's exchange), checkpoint:sha256:HEX (an uploaded "
                              "checkpoint) or builtin:expert (admins)")
    return url


def fetch_metadata(url: str, timeout: float = 10.0) -> dict[str, Any]:
    """The server's announced metadata (its first message), or EndpointRefused saying why."""
    from websockets.exceptions import InvalidStatus, WebSocketException
    from websockets.sync.client import connect

    from sim2real.policy.msgpack_numpy import unpackb

    check_url(url)
    try:
        with connect(url, open_timeout=timeout, close_timeout=2, max_size=2**20, compression=None) as socket:
            first = socket.recv(timeout=timeout)
    except InvalidStatus as error:
        raise EndpointRefused(f"the policy server at {url} refused the connection "
                              f"(HTTP {error.response.status_code})") from None
    except (OSError, WebSocketException, TimeoutError) as error:
        raise EndpointRefused(f"the policy server at {url} is not reachable: {error}") from None
    if isinstance(first, str):
        raise EndpointRefused(f"the policy server at {url} sent text first; expected its metadata (msgpack)")
    try:
        metadata = unpackb(first)
    except Exception as error:  # noqa: BLE001 - any decoding failure is the server's mistake
        raise EndpointRefused(f"the policy server at {url} sent metadata that is not msgpack: {error}") from None
    if not isinstance(metadata, dict):
        raise EndpointRefused(f"the policy server at {url} sent a {type(metadata).__name__}; expected a metadata map")
    return metadata


def check_metadata(raw: dict[str, Any], *, kind: str, cameras: list[str], image_size: list[int],
                   max_chunk: int) -> PolicyMetadata:
    """The metadata as PolicyMetadata, or EndpointRefused naming the first field that does not fit."""
    try:
        metadata = PolicyMetadata.from_dict({"name": "submitted", **raw})
        chunk = int(metadata.chunk_size)
        dim = int(metadata.action_dim)
    except (TypeError, ValueError) as error:
        raise EndpointRefused(f"the policy server's metadata is malformed: {error}") from None
    if dim != ACTION_DIM or metadata.action_space != ACTION_SPACE:
        raise EndpointRefused(f"invalid action space: {dim} x {metadata.action_space!r}; allowed: "
                              f"{ACTION_DIM} x {ACTION_SPACE!r} (the stations' action slots)")
    if not 1 <= chunk <= max_chunk:
        raise EndpointRefused(f"invalid chunk_size: {chunk}; allowed: 1 to {max_chunk}")
    missing = [c for c in metadata.cameras if c not in cameras]
    if missing:
        raise EndpointRefused(f"invalid cameras: {', '.join(missing)}; allowed: {', '.join(cameras)} "
                              "(the benchmark's stations have no other)")
    if metadata.image_size is not None and list(metadata.image_size) != list(image_size):
        raise EndpointRefused(f"invalid image_size: {list(metadata.image_size)}; allowed: {list(image_size)} "
                              "(width, height of the stations' images), or none")
    if metadata.privileged and kind != "sim":
        raise EndpointRefused("invalid privileged: true; allowed: false on a real benchmark "
                              "(a privileged policy reads the simulator's state)")
    return metadata
