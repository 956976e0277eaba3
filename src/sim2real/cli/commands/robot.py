"""`sim2real robot run|check`: run a policy on a station (real or the simulated one), safely;
check a station before running anything."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from sim2real.cli.options import JsonFlag, SeedOption, TaskOption
from sim2real.cli.output import console, print_json, progress_bar, stdout

robot_app = typer.Typer(help="Run policies on real dual-arm stations (or the simulated one).",
                        no_args_is_help=True)

RobotOption = Annotated[Path, typer.Option("--robot", help="station config YAML (configs/robots/)")]


@robot_app.command("run")
def run_command(
    robot: RobotOption,
    policy: Annotated[str, typer.Option(help="zero, replay:FILE.npy, ws://HOST:PORT, CKPT.pt (expert: sim only)")],
    task: TaskOption = "click_bell",
    instruction: Annotated[str | None, typer.Option(help="words given to the policy (default: the task's)")] = None,
    episodes: Annotated[int, typer.Option(min=1, help="episodes to run")] = 1,
    max_seconds: Annotated[float | None, typer.Option(min=0.01, help="episode time limit (default: the task's)")] = None,
    record: Annotated[Path | None, typer.Option(help="record episodes into this LeRobot v3 folder")] = None,
    execute: Annotated[int | None, typer.Option(min=1, help="actions executed per chunk (default all)")] = None,
    seed: SeedOption = 0,
    keys: Annotated[bool | None, typer.Option("--keys/--no-keys", help="operator keys in the terminal (default: when it is one)")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Run a policy on a station: fixed-rate loop, safety layer, watchdog, optional recording.
    Keys: s = success, f = failure, q (safety.estop_key) = emergency stop; Ctrl-C stops too."""
    from contextlib import nullcontext

    from sim2real.robot.config import load_robot_config
    from sim2real.robot.operator import Operator
    from sim2real.robot.runtime import run_episodes

    from sim2real.tasks.registry import task_class

    config = load_robot_config(robot)
    task_class(task)  # a mistake is reported before anything connects
    use_keys = sys.stdin.isatty() if keys is None else keys
    listener = None
    if use_keys:
        from sim2real.robot.keys import TerminalKeys

        operator = Operator()
        listener = TerminalKeys(operator, config.safety.estop_key)
        operator.judge = listener.judge if config.kind != "sim" else None
    else:
        operator = Operator()
    stopped: list[str] = []
    warnings: list[str] = []
    with progress_bar() as progress, (listener or nullcontext()):
        bar = progress.add_task(f"{config.name}: {task}", total=episodes, status="connecting")
        counts = {"success": 0, "done": 0}

        def show(event) -> None:
            if event.kind == "episode_start":
                progress.update(bar, status=f"episode {event.episode + 1}: {event.message}")
                if use_keys:
                    console.print(f"keys: s success, f failure, {config.safety.estop_key} "
                                  "emergency stop", highlight=False)
            elif event.kind == "episode_end":
                counts["done"] += 1
                counts["success"] += event.data["record"]["success"]
                progress.update(bar, advance=1, status=f"success {counts['success']}/{counts['done']}")
            elif event.kind in ("safety_stop", "warning", "reconnect"):
                console.print(f"[yellow]{event.kind}:[/] {event.message}", highlight=False)
                if event.kind == "warning":
                    warnings.append(event.message)
            elif event.kind == "stopped":
                stopped.append(event.message)

        records = run_episodes(config, policy, task, instruction, episodes, max_seconds, record,
                               show, operator=operator, execute=execute, seed=seed)
    payload = summarize(config.name, task, policy, records, stopped[0] if stopped else None, warnings)
    if record is not None:
        payload["record"] = str(record)
    if as_json:
        print_json(payload)
        return
    _print_summary(payload)


def summarize(station: str, task: str, policy: str, records, stopped: str | None,
              warnings: list[str]) -> dict:
    """eval's summary (success rate, Wilson interval, failures) plus the station's measurements."""
    import numpy as np

    from sim2real.core.records import EvalSummary
    from sim2real.evaluate.stats import wilson_interval

    successes = sum(r.success for r in records)
    summary = EvalSummary(
        task=task, policy=policy, label=policy, success_rate=successes / len(records) if records else 0.0,
        successes=successes, episodes=len(records), ci95=wilson_interval(successes, len(records)),
        settings=records[0].settings if records else {},
        failures={r.seed: r.failure for r in records if r.failure and not r.success},
    )
    loops = [r.metrics.get("loop", {}) for r in records]
    safety = [r.metrics.get("safety", {}) for r in records]

    def worst(key: str) -> float | None:
        values = [loop[key] for loop in loops if key in loop]
        return max(values) if values else None

    return {**summary.as_dict(), "station": station, "stopped": stopped, "warnings": warnings,
            "clamped": int(sum(s.get("clamped", 0) for s in safety)),
            "capped": int(sum(s.get("capped", 0) for s in safety)),
            "jitter_p99_ms": worst("jitter_p99_ms"), "jitter_max_ms": worst("jitter_max_ms"),
            "send_ms_mean": float(np.mean([lp["send_ms_mean"] for lp in loops if "send_ms_mean" in lp]))
            if any("send_ms_mean" in lp for lp in loops) else None,
            "records": [r.as_dict() for r in records]}


