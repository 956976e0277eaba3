"""`sim2real bench ...`: speed benchmarks, each reported as a ratio to the raw library beneath.

Benchmarks of other rooms add themselves with `bench_app.command(...)` from their own module
(see `register_bench` below); this module owns only the group and `bench env`.
"""

from __future__ import annotations

from typing import Annotated

import typer

from sim2real.cli.options import JsonFlag, SizeOption
from sim2real.cli.output import print_json, stdout

bench_app = typer.Typer(help="Speed benchmarks, as ratios to the raw libraries underneath.")


@bench_app.command("env")
def bench_env_command(
    task: Annotated[
        str, typer.Option("--task", "-t", help="task name, several separated by commas, or all")
    ] = "click_bell",
    steps: Annotated[int, typer.Option(min=10, help="control steps per measurement")] = 300,
    frames: Annotated[int, typer.Option(min=2, help="rendered frames per measurement")] = 30,
    image_size: SizeOption = "640x480",
    randomize: Annotated[
        str, typer.Option(help="also time head-camera steps with these factors vs clean (all, BG)")
    ] = "clean",
    granularity: Annotated[str, typer.Option(help="episode or frame")] = "episode",
    stage_steps: Annotated[
        int,
        typer.Option(
            min=0,
            help="steps per measurement of the per-stage breakdown at policy resolution (head "
            "96x96 and 3 cameras 224x224, full vs policy mesh detail, vs a trivial scene); "
            "0 skips it",
        ),
    ] = 40,
    as_json: JsonFlag = False,
) -> None:
    """Env steps/s vs bare mj_step, head frames/s vs a bare mujoco.Renderer, where a step's time
    goes at policy resolution (physics, scene update, draw, readback), and with --randomize the
    step time under randomization vs clean. Several tasks: one report each."""
    from sim2real.bench.env_bench import bench_env, format_env_bench
    from sim2real.bench.env_stages import format_stages
    from sim2real.settings import make_settings, parse_image_size
    from sim2real.tasks.registry import task_class, task_names

    checked = make_settings(randomize=randomize, granularity=granularity)  # fail early, clearly
    tasks = task_names() if task == "all" else [name.strip() for name in task.split(",")]
    for name in tasks:
        task_class(name)  # an unknown task is named before any work starts
    size = parse_image_size(image_size)
    reports = []
    for name in tasks:
        report = bench_env(
            name, steps, frames, size, checked.randomize, checked.granularity, stage_steps
        )
        reports.append(report)
        if not as_json:
            stdout.print(format_env_bench(report))
            if "stages" in report:
                stdout.print(format_stages(report["stages"]))
    if as_json:
        print_json(reports[0] if len(reports) == 1 else {"tasks": reports})


def register(app: typer.Typer) -> None:
    app.add_typer(bench_app, name="bench")
