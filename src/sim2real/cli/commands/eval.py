"""`sim2real eval`: measure a policy in simulation under the paper's protocol."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sim2real.cli.options import (
    FidelityOption,
    GranularityOption,
    InstructionsOption,
    JsonFlag,
    MsaaOption,
    PhysicsOption,
    RandomizeOption,
    RayOption,
    SeedOption,
    ShadowsOption,
    SizeOption,
    SplitOption,
    TaskOption,
    WorkersOption,
    settings_from_options,
)
from sim2real.cli.output import console, print_json, progress_bar, stdout


def eval_command(
    policy: Annotated[str, typer.Option(help="expert, zero, replay:FILE.npy, ws://HOST:PORT or CKPT.pt")],
    task: TaskOption = "click_bell",
    randomize: RandomizeOption = "clean",
    split: SplitOption = "train",
    granularity: GranularityOption = "episode",
    fidelity: FidelityOption = "low",
    physics: PhysicsOption = "default",
    instructions: InstructionsOption = "seen",
    episodes: Annotated[int, typer.Option(min=1, help="expert-solvable seeds to evaluate")] = 20,
    seed: SeedOption = 0,
    envs: Annotated[int, typer.Option(min=1, help="environments stepped together (batched policy calls)")] = 1,
    out: Annotated[Path, typer.Option(help="results folder")] = Path("out/eval"),
    workers: WorkersOption = 1,
    ray: RayOption = None,
    suite: Annotated[str | None, typer.Option(help="sim-ood: one factor at a time on its OOD range")] = None,
    execute: Annotated[int | None, typer.Option(min=1, help="actions executed per chunk (default all)")] = None,
    label: Annotated[str | None, typer.Option(help="row name in reports (default: the policy)")] = None,
    videos: Annotated[bool, typer.Option(help="write head-camera videos of two episodes")] = True,
    image_size: SizeOption = None,
    shadows: ShadowsOption = True,
    msaa: MsaaOption = 4,
    as_json: JsonFlag = False,
) -> None:
    """Evaluate a policy on expert-solvable seeds; write per-episode records, a summary and videos."""
    from sim2real.evaluate.results import write_results, write_suite_results
    from sim2real.evaluate.runner import EvalSpec, evaluate
    from sim2real.evaluate.suites import suite_factors
    from sim2real.policy.spec import load_policy

    # The policy says which cameras and image size it wants (a remote one in the metadata
    # message it sends on connect); the env renders just those.
    probe = load_policy(policy)
    metadata = probe.metadata
    if hasattr(probe, "close"):
        probe.close()
    cameras = set(metadata.cameras)
    if not cameras and policy.startswith(("ws://", "wss://")):
        cameras = {"head", "left_wrist", "right_wrist"}  # openpi's servers do not name them
    if videos:
        cameras.add("head")
    if image_size is None and metadata.image_size:
        image_size = "x".join(map(str, metadata.image_size))
    runs = [(randomize, split, out)]
    if suite:
        runs = [(factor, "ood", out / factor) for factor in suite_factors(suite)]
    summaries = []
    for factor_spec, factor_split, folder in runs:
        settings = settings_from_options(
            cameras=tuple(sorted(cameras)), image_size=image_size, randomize=factor_spec,
            split=factor_split, granularity=granularity, fidelity=fidelity, physics=physics,
            instructions=instructions, shadows=shadows, msaa=msaa,
        )
        spec = EvalSpec(task, settings.model_dump(mode="json"), policy, execute,
                        str(folder / "videos") if videos else None, envs=envs)
        with progress_bar() as progress:
            bar = progress.add_task(f"eval {task} {factor_spec}/{factor_split}", total=episodes, status="")
            counts = {"success": 0, "done": 0, "skipped": 0}

            def tick(record) -> None:
                if record is None:
                    counts["skipped"] += 1
                else:
                    counts["done"] += 1
                    counts["success"] += record.success
                    progress.advance(bar)
                progress.update(bar, status=f"success {counts['success']}/{counts['done']}, skipped {counts['skipped']}")

            result = evaluate(spec, episodes, seed, workers, ray, label, tick)
        summaries.append(write_results(folder, result, factor_spec, factor_split))
    payload = write_suite_results(out, suite, summaries) if suite else summaries[0]
    if as_json:
        print_json(payload.as_dict())
        return
    from rich.table import Table

    table = Table("setting", "success", "rate", "95% CI", "skipped", title=f"{label or policy} on {task}")
    for s in summaries:
        low, high = s.ci95
        table.add_row(f"{s.randomize} ({s.split})", f"{s.successes}/{s.episodes}",
                      f"{s.success_rate:.1%}", f"[{low:.1%}, {high:.1%}]", str(s.skipped))
    if suite:
        table.add_row("mean", "", f"{payload.success_rate:.1%}", "", "")
    stdout.print(table)
    console.print(f"results in {out}/")


def register(app: typer.Typer) -> None:
    app.command("eval")(eval_command)
