"""The object library's vocabulary: categories of procedural objects and their instances.

An instance is a fully specified object (shape parameters, colour) that can add itself to a
MuJoCo spec as one body. Its body origin is the centre of its bottom face, so placing it on a
surface means setting the origin's z to the surface height. Instances are split into *seen*
(training) and *unseen* (held out for out-of-distribution evaluation) by construction;
distractors also have *heldout* instances that only the proxy-real world uses.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar, Literal

import mujoco

Split = Literal["seen", "unseen", "heldout"]  # heldout: distractors of the proxy-real world
RGBA = tuple[float, float, float, float]


@dataclass(frozen=True)
class ObjectInstance(ABC):
    """One concrete object. Subclasses are frozen dataclasses holding their shape parameters."""

    instance_id: str  # unique, stable, e.g. "bowl/seen/03"
    split: Split
    colour_name: str  # used in instructions ("blue")
    size_name: str  # "small", "medium", "large"

    category: ClassVar[str]
    noun: ClassVar[str]  # how instructions name it ("bowl")

    @property
    def phrase(self) -> str:
        """How an instruction names this instance: 'the small blue bowl'."""
        return f"the {self.size_name} {self.colour_name} {self.noun}".replace("  ", " ")

    @property
    @abstractmethod
    def footprint_radius(self) -> float:
        """Radius of the smallest vertical cylinder around the object (for placement)."""

    @property
    @abstractmethod
    def height(self) -> float:
        """Height of the object's top above its bottom when upright."""

    @abstractmethod
    def build(self, body: mujoco.MjsBody, prefix: str) -> None:
        """Add geoms (and sites) to `body`; names start with `prefix`."""

    def add_to(self, spec: mujoco.MjSpec, name: str, free: bool = True) -> mujoco.MjsBody:
        """Add this object to the world as a body called `name` (free-floating by default)."""
        body = spec.worldbody.add_body(name=name)
        if free:
            body.add_freejoint(name=f"{name}/free")
        self.build(body, f"{name}/")
        return body


@dataclass(frozen=True)
class Category:
    """A named family of instances; `kind` tells task objects from distractors."""

    name: str
    kind: Literal["task", "distractor"]
    instances: tuple[ObjectInstance, ...]

    def split(self, split: Split) -> tuple[ObjectInstance, ...]:
        return tuple(i for i in self.instances if i.split == split)

    def __post_init__(self) -> None:
        ids = [i.instance_id for i in self.instances]
        if len(set(ids)) != len(ids):
            raise ValueError(f"category {self.name} repeats instance ids")
        if not self.split("seen") or not self.split("unseen"):
            raise ValueError(f"category {self.name} needs both seen and unseen instances")
