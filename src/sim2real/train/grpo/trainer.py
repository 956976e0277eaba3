"""`train_grpo`: GRPO fine-tuning of a discrete-head SFT checkpoint in simulation.

Each step samples prompts (expert-solvable initial states) until `prompts_per_step` groups carry
signal (dynamic sampling, at most `prompt_cap` prompts), makes one policy update on them and
writes the checkpoint atomically, so a killed run loses at most the step in progress and
resumes exactly: the weights, optimiser, schedule, the sampling generator, torch's RNG and the
prompt cursor are all in the checkpoint. The checkpoint is a VLA checkpoint like any other
(`eval` and `serve` load it); the run's own state sits under its `grpo` key.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from sim2real.core.records import EpisodeRecord
from sim2real.errors import Sim2RealError, invalid
from sim2real.evaluate.stats import wilson_interval
from sim2real.policy.vla.checkpoint import load_checkpoint, save_checkpoint
from sim2real.train.grpo.algorithm import keeps_group
from sim2real.train.grpo.collect import EngineRollouts, Rollouts, collect_groups
from sim2real.train.grpo.config import FIXED, GRPOConfig
from sim2real.train.grpo.evaluation import GreedyEvaluator, held_out_seeds
from sim2real.train.grpo.prompts import PromptStream
from sim2real.train.grpo.update import Group, policy_update
from sim2real.train.resume import check_output

Event = Callable[[str, dict[str, Any]], None]


def _initial_policy(config: GRPOConfig):
    """The policy to fine-tune and the SFT checkpoint it came from (refused unless discrete)."""
    from sim2real.policy.vla.config import VLAConfig
    from sim2real.train.grpo.workers import Blueprint, build_policy

    init = load_checkpoint(config.init)
    vla = VLAConfig(**init["config"])
    if vla.head != "discrete":
        raise Sim2RealError(
            f"invalid init: {config.init} has a {vla.head} action head; GRPO samples action tokens, "
            "so it needs a discrete one (sim2real train sft --head discrete --data ... --out SFT.pt)"
        )
    policy = build_policy(Blueprint(init["config"], init["normalisation"]))
    policy.model.load_state_dict(init["model"])
    return policy, init


def _check_place(workers: int, ray_address: str | None) -> None:
    if workers < 1 or (workers > 1 and ray_address):
        raise invalid("workers", workers, "1 with --ray (the cluster places the rollouts: one task "
                      "per --envs episodes), or K >= 1 local worker processes without it")


def check_run(config: GRPOConfig, workers: int = 1, ray_address: str | None = None) -> None:
    """What can be checked before any work: --out can be written without losing a run, --init
    is a discrete-head checkpoint, and the rollouts have one place to run."""
    _check_place(workers, ray_address)
    check_output(config)
    _initial_policy(config)


def _check_resume(config: GRPOConfig, saved: dict[str, Any]) -> dict[str, Any]:
    """The saved run's state; refuses a checkpoint of another kind or a changed experiment."""
    if "grpo" not in saved:
        raise Sim2RealError(f"invalid out: {config.out} is a checkpoint but not of a GRPO run "
                            "(resume continues a GRPO run; write to another --out)")
    state = saved["grpo"]
    before = state["config"]
    now = config.model_dump(mode="json")
    for field in FIXED:
        if before.get(field) != now[field]:
            raise Sim2RealError(
                f"invalid {field}: {now[field]!r} with --resume; {config.out} holds a run with "
                f"{field} {before.get(field)!r} (resume with the same settings, or write to another --out)"
            )
    return state


def _rate(successes: int, episodes: int) -> dict[str, Any]:
    return {"successes": successes, "episodes": episodes,
            "rate": successes / episodes if episodes else 0.0,
            "ci95": list(wilson_interval(successes, episodes))}


