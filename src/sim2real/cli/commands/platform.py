"""`sim2real platform serve|admin`: the benchmark platform's server and its administration
(users, tokens, stations, benchmarks), the latter straight on the database."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sim2real.cli.options import JsonFlag
from sim2real.cli.output import console, print_json, stdout

platform_app = typer.Typer(help="The benchmark platform: its server and its administration.", no_args_is_help=True)
admin_app = typer.Typer(help="Create users, tokens, stations and benchmarks (on the database directly).",
                        no_args_is_help=True)
platform_app.add_typer(admin_app, name="admin")

DbOption = Annotated[str, typer.Option("--db", help="platform database: a SQLite file, or postgresql://USER@HOST:PORT/NAME")]
DEFAULT_DB = "platform.sqlite"


def _show(payload: dict, as_json: bool, line: str) -> None:
    if as_json:
        print_json(payload)
    else:
        console.print(line, highlight=False)


def _engine(db: str, existing: bool = False):
    """The migrated database; called only after the command's input was checked, so a mistake
    never leaves a new database file behind (`existing`: the command only reads or changes
    what is there, so a SQLite file that is not there is a mistake too)."""
    from sim2real.platform.db import open_database

    return open_database(db, existing=existing)


@platform_app.command("serve")
def serve_command(
    db: DbOption = DEFAULT_DB,
    host: Annotated[str, typer.Option(help="address to listen on (put a TLS reverse proxy in front for the internet)")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on")] = 8780,
    videos: Annotated[Path, typer.Option(help="folder for the trial videos stations upload")] = Path("platform-videos"),
    checkpoints: Annotated[Path, typer.Option(help="folder for uploaded checkpoints (content-addressed: SHA256.pt)")] = Path(
        "platform-checkpoints"),
    lease_seconds: Annotated[float, typer.Option(min=0.5, help="a job's lease without a heartbeat lasts this long")] = 60.0,
    rate_limit: Annotated[int, typer.Option(min=0, help="requests per minute per token or address (0: no limit)")] = 1200,
) -> None:
    """Serve the API (/openapi.json), the leaderboard and the station dashboard until interrupted."""
    from sim2real.cli.checks import check_listen_address, require_folder
    from sim2real.platform.db.engine import check_database
    from sim2real.platform.server import run_platform

    check_database(db)
    check_listen_address(host, port)
    require_folder(videos, "videos")
    require_folder(checkpoints, "checkpoints")
    run_platform(db, host, port, videos, lease_seconds, rate_limit or None,
                 announce=lambda line: console.print(line, highlight=False), checkpoint_dir=checkpoints)


@admin_app.command("user")
def user_command(
    name: Annotated[str, typer.Argument(help="the user's name (shown on the leaderboard)")],
    db: DbOption = DEFAULT_DB,
    admin: Annotated[bool, typer.Option("--admin", help="may hold admin tokens")] = False,
    per_day: Annotated[int, typer.Option(help="submissions allowed per 24 h")] = 10,
    concurrent: Annotated[int, typer.Option(help="jobs of this user running at once")] = 4,
    as_json: JsonFlag = False,
) -> None:
    """Add a user with quotas."""
    from sim2real.platform.admin import add_row, user_row

    user = user_row(name, admin=admin, submissions_per_day=per_day, concurrent_jobs=concurrent)
    row = add_row(_engine(db), user)
    _show({**row, "admin": admin, "per_day": per_day, "concurrent": concurrent}, as_json, f"user {name} (id {row['id']})")


@admin_app.command("token")
def token_command(
    scope: Annotated[str, typer.Option(help="user (submit, own submissions), station (lease, upload) or admin")],
    db: DbOption = DEFAULT_DB,
    user: Annotated[str | None, typer.Option(help="the user a user or admin token acts for")] = None,
    station: Annotated[str | None, typer.Option(help="the station a station token acts for")] = None,
    label: Annotated[str, typer.Option(help="a note to tell tokens apart")] = "",
    as_json: JsonFlag = False,
) -> None:
    """Issue a token; its secret is printed once (only its SHA-256 digest is stored)."""
    from sim2real.platform.admin import add_token, check_token

    check_token(scope, user, station)
    row = add_token(_engine(db, existing=True), scope, user=user, station=station, label=label)
    _show(row, as_json, f"{scope} token {row['id']}: {row['token']}  (shown once; keep it secret)")


@admin_app.command("revoke")
def revoke_command(token_id: Annotated[int, typer.Argument(help="the token's id")], db: DbOption = DEFAULT_DB,
                   as_json: JsonFlag = False) -> None:
    """Revoke a token."""
    from sim2real.platform.admin import check_token_id, revoke_token

    check_token_id(token_id)
    _show(revoke_token(_engine(db, existing=True), token_id), as_json, f"token {token_id} revoked")


@admin_app.command("station")
def station_command(
    name: Annotated[str, typer.Argument(help="the station's name")],
    db: DbOption = DEFAULT_DB,
    kind: Annotated[str, typer.Option(help="sim or real")] = "sim",
    state: Annotated[str | None, typer.Option(help="set an existing station active or maintenance")] = None,
    description: Annotated[str, typer.Option(help="where it is, what it has")] = "",
    as_json: JsonFlag = False,
) -> None:
    """Add a station, or set an existing one's state."""
    from sim2real.platform.admin import add_row, check_station_state, set_station_state, station_row

    if state is not None:
        check_station_state(state)
        _show(set_station_state(_engine(db, existing=True), name, state), as_json, f"station {name}: {state}")
        return
    station = station_row(name, kind, description)
    row = add_row(_engine(db), station)
    _show({**row, "kind": kind}, as_json, f"{kind} station {name} (id {row['id']})")


