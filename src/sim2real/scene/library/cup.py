"""Cups: a base disc, a slightly tapered open wall (ring of boxes) and a handle, really hollow.

Body frame: origin at the bottom centre, upright along +z. The handle points along +y (away
from the robot), so side grasps from the arms' side never meet it. Site `grasp` marks the axis at
the height where the expert closes its fingers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import mujoco

from sim2real.scene.library.base import RGBA, Category, ObjectInstance
from sim2real.scene.library.bowl import build_parts, vessel_parts
from sim2real.scene.library.compound import Part


@dataclass(frozen=True)
class Cup(ObjectInstance):
    bottom_radius: float = 0.028
    top_radius: float = 0.032
    cup_height: float = 0.085
    wall: float = 0.004
    base: float = 0.008
    handle: bool = True
    rgba: RGBA = (0.9, 0.9, 0.88, 1.0)

    category: ClassVar[str] = "cup"
    noun: ClassVar[str] = "cup"

    @property
    def parts(self) -> tuple[Part, ...]:
        parts = vessel_parts(self.bottom_radius, self.top_radius, self.cup_height, self.wall,
                             self.base, self.rgba, density=900.0)
        if not self.handle:
            return parts
        reach = self.top_radius + 0.014
        grip = Part("box", (0.004, 0.003, self.cup_height * 0.28),
                    (0.0, reach, self.cup_height * 0.55), self.rgba, density=900.0)
        arms = tuple(
            Part("box", (0.004, 0.009, 0.003),
                 (0.0, reach - 0.008, self.cup_height * (0.55 + sign * 0.28)), self.rgba,
                 density=900.0)
            for sign in (-1, 1)
        )
        return parts + (grip,) + arms

    @property
    def footprint_radius(self) -> float:
        return self.top_radius + (0.02 if self.handle else self.wall)

    @property
    def height(self) -> float:
        return self.cup_height

    @property
    def grasp_height(self) -> float:
        return self.cup_height * 0.5

    def build(self, body: mujoco.MjsBody, prefix: str) -> None:
        build_parts(self.parts, body, prefix)
        body.add_site(name=f"{prefix}grasp", pos=[0, 0, self.grasp_height], size=[0.004, 0, 0])


def _cup(index: str, colour: str, size: str, rgba: RGBA, **shape) -> Cup:
    split = index.split("/")[0]
    return Cup(f"cup/{index}", split, colour, size, rgba=rgba, **shape)  # type: ignore


CATEGORIES = (
    Category(
        name="cup",
        kind="task",
        instances=(
            _cup("seen/0", "white", "", (0.9, 0.9, 0.88, 1.0)),
            _cup("seen/1", "blue", "tall", (0.2, 0.35, 0.75, 1.0), cup_height=0.1),
            _cup("seen/2", "red", "short", (0.8, 0.15, 0.12, 1.0), cup_height=0.07,
                 bottom_radius=0.03, top_radius=0.033),
            _cup("seen/3", "yellow", "", (0.95, 0.8, 0.25, 1.0), handle=False,
                 bottom_radius=0.026, top_radius=0.031),
            _cup("unseen/0", "green", "", (0.3, 0.6, 0.3, 1.0), cup_height=0.09,
                 bottom_radius=0.029, top_radius=0.029),
            _cup("unseen/1", "black", "small", (0.12, 0.12, 0.12, 1.0), cup_height=0.075,
                 bottom_radius=0.025, top_radius=0.029, handle=False),
        ),
    ),
)
