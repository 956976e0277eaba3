"""Checks of command-line values that can only fail late (after every episode has run, or
after minutes of retrying a connection), made before any work starts."""

from __future__ import annotations

import errno
import socket
from pathlib import Path

from sim2real.core.contract import SEED_LIMIT
from sim2real.errors import invalid
from sim2real.media import require_folder  # noqa: F401  (the commands import it from here)

RAY_CONNECT_TIMEOUT_S = 5.0  # Ray itself retries an unreachable head for minutes


def check_seeds(first: int, count: int = 1, what: str = "episodes") -> None:
    """Seeds first .. first + count - 1 must all lie in [0, 2^31)."""
    if not 0 <= first < SEED_LIMIT:
        raise invalid("seed", first, f"0 <= seed < 2^31 ({SEED_LIMIT})")
    if first + count > SEED_LIMIT:
        raise invalid(
            "seed", first, f"seed + {what} ({count}) at most 2^31 ({SEED_LIMIT}): the last seed "
            f"would be {first + count - 1}",
        )  # fmt: skip


def check_ray_address(address: str | None, timeout: float = RAY_CONNECT_TIMEOUT_S) -> None:
    """A Ray head is listening at `address` (HOST:PORT or ray://HOST:PORT; `auto` and `local`
    are Ray's own and left to it)."""
    if address is None or address in ("auto", "local"):
        return
    allowed = "HOST:PORT of a running Ray cluster's head (or ray://HOST:PORT, auto, local)"
    host, colon, port = address.removeprefix("ray://").rpartition(":")
    if not colon or not host or not port.isdigit():
        raise invalid("ray", address, allowed)
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout):
            pass
    except socket.gaierror:
        raise invalid("ray", address, f"{allowed}; the host {host!r} does not resolve") from None
    except OSError as error:
        reason = "timed out" if isinstance(error, TimeoutError) else error.strerror or str(error)
        raise invalid("ray", address, f"{allowed}; nothing answers there ({reason})") from None


def check_listen_address(host: str, port: int) -> None:
    """A server can listen on host:port: the host resolves to an address of this machine and
    the port is free on each of its addresses (as the server will bind them all)."""
    try:
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as error:
        raise invalid("host", host, f"an address or name to listen on ({error.strerror})") from None
    for family, kind, protocol, _, address in addresses:
        with socket.socket(family, kind, protocol) as probe:
            # As asyncio's server: reuse TIME_WAIT ports, IPv6 sockets for IPv6 only.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                probe.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            try:
                probe.bind(address)
            except OSError as error:
                if error.errno == errno.EADDRINUSE:
                    raise invalid(
                        "port", port, f"a free port ({port} is in use on {address[0]}; 0 picks one)"
                    ) from None
                raise invalid("host", host, f"an address of this machine ({error.strerror})") from None