@admin_app.command("benchmark")
def benchmark_command(
    name: Annotated[str, typer.Argument(help="the benchmark's name")],
    tasks: Annotated[str, typer.Option(help="comma-separated tasks (see `sim2real tasks`)")],
    db: DbOption = DEFAULT_DB,
    preset: Annotated[str, typer.Option(help="protocol preset (configs/protocol/: paper, smoke) or a YAML file")] = "smoke",
    seed: Annotated[int, typer.Option(help="the plans' seed")] = 0,
    kind: Annotated[str, typer.Option(help="station kind that runs it: sim or real")] = "sim",
    cameras: Annotated[str, typer.Option(help="comma-separated cameras the stations offer")] = "head,left_wrist,right_wrist",
    image_size: Annotated[str, typer.Option(help="WIDTHxHEIGHT of the stations' images")] = "224x224",
    max_chunk: Annotated[int, typer.Option(help="largest action chunk a policy may send")] = 100,
    description: Annotated[str, typer.Option(help="a line for the leaderboard")] = "",
    as_json: JsonFlag = False,
) -> None:
    """Add a benchmark: tasks under a protocol preset's plans, on stations of one kind."""
    from sim2real.platform.admin import add_row, benchmark_row
    from sim2real.settings import parse_image_size

    benchmark = benchmark_row(name, [t for t in tasks.split(",") if t], preset=preset, seed=seed, kind=kind,
                              cameras=[c for c in cameras.split(",") if c], image_size=parse_image_size(image_size),
                              max_chunk=max_chunk, description=description)
    row = add_row(_engine(db), benchmark)
    _show({**row, "tasks": tasks.split(","), "kind": kind}, as_json, f"benchmark {name} (id {row['id']})")


@admin_app.command("seed-baselines")
def seed_baselines_command(
    benchmark: Annotated[str, typer.Option(help="the benchmark to seed")],
    db: DbOption = DEFAULT_DB,
    vla: Annotated[str | None, typer.Option(help="the reference VLA: a checkpoint file (stored and served by the "
                                                 "stations) or ws://HOST:PORT of a server of one")] = None,
    expert: Annotated[bool, typer.Option("--expert/--no-expert", help="the privileged expert (sim benchmarks; "
                                                                      "served by the stations)")] = True,
    checkpoints: Annotated[Path, typer.Option(help="the server's checkpoint folder (platform serve --checkpoints)")] = Path(
        "platform-checkpoints"),
    as_json: JsonFlag = False,
) -> None:
    """Submit the benchmark's baselines (the expert in sim, the reference VLA) as public baseline
    submissions, so the leaderboard has them once stations ran them; again: nothing is duplicated."""
    from sim2real.cli.checks import require_folder
    from sim2real.platform.admin import check_baselines, seed_baselines
    from sim2real.platform.checkpoints import CheckpointStore

    check_baselines(benchmark, vla, expert)
    require_folder(checkpoints, "checkpoints")
    seeded = seed_baselines(_engine(db, existing=True), benchmark, vla=vla, expert=expert,
                            checkpoints=CheckpointStore(checkpoints))
    if as_json:
        print_json({"benchmark": benchmark, "baselines": seeded})
        return
    for row in seeded:
        if row.get("skipped"):
            line = f"{row['baseline']}: skipped ({row['skipped']})"
        elif row["created"]:
            line = f"{row['baseline']}: submission {row['submission']} ({row['name']}, {row['jobs']} jobs) with {row['policy']}"
        else:
            line = f"{row['baseline']}: already seeded (submission {row['submission']})"
        console.print(line, highlight=False)


@admin_app.command("migrate")
def migrate_command(
    db: DbOption = DEFAULT_DB,
    revision: Annotated[str, typer.Option(help="schema revision to move to: head, base or one shipped "
                                               "(0001, 0002, ...); older than the database's: a downgrade")] = "head",
    as_json: JsonFlag = False,
) -> None:
    """Move the schema to a revision (the server upgrades to head by itself; this also downgrades,
    before running an older sim2real on the database)."""
    from sim2real.platform.db.engine import migrate_to, raw_engine

    engine = raw_engine(db, existing=True)  # connects only in migrate_to, after the revision is checked
    try:
        before, after = migrate_to(engine, revision)
    finally:
        engine.dispose()
    _show({"from": before, "to": after}, as_json, f"platform schema: {before or 'empty'} -> {after or 'empty'}")


@admin_app.command("list")
def list_command(db: DbOption = DEFAULT_DB, as_json: JsonFlag = False) -> None:
    """Benchmarks and stations."""
    from sim2real.platform.service import Platform

    platform = Platform(_engine(db, existing=True))
    payload = {"benchmarks": platform.benchmarks(), "stations": platform.stations()}
    if as_json:
        print_json(payload)
        return
    for b in payload["benchmarks"]:
        stdout.print(f"benchmark {b['name']}: {b['station_kind']}, {','.join(b['tasks'])}, preset {b['preset']}")
    for s in payload["stations"]:
        stdout.print(f"station {s['name']}: {s['kind']}, {s['status']}")


def register(app: typer.Typer) -> None:
    app.add_typer(platform_app, name="platform")
