"""`sim2real station run`: a station that leases the platform's jobs and runs their trials."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sim2real.cli.options import JsonFlag
from sim2real.cli.output import console, print_json

station_app = typer.Typer(help="Run a benchmark station (simulated or a real robot).", no_args_is_help=True)


@station_app.command("run")
def run_command(
    server: Annotated[str, typer.Option(help="the platform, http://HOST:PORT")],
    token: Annotated[str, typer.Option(envvar="SIM2REAL_STATION_TOKEN", help="this station's token (or $SIM2REAL_STATION_TOKEN)")],
    sim: Annotated[bool, typer.Option("--sim", help="a simulated station (the MuJoCo environment)")] = False,
    robot: Annotated[Path | None, typer.Option(help="robot config YAML of a real station (configs/robots/)")] = None,
    videos: Annotated[Path | None, typer.Option(help="folder for trial videos before upload (none: no videos)")] = None,
    jobs: Annotated[int | None, typer.Option(min=1, help="stop after this many jobs (default: run until interrupted)")] = None,
    idle_exit: Annotated[float | None, typer.Option(min=0, help="stop after this many seconds without a job")] = None,
    poll: Annotated[float, typer.Option(min=0.1, help="seconds between asks for work when idle")] = 2.0,
    checkpoints: Annotated[Path | None, typer.Option(help="folder for the uploaded checkpoints this station serves "
                                                         "(default: a folder in the system's temp dir)")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Lease jobs, run their unrecorded trials, upload each as it ends, heartbeat meanwhile."""
    from sim2real.cli.checks import require_folder
    from sim2real.errors import invalid
    from sim2real.platform.client import PlatformClient
    from sim2real.platform.station import RobotTrials, SimTrials, Station

    if sim == (robot is not None):
        raise invalid("station", "--sim and --robot" if sim else "(none)", "exactly one of --sim or --robot CONFIG.yaml")
    if robot is not None and not robot.is_file():
        raise invalid("robot", str(robot), "an existing robot config YAML (see configs/robots/)")
    require_folder(videos, "videos")
    require_folder(checkpoints, "checkpoints")
    trials = SimTrials(video=videos is not None) if sim else RobotTrials(robot)
    log = (lambda line: None) if as_json else (lambda line: console.print(line, highlight=False))
    station = Station(PlatformClient(server, token), trials, videos, log=log, poll_seconds=poll,
                      checkpoint_dir=checkpoints)
    try:
        done = station.run(jobs, idle_exit)
    except KeyboardInterrupt:
        done = None
        console.print("stopped")
    if as_json:
        print_json({"jobs": done})


def register(app: typer.Typer) -> None:
    app.add_typer(station_app, name="station")
