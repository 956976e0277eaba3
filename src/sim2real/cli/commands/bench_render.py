"""`sim2real bench render`: seconds per head frame per fidelity preset, vs the bare renderer."""

from __future__ import annotations

from typing import Annotated

import typer

from sim2real.cli.options import JsonFlag, SizeOption, TaskOption


def bench_render_command(
    task: TaskOption = "click_bell",
    fidelity: Annotated[
        str, typer.Option(help="comma list of presets to time")
    ] = "low,medium,high",
    frames: Annotated[
        int, typer.Option(min=1, help="path-traced frames per preset (low: 10x)")
    ] = 3,
    image_size: SizeOption = "640x480",
    as_json: JsonFlag = False,
) -> None:
    """Seconds per head frame at each fidelity, and the ratio to a bare render of the same scene."""
    from sim2real.cli.output import print_json, progress_bar, stdout
    from sim2real.bench.render_bench import bench_render, format_render_bench, frames_to_render
    from sim2real.render.fidelity import parse_fidelity_list
    from sim2real.settings import parse_image_size

    levels = parse_fidelity_list(fidelity)
    size = parse_image_size(image_size)
    with progress_bar(transient=True) as progress:
        job = progress.add_task("rendering", total=frames_to_render(levels, frames), status="")
        report = bench_render(
            task,
            levels,
            frames,
            size,
            advance=lambda level: progress.update(job, advance=1, status=level),
        )
    if as_json:
        print_json(report)
    else:
        stdout.print(format_render_bench(report))


def register(app: typer.Typer) -> None:
    from sim2real.cli.commands.bench import bench_app

    bench_app.command("render")(bench_render_command)
