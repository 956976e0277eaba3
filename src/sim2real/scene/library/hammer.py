"""Hammers lying on their side: a rectangular handle along the body's +y and a head across it.

Body frame: origin at the bottom centre of the bounding box, the head at the -y end, the handle's
free end at +y. Handle and head have the same height so both rest flat on the table. Sites:
`grip` (where the expert grasps: the handle next to the centre of mass, so the held hammer does
not twist in the fingers) and `head` (the head's centre).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import mujoco

from sim2real.scene.library.base import RGBA, Category, ObjectInstance

HANDLE_DENSITY = 600.0  # wood
HEAD_DENSITY = 1500.0  # lighter than steel: a light hammer the gripper can hold level
GRIP_CLEARANCE = 0.02  # the fingers stay this far from the head's face


@dataclass(frozen=True)
class Hammer(ObjectInstance):
    handle_length: float = 0.2
    handle_width: float = 0.03  # across the fingers
    thickness: float = 0.022  # vertical, of handle and head
    head_length: float = 0.09  # across the handle
    head_width: float = 0.03  # along the handle
    handle_rgba: RGBA = (0.62, 0.42, 0.22, 1.0)
    head_rgba: RGBA = (0.45, 0.46, 0.5, 1.0)

    category: ClassVar[str] = "hammer"
    noun: ClassVar[str] = "hammer"

    @property
    def total_length(self) -> float:
        return self.head_width + self.handle_length

    @property
    def head_y(self) -> float:
        return -self.total_length / 2 + self.head_width / 2

    @property
    def handle_y(self) -> float:
        return -self.total_length / 2 + self.head_width + self.handle_length / 2

    @property
    def grip_y(self) -> float:
        """Along the handle at the centre of mass, but clear of the head."""
        head_mass = self.head_length * self.head_width * HEAD_DENSITY
        handle_mass = self.handle_length * self.handle_width * HANDLE_DENSITY
        centre = (head_mass * self.head_y + handle_mass * self.handle_y) / (head_mass + handle_mass)
        return max(centre, self.head_y + self.head_width / 2 + GRIP_CLEARANCE)

    @property
    def footprint_radius(self) -> float:
        return float(((self.total_length / 2) ** 2 + (self.head_length / 2) ** 2) ** 0.5)

    @property
    def height(self) -> float:
        return self.thickness

    def build(self, body: mujoco.MjsBody, prefix: str) -> None:
        half_t = self.thickness / 2
        body.add_geom(
            name=f"{prefix}handle",
            type=mujoco.mjtGeom.mjGEOM_BOX,
            size=[self.handle_width / 2, self.handle_length / 2, half_t],
            pos=[0, self.handle_y, half_t],
            rgba=list(self.handle_rgba),
            density=HANDLE_DENSITY,
        )
        body.add_geom(
            name=f"{prefix}head",
            type=mujoco.mjtGeom.mjGEOM_BOX,
            size=[self.head_length / 2, self.head_width / 2, half_t],
            pos=[0, self.head_y, half_t],
            rgba=list(self.head_rgba),
            density=HEAD_DENSITY,
        )
        body.add_site(name=f"{prefix}grip", pos=[0, self.grip_y, half_t], size=[0.004, 0, 0])
        body.add_site(name=f"{prefix}head", pos=[0, self.head_y, half_t], size=[0.004, 0, 0])


CATEGORIES = (
    Category(
        name="hammer",
        kind="task",
        instances=(
            Hammer("hammer/seen/0", "seen", "brown", ""),
            Hammer(
                "hammer/seen/1", "seen", "black", "long", handle_length=0.22,
                handle_rgba=(0.12, 0.12, 0.13, 1.0),
            ),
            Hammer(
                "hammer/seen/2", "seen", "red", "short", handle_length=0.18, head_length=0.08,
                handle_rgba=(0.75, 0.12, 0.1, 1.0), head_rgba=(0.3, 0.3, 0.32, 1.0),
            ),
            Hammer(
                "hammer/unseen/0", "unseen", "yellow", "", head_length=0.1, head_width=0.032,
                handle_rgba=(0.92, 0.8, 0.15, 1.0), head_rgba=(0.15, 0.15, 0.16, 1.0),
            ),
            Hammer(
                "hammer/unseen/1", "unseen", "blue", "slim", handle_width=0.026, thickness=0.02,
                handle_rgba=(0.15, 0.3, 0.75, 1.0),
            ),
        ),
    ),
)
