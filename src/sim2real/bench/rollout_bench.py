"""`sim2real bench rollout`: evaluation wall time with N environments stepped together (batched
policy calls) against one, on the same seeds, and where the time goes.

The policy is the tiny reference VLA (random weights unless a checkpoint is given: an untrained
policy fails every episode, so each runs to the task's step limit, which makes the work per run
fixed). Rendering, physics, policy and the rest (process start-up, messages between processes,
resets) are reported per run: the policy's time is measured around its calls in this process,
the environments' time inside `env.step` in their workers, and the physics share by stepping a
camera-less copy of the same env with the same number of steps.

Against the raw work underneath, measured in the same run: one env stepped alone (its
`env.step` with cameras) times the run's steps, spread over the processes that stepped them (at
most one per core), plus the policy's batched forward pass alone at the run's mean batch times
its calls. `bare / ours` near 1 means the engine adds nothing; the rest is its overhead (messages
between processes, waiting for the slowest env, resets).
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def _env_seconds_per_step(task: str, settings: dict[str, Any], steps: int = 200) -> tuple[float, Any]:
    """Seconds per `env.step` of one env alone (the home action), and its first observation."""
    from sim2real.env import make

    env = make(task, **settings)
    try:
        observation, _ = env.reset(seed=0)
        action = env.home_action
        started = time.perf_counter()
        for _ in range(steps):
            env.step(action)
        return (time.perf_counter() - started) / steps, observation
    finally:
        env.close()


def _forward_seconds(policy, observation, batch: int, calls: int = 5) -> float:
    """Seconds per batched `infer` of `batch` copies of one observation (after one warm call)."""
    observations = [observation] * batch
    policy.infer(observations)
    started = time.perf_counter()
    for _ in range(calls):
        policy.infer(observations)
    return (time.perf_counter() - started) / calls


def _load(checkpoint: Path | None):
    """The policy, with its language model loaded (the first instruction would load it, once
    per process, which is no part of the rollouts' cost)."""
    import torch

    from sim2real.core.contract import HOME_ACTION
    from sim2real.policy.vla.config import preset
    from sim2real.policy.vla.model import ReferenceVLA
    from sim2real.policy.transforms import Bounds, Normalisation
    from sim2real.policy.vla.policy import VLAPolicy

    if checkpoint is not None:
        policy = VLAPolicy.load(checkpoint, "cpu")
    else:  # random weights whose actions stay near home, inside every joint's range
        torch.manual_seed(0)
        low, high = HOME_ACTION - 0.05, HOME_ACTION + 0.05
        low[[6, 13]], high[[6, 13]] = 0.0, 1.0
        bounds = Bounds(low.astype("float32"), high.astype("float32"))
        policy = VLAPolicy(ReferenceVLA(preset("tiny")), Normalisation(bounds, bounds), "cpu")
    policy.language.encode(["warm up"])
    return policy


def bench_rollout(task: str = "click_bell", episodes: int = 20, envs: Sequence[int] = (1, 4),
                  checkpoint: Path | None = None, settings: dict[str, Any] | None = None) -> dict[str, Any]:
    from sim2real.evaluate.engine import PolicyActor, RolloutEngine
    from sim2real.evaluate.envs import make_env_set
    from sim2real.evaluate.runner import SimEnvFactory
    from sim2real.settings import make_settings

    policy = _load(checkpoint)  # stateless: one instance serves every run
    metadata = policy.metadata
    settings = make_settings(**{**(settings or {}), "cameras": metadata.cameras,
                                "image_size": metadata.image_size}).model_dump(mode="json")
    physics, _ = _env_seconds_per_step(task, {**settings, "cameras": ()})
    env_step, observation = _env_seconds_per_step(task, settings)
    cores = os.cpu_count() or 1
    policy.infer([observation])  # torch's one-time set-up belongs to no run
    runs = {}
    for count in envs:
        started = time.perf_counter()
        env_set = make_env_set(SimEnvFactory(task, settings), count)
        built = time.perf_counter() - started
        actor = PolicyActor(lambda: policy, count, first=policy)
        engine = RolloutEngine(env_set, actor)
        try:
            records = engine.run(range(episodes))
        finally:
            env_set.close()
        timing = engine.timing
        processes = env_set.processes
        parallel = max(1, processes)
        env_per_worker = timing.env / parallel
        render = max(0.0, timing.env - physics * timing.steps)
        wall = built + timing.wall
        # The bare cost of the same work: the env steps alone (spread over the processes that
        # step them, at most one per core) plus the batched forward passes alone.
        batch = max(1, round(timing.observations / max(1, timing.inferences)))
        bare = (timing.steps * env_step / max(1, min(processes, cores))
                + timing.inferences * _forward_seconds(policy, observation, batch))
        runs[str(count)] = {
            "envs": count, "processes": processes, "episodes": len(records), "steps": timing.steps,
            "wall_s": wall, "steps_per_s": timing.steps / wall,
            "start_s": built, "policy_s": timing.policy, "policy_calls": timing.inferences,
            "mean_batch": timing.observations / max(1, timing.inferences),
            "env_s_summed": timing.env, "env_s_per_worker": env_per_worker,
            "physics_s_summed": physics * timing.steps, "render_s_summed": render,
            # what is left of the wall time: messages between processes, waiting, resets
            "other_s": max(0.0, timing.wall - timing.policy - env_per_worker),
            "successes": sum(r.success for r in records),
            "bare_s": bare, "ratio_to_bare": bare / timing.wall,
        }
    first, *rest = (runs[str(n)] for n in envs)
    return {
        "task": task, "episodes": episodes, "policy": str(checkpoint) if checkpoint else "tiny (random weights)",
        "cameras": list(metadata.cameras), "image_size": list(metadata.image_size or ()),
        "shadows": settings["render"]["shadows"], "msaa": settings["render"]["msaa"], "physics_ms_per_step": 1000 * physics,
        "env_ms_per_step": 1000 * env_step, "cores": cores,
        "runs": runs,
        "speedup": {str(r["envs"]): first["wall_s"] / r["wall_s"] for r in rest},
    }


def format_rollout_bench(report: dict[str, Any]) -> str:
    lines = [f"bench rollout: {report['policy']} on {report['task']}, {report['episodes']} episodes, "
             f"{len(report['cameras'])} cameras at {report['image_size']}, shadows {report['shadows']}, "
             f"msaa {report['msaa']}",
             "| envs | processes | wall s | steps/s | start s | policy s (calls, mean batch) | "
             "env s per worker | render s (all envs) | physics s (all envs) | other s | bare s | bare / ours |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for run in report["runs"].values():
        lines.append(
            f"| {run['envs']} | {run['processes']} | {run['wall_s']:.1f} | {run['steps_per_s']:.1f} | "
            f"{run['start_s']:.1f} | {run['policy_s']:.1f} ({run['policy_calls']}, {run['mean_batch']:.1f}) | "
            f"{run['env_s_per_worker']:.1f} | {run['render_s_summed']:.1f} | {run['physics_s_summed']:.1f} | "
            f"{run['other_s']:.1f} | {run['bare_s']:.1f} | {run['ratio_to_bare']:.2f} |")
    lines += [f"speed-up of {n} envs over {next(iter(report['runs']))}: {x:.2f}x"
              for n, x in report["speedup"].items()]
    return "\n".join(lines)