def _print_summary(payload: dict) -> None:
    from rich.table import Table

    table = Table("seed", "outcome", "steps", "seconds", "clamped", "capped", "jitter p99 (ms)",
                  title=f"{payload['policy']} on {payload['station']}: {payload['task']}")
    for record in payload["records"]:
        safety, loop = record["metrics"].get("safety", {}), record["metrics"].get("loop", {})
        outcome = "success" if record["success"] else f"failure: {record['failure']}"
        table.add_row(str(record["seed"]), outcome, str(record["steps"]), f"{record['seconds']:.1f}",
                      str(safety.get("clamped", 0)), str(safety.get("capped", 0)),
                      str(loop.get("jitter_p99_ms", "")))
    stdout.print(table)
    low, high = payload["ci95"]
    stdout.print(f"success {payload['successes']}/{payload['episodes']} = {payload['success_rate']:.0%} "
                 f"(95% CI {low:.0%}-{high:.0%})")
    if payload["stopped"]:
        console.print(f"[red]stopped:[/] {payload['stopped']}", highlight=False)


@robot_app.command("check")
def check_command(
    robot: RobotOption,
    home: Annotated[bool, typer.Option("--home", help="move both arms home (slowly) after reading")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Connect, read joints and cameras, move nothing unless --home: joint positions and limits,
    versions, feedback rate, read latency, camera intrinsics against the simulator's."""
    from sim2real.robot.check import check_station
    from sim2real.robot.config import load_robot_config

    report = check_station(load_robot_config(robot), home=home)
    if as_json:
        print_json(report)
        return
    from rich.table import Table

    table = Table("joint", "position", "low", "high", title=f"{report['robot']} ({report['kind']})")
    for joint in report["joints"]:
        style = "" if joint["inside"] else "red"
        table.add_row(joint["name"], f"{joint['position']:.4f}", f"{joint['low']:.4f}",
                      f"{joint['high']:.4f}", style=style)
    stdout.print(table)
    stdout.print(f"versions: {report['versions']}")
    stdout.print(f"joint reads: {report['read_ms_mean']} ms mean, {report['read_ms_max']} ms max; "
                 f"feedback: {report['feedback_hz']} Hz")
    for name, camera in report["cameras"].items():
        stdout.print(f"camera {name}: {camera['size'][0]}x{camera['size'][1]}, "
                     f"{camera['fps_measured']} fps, intrinsics {camera['intrinsics']}")
    for warning in report["warnings"]:
        console.print(f"[yellow]warning:[/] {warning}", highlight=False)


@robot_app.command("calibrate")
def calibrate_command(
    robot: RobotOption,
    board: Annotated[str, typer.Option(help="checkerboard inner corners COLSxROWS (cols along the world's x)")] = "7x5",
    square: Annotated[float, typer.Option(help="checkerboard square side in metres")] = 0.04,
    origin: Annotated[str, typer.Option(help="world X,Y,Z (m) of the board's first inner corner")] = "-0.12,-0.08,0.74",
    as_json: JsonFlag = False,
) -> None:
    """The head camera's pose from one view of a checkerboard flat on the table, against the
    simulator's head camera: position difference (m), view and tilt angles (degrees)."""
    from sim2real.errors import invalid
    from sim2real.robot.calibration import Board, head_pose_difference
    from sim2real.robot.cameras import make_camera
    from sim2real.robot.config import load_robot_config

    config = load_robot_config(robot)
    sizes = board.lower().split("x")
    if len(sizes) != 2 or not all(v.isdigit() and int(v) >= 3 for v in sizes):
        raise invalid("board", board, "inner corners as COLSxROWS, each 3 or more (e.g. 7x5)")
    if square <= 0:
        raise invalid("square", square, "a positive side length in metres")
    try:
        point = tuple(float(v) for v in origin.split(","))
    except ValueError:
        point = ()
    if len(point) != 3:
        raise invalid("origin", origin, "three numbers X,Y,Z in metres")
    if "head" not in config.cameras:
        raise invalid("robot", str(robot), "a station config with a head camera (the sim's is exact)")
    camera = make_camera("head", config.cameras["head"])
    camera.connect()
    try:
        frame = camera.read()
        intrinsics = camera.intrinsics
    finally:
        camera.disconnect()
    if intrinsics is None:
        raise invalid("cameras.head.intrinsics", None, "fx, fy, cx, cy from a calibration "
                      "(this camera does not report its own)")
    report = head_pose_difference(frame.image, intrinsics,
                                  Board(int(sizes[0]), int(sizes[1]), square, point))
    if as_json:
        print_json(report)
        return
    dx, dy, dz = report["position_difference_m"]
    stdout.print(f"head camera at {report['position_m']} m, simulated {report['simulated_position_m']} m: "
                 f"move it by ({-dx:+.3f}, {-dy:+.3f}, {-dz:+.3f}) m ({report['distance_m']:.3f} m)")
    stdout.print(f"tilted {report['pitch_down_deg']:.1f} degrees down (simulated "
                 f"{report['simulated_pitch_down_deg']:.1f}); view direction off by "
                 f"{report['view_angle_deg']:.2f}, image x axis by {report['right_axis_angle_deg']:.2f} "
                 f"degrees; reprojection {report['reprojection_px']} px")


def register(app: typer.Typer) -> None:
    app.add_typer(robot_app, name="robot")
