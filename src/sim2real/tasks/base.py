"""What a task is: its objects, initial-state distribution, success predicate and words.

How a task is solved is not part of it: the scripted plans live in `sim2real.experts`."""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

import mujoco
import numpy as np

from sim2real.embodiment.dual_arm import DualArm
from sim2real.scene.library import ObjectInstance
from sim2real.scene.station import StationLayout


@dataclass(frozen=True)
class InstructionSet:
    """Instruction templates; `{object}` is replaced by a phrase naming the task's object."""

    seen: tuple[str, ...]
    unseen: tuple[str, ...]

    def __post_init__(self) -> None:
        overlap = set(self.seen) & set(self.unseen)
        if overlap:
            raise ValueError(f"templates both seen and unseen: {sorted(overlap)}")

    def templates(self, split: str) -> tuple[str, ...]:
        return self.seen if split == "seen" else self.unseen


@dataclass
class InitialState:
    """The sampled initial state of one episode (JSON-serialisable parameters)."""

    seed: int
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class SimView:
    """What a task may look at while the simulation runs."""

    model: mujoco.MjModel
    data: mujoco.MjData
    robot: DualArm
    layout: StationLayout
    # Height of the table top in this episode: the layout's nominal height unless a
    # randomization factor (TH) moved the table. Tasks place objects and judge heights with it.
    table_top: float = 0.0

    def __post_init__(self) -> None:
        if self.table_top == 0.0:
            self.table_top = self.layout.table_top


class Task(ABC):
    """A bimanual task. Subclasses fill in the class variables and the abstract methods."""

    name: ClassVar[str]
    description: ClassVar[str]
    paper_average_steps: ClassVar[int]  # the paper's Table 4, for comparison
    time_limit_s: ClassVar[float]  # evaluation time limit
    instructions: ClassVar[InstructionSet]
    # The object instances the task holds, by slot: each slot is a keyword argument of the
    # constructor and an attribute of the same name. Objects derived from a slot (the block
    # matching the hammer, the second bottle) are not slots: they follow it when it changes.
    object_slots: ClassVar[tuple[str, ...]] = ()

    def objects(self) -> dict[str, ObjectInstance]:
        """The instance in each object slot."""
        return {slot: getattr(self, slot) for slot in self.object_slots}

    def object_categories(self) -> frozenset[str]:
        """The library categories of the task's objects (distractors never repeat them)."""
        return frozenset(instance.category for instance in self.objects().values())

    def with_objects(self, **instances: ObjectInstance) -> Task:
        """A new task of this kind holding `instances` in the slots they name and this task's
        instances in the others (objects derived from a slot are derived again)."""
        unknown = sorted(set(instances) - set(self.object_slots))
        if unknown:
            slots = ", ".join(self.object_slots) or "none"
            raise ValueError(f"{self.name} has no object slot {unknown[0]!r}; slots: {slots}")
        return type(self)(**{**self.objects(), **instances})

    def step_limit(self, control_hz: float) -> int:
        return math.ceil(self.time_limit_s * control_hz)

    @abstractmethod
    def build(self, spec: mujoco.MjSpec, layout: StationLayout) -> None:
        """Add the task's objects to the station spec."""

    @abstractmethod
    def bind(self, view: SimView) -> None:
        """Look up ids in the compiled model (called once per compiled model)."""

    @abstractmethod
    def sample(self, rng: np.random.Generator, seed: int) -> InitialState:
        """Draw an initial state."""

    @abstractmethod
    def apply(self, view: SimView, state: InitialState) -> None:
        """Put the objects where `state` says (data is reset before this is called)."""

    @abstractmethod
    def object_phrase(self, state: InitialState) -> str:
        """How instructions name the task's object(s) in this episode."""

    @abstractmethod
    def success(self, view: SimView) -> bool:
        """Whether the task is accomplished in the current physics state."""

    def instruction(self, state: InitialState, split: str, rng: np.random.Generator) -> str:
        templates = self.instructions.templates(split)
        template = templates[int(rng.integers(len(templates)))]
        return template.format(object=self.object_phrase(state))
