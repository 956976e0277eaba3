"""`sim2real bench ...`: speed benchmarks, each reported as a ratio to the raw library beneath.

Benchmarks of other rooms add themselves with `bench_app.command(...)` from their own module
(see `register_bench` below); this module owns only the group and `bench env`.
"""

from __future__ import annotations

from typing import Annotated

import typer

from sim2real.cli.options import JsonFlag, SizeOption, TaskOption
from sim2real.cli.output import print_json, stdout

bench_app = typer.Typer(help="Speed benchmarks, as ratios to the raw libraries underneath.")


@bench_app.command("env")
def bench_env_command(
    task: TaskOption = "click_bell",
    steps: Annotated[int, typer.Option(min=10, help="control steps per measurement")] = 300,
    frames: Annotated[int, typer.Option(min=2, help="rendered frames per measurement")] = 30,
    image_size: SizeOption = "640x480",
    randomize: Annotated[
        str, typer.Option(help="also time head-camera steps with these factors vs clean (all, BG)")
    ] = "clean",
    granularity: Annotated[str, typer.Option(help="episode or frame")] = "episode",
    as_json: JsonFlag = False,
) -> None:
    """Env steps/s vs bare mj_step, head frames/s vs a bare mujoco.Renderer, and with
    --randomize the step time under randomization vs clean."""
    from sim2real.bench.env_bench import bench_env, format_env_bench
    from sim2real.settings import make_settings, parse_image_size

    checked = make_settings(randomize=randomize, granularity=granularity)  # fail early, clearly
    report = bench_env(
        task, steps, frames, parse_image_size(image_size), checked.randomize, checked.granularity
    )
    if as_json:
        print_json(report)
    else:
        stdout.print(format_env_bench(report))


def register(app: typer.Typer) -> None:
    app.add_typer(bench_app, name="bench")
