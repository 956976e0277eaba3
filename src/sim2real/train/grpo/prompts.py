"""GRPO's prompts: (task, seed) pairs whose initial state the scripted expert solves.

Training prompts come from each task's own seed stream starting at `train_seed`; the held-out
evaluation seeds are the first expert-solvable seeds from `eval_seed`, fixed before training,
and the training stream skips them, so the two sets are disjoint by construction. The stream's
cursor is part of the checkpoint, so a resumed run draws the prompts it would have drawn.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sim2real.errors import Sim2RealError
from sim2real.evaluate.runner import SeedSearch, solvable_seeds


def enough_solvable_seeds(task: str, settings: dict[str, Any], first_seed: int, count: int,
                          purpose: str, exclude: frozenset[int] = frozenset()) -> SeedSearch:
    """`solvable_seeds`, refusing in one line when the expert solves fewer than `count`."""
    search = solvable_seeds(task, settings, first_seed, count, exclude=exclude)
    if len(search.chosen) < count:
        raise Sim2RealError(
            f"the expert solves too few {task} seeds from {first_seed} on under these settings "
            f"({len(search.chosen)} of the {count} needed): no {purpose}"
        )
    return search


@dataclass(frozen=True)
class Prompt:
    task: str
    seed: int


@dataclass
class PromptStream:
    """Round-robin over tasks; each task's seeds in increasing order from its cursor."""

    tasks: tuple[str, ...]
    settings: dict[str, Any]
    cursors: dict[str, int]
    excluded: dict[str, frozenset[int]] = field(default_factory=dict)  # the held-out seeds
    turn: int = 0  # index of the task that gives the next prompt
    used: int = 0  # prompts handed out so far

    @classmethod
    def start(cls, tasks: tuple[str, ...], settings: dict[str, Any], first_seed: int,
              excluded: dict[str, frozenset[int]]) -> PromptStream:
        return cls(tasks, settings, {task: first_seed for task in tasks}, excluded)

    def take(self, count: int) -> list[Prompt]:
        """The next `count` prompts (tasks in turn), checking candidates with the expert."""
        wanted: dict[str, int] = {}
        order: list[str] = []
        for _ in range(count):
            task = self.tasks[self.turn % len(self.tasks)]
            self.turn += 1
            wanted[task] = wanted.get(task, 0) + 1
            order.append(task)
        seeds: dict[str, list[int]] = {}
        for task, n in wanted.items():
            search = enough_solvable_seeds(task, self.settings, self.cursors[task], n, "prompts to train on",
                                           self.excluded.get(task, frozenset()))
            self.cursors[task] = search.next_seed
            seeds[task] = search.chosen
        self.used += count
        return [Prompt(task, seeds[task].pop(0)) for task in order]

    def state(self) -> dict[str, Any]:
        return {"cursors": dict(self.cursors), "turn": self.turn, "used": self.used}

    def restore(self, state: dict[str, Any]) -> None:
        self.cursors = {task: int(state["cursors"][task]) for task in self.tasks}
        self.turn, self.used = int(state["turn"]), int(state["used"])
