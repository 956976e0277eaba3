"""`sim2real bench ...`: speed benchmarks, each reported as a ratio to the raw library beneath.

Benchmarks of other rooms add themselves with `bench_app.command(...)` from their own module
(see `register_bench` below); this module owns only the group and `bench env`.
"""

from __future__ import annotations

from typing import Annotated

import typer

from sim2real.cli.options import JsonFlag, TaskOption
from sim2real.cli.output import print_json, stdout

bench_app = typer.Typer(help="Speed benchmarks, as ratios to the raw libraries underneath.")


@bench_app.command("env")
def bench_env_command(
    task: TaskOption = "click_bell",
    steps: Annotated[int, typer.Option(min=10, help="control steps per measurement")] = 300,
    frames: Annotated[int, typer.Option(min=2, help="rendered frames per measurement")] = 30,
    image_size: Annotated[str, typer.Option("--image-size")] = "640x480",
    as_json: JsonFlag = False,
) -> None:
    """Env steps/s vs bare mj_step, and head frames/s vs a bare mujoco.Renderer."""
    from sim2real.bench.env_bench import bench_env, format_env_bench
    from sim2real.settings import parse_image_size

    report = bench_env(task, steps, frames, parse_image_size(image_size))
    if as_json:
        print_json(report)
    else:
        stdout.print(format_env_bench(report))


def register(app: typer.Typer) -> None:
    app.add_typer(bench_app, name="bench")
