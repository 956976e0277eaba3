"""Coasters: a thin round or square pad (a cup is set down on it).

Body frame: origin at the bottom centre; the top face is `height` above it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import mujoco

from sim2real.scene.library.base import RGBA, Category, ObjectInstance


@dataclass(frozen=True)
class Coaster(ObjectInstance):
    radius: float = 0.05  # half side for square coasters
    thickness: float = 0.006
    square: bool = False
    rgba: RGBA = (0.55, 0.35, 0.2, 1.0)

    category: ClassVar[str] = "coaster"
    noun: ClassVar[str] = "coaster"

    @property
    def footprint_radius(self) -> float:
        return self.radius * (1.4143 if self.square else 1.0)

    @property
    def height(self) -> float:
        return self.thickness

    def build(self, body: mujoco.MjsBody, prefix: str) -> None:
        half = self.thickness / 2
        if self.square:
            shape, size = mujoco.mjtGeom.mjGEOM_BOX, [self.radius, self.radius, half]
        else:
            shape, size = mujoco.mjtGeom.mjGEOM_CYLINDER, [self.radius, half, 0]
        body.add_geom(name=f"{prefix}pad", type=shape, size=size, pos=[0, 0, half],
                      rgba=list(self.rgba), density=500)
        body.add_site(name=f"{prefix}top", pos=[0, 0, self.thickness], size=[0.004, 0, 0])


def _coaster(index: str, colour: str, size: str, rgba: RGBA, **shape) -> Coaster:
    split = index.split("/")[0]
    return Coaster(f"coaster/{index}", split, colour, size, rgba=rgba, **shape)  # type: ignore


CATEGORIES = (
    Category(
        name="coaster",
        kind="task",
        instances=(
            _coaster("seen/0", "brown", "", (0.55, 0.35, 0.2, 1.0)),
            _coaster("seen/1", "grey", "square", (0.5, 0.5, 0.52, 1.0), square=True,
                     radius=0.045),
            _coaster("seen/2", "cork", "large", (0.78, 0.62, 0.42, 1.0), radius=0.058),
            _coaster("unseen/0", "blue", "", (0.2, 0.3, 0.7, 1.0), radius=0.052, thickness=0.007),
            _coaster("unseen/1", "black", "square", (0.1, 0.1, 0.1, 1.0), square=True,
                     radius=0.05, thickness=0.0055),
        ),
    ),
)
