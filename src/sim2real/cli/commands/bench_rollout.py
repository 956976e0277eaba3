"""`sim2real bench rollout`: evaluation with N environments stepped together vs one."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sim2real.cli.options import JsonFlag, TaskOption
from sim2real.cli.output import print_json, stdout
from sim2real.cli.settings_flags import SettingsFlags, settings_options


@settings_options(exclude=("cameras", "image_size"))  # the policy's own
def bench_rollout_command(
    task: TaskOption = "click_bell",
    settings_flags: SettingsFlags = SettingsFlags(),
    episodes: Annotated[int, typer.Option(min=1, help="episodes per run (seeds 0..N-1)")] = 20,
    envs: Annotated[str, typer.Option(help="comma list of environment counts; the first is the baseline")] = "1,4",
    checkpoint: Annotated[Path | None, typer.Option(help="a VLA checkpoint (default: tiny, random weights)")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Wall time of the same episodes with each number of environments, its speed-up over the
    first, and where the time goes (start-up, policy, render, physics, the rest)."""
    from sim2real.bench.rollout_bench import bench_rollout, format_rollout_bench
    from sim2real.errors import invalid

    try:
        counts = tuple(int(n) for n in envs.split(","))
    except ValueError:
        raise invalid("envs", envs, "a comma list of positive integers, e.g. 1,4") from None
    if not counts or min(counts) < 1:
        raise invalid("envs", envs, "a comma list of positive integers, e.g. 1,4")
    from sim2real.tasks.registry import task_class

    task_class(task)
    settings = settings_flags.settings()  # checked before any work; cameras and size: the policy's
    report = bench_rollout(task, episodes, counts, checkpoint, settings.model_dump(mode="json"))
    if as_json:
        print_json(report)
    else:
        stdout.print(format_rollout_bench(report))


def register(app: typer.Typer) -> None:
    from sim2real.cli.commands.bench import bench_app

    bench_app.command("rollout")(bench_rollout_command)
