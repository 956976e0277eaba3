"""What the admin creates: users (with quotas), tokens, stations and benchmarks. The CLI
(`sim2real platform admin`) calls these on the database directly, so the first admin token
needs no server."""

from __future__ import annotations

import re
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


NAME_PATTERN = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")  # what the API accepts as a benchmark or station name


def _check_name(name: str) -> str:
    if not name or len(name) > 64:
        raise invalid("name", name, "1 to 64 characters")
    return name


# Each `*_row` checks its input and builds the row without touching the database, so that the
# CLI refuses a mistake before it opens (and perhaps creates) a database; `add_*` commit it.


def user_row(name: str, *, admin: bool = False, submissions_per_day: int = 10, concurrent_jobs: int = 4) -> UserRow:
    _check_name(name)
    if not 0 <= submissions_per_day < 2**31:
        raise invalid("per_day", submissions_per_day, "0 or more submissions per 24 h")
    if not 1 <= concurrent_jobs < 2**31:
        raise invalid("concurrent", concurrent_jobs, "1 or more jobs at once")
    return UserRow(name=name, is_admin=admin, submissions_per_day=submissions_per_day, concurrent_jobs=concurrent_jobs)


def add_user(engine: Engine, name: str, **quotas: Any) -> dict[str, Any]:
    return add_row(engine, user_row(name, **quotas))


def _url_name(name: str) -> str:
    if not NAME_PATTERN.match(name):
        raise invalid("name", name, "1 to 64 letters, digits, '_', '.' or '-' (it goes into URLs)")
    return name


def station_row(name: str, kind: str, description: str = "") -> StationRow:
    if kind not in KINDS:
        raise invalid("kind", kind, ", ".join(KINDS))
    _url_name(name)
    return StationRow(name=name, kind=kind, state="active", description=description)


def add_station(engine: Engine, name: str, kind: str, description: str = "") -> dict[str, Any]:
    return add_row(engine, station_row(name, kind, description))


def check_station_state(state: str) -> str:
    if state not in STATION_STATES:
        raise invalid("state", state, ", ".join(STATION_STATES))
    return state


def set_station_state(engine: Engine, name: str, state: str) -> dict[str, Any]:
    check_station_state(state)
    with Session(engine) as session, session.begin():
        station = _named(session, StationRow, name)
        station.state = state
        return {"name": name, "state": state}


def check_token(scope: str, user: str | None, station: str | None) -> None:
    """A token's scope and the one it acts for (who exists is checked on the database)."""
    if scope not in SCOPES:
        raise invalid("scope", scope, ", ".join(SCOPES))
    if scope == "station" and not station:
        raise invalid("station", "(none)", "the station a station token acts for")
    if scope in ("user", "admin") and not user:
        raise invalid("user", "(none)", "the user the token acts for")


def add_token(engine: Engine, scope: str, *, user: str | None = None, station: str | None = None,
              label: str = "") -> dict[str, Any]:
    """A new token; its secret is returned here once and only its digest is stored."""
    check_token(scope, user, station)
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


def check_token_id(token_id: int) -> int:
    if not 1 <= token_id < 2**31:
        raise invalid("token", token_id, "a token id from `platform admin list` (1 or more)")
    return token_id


def revoke_token(engine: Engine, token_id: int) -> dict[str, Any]:
    check_token_id(token_id)
    with Session(engine) as session, session.begin():
        row = session.get(TokenRow, token_id)
        if row is None:
            raise NotFound(f"invalid token: {token_id}; allowed: a token id from `platform admin list`")
        row.revoked = True
        return {"id": token_id, "revoked": True}


def benchmark_row(name: str, tasks: list[str], *, preset: str = "smoke", seed: int = 0, kind: str = "sim",
                  cameras: list[str] | None = None, image_size: tuple[int, int] = (224, 224), max_chunk: int = 100,
                  description: str = "") -> BenchmarkRow:
    """A benchmark: tasks run under a protocol preset's plans on stations of one kind."""
    from sim2real.protocol.plan import make_plan
    from sim2real.protocol.preset import load_preset
    from sim2real.tasks import task_names

    _url_name(name)
    if kind not in KINDS:
        raise invalid("kind", kind, ", ".join(KINDS))
    known = task_names()
    if not tasks or any(t not in known for t in tasks):
        raise invalid("tasks", ",".join(tasks), ", ".join(known))
    if len(set(tasks)) != len(tasks):
        raise invalid("tasks", ",".join(tasks), "each task once")
    cameras = list(CAMERAS if cameras is None else cameras)
    if not cameras or any(c not in CAMERAS for c in cameras):
        raise invalid("cameras", ",".join(cameras), ", ".join(CAMERAS))
    if len(image_size) != 2 or min(image_size) < 8 or max(image_size) > 1280:
        raise invalid("image_size", "x".join(map(str, image_size)), "WIDTHxHEIGHT, 8 to 1280 each")
    if not 0 <= seed < 2**31:
        raise invalid("seed", seed, "0 <= seed < 2^31")
    if not 1 <= max_chunk <= 10_000:
        raise invalid("max_chunk", max_chunk, "1 to 10000 actions")
    loaded = load_preset(preset)
    for task in tasks:
        make_plan(loaded, task, seed)  # the preset must cover every task: refused here, not at submit
    return BenchmarkRow(name=name, tasks=list(tasks), preset=loaded.name, preset_body=loaded.model_dump(mode="json"),
                        seed=seed, station_kind=kind, cameras=cameras, image_size=list(image_size),
                        max_chunk=max_chunk, description=description)


