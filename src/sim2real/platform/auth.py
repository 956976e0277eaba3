"""Tokens: 256-bit random secrets shown once, stored as SHA-256 digests, each with one scope.

A `user` token submits, reads and cancels its own submissions; a `station` token leases jobs
and uploads trials for its station only; an `admin` token sees and cancels everything. The
API takes them as `Authorization: Bearer TOKEN` headers, never cookies, so a page on another
site cannot make a browser act with them (no CSRF surface)."""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from sim2real.platform.db.models import StationRow, TokenRow, UserRow

SCOPES = ("user", "station", "admin")
PREFIX = "s2r_"


def new_secret() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class Principal:
    """Who a request acts as."""

    scope: str
    token_id: int
    user_id: int | None = None
    user: str | None = None
    station_id: int | None = None
    station: str | None = None

    @property
    def is_admin(self) -> bool:
        return self.scope == "admin"


def authenticate(session: Session, secret: str) -> Principal | None:
    found = session.execute(
        select(TokenRow.scope, TokenRow.id, TokenRow.user_id, UserRow.name, TokenRow.station_id, StationRow.name)
        .outerjoin(UserRow, TokenRow.user_id == UserRow.id)
        .outerjoin(StationRow, TokenRow.station_id == StationRow.id)
        .where(TokenRow.digest == digest(secret), TokenRow.revoked.is_(False))).first()
    return Principal(*found) if found is not None else None


class RateLimiter:
    """At most `limit` requests per `window` seconds per key (a sliding window in memory; one
    server process, which is how the platform is deployed behind its proxy)."""

    def __init__(self, limit: int, window: float = 60.0) -> None:
        self.limit, self.window = limit, window
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> float | None:
        """None when allowed; else the seconds until the next request would be."""
        now = time.monotonic()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return hits[0] + self.window - now
            hits.append(now)
            return None
