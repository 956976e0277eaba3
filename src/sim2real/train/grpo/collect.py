"""Rollouts for one GRPO step: every prompt's group sampled on a batched rollout engine.

The G copies of a prompt and the prompts of one task share one engine of E environments, so each
chunk boundary is one batched forward pass over whatever slots are waiting, whichever prompt
they belong to. The draw is reproducible: the policy samples from a generator seeded by the run's
seed and the step, so a resumed step samples what the interrupted one would have.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from sim2real.core.policy import SamplingPolicy
from sim2real.evaluate.engine import RolloutEngine
from sim2real.evaluate.envs import EnvSet
from sim2real.train.grpo.prompts import Prompt
from sim2real.train.grpo.rollouts import SamplingActor
from sim2real.train.grpo.update import Group


@dataclass
class Collected:
    groups: list[Group] = field(default_factory=list)
    env_steps: int = 0
    seconds: float = 0.0
    policy_seconds: float = 0.0
    env_seconds: float = 0.0


def collect_groups(policy: SamplingPolicy, env_sets: dict[str, EnvSet], prompts: Sequence[Prompt],
                   group_size: int, temperature: float, generator: torch.Generator,
                   execute: int | None = None,
                   on_episode: Callable[[Any], None] | None = None) -> Collected:
    """`group_size` rollouts of each prompt, grouped in the prompts' order."""
    collected = Collected()
    started = time.perf_counter()
    by_task: dict[str, list[Prompt]] = {}
    for prompt in prompts:
        by_task.setdefault(prompt.task, []).append(prompt)
    trajectories = {}
    for task, task_prompts in by_task.items():
        actor = SamplingActor(policy, temperature, generator)
        engine = RolloutEngine(env_sets[task], actor, execute)
        seeds = [p.seed for p in task_prompts for _ in range(group_size)]
        engine.run(seeds, (lambda record, _obs: on_episode(record)) if on_episode else None)
        for trajectory in actor.take():
            trajectories.setdefault((task, trajectory.seed), []).append(trajectory)
        collected.env_steps += engine.timing.steps
        collected.policy_seconds += engine.timing.policy
        collected.env_seconds += engine.timing.env
    for prompt in prompts:
        # a group's rollouts in the order they finished; the order carries no meaning
        collected.groups.append(Group(prompt.task, prompt.seed, trajectories.pop((prompt.task, prompt.seed))))
    collected.seconds = time.perf_counter() - started
    return collected
