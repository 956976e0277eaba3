"""`sim2real bench generate`: demonstration generation against its floor, and worker scaling."""

from __future__ import annotations

from typing import Annotated

import typer

from sim2real.cli.options import JsonFlag, SizeOption, TaskOption
from sim2real.cli.output import print_json, stdout


def bench_generate_command(
    task: TaskOption = "click_bell",
    episodes: Annotated[int, typer.Option(min=1, help="episodes per measurement")] = 4,
    image_size: SizeOption = "640x480",
    mesh_detail: Annotated[
        str, typer.Option(help="render.mesh_detail: auto | full | policy (full vs policy: the meshes' before and after)")
    ] = "auto",
    as_json: JsonFlag = False,
) -> None:
    """Episodes/hour/core (3 cameras, low fidelity), ratio to bare mj_step + renders, 1->2 workers."""
    from sim2real.bench.generate_bench import bench_generate
    from sim2real.settings import parse_image_size

    from sim2real.errors import invalid

    if mesh_detail not in ("auto", "full", "policy"):
        raise invalid("mesh-detail", mesh_detail, "auto, full or policy")
    report = bench_generate(task, episodes, parse_image_size(image_size), mesh_detail)
    if as_json:
        print_json(report)
        return
    for key, value in report.items():
        stdout.print(f"{key:>28}: {value:.3f}" if isinstance(value, float) else f"{key:>28}: {value}")


def register(app: typer.Typer) -> None:
    from sim2real.cli.commands.bench import bench_app

    bench_app.command("generate")(bench_generate_command)
