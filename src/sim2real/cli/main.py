"""`sim2real`: one command-line tool for the whole pipeline."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

import sim2real  # noqa: F401  (selects the GL backend before mujoco loads)
from sim2real.cli.output import console, print_json, progress_bar, stdout
from sim2real.errors import Sim2RealError

app = typer.Typer(
    help="Zero-shot sim-to-real research for dual-arm VLA policies.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
bench_app = typer.Typer(help="Speed benchmarks, as ratios to the raw libraries underneath.")
app.add_typer(bench_app, name="bench")

JsonFlag = Annotated[bool, typer.Option("--json", help="print one JSON object on stdout")]
TaskOption = Annotated[str, typer.Option("--task", "-t", help="task name (see `sim2real tasks`)")]
SeedOption = Annotated[int, typer.Option("--seed", help="first episode seed")]
SizeOption = Annotated[
    str | None, typer.Option("--image-size", help="WIDTHxHEIGHT of every camera image")
]


def _settings(**fields):
    from sim2real.settings import make_settings, parse_image_size

    if fields.get("image_size") is None:
        fields.pop("image_size", None)
    elif isinstance(fields["image_size"], str):
        fields["image_size"] = parse_image_size(fields["image_size"])
    return make_settings(**fields)


@app.command("tasks")
def tasks_command(as_json: JsonFlag = False) -> None:
    """List the registered tasks."""
    from rich.table import Table

    from sim2real.tasks import task_class, task_names

    rows = []
    for name in task_names():
        cls = task_class(name)
        rows.append(
            {
                "name": name,
                "description": cls.description,
                "paper_average_steps": cls.paper_average_steps,
                "time_limit_s": cls.time_limit_s,
                "instructions_seen": len(cls.instructions.seen),
                "instructions_unseen": len(cls.instructions.unseen),
            }
        )
    if as_json:
        print_json({"tasks": rows})
        return
    table = Table("task", "description", "paper avg steps", "time limit (s)")
    for row in rows:
        table.add_row(row["name"], row["description"], str(row["paper_average_steps"]), f"{row['time_limit_s']:g}")
    stdout.print(table)


@app.command("expert")
def expert_command(
    task: TaskOption = "click_bell",
    episodes: Annotated[int, typer.Option(min=1, help="number of episodes (consecutive seeds)")] = 20,
    seed: SeedOption = 0,
    video: Annotated[
        Path | None, typer.Option(help="write an MP4 of the head camera per episode into this folder")
    ] = None,
    image_size: SizeOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Run the scripted expert and report its success rate."""
    from sim2real.env import make
    from sim2real.expert.runner import ScriptedExpert
    from sim2real.media import write_mp4

    cameras = ("head",) if video else ()
    settings = _settings(cameras=cameras, image_size=image_size)
    env = make(task, settings)
    expert = ScriptedExpert(env)
    results = []
    with progress_bar() as progress:
        bar = progress.add_task(f"expert {task}", total=episodes, status="")
        for episode_seed in range(seed, seed + episodes):
            frames = []
            record = (lambda obs, _action: frames.append(obs["images/head"])) if video else None
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


@app.command("render")
def render_command(
    task: TaskOption = "click_bell",
    seed: SeedOption = 0,
    out: Annotated[Path, typer.Option(help="folder for the PNG files")] = Path("out"),
    image_size: SizeOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Render the initial scene: the head image and a contact sheet of every camera (PNG)."""
    from sim2real.env import make
    from sim2real.media import contact_sheet, save_png
    from sim2real.settings import CAMERA_NAMES

    env = make(task, _settings(cameras=CAMERA_NAMES, image_size=image_size))
    observation, _ = env.reset(seed=seed)
    env.close()
    head = save_png(out / f"{task}_seed{seed}_head.png", observation["images/head"])
    images = [observation[f"images/{name}"] for name in CAMERA_NAMES]
    sheet = save_png(
        out / f"{task}_seed{seed}_cameras.png", contact_sheet(images, list(CAMERA_NAMES))
    )
    if as_json:
        print_json({"head": str(head), "contact_sheet": str(sheet), "instruction": observation["instruction"]})
    else:
        console.print(f"wrote {head} and {sheet}\ninstruction: {observation['instruction']}")


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


def main() -> None:
    try:
        app()
    except Sim2RealError as error:
        console.print(f"[red]error:[/] {error}")
        sys.exit(2)
