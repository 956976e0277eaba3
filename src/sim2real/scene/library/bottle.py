"""Bottles: a cylindrical body, a rounded shoulder, a neck and a cap (capped, so solid).

Body frame: origin at the bottom centre, the bottle upright along +z. Site `grasp` sits on the
axis at the height where the expert closes its fingers (the body's middle).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import mujoco

from sim2real.scene.library.base import RGBA, Category, ObjectInstance

CAP_RGBA: RGBA = (0.92, 0.92, 0.9, 1.0)


@dataclass(frozen=True)
class Bottle(ObjectInstance):
    radius: float = 0.03
    body_height: float = 0.13
    shoulder_height: float = 0.03
    neck_radius: float = 0.013
    neck_height: float = 0.025
    cap_height: float = 0.014
    rgba: RGBA = (0.2, 0.6, 0.2, 0.95)
    cap_rgba: RGBA = CAP_RGBA

    category: ClassVar[str] = "bottle"
    noun: ClassVar[str] = "bottle"

    @property
    def footprint_radius(self) -> float:
        return self.radius

    @property
    def height(self) -> float:
        return self.body_height + self.shoulder_height + self.neck_height + self.cap_height

    @property
    def grasp_height(self) -> float:
        return self.body_height * 0.55

    def build(self, body: mujoco.MjsBody, prefix: str) -> None:
        cyl = mujoco.mjtGeom.mjGEOM_CYLINDER
        body.add_geom(
            name=f"{prefix}body", type=cyl, size=[self.radius, self.body_height / 2, 0],
            pos=[0, 0, self.body_height / 2], rgba=list(self.rgba), density=700,
        )
        # The upper half of an ellipsoid centred on the body's top rounds the shoulder.
        body.add_geom(
            name=f"{prefix}shoulder", type=mujoco.mjtGeom.mjGEOM_ELLIPSOID,
            size=[self.radius * 0.98, self.radius * 0.98, self.shoulder_height],
            pos=[0, 0, self.body_height], rgba=list(self.rgba), density=700,
        )
        neck_bottom = self.body_height + self.shoulder_height * 0.8
        neck_half = (self.height - self.cap_height - neck_bottom) / 2
        body.add_geom(
            name=f"{prefix}neck", type=cyl, size=[self.neck_radius, neck_half, 0],
            pos=[0, 0, neck_bottom + neck_half], rgba=list(self.rgba), density=700,
        )
        body.add_geom(
            name=f"{prefix}cap", type=cyl, size=[self.neck_radius * 1.15, self.cap_height / 2, 0],
            pos=[0, 0, self.height - self.cap_height / 2], rgba=list(self.cap_rgba), density=700,
        )
        body.add_site(name=f"{prefix}grasp", pos=[0, 0, self.grasp_height], size=[0.004, 0, 0])


def _bottle(index: str, colour: str, size: str, rgba: RGBA, **shape: float) -> Bottle:
    split = index.split("/")[0]  # "seen/2" -> "seen"
    return Bottle(f"bottle/{index}", split, colour, size, rgba=rgba, **shape)  # type: ignore


CATEGORIES = (
    Category(
        name="bottle",
        kind="task",
        instances=(
            _bottle("seen/0", "green", "", (0.2, 0.6, 0.2, 0.95)),
            _bottle("seen/1", "blue", "", (0.15, 0.3, 0.75, 0.95), radius=0.028,
                    body_height=0.14),
            _bottle("seen/2", "red", "short", (0.78, 0.12, 0.1, 1.0), radius=0.032,
                    body_height=0.11),
            _bottle("seen/3", "white", "tall", (0.9, 0.9, 0.88, 1.0), radius=0.027,
                    body_height=0.16, neck_height=0.03),
            _bottle("unseen/0", "purple", "", (0.5, 0.2, 0.6, 1.0), radius=0.031, body_height=0.125,
                    shoulder_height=0.04),
            _bottle("unseen/1", "orange", "slim", (0.95, 0.5, 0.1, 1.0), radius=0.025,
                    body_height=0.15, neck_radius=0.011),
            _bottle("unseen/2", "teal", "wide", (0.1, 0.55, 0.55, 1.0), radius=0.034,
                    body_height=0.12, neck_radius=0.016),
        ),
    ),
)
