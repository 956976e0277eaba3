"""GRPO's rollouts in K local worker processes or on a Ray cluster (`--workers K`, `--ray ADDRESS`).

Each worker holds a copy of the policy and E environments of its own, stepped together by one
rollout engine (one batched forward per chunk boundary), exactly as `EngineRollouts` runs them
in the trainer's process; both build and cache them once per worker process (`Pool` keeps its
processes between steps, Ray reuses its workers). Per call a worker gets the current weights,
its share of the episodes and a sampling seed drawn from the run's generator, and sends back the
trajectories. Every trajectory is drawn from the same policy at the same temperature wherever it
runs, so the rollouts are the same in distribution for any K; the tokens themselves depend on
how the episodes were split (K, or the number of Ray tasks), so a run resumed with other
`--workers` continues as a different draw. Resuming with the same ones is exact.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from sim2real.core.records import EpisodeRecord
from sim2real.evaluate.engine import Timing
from sim2real.parallel import Pool, split
from sim2real.policy.vla.policy import SamplingVLAPolicy
from sim2real.train.grpo.collect import EngineRollouts, OnEpisode
from sim2real.train.grpo.rollouts import Trajectory


@dataclass(frozen=True)
class Blueprint:
    """What a worker needs to rebuild the policy; the weights travel with every job."""

    config: dict[str, Any]  # VLAConfig
    normalisation: dict[str, Any]


def build_policy(blueprint: Blueprint) -> SamplingVLAPolicy:
    """A discrete-head VLA on the CPU (its weights set by the caller)."""
    from sim2real.policy.transforms import Normalisation
    from sim2real.policy.vla.config import VLAConfig
    from sim2real.policy.vla.model import ReferenceVLA

    model = ReferenceVLA(VLAConfig(**blueprint.config), pretrained=False)
    return SamplingVLAPolicy(model, Normalisation.from_dict(blueprint.normalisation), "cpu")


@dataclass(frozen=True)
class Job:
    task: str
    settings: dict[str, Any]  # EnvSettings as a dict
    envs: int
    execute: int | None
    seeds: tuple[int, ...]
    temperature: float | None  # None: greedy evaluation
    sampling_seed: int = 0
    threads: int = 1  # torch threads of the worker (its share of the cores)


@dataclass
class JobResult:
    records: list[EpisodeRecord]
    trajectories: list[Trajectory]
    timing: Timing


_CACHE: dict[str, Any] = {}  # in a worker process: the policy and the env sets it built


def _cached(key: str, build):
    if key not in _CACHE:
        _CACHE[key] = build()
    return _CACHE[key]


def run_job(blueprint: Blueprint, weights: dict[str, torch.Tensor], job: Job) -> JobResult:
    """In a worker: the job's episodes on its own engine of `job.envs` environments."""
    from sim2real.evaluate.envs import LocalEnvs
    from sim2real.evaluate.runner import SimEnvFactory

    torch.set_num_threads(job.threads)
    policy = _cached("policy " + json.dumps(blueprint.config, sort_keys=True), lambda: build_policy(blueprint))
    policy.model.load_state_dict(weights)
    envs = _cached(f"envs {job.task} {job.envs} " + json.dumps(job.settings, sort_keys=True),
                   lambda: LocalEnvs.build(SimEnvFactory(job.task, job.settings), job.envs))
    rollouts = EngineRollouts(policy, {job.task: envs}, {job.task: envs}, job.execute)
    if job.temperature is None:
        records = rollouts.greedy(job.task, job.seeds)
        return JobResult(records, [], Timing())
    generator = torch.Generator().manual_seed(job.sampling_seed)
    records: list[EpisodeRecord] = []
    trajectories, timing = rollouts.sample(job.task, job.seeds, job.temperature, generator, records.append)
    return JobResult(records, trajectories, timing)


class PoolRollouts:
    """`Rollouts` over a Pool: K local processes (kept for the whole run) or Ray tasks."""

    def __init__(self, policy: SamplingVLAPolicy, blueprint: Blueprint, settings: dict[str, Any],
                 eval_settings: dict[str, Any], envs: int, execute: int | None = None,
                 workers: int = 1, ray_address: str | None = None) -> None:
        self.policy, self.blueprint = policy, blueprint
        self.settings, self.eval_settings = settings, eval_settings
        self.envs, self.execute = envs, execute
        self.pool = Pool(workers, ray_address).__enter__()
        self.threads = max(1, (os.cpu_count() or 1) // self.pool.workers) if not ray_address else 1

    def _parts(self, seeds: Sequence[int]) -> list[list[int]]:
        # Locally one share per worker; on Ray one task per E episodes, for the cluster to place.
        parts = -(-len(seeds) // self.envs) if self.pool.ray_address else self.pool.workers
        return split(list(seeds), parts)

    def _run(self, jobs: list[Job]):
        weights = {name: tensor.detach().clone() for name, tensor in self.policy.model.state_dict().items()}
        yield from self.pool.map(run_job, [(self.blueprint, weights, job) for job in jobs])

    def sample(self, task, seeds, temperature, generator, on_episode: OnEpisode | None = None):
        jobs = [Job(task, self.settings, self.envs, self.execute, tuple(part), temperature,
                    int(torch.randint(0, 2**62, (), generator=generator)), self.threads)
                for part in self._parts(seeds)]
        trajectories: list[Trajectory] = []
        timing = Timing()
        for result in self._run(jobs):
            trajectories.extend(result.trajectories)
            for name in ("policy", "env", "steps", "inferences", "observations"):
                setattr(timing, name, getattr(timing, name) + getattr(result.timing, name))
            for record in result.records if on_episode else ():
                on_episode(record)
        return trajectories, timing

    def greedy(self, task, seeds):
        jobs = [Job(task, self.eval_settings, self.envs, self.execute, tuple(part), None, 0, self.threads)
                for part in self._parts(seeds)]
        return sorted((r for result in self._run(jobs) for r in result.records), key=lambda r: r.seed)

    def close(self) -> None:
        self.pool.__exit__(None, None, None)
