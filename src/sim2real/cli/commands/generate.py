"""`sim2real generate`: successful expert demonstrations into a LeRobot v3 dataset."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sim2real.cli.options import JsonFlag, RayOption, SeedOption, TaskOption, WorkersOption
from sim2real.cli.output import console, print_json, progress_bar
from sim2real.cli.settings_flags import SettingsFlags, settings_options


@settings_options()
def generate_command(
    out: Annotated[Path, typer.Option(help="dataset folder: new, empty, or one of ours to resume")],
    task: TaskOption = "click_bell",
    episodes: Annotated[int, typer.Option(min=1, help="successful episodes to keep")] = 100,
    settings_flags: SettingsFlags = SettingsFlags(),
    seed: SeedOption = 0,
    workers: WorkersOption = 1,
    ray: RayOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Generate demonstrations; re-running the same command resumes an interrupted run.

    The folder is locked while a run writes into it: a second run into the same --out is
    refused, naming the first; a lock left by a run that died is taken over."""
    from sim2real.cli.checks import check_ray_address, check_seeds
    from sim2real.data.generate import GenerateSpec, check_output_folder, generate_into, output_folder
    from sim2real.errors import invalid
    from sim2real.tasks.registry import task_class

    check_output_folder(out)
    check_seeds(seed, episodes)
    task_class(task)
    settings = settings_flags.settings()
    if not settings.cameras:
        raise invalid("cameras", "", "one or more of head, left_wrist, right_wrist (a dataset needs images)")
    check_ray_address(ray)
    spec = GenerateSpec(task, settings.model_dump(mode="json"), episodes, seed)

    def note(text: str) -> None:
        console.print(f"[yellow]note:[/] {text}")

    with output_folder(out, on_note=note), progress_bar() as progress:
        seeds = progress.add_task("find successful seeds", total=episodes, status="")
        counts = {"ok": 0, "failed": 0}

        def on_seed(success: bool) -> None:
            counts["ok" if success else "failed"] += 1
            done = counts["ok"] + counts["failed"]
            progress.update(seeds, completed=counts["ok"], status=(
                f"successes {counts['ok']}, failures {counts['failed']} ({counts['ok'] / done:.0%})"))

        render = progress.add_task("render and write", total=episodes, status="")
        summary = generate_into(spec, out, workers, ray, on_seed, lambda n: progress.advance(render, n))
        progress.update(seeds, completed=episodes)
    summary["out"] = str(out)
    if as_json:
        print_json(summary)
        return
    console.print(
        f"{summary['episodes']} episodes ({summary['frames']} frames, {summary['tasks']} instructions) "
        f"in {out}; {summary['failures']} expert failures skipped; "
        f"{summary['bytes'] / summary['episodes'] / 1e6:.2f} MB per episode"
    )


def register(app: typer.Typer) -> None:
    app.command("generate")(generate_command)
