"""Rollouts for one GRPO step: every prompt's group sampled on a batched rollout engine.

Where the engines run is a `Rollouts`: `EngineRollouts` here, the policy in this process and
each task's environments in env worker processes; `PoolRollouts` (`workers.py`) in K local
worker processes or on a Ray cluster, each with its own copy of the current weights. Either way
one engine of E environments steps the G copies of a prompt and the other prompts of its task
together, so each chunk boundary is one batched forward pass over whatever slots are waiting,
whichever prompt they belong to. The draw is reproducible: the tokens come from generators
seeded from the run's generator, whose state is in the checkpoint, so a resumed step samples
what the interrupted one would have.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import torch

from sim2real.core.policy import SamplingPolicy
from sim2real.core.records import EpisodeRecord
from sim2real.evaluate.engine import PolicyActor, RolloutEngine, Timing
from sim2real.evaluate.envs import EnvSet
from sim2real.train.grpo.prompts import Prompt
from sim2real.train.grpo.rollouts import SamplingActor, Trajectory
from sim2real.train.grpo.update import Group

OnEpisode = Callable[[EpisodeRecord], None]


class Rollouts(Protocol):
    """Runs episodes of the current policy: sampled (training) or greedy (evaluation)."""

    def sample(self, task: str, seeds: Sequence[int], temperature: float, generator: torch.Generator,
               on_episode: OnEpisode | None = None) -> tuple[list[Trajectory], Timing]:
        """One sampled trajectory per seed (a seed repeated G times gives G of them)."""

    def greedy(self, task: str, seeds: Sequence[int]) -> list[EpisodeRecord]:
        """One greedy episode per seed, on the clean evaluation settings."""

    def close(self) -> None: ...


class EngineRollouts:
    """The policy in this process; `env_sets` for the rollouts, `eval_sets` for evaluation."""

    def __init__(self, policy: SamplingPolicy, env_sets: dict[str, EnvSet], eval_sets: dict[str, EnvSet],
                 execute: int | None = None) -> None:
        self.policy, self.env_sets, self.eval_sets, self.execute = policy, env_sets, eval_sets, execute

    def sample(self, task, seeds, temperature, generator, on_episode=None):
        actor = SamplingActor(self.policy, temperature, generator)
        engine = RolloutEngine(self.env_sets[task], actor, self.execute)
        engine.run(seeds, (lambda record, _obs: on_episode(record)) if on_episode else None)
        return actor.take(), engine.timing

    def greedy(self, task, seeds):
        env_set = self.eval_sets[task]
        actor = PolicyActor(lambda: self.policy, env_set.size, first=self.policy)
        return RolloutEngine(env_set, actor, self.execute).run(seeds)

    def close(self) -> None:
        for env_set in {id(s): s for s in [*self.env_sets.values(), *self.eval_sets.values()]}.values():
            env_set.close()


@dataclass
class Collected:
    groups: list[Group] = field(default_factory=list)
    env_steps: int = 0
    seconds: float = 0.0
    policy_seconds: float = 0.0
    env_seconds: float = 0.0


def collect_groups(rollouts: Rollouts, prompts: Sequence[Prompt], group_size: int, temperature: float,
                   generator: torch.Generator, on_episode: OnEpisode | None = None) -> Collected:
    """`group_size` rollouts of each prompt, grouped in the prompts' order."""
    collected = Collected()
    started = time.perf_counter()
    by_task: dict[str, list[Prompt]] = {}
    for prompt in prompts:
        by_task.setdefault(prompt.task, []).append(prompt)
    trajectories = {}
    for task, task_prompts in by_task.items():
        seeds = [p.seed for p in task_prompts for _ in range(group_size)]
        drawn, timing = rollouts.sample(task, seeds, temperature, generator, on_episode)
        for trajectory in drawn:
            trajectories.setdefault((task, trajectory.seed), []).append(trajectory)
        collected.env_steps += timing.steps
        collected.policy_seconds += timing.policy
        collected.env_seconds += timing.env
    for prompt in prompts:
        # a group's rollouts in the order they finished; the order carries no meaning
        collected.groups.append(Group(prompt.task, prompt.seed, trajectories.pop((prompt.task, prompt.seed))))
    collected.seconds = time.perf_counter() - started
    return collected