def add_benchmark(engine: Engine, name: str, tasks: list[str], **options: Any) -> dict[str, Any]:
    return add_row(engine, benchmark_row(name, tasks, **options))


def add_row(engine: Engine, row: UserRow | StationRow | BenchmarkRow) -> dict[str, Any]:
    """Commit a row built (and checked) by user_row, station_row or benchmark_row."""
    what = row.__tablename__.removeprefix("platform_")[:-1]
    try:
        with Session(engine) as session, session.begin():
            session.add(row)
            session.flush()
            return {"id": row.id, "name": row.name}
    except IntegrityError:
        raise Conflict(f"invalid name: {row.name!r}; allowed: a name no other {what} has") from None


BASELINE_USER = "baselines"  # the admin user the seeded baselines are submitted as


def check_baselines(benchmark: str, vla: str | None, expert: bool) -> None:
    """seed-baselines' input, before any database is opened."""
    from pathlib import Path

    from sim2real.platform.endpoint import check_url

    _url_name(benchmark)
    if vla is not None and not vla.startswith(("ws://", "wss://")):
        if not Path(vla).is_file():
            raise invalid("vla", vla, "a reference VLA checkpoint file (`sim2real train sft`) or the ws:// "
                                      "address of a server of one")
    elif vla is not None:
        check_url(vla)
    if vla is None and not expert:
        raise invalid("baselines", "(none)", "the expert (drop --no-expert), --vla, or both")


def seed_baselines(engine: Engine, benchmark: str, *, vla: str | None = None, expert: bool = True,
                   checkpoints=None) -> list[dict[str, Any]]:
    """Submit the baselines of a benchmark as public baseline submissions of the `baselines`
    admin: the privileged expert (sim benchmarks; the station serves it) and the reference VLA
    (a checkpoint, stored in `checkpoints` and served by the station, or a ws:// server). A
    baseline already queued, running or done with the same policy is kept, not submitted again."""
    from pathlib import Path

    from sim2real.platform.auth import Principal
    from sim2real.platform.checkpoints import BUILTIN_EXPERT
    from sim2real.platform.db.models import SubmissionRow
    from sim2real.platform.service import Platform

    check_baselines(benchmark, vla, expert)
    platform = Platform(engine, checkpoints=checkpoints)
    with Session(engine) as session, session.begin():
        bench = platform.benchmark(session, benchmark)
        kind, bench_id = bench.station_kind, bench.id
        user = session.scalar(select(UserRow).where(UserRow.name == BASELINE_USER))
        if user is None:
            user = UserRow(name=BASELINE_USER, is_admin=True, submissions_per_day=0, concurrent_jobs=4)
            session.add(user)
        elif not user.is_admin:
            raise Conflict(f"invalid user: {BASELINE_USER!r} exists and is not an admin; allowed: the admin "
                           "user the baselines are submitted as")
        session.flush()
        who = Principal(scope="admin", token_id=0, user_id=user.id, user=BASELINE_USER)
    wanted = []
    if expert and kind == "sim":
        wanted.append(("expert", BUILTIN_EXPERT))
    if vla is not None and not vla.startswith(("ws://", "wss://")):
        if checkpoints is None:
            raise invalid("vla", vla, "a ws:// server (no checkpoint folder given)")
        with open(Path(vla), "rb") as file:
            stored, _ = checkpoints.put(iter(lambda: file.read(2**20), b""))
        wanted.append(("reference VLA", stored["policy"]))
    elif vla is not None:
        wanted.append(("reference VLA", vla))
    seeded = []
    for what, policy in wanted:
        with Session(engine) as session:
            existing = session.scalar(select(SubmissionRow.id).where(
                SubmissionRow.benchmark_id == bench_id, SubmissionRow.baseline.is_(True),
                SubmissionRow.endpoint == policy, SubmissionRow.state.in_(("queued", "running", "done"))))
        if existing is not None:
            seeded.append({"baseline": what, "policy": policy, "submission": existing, "created": False})
            continue
        view = platform.submit(who, benchmark, policy, public=True, baseline=True)
        seeded.append({"baseline": what, "policy": policy, "submission": view["id"], "created": True,
                       "name": view["name"], "jobs": len(view["jobs"])})
    if expert and kind != "sim":
        seeded.append({"baseline": "expert", "policy": None, "submission": None, "created": False,
                       "skipped": "a real benchmark: the expert reads the simulator's state"})
    return seeded
