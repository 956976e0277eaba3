"""Running one step: each kind calls the public Python API of the room that owns the work
(generation: sim2real.data.generate, SFT: sim2real.train.sft, evaluation:
sim2real.evaluate.runner + results). `execute_step` is what a worker process or a Ray task
runs: it holds the step's lock, runs it, and commits its record or its failure before
returning, so the outcome is on disk whoever ran it.

GRPO: `sim2real.train.grpo.trainer.train_grpo`, the Python API of `sim2real train grpo`, from
the SFT step's checkpoint; like SFT it resumes its own checkpoint when a killed attempt is
retried.
"""

from __future__ import annotations

import os
import platform
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sim2real.study.graph import Step
from sim2real.study.store import StudyStore

Progress = Callable[[float, float, str], None]


# -- the kinds ---------------------------------------------------------------------------------


def run_generate(store: StudyStore, step: Step, inputs: list[Step], progress: Progress) -> dict[str, Any]:
    from sim2real.data.generate import GenerateSpec, generate

    config = step.config
    spec = GenerateSpec(config["task"], config["settings"], config["episodes"], config["first_seed"])
    episodes = config["episodes"]
    counts = {"found": 0, "failed": 0, "written": 0}

    def on_seed(success: bool) -> None:
        counts["found" if success else "failed"] += 1
        progress(counts["found"] / 2, episodes, f"seeds {counts['found']} ok, {counts['failed']} failed")

    def on_episode(written: int) -> None:
        counts["written"] += written
        progress(episodes / 2 + counts["written"] / 2, episodes, f"{counts['written']} episodes written")

    return generate(spec, store.output(step), workers=1, on_seed=on_seed, on_episode=on_episode)


def run_train(store: StudyStore, step: Step, inputs: list[Step], progress: Progress) -> dict[str, Any]:
    from sim2real.train.sft import SFTConfig, train_sft

    sft = step.config["sft"]
    out = store.output(step)
    config = SFTConfig(**sft, data=tuple(store.output(s) for s in inputs), out=out,
                       resume=True, log_dir=out.with_suffix(".logs"))

    def on_step(done: int, loss: float, throughput: float) -> None:
        progress(done, sft["steps"], f"loss {loss:.4f}, {throughput:.0f} samples/s")

    return train_sft(config, on_step)


def run_grpo(store: StudyStore, step: Step, inputs: list[Step], progress: Progress) -> dict[str, Any]:
    from sim2real.train.grpo.config import GRPOConfig
    from sim2real.train.grpo.trainer import train_grpo

    config = step.config
    (init,) = inputs
    out = store.output(step)
    grpo_config = GRPOConfig(init=store.output(init), out=out, tasks=tuple(config["tasks"]),
                             settings=config["rollout_settings"], seed=config["seed"], resume=True,
                             log_dir=out.with_suffix(".logs"), **config["grpo"])
    steps = config["grpo"]["steps"]

    def on_event(kind: str, data: dict[str, Any]) -> None:
        if kind == "step":
            progress(data["step"], steps, f"rollout success {data['rollout_success_rate']:.0%}, "
                                          f"kept {data['kept_fraction']:.0%}")
        elif kind == "eval":
            progress(data["step"], steps, f"greedy success {data['successes']}/{data['episodes']}")

    return train_grpo(grpo_config, on_event)


def run_evaluate(store: StudyStore, step: Step, inputs: list[Step], progress: Progress) -> dict[str, Any]:
    from sim2real.evaluate.results import write_results
    from sim2real.evaluate.runner import EvalSpec, evaluate

    config = step.config
    (policy,) = inputs
    spec = EvalSpec(config["task"], config["settings"], str(store.output(policy)), config["execute"],
                    None, envs=config["envs"])
    counts = {"done": 0, "success": 0, "skipped": 0}

    def on_record(record) -> None:
        if record is None:
            counts["skipped"] += 1
        else:
            counts["done"] += 1
            counts["success"] += record.success
        progress(counts["done"], config["episodes"],
                 f"success {counts['success']}/{counts['done']}, skipped {counts['skipped']}")

    result = evaluate(spec, config["episodes"], config["first_seed"], workers=1, label=step.label,
                      progress=on_record)
    settings = config["settings"]
    return write_results(store.output(step), result, settings["randomize"], settings["split"]).as_dict()


RUNNERS: dict[str, Callable[[StudyStore, Step, list[Step], Progress], dict[str, Any]]] = {
    "generate": run_generate, "train": run_train, "grpo": run_grpo, "evaluate": run_evaluate,
}


# -- one attempt -------------------------------------------------------------------------------


class PeakMemory:
    """The peak resident memory of this process while a step runs (sampled every 0.2 s)."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    @staticmethod
    def resident() -> int:
        try:
            with open("/proc/self/statm") as handle:
                return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except OSError:  # not Linux: the process's lifetime peak is the best there is
            import resource

            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    def _sample(self) -> None:
        while not self._stop.wait(0.2):
            self.peak = max(self.peak, self.resident())

    def __enter__(self) -> PeakMemory:
        self.peak = self.resident()
        self._thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.resident())


def execute_step(root: str, step_data: dict[str, Any], input_data: list[dict[str, Any]],
                 threads: int | None = None) -> dict[str, Any]:
    """Run one step here and commit its outcome; returns {"key", "state", "reason"?}. Steps
    travel as plain dicts (to worker processes and Ray tasks alike). Any exception is the
    step's failure, recorded with its reason and traceback."""
    step = Step.from_dict(step_data)
    inputs = [Step.from_dict(d) for d in input_data]
    store = StudyStore(Path(root))
    if threads:
        _share_threads(threads)
    with store.attempt(step) as taken:
        if not taken:
            return {"key": step.key, "state": "running", "reason": "another process is running it"}
        if store.record(step) is not None:
            return {"key": step.key, "state": "done"}
        last = [0.0]

        def progress(completed: float, total: float, status: str = "") -> None:
            now = time.monotonic()
            if now - last[0] >= 0.5 or completed >= total:  # a few writes a second at most
                last[0] = now
                store.report_progress(step, completed, total, status)

        started, cpu_before = time.time(), _cpu_seconds()
        try:
            with PeakMemory() as memory:
                summary = RUNNERS[step.kind](store, step, inputs, progress)
        except Exception as error:  # the step's failure, whatever it is: record it, go on
            reason = f"{type(error).__name__}: {error}"
            store.fail(step, reason, traceback.format_exc())
            return {"key": step.key, "state": "failed", "reason": reason}
        store.commit(step, {
            "summary": summary, "started": started, "seconds": time.time() - started,
            "cpu_seconds": _cpu_seconds() - cpu_before,
            "peak_memory_mb": memory.peak / 2**20, "host": platform.node(), "pid": os.getpid(),
        })
        return {"key": step.key, "state": "done"}


def _cpu_seconds() -> float:
    """CPU time of this process and its reaped children (environment workers). On a shared
    machine a step's wall time says more about its neighbours than about the step."""
    import resource

    return sum(usage.ru_utime + usage.ru_stime for usage in
               (resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)))


def _share_threads(threads: int) -> None:
    """Steps running side by side share the cores: torch, OpenMP and Mesa's rasterizer get
    `threads` each instead of one per core (which made K concurrent steps fight for them)."""
    os.environ["LP_NUM_THREADS"] = str(threads)
    os.environ["OMP_NUM_THREADS"] = str(threads)
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import torch

    torch.set_num_threads(threads)
