"""Greedy (argmax) evaluation of the policy being trained, on fixed held-out seeds."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sim2real.train.grpo.collect import Rollouts
from sim2real.train.grpo.prompts import enough_solvable_seeds


def held_out_seeds(tasks: Sequence[str], settings: dict[str, Any], first_seed: int,
                   episodes: int) -> dict[str, list[int]]:
    """Per task, the first `episodes` expert-solvable seeds from `first_seed` on."""
    return {task: enough_solvable_seeds(task, settings, first_seed, episodes, "held-out seeds to evaluate on").chosen
            for task in tasks}


@dataclass
class GreedyResult:
    successes: int
    episodes: int
    per_task: dict[str, list[int]]  # task -> [successes, episodes]


class GreedyEvaluator:
    """Runs the live policy (its `infer` is greedy) over the held-out seeds of every task."""

    def __init__(self, rollouts: Rollouts, seeds: dict[str, list[int]]) -> None:
        self.rollouts, self.seeds = rollouts, seeds

    def run(self) -> GreedyResult:
        per_task = {}
        for task, seeds in self.seeds.items():
            records = self.rollouts.greedy(task, seeds)
            per_task[task] = [sum(r.success for r in records), len(records)]
        return GreedyResult(sum(s for s, _ in per_task.values()), sum(n for _, n in per_task.values()), per_task)
