"""`sim2real expert`: run the scripted expert and report its success rate."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sim2real.cli.options import JsonFlag, SeedOption, TaskOption
from sim2real.cli.output import console, print_json, progress_bar
from sim2real.cli.settings_flags import SettingsFlags, settings_options


@settings_options(exclude=("cameras",))  # the head camera with --video, else none
def expert_command(
    task: TaskOption = "click_bell",
    episodes: Annotated[int, typer.Option(min=1, help="number of episodes (consecutive seeds)")] = 20,
    seed: SeedOption = 0,
    video: Annotated[
        Path | None, typer.Option(help="write an MP4 of the head camera per episode into this folder")
    ] = None,
    settings_flags: SettingsFlags = SettingsFlags(),
    as_json: JsonFlag = False,
) -> None:
    """Run the scripted expert on consecutive seeds and report its success rate."""
    from sim2real.cli.checks import check_seeds, require_folder
    from sim2real.env import make
    from sim2real.experts.runner import ScriptedExpert
    from sim2real.media import write_mp4

    require_folder(video, "video")
    check_seeds(seed, episodes)
    settings = settings_flags.settings(forced={"cameras": ("head",) if video else ()})
    env = make(task, settings)
    expert = ScriptedExpert(env)
    results = []
    with progress_bar() as progress:
        bar = progress.add_task(f"expert {task}", total=episodes, status="")
        for episode_seed in range(seed, seed + episodes):
            frames = []
            record = (lambda obs, _action, _info: frames.append(obs["images/head"])) if video else None
            result = expert.run(episode_seed, record)
            results.append(result)
            if video:
                write_mp4(video / f"{task}_seed{episode_seed}.mp4", frames, settings.control_hz)
            done = sum(r.success for r in results)
            progress.update(bar, advance=1, status=f"success {done}/{len(results)}")
    env.close()
    successes = [r for r in results if r.success]
    summary = {
        "task": task,
        "randomize": settings.randomize,
        "split": settings.split,
        "physics": physics_name(settings.physics),
        "success_rate": len(successes) / len(results),
        "mean_steps": sum(r.steps for r in successes) / max(1, len(successes)),
        "mean_seconds": sum(r.seconds for r in results) / len(results),
        "episodes": [r.as_dict() for r in results],
    }
    if as_json:
        print_json(summary)
        return
    console.print(
        f"[bold]{task}[/]: success {len(successes)}/{len(results)} "
        f"({summary['success_rate']:.0%}), mean length {summary['mean_steps']:.1f} steps, "
        f"{summary['mean_seconds']:.3f} s per episode"
    )
    for failed in (r for r in results if not r.success):
        console.print(f"  seed {failed.seed}: {failed.failure}")
    if video:
        console.print(f"videos written to {video}/")


def physics_name(physics) -> str | dict:
    """The preset's name ('default', 'extreme'), or the fields when they match no preset."""
    from sim2real.settings import PHYSICS_PRESETS

    names = [name for name, preset in PHYSICS_PRESETS.items() if preset == physics]
    return names[0] if names else physics.model_dump()


def register(app: typer.Typer) -> None:
    app.command("expert")(expert_command)
