"""Evaluate a policy over many seeds: expert-solvable seeds only, K processes or a Ray cluster.

Every episode is a pure function of (task, settings, policy, seed), so the per-seed results are
the same whatever the number of workers; workers only change the wall time.
"""

from __future__ import annotations

import concurrent.futures as futures
import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim2real.evaluate.rollout import EpisodeRecord
from sim2real.evaluate.stats import wilson_interval

Progress = Callable[[EpisodeRecord | None], None]


@dataclass(frozen=True)
class EvalSpec:
    task: str
    settings: dict[str, Any]  # EnvSettings as a dict (crosses process boundaries)
    policy: str  # a policy SPEC (see sim2real.policy.spec)
    execute: int | None = None  # actions executed per chunk (None: all)
    video_dir: str | None = None
    video_seeds: tuple[int, ...] = ()


@dataclass
class EvalResult:
    task: str
    policy: str
    label: str
    records: list[EpisodeRecord]
    skipped: list[int] = field(default_factory=list)

    @property
    def successes(self) -> int:
        return sum(r.success for r in self.records)

    @property
    def success_rate(self) -> float:
        return self.successes / len(self.records) if self.records else 0.0

    def summary(self) -> dict[str, Any]:
        low, high = wilson_interval(self.successes, len(self.records))
        return {
            "task": self.task,
            "policy": self.policy,
            "label": self.label,
            "success_rate": self.success_rate,
            "successes": self.successes,
            "episodes": len(self.records),
            "ci95": [low, high],
            "skipped": len(self.skipped),
            "skipped_seeds": self.skipped,
            "settings": self.records[0].settings if self.records else {},
            "failures": {r.seed: r.failure for r in self.records if r.failure and not r.success},
        }


def _check_seeds(task: str, settings: dict[str, Any], seeds: Sequence[int]) -> list[bool]:
    from sim2real.env import make
    from sim2real.evaluate.rollout import expert_solves

    env = make(task, **{**settings, "cameras": (), "fidelity": "low"})
    try:
        return [expert_solves(env, seed) for seed in seeds]
    finally:
        env.close()


def _run_seeds(spec: EvalSpec, seeds: Sequence[int]) -> list[EpisodeRecord]:
    from sim2real.env import make
    from sim2real.evaluate.rollout import run_episode
    from sim2real.media import write_mp4
    from sim2real.policy.spec import load_policy

    env = make(spec.task, **spec.settings)
    policy = load_policy(spec.policy)
    records = []
    try:
        for seed in seeds:
            frames: list = []
            record_video = spec.video_dir is not None and seed in spec.video_seeds
            on_frame = (lambda obs: frames.append(obs["images/head"])) if record_video else None
            records.append(run_episode(env, policy, seed, spec.execute, on_frame))
            if record_video and frames:
                outcome = "success" if records[-1].success else "failure"
                write_mp4(Path(spec.video_dir) / f"{spec.task}_seed{seed}_{outcome}.mp4", frames,
                          env.settings.control_hz)
    finally:
        env.close()
    return records


class Pool:
    """Run functions over chunks of seeds in-process, in K local processes, or on Ray."""

    def __init__(self, workers: int = 1, ray_address: str | None = None) -> None:
        self.workers = max(1, workers)
        self.ray_address = ray_address

    def map(self, fn: Callable, args: Sequence[tuple]) -> Iterator:
        """fn(*a) for each a, yielded in order as they complete (so callers can show progress)."""
        if self.ray_address:
            import ray

            ray.init(address=self.ray_address, ignore_reinit_error=True, log_to_driver=False)
            remote = ray.remote(fn)
            for handle in [remote.remote(*a) for a in args]:
                yield ray.get(handle)
            return
        if self.workers == 1 or len(args) == 1:
            for a in args:
                yield fn(*a)
            return
        # spawn, not fork: each worker needs its own fresh OpenGL/EGL context and MuJoCo state
        context = multiprocessing.get_context("spawn")
        with futures.ProcessPoolExecutor(self.workers, mp_context=context, initializer=share_cores,
                                         initargs=(self.workers,)) as pool:
            yield from pool.map(fn, *zip(*args, strict=True))


def share_cores(workers: int) -> None:
    """In a worker process, before its first GL context: Mesa's software rasterizer (llvmpipe)
    otherwise starts a rendering thread per core in every process, and K workers on N cores
    would fight over them (measured on 2 cores: 2 workers were slower than 1). A user's own
    LP_NUM_THREADS wins."""
    os.environ.setdefault("LP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // workers)))


def split(seeds: Sequence[int], parts: int) -> list[list[int]]:
    """Interleaved chunks, so slow and fast seeds spread over the workers."""
    return [list(seeds[i::parts]) for i in range(parts) if seeds[i::parts]]


def evaluate(
    spec: EvalSpec,
    episodes: int,
    first_seed: int = 0,
    workers: int = 1,
    ray_address: str | None = None,
    label: str | None = None,
    progress: Progress | None = None,
) -> EvalResult:
    """`episodes` expert-solvable seeds from `first_seed` on, evaluated with `spec.policy`."""
    pool = Pool(workers, ray_address)
    # Chunks of about ten seeds: enough work per chunk to amortise building an env, small enough
    # for a live progress bar and for balancing the workers.
    parts = max(pool.workers, -(-episodes // 10))
    chosen: list[int] = []
    skipped: list[int] = []
    candidate = first_seed
    while len(chosen) < episodes and candidate < first_seed + 10 * episodes + 10:
        batch = list(range(candidate, candidate + (episodes - len(chosen))))
        candidate += len(batch)
        verdicts: dict[int, bool] = {}
        for chunk, results in zip(
            split(batch, parts),
            pool.map(_check_seeds, [(spec.task, spec.settings, c) for c in split(batch, parts)]),
            strict=True,
        ):
            verdicts.update(zip(chunk, results, strict=True))
        for seed in batch:
            (chosen if verdicts[seed] else skipped).append(seed)
            if not verdicts[seed] and progress is not None:
                progress(None)
    spec = EvalSpec(**{**spec.__dict__, "video_seeds": tuple(chosen[:2]) if spec.video_dir else ()})
    records: list[EpisodeRecord] = []
    for chunk_records in pool.map(_run_seeds, [(spec, c) for c in split(chosen, parts)]):
        records.extend(chunk_records)
        if progress is not None:
            for record in chunk_records:
                progress(record)
    records.sort(key=lambda r: r.seed)
    return EvalResult(spec.task, spec.policy, label or spec.policy, records, sorted(skipped))
