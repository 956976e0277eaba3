"""What the admin creates: users (with quotas), tokens, stations and benchmarks. The CLI
(`sim2real platform admin`) calls these on the database directly, so the first admin token
needs no server."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sim2real.core.contract import CAMERA_NAMES as CAMERAS
from sim2real.errors import invalid
from sim2real.platform.auth import SCOPES, digest, new_secret
from sim2real.platform.db.models import BenchmarkRow, StationRow, TokenRow, UserRow
from sim2real.platform.errors import Conflict, NotFound

KINDS = ("sim", "real")
STATION_STATES = ("active", "maintenance")


def _named(session: Session, table: type, name: str):
    row = session.scalar(select(table).where(table.name == name))
    if row is None:
        raise NotFound(f"invalid {table.__tablename__.removeprefix('platform_')[:-1]}: {name!r}; "
                       "allowed: one created with `sim2real platform admin`")
    return row


def _commit(engine: Engine, row: Any, what: str) -> dict[str, Any]:
    try:
        with Session(engine) as session, session.begin():
            session.add(row)
            session.flush()
            return {"id": row.id, "name": row.name}
    except IntegrityError:
        raise Conflict(f"invalid name: {row.name!r}; allowed: a name no other {what} has") from None


def add_user(engine: Engine, name: str, *, admin: bool = False, submissions_per_day: int = 10,
             concurrent_jobs: int = 4) -> dict[str, Any]:
    if not name or len(name) > 64:
        raise invalid("name", name, "1 to 64 characters")
    if submissions_per_day < 0 or concurrent_jobs < 1:
        raise invalid("quota", f"{submissions_per_day}/day, {concurrent_jobs} concurrent",
                      ">= 0 submissions per day and >= 1 concurrent job")
    return _commit(engine, UserRow(name=name, is_admin=admin, submissions_per_day=submissions_per_day,
                                   concurrent_jobs=concurrent_jobs), "user")


def add_station(engine: Engine, name: str, kind: str, description: str = "") -> dict[str, Any]:
    if kind not in KINDS:
        raise invalid("kind", kind, ", ".join(KINDS))
    if not name or len(name) > 64:
        raise invalid("name", name, "1 to 64 characters")
    return _commit(engine, StationRow(name=name, kind=kind, state="active", description=description), "station")


def set_station_state(engine: Engine, name: str, state: str) -> dict[str, Any]:
    if state not in STATION_STATES:
        raise invalid("state", state, ", ".join(STATION_STATES))
    with Session(engine) as session, session.begin():
        station = _named(session, StationRow, name)
        station.state = state
        return {"name": name, "state": state}


def add_token(engine: Engine, scope: str, *, user: str | None = None, station: str | None = None,
              label: str = "") -> dict[str, Any]:
    """A new token; its secret is returned here once and only its digest is stored."""
    if scope not in SCOPES:
        raise invalid("scope", scope, ", ".join(SCOPES))
    if scope == "station" and not station:
        raise invalid("station", "(none)", "the station a station token acts for")
    if scope in ("user", "admin") and not user:
        raise invalid("user", "(none)", "the user the token acts for")
    secret = new_secret()
    with Session(engine) as session, session.begin():
        user_id = _named(session, UserRow, user).id if user else None
        station_id = _named(session, StationRow, station).id if station else None
        if scope == "admin" and not session.get(UserRow, user_id).is_admin:
            raise invalid("scope", "admin", f"user, for {user!r} (not an admin; add the user with --admin)")
        row = TokenRow(digest=digest(secret), scope=scope, user_id=user_id, station_id=station_id, label=label)
        session.add(row)
        session.flush()
        return {"id": row.id, "scope": scope, "user": user, "station": station, "token": secret}


def revoke_token(engine: Engine, token_id: int) -> dict[str, Any]:
    with Session(engine) as session, session.begin():
        row = session.get(TokenRow, token_id)
        if row is None:
            raise NotFound(f"invalid token: {token_id}; allowed: a token id from `platform admin token list`")
        row.revoked = True
        return {"id": token_id, "revoked": True}


def add_benchmark(engine: Engine, name: str, tasks: list[str], *, preset: str = "smoke", seed: int = 0,
                  kind: str = "sim", cameras: list[str] | None = None, image_size: tuple[int, int] = (224, 224),
                  max_chunk: int = 100, description: str = "") -> dict[str, Any]:
    """A benchmark: tasks run under a protocol preset's plans on stations of one kind."""
    from sim2real.protocol.plan import make_plan
    from sim2real.protocol.preset import load_preset
    from sim2real.tasks import task_names

    if kind not in KINDS:
        raise invalid("kind", kind, ", ".join(KINDS))
    known = task_names()
    if not tasks or any(t not in known for t in tasks):
        raise invalid("tasks", ",".join(tasks), ", ".join(known))
    cameras = list(cameras or CAMERAS)
    if not cameras or any(c not in CAMERAS for c in cameras):
        raise invalid("cameras", ",".join(cameras), ", ".join(CAMERAS))
    if len(image_size) != 2 or min(image_size) < 8 or max(image_size) > 1280:
        raise invalid("image_size", "x".join(map(str, image_size)), "WIDTHxHEIGHT, 8 to 1280 each")
    loaded = load_preset(preset)
    for task in tasks:
        make_plan(loaded, task, seed)  # the preset must cover every task: refused here, not at submit
    return _commit(engine, BenchmarkRow(
        name=name, tasks=list(tasks), preset=loaded.name, preset_body=loaded.model_dump(mode="json"), seed=seed,
        station_kind=kind, cameras=cameras, image_size=list(image_size), max_chunk=max_chunk,
        description=description), "benchmark")
