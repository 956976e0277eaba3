"""Running a study: the steps a selection needs, in dependency order, on K local worker
processes or as Ray tasks, with a concurrency limit per kind of step.

Finished steps (a commit record with their key) are skipped; failed ones are retried; a step
whose input failed is blocked, and everything independent of the failure goes on. Workers run
`sim2real.study.steps.execute_step`, which commits each step's outcome itself, so a killed run
loses at most the steps that were running.
"""

from __future__ import annotations

import concurrent.futures as futures
import multiprocessing
import os
import time
from collections import Counter
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim2real.study.config import StudyConfig
from sim2real.study.graph import Plan, Step, build_plan
from sim2real.study.steps import execute_step
from sim2real.study.store import StudyStore

ATTEMPTS_PER_RUN = 2  # a step whose worker process dies twice in one run is failed


@dataclass
class Outcome:
    key: str
    state: str  # done, failed, or lost (its worker died: the step goes back to the queue)
    reason: str = ""


def _worker_init() -> None:
    """In each local worker: die with the scheduler. Otherwise a `study run` killed with
    SIGKILL would leave its workers finishing steps while the next run starts them again (the
    step lock would keep them apart, but the work would be done twice)."""
    import ctypes
    import signal

    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:  # not Linux
        pass


class LocalExecutor:
    """K worker processes. Spawned, not forked: each step needs its own OpenGL context and
    MuJoCo state, and torch does not survive a fork with threads running."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.threads = max(1, (os.cpu_count() or 1) // workers)
        self._pool = self._start()
        self._running: dict[futures.Future, str] = {}

    def _start(self) -> futures.ProcessPoolExecutor:
        return futures.ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"),
                                           initializer=_worker_init)

    def submit(self, root: Path, step: Step, inputs: list[Step]) -> None:
        future = self._pool.submit(execute_step, str(root), step.as_dict(),
                                   [s.as_dict() for s in inputs], self.threads)
        self._running[future] = step.key

    def wait(self, timeout: float) -> list[Outcome]:
        done, _ = futures.wait(list(self._running), timeout=timeout, return_when=futures.FIRST_COMPLETED)
        outcomes, broken = [], False
        for future in done:
            key = self._running.pop(future)
            try:
                result = future.result()
                outcomes.append(Outcome(key, result["state"], result.get("reason", "")))
            except BrokenProcessPool:
                broken = True
                outcomes.append(Outcome(key, "lost", "its worker process died (killed or crashed)"))
        if broken:  # every running step was lost with the pool: start a fresh one
            for future, key in self._running.items():
                outcomes.append(Outcome(key, "lost", "its worker process died (killed or crashed)"))
            self._running.clear()
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = self._start()
        return outcomes

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class RayExecutor:
    """Each step is a Ray task with its resource needs: one CPU for generation and evaluation;
    training and GRPO ask for a GPU when the cluster has one. The study folder must be on a
    filesystem every node sees (as for `generate --ray`)."""

    def __init__(self, address: str) -> None:
        import ray

        self.ray = ray
        ray.init(address=address, ignore_reinit_error=True, log_to_driver=False)
        self.gpus = float(ray.cluster_resources().get("GPU", 0))
        self._task = ray.remote(max_retries=0)(execute_step)
        self._running: dict[Any, str] = {}

    def resources(self, kind: str) -> dict[str, float]:
        if kind in ("train", "grpo") and self.gpus >= 1:
            return {"num_cpus": 1, "num_gpus": 1}
        return {"num_cpus": 1}

    def submit(self, root: Path, step: Step, inputs: list[Step]) -> None:
        ref = self._task.options(**self.resources(step.kind)).remote(
            str(root), step.as_dict(), [s.as_dict() for s in inputs], 1)
        self._running[ref] = step.key

    def wait(self, timeout: float) -> list[Outcome]:
        if not self._running:
            return []
        ready, _ = self.ray.wait(list(self._running), num_returns=1, timeout=timeout)
        if ready:  # and whatever else is finished by now
            ready, _ = self.ray.wait(list(self._running), num_returns=len(self._running), timeout=0)
        outcomes = []
        for ref in ready:
            key = self._running.pop(ref)
            try:
                result = self.ray.get(ref)
                outcomes.append(Outcome(key, result["state"], result.get("reason", "")))
            except Exception as error:  # the task's worker died, or Ray could not run it
                outcomes.append(Outcome(key, "lost", f"the Ray task failed: {type(error).__name__}: {error}"))
        return outcomes

    def close(self) -> None:
        self.ray.shutdown()


class StudyProgress:
    """An overall bar and one bar per running step (read from the steps' progress files)."""

    def __init__(self, name: str, total: int, done: int, progress=None) -> None:
        self.progress = progress  # a rich Progress (the command line's), or None for silence
        self.bars: dict[str, Any] = {}
        if self.progress is not None:
            self.progress.start()
            self.overall = self.progress.add_task(f"study {name}", total=total, completed=done, status="")

    def started(self, step: Step) -> None:
        if self.progress is not None:
            self.bars[step.key] = self.progress.add_task(f"  {step.label}", total=None, status="")

    def update(self, store: StudyStore, steps: dict[str, Step], counts: Counter) -> None:
        if self.progress is None:
            return
        for key, bar in self.bars.items():
            state = store.progress(steps[key])
            if state:
                self.progress.update(bar, completed=state["completed"], total=state["total"], status=state["status"])
        self.progress.update(self.overall, completed=counts["done"], status=", ".join(
            f"{n} {state}" for state, n in sorted(counts.items()) if state != "done" and n))

    def finished(self, step: Step, outcome: Outcome, seconds: float) -> None:
        if self.progress is None:
            return
        self.progress.remove_task(self.bars.pop(step.key))
        mark = {"done": "[green]done[/]", "failed": "[red]failed[/]"}.get(outcome.state, "[yellow]lost[/]")
        why = f": {outcome.reason}" if outcome.reason else ""
        self.progress.console.print(f"{mark} {step.label} ({seconds:.0f} s){why}")

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()


def run_study(config: StudyConfig, root: Path, workers: int | None = None, ray_address: str | None = None,
              only: tuple[str, ...] = (), progress=None) -> dict[str, Any]:
    """Run what the selection needs and is not done; returns what ran, failed or was blocked.
    `progress`: a rich Progress to show the overall and per-step bars on (None: no bars)."""
    plan = build_plan(config)
    selected = plan.select(only)
    store = StudyStore(root.resolve())
    workers = workers or config.execution.workers
    started = time.time()
    with store.run_lock():
        store.write_plan(list(plan.steps.values()), config.model_dump(mode="json"))
        states = {s.key: "done" if store.record(s) else "pending" for s in selected}
        already = [k for k, state in states.items() if state == "done"]
        reasons: dict[str, str] = {}
        attempts: Counter = Counter()
        began: dict[str, float] = {}
        display = StudyProgress(config.name, len(selected), len(already), progress)
        executor = RayExecutor(ray_address) if ray_address else LocalExecutor(workers)
        cap = len(selected) if ray_address and workers is None else workers
        try:
            while True:
                _block(plan, selected, states, reasons)
                running = Counter(plan.steps[k].kind for k, s in states.items() if s == "running")
                for step in selected:
                    if states[step.key] != "pending" or not all(states[i] == "done" for i in step.inputs):
                        continue
                    if sum(running.values()) >= cap or running[step.kind] >= config.execution.limit(step.kind, cap):
                        continue
                    executor.submit(store.root, step, [plan.steps[i] for i in step.inputs])
                    states[step.key], began[step.key] = "running", time.time()
                    running[step.kind] += 1
                    attempts[step.key] += 1
                    display.started(step)
                if not running:
                    break
                for outcome in executor.wait(0.5):
                    step = plan.steps[outcome.key]
                    state = outcome.state
                    if state == "lost" and attempts[step.key] >= ATTEMPTS_PER_RUN:
                        store.fail(step, outcome.reason)
                        state = "failed"
                    states[step.key] = {"lost": "pending", "running": "failed"}.get(state, state)
                    if state != "done":
                        reasons[step.key] = outcome.reason
                    display.finished(step, outcome, time.time() - began[step.key])
                display.update(store, plan.steps, Counter(states.values()))
        finally:
            executor.close()
            display.close()
    ran = [k for k in began if states[k] == "done"]
    return {
        "study": config.name, "folder": str(store.root), "steps": len(selected),
        "already_done": already, "ran": ran,
        "failed": {k: reasons.get(k, "") for k, s in states.items() if s == "failed"},
        "blocked": {k: reasons[k] for k, s in states.items() if s == "blocked"},
        "seconds": time.time() - started,
    }


def _block(plan: Plan, selected: list[Step], states: dict[str, str], reasons: dict[str, str]) -> None:
    """Pending steps downstream of a failure cannot run this time: mark them blocked."""
    for step in selected:  # dependency order: a blocked input is seen before its consumers
        if states[step.key] != "pending":
            continue
        bad = next((i for i in step.inputs if states.get(i) in ("failed", "blocked")), None)
        if bad is not None:
            states[step.key] = "blocked"
            reasons[step.key] = f"needs {plan.steps[bad].label}, which {states[bad]}"
