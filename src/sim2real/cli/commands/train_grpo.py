"""`sim2real train grpo`: GRPO fine-tuning of a discrete-head SFT checkpoint in simulation."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sim2real.cli.options import JsonFlag, RayOption
from sim2real.cli.output import console, print_json, progress_bar
from sim2real.cli.settings_flags import SettingsFlags, settings_options


@settings_options(exclude=("cameras", "image_size"))  # the checkpoint says what it sees
def grpo_command(
    init: Annotated[Path, typer.Option(help="discrete-head SFT checkpoint to start from")],
    out: Annotated[Path, typer.Option(help="checkpoint file to write (a VLA checkpoint eval/serve load)")],
    task: Annotated[list[str], typer.Option("--task", "-t", help="task to train on; repeat for several")] = ["click_bell"],  # noqa: B006
    settings_flags: SettingsFlags = SettingsFlags(),
    group_size: Annotated[int, typer.Option(min=2, help="rollouts per prompt (G)")] = 8,
    prompts_per_step: Annotated[int, typer.Option(min=1, help="groups with signal per update (P)")] = 4,
    max_prompts_per_step: Annotated[int | None, typer.Option(
        min=1, help="prompts sampled at most per step while looking for P groups (default 4 x P)")] = None,
    steps: Annotated[int, typer.Option(min=1, help="policy updates in total")] = 20,
    temperature: Annotated[float, typer.Option(help="sampling temperature of the action tokens")] = 1.6,
    clip_low: Annotated[float, typer.Option(help="PPO ratio clip below 1")] = 0.2,
    clip_high: Annotated[float, typer.Option(help="PPO ratio clip above 1 (DAPO's clip-higher)")] = 0.28,
    learning_rate: Annotated[float, typer.Option(help="constant learning rate after the warmup")] = 5e-6,
    warmup_steps: Annotated[int, typer.Option(min=0, help="updates of linear learning-rate warmup")] = 0,
    mini_batch: Annotated[int, typer.Option(min=1, help="trajectories per optimiser step")] = 8,
    envs: Annotated[int, typer.Option(min=1, help="environments stepped together (batched sampling), per worker")] = 8,
    workers: Annotated[int, typer.Option(  # checked by check_run: one line with the value
        help="local worker processes, each with a policy copy and --envs environments")] = 1,
    ray: RayOption = None,
    eval_every: Annotated[int, typer.Option(min=0, help="greedy evaluation every M updates (0: before and after only)")] = 10,
    eval_episodes: Annotated[int, typer.Option(min=1, help="held-out expert-solvable seeds per task")] = 20,
    train_seed: Annotated[int, typer.Option(help="first seed of the training prompts")] = 1_000_000,
    eval_seed: Annotated[int, typer.Option(help="first seed of the held-out evaluation")] = 2_000_000,
    seed: Annotated[int, typer.Option(help="seed of the token sampling and mini-batch order")] = 0,
    resume: Annotated[bool, typer.Option("--resume", help="continue the GRPO run in --out")] = False,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="replace an existing --out")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Fine-tune a discrete-head VLA with GRPO (SimpleVLA-RL's recipe) on expert-solvable seeds."""
    from pydantic import ValidationError

    from sim2real.cli.checks import check_ray_address
    from sim2real.errors import Sim2RealError, describe_validation_error
    from sim2real.tasks.registry import task_class
    from sim2real.train.grpo.config import GRPOConfig
    from sim2real.train.grpo.trainer import check_run, train_grpo

    for name in task:
        task_class(name)
    settings = settings_flags.settings()
    try:
        config = GRPOConfig(
            init=init, out=out, tasks=tuple(task), settings=settings.model_dump(mode="json"),
            group_size=group_size, prompts_per_step=prompts_per_step,
            max_prompts_per_step=max_prompts_per_step, steps=steps, temperature=temperature,
            clip_low=clip_low, clip_high=clip_high, learning_rate=learning_rate,
            warmup_steps=warmup_steps, mini_batch=mini_batch, envs=envs, eval_every=eval_every,
            eval_episodes=eval_episodes, train_seed=train_seed, eval_seed=eval_seed, seed=seed,
            resume=resume, overwrite=overwrite,
        )
    except ValidationError as error:
        raise Sim2RealError(describe_validation_error(error, GRPOConfig)) from None
    check_ray_address(ray)
    check_run(config, workers, ray)  # before the bar: a mistake is one line
    with progress_bar() as progress:
        bar = progress.add_task("train grpo", total=steps, status="")
        episodes = progress.add_task("rollouts", total=None, status="")

        def on_event(kind: str, data: dict) -> None:
            if kind == "start":
                progress.update(bar, completed=data["first_step"])
            elif kind == "episode":
                progress.advance(episodes)
            elif kind == "eval":
                progress.update(bar, status=f"greedy eval {data['successes']}/{data['episodes']}")
            elif kind == "step":
                progress.update(bar, completed=data["step"], status=(
                    f"rollout success {data['rollout_success_rate']:.0%}  kept {data['kept_fraction']:.0%}  "
                    f"clip {data['clip_fraction']:.3f}  kl {data['approx_kl']:.4f}  "
                    f"{data['rollout_steps_per_second']:.0f} env steps/s"))

        summary = train_grpo(config, on_event, workers, ray)
    if as_json:
        print_json(summary)
        return
    if "already_at_step" in summary:
        console.print(f"{out} is already at step {summary['already_at_step']}; nothing to train")
        return
    before, after = summary["success_before"], summary["success_after"]
    console.print(
        f"GRPO {summary['steps_this_run']} steps in {summary['seconds']:.0f} s: greedy held-out success "
        f"{before['successes']}/{before['episodes']} -> {after['successes']}/{after['episodes']}; "
        f"{summary['rollout_steps_per_second']:.0f} rollout env steps/s; checkpoint {summary['checkpoint']}"
    )


def register(app: typer.Typer) -> None:
    from sim2real.cli.commands.train import train_app

    train_app.command("grpo")(grpo_command)
