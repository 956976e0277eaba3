"""A study's results, read from the commit records of its finished evaluation steps: one
success measure per (cell, suite), pooled over replicates; a suite of several worlds (sim-ood)
reports the mean of its worlds' rates, as the paper does, with the pooled counts beside."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sim2real.evaluate.stats import wilson_interval
from sim2real.study.graph import Cell, Plan
from sim2real.study.store import StudyStore


@dataclass(frozen=True)
class Measure:
    """A success rate and the counts its interval and tests use (a suite's rate is the mean of
    its worlds', so it may differ from successes / trials)."""

    rate: float
    successes: int
    trials: int

    @classmethod
    def of(cls, successes: int, trials: int) -> Measure:
        return cls(successes / trials if trials else 0.0, successes, trials)

    @property
    def ci95(self) -> tuple[float, float]:
        return wilson_interval(self.successes, self.trials)


@dataclass
class CellResults:
    cell: Cell
    metrics: dict[str, Measure] = field(default_factory=dict)  # suite -> its number
    worlds: dict[str, dict[str, Measure]] = field(default_factory=dict)  # suite -> world -> measure


def collect(plan: Plan, store: StudyStore) -> dict[str, CellResults]:
    """Every cell with the suites whose evaluations have all finished."""
    out = {}
    for name, cell in plan.cells.items():
        results = CellResults(cell)
        by_suite: dict[str, dict[str, list[dict[str, Any] | None]]] = defaultdict(lambda: defaultdict(list))
        for evaluation in cell.evaluations:
            record = store.record(plan.steps[evaluation.key])
            by_suite[evaluation.suite][evaluation.run].append(record["summary"] if record else None)
        for suite, worlds in by_suite.items():
            if any(s is None for summaries in worlds.values() for s in summaries):
                continue  # unfinished: no number rather than a partial one
            measures = {world: Measure.of(sum(s["successes"] for s in summaries),
                                          sum(s["episodes"] for s in summaries))
                        for world, summaries in worlds.items()}
            results.worlds[suite] = measures
            results.metrics[suite] = Measure(
                sum(m.rate for m in measures.values()) / len(measures),
                sum(m.successes for m in measures.values()), sum(m.trials for m in measures.values()))
        out[name] = results
    return out


def stage_costs(plan: Plan, store: StudyStore) -> dict[str, dict[str, float]]:
    """Per kind of step: how many finished, their total and longest wall time, their CPU time
    (what a step costs on a shared machine), peak memory."""
    costs: dict[str, dict[str, float]] = {}
    for step in plan.steps.values():
        record = store.record(step)
        if record is None:
            continue
        cost = costs.setdefault(step.kind, {"steps": 0, "seconds": 0.0, "longest_seconds": 0.0,
                                            "cpu_seconds": 0.0, "peak_memory_mb": 0.0})
        cost["steps"] += 1
        cost["seconds"] += record["seconds"]
        cost["cpu_seconds"] += record.get("cpu_seconds", 0.0)  # absent in records before it was kept
        cost["longest_seconds"] = max(cost["longest_seconds"], record["seconds"])
        cost["peak_memory_mb"] = max(cost["peak_memory_mb"], record["peak_memory_mb"])
    return costs