def _rollouts(config: GRPOConfig, policy, init: dict[str, Any], settings: dict[str, Any],
              eval_settings: dict[str, Any], workers: int, ray_address: str | None) -> Rollouts:
    """Where the episodes run: this process's policy over env worker processes (one engine of
    --envs per task), or K local workers / Ray tasks each with a policy copy and --envs."""
    from sim2real.evaluate.envs import make_env_set
    from sim2real.evaluate.runner import SimEnvFactory
    from sim2real.train.grpo.workers import Blueprint, PoolRollouts

    if workers > 1 or ray_address:
        return PoolRollouts(policy, Blueprint(init["config"], init["normalisation"]), settings,
                            eval_settings, config.envs, config.execute, workers, ray_address)
    env_sets = {task: make_env_set(SimEnvFactory(task, settings), config.envs) for task in config.tasks}
    eval_sets = env_sets if eval_settings == settings else {
        task: make_env_set(SimEnvFactory(task, eval_settings), config.envs) for task in config.tasks}
    return EngineRollouts(policy, env_sets, eval_sets, config.execute)


def train_grpo(config: GRPOConfig, on_event: Event | None = None, workers: int = 1,
               ray_address: str | None = None) -> dict[str, Any]:
    """Train and return a summary (steps, success_before, success_after, rollout speed, ...).

    `workers` > 1 or `ray_address` run the rollouts and evaluations there (`workers.py`); the
    result is the same in distribution, not token for token. `on_event(kind, data)` reports
    progress: "start" {first_step, steps}, "episode" {record}, "eval" {step, ...rate},
    "step" {step, ...metrics}."""
    from sim2real.settings import make_settings

    emit = on_event or (lambda kind, data: None)
    _check_place(workers, ray_address)
    check_output(config)
    policy, init = _initial_policy(config)
    saved = load_checkpoint(config.out) if config.resume and config.out.is_file() else None
    state = _check_resume(config, saved) if saved is not None else None
    if saved is not None and int(saved["step"]) >= config.steps:
        return {"steps": int(saved["step"]), "already_at_step": int(saved["step"]),
                "checkpoint": str(config.out), "success_before": state["evals"][0],
                "success_after": state["evals"][-1], "rollout_steps_per_second": None}
    metadata = policy.metadata
    rollout_settings = make_settings(**{**config.settings, "cameras": metadata.cameras,
                                        "image_size": metadata.image_size}).model_dump(mode="json")
    # Greedy evaluation on held-out seeds of the clean scene, whatever the rollouts randomize.
    eval_settings = make_settings(**{k: v for k, v in rollout_settings.items()
                                     if k not in ("randomize", "granularity", "split")}).model_dump(mode="json")
    eval_seeds = (state["eval_seeds"] if state is not None
                  else held_out_seeds(config.tasks, eval_settings, config.eval_seed, config.eval_episodes))
    stream = PromptStream.start(config.tasks, rollout_settings, config.train_seed,
                                {task: frozenset(seeds) for task, seeds in eval_seeds.items()})

    model = policy.model
    parameters = [p for p in model.parameters() if p.requires_grad]
    optimiser = torch.optim.AdamW(parameters, lr=config.learning_rate, weight_decay=0.0)
    warmup = config.warmup_steps
    scheduler = torch.optim.lr_scheduler.LambdaLR(  # constant after a linear warmup
        optimiser, lambda step: min(1.0, (step + 1) / warmup) if warmup else 1.0)
    generator = torch.Generator().manual_seed(config.seed)
    torch.manual_seed(config.seed)
    start_step, evals, history = 0, [], []
    if saved is not None:
        model.load_state_dict(saved["model"])
        optimiser.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        generator.set_state(state["generator"])
        torch.set_rng_state(state["torch_rng"])
        stream.restore(state["prompts"])
        start_step, evals, history = int(saved["step"]), list(state["evals"]), list(state["history"])

    from torch.utils.tensorboard import SummaryWriter

    writer = SummaryWriter(str(config.log_dir or config.out.with_suffix(".logs")))
    rollouts = _rollouts(config, policy, init, rollout_settings, eval_settings, workers, ray_address)
    evaluator = GreedyEvaluator(rollouts, eval_seeds)

    def evaluate(step: int) -> None:
        result = evaluator.run()
        evals.append({"step": step, **_rate(result.successes, result.episodes), "per_task": result.per_task})
        writer.add_scalar("eval/success_rate", evals[-1]["rate"], step)
        emit("eval", evals[-1])

    def checkpoint(step: int) -> None:
        save_checkpoint(config.out, {
            "model": model.state_dict(),
            "config": init["config"],
            "normalisation": init["normalisation"],
            "language_model": init.get("language_model"),
            "train_config": init.get("train_config", {}),  # the SFT run the weights started from
            "datasets": init.get("datasets", []),
            "step": step,
            "grpo": {
                "config": config.model_dump(mode="json"),
                "optimizer": optimiser.state_dict(),
                "scheduler": scheduler.state_dict(),
                "generator": generator.get_state(),
                "torch_rng": torch.get_rng_state(),
                "prompts": stream.state(),
                "eval_seeds": {task: list(seeds) for task, seeds in eval_seeds.items()},
                "evals": evals,
                "history": history,
            },
        })

    started = time.perf_counter()
    rollout_steps = rollout_seconds = 0.0
    try:
        emit("start", {"first_step": start_step, "steps": config.steps})
        if not evals:
            evaluate(0)
        for step in range(start_step, config.steps):
            step_started = time.perf_counter()
            kept: list[Group] = []
            drawn = hashlib.sha256()  # every token sampled this step: a resumed step must draw the same
            sampled = successes = episodes = env_steps = 0
            rollout_time = 0.0
            while len(kept) < config.prompts_per_step and sampled < config.prompt_cap:
                prompts = stream.take(min(config.prompts_per_step - len(kept), config.prompt_cap - sampled))
                collected = collect_groups(
                    rollouts, prompts, config.group_size, config.temperature, generator,
                    lambda record: emit("episode", {"record": record}),
                )
                sampled += len(prompts)
                env_steps += collected.env_steps
                rollout_time += collected.seconds
                for group in collected.groups:
                    for trajectory in group.trajectories:
                        for tokens in trajectory.tokens:
                            drawn.update(np.ascontiguousarray(tokens).tobytes())
                    successes += int(sum(group.rewards))
                    episodes += len(group.rewards)
                    if keeps_group(group.rewards, config.keep_low, config.keep_high):
                        kept.append(group)
            update_started = time.perf_counter()
            stats = policy_update(
                policy.log_prob, parameters, optimiser, kept, config.temperature, config.mini_batch,
                config.clip_low, config.clip_high, config.grad_clip, generator, config.epochs,
            )
            if stats.optimiser_steps:  # the warmup counts updates that happened
                scheduler.step()
            rollout_steps += env_steps
            rollout_seconds += rollout_time
            metrics = {
                "step": step + 1,
                "rollout_success_rate": successes / max(1, episodes),
                "kept_fraction": len(kept) / max(1, sampled),
                "kept_groups": len(kept), "sampled_prompts": sampled,
                "loss": stats.loss, "clip_fraction": stats.clip_fraction, "approx_kl": stats.approx_kl,
                "entropy": stats.entropy, "grad_norm": stats.grad_norm,
                "optimiser_steps": stats.optimiser_steps, "tokens": stats.tokens,
                "old_log_prob_drift": stats.old_log_prob_drift,
                "rollout_steps_per_second": env_steps / max(rollout_time, 1e-9),
                "update_seconds": time.perf_counter() - update_started,
                "step_seconds": time.perf_counter() - step_started,
                "learning_rate": scheduler.get_last_lr()[0],
                "sampled_tokens_sha256": drawn.hexdigest(),
            }
            history.append(metrics)
            for key, value in metrics.items():
                if key != "step" and isinstance(value, (int, float)):
                    writer.add_scalar(f"grpo/{key}", value, step + 1)
            if (config.eval_every and (step + 1) % config.eval_every == 0) or step + 1 == config.steps:
                evaluate(step + 1)
            checkpoint(step + 1)
            emit("step", metrics)
    finally:
        writer.close()
        rollouts.close()
    return {
        "steps": config.steps,
        "steps_this_run": config.steps - start_step,
        "success_before": evals[0],
        "success_after": evals[-1],
        "evals": evals,
        "rollout_steps_per_second": rollout_steps / rollout_seconds if rollout_seconds else None,
        "kept_fraction": (sum(h["kept_groups"] for h in history) / max(1, sum(h["sampled_prompts"] for h in history))),
        "seconds": time.perf_counter() - started,
        "eval_seeds": eval_seeds,
        "prompts_used": stream.used,
        "checkpoint": str(config.out),
    }
