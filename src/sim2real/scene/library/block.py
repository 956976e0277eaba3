"""Blocks: a plain cube, the target of beat_block_hammer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import mujoco

from sim2real.scene.library.base import RGBA, Category, ObjectInstance


@dataclass(frozen=True)
class Block(ObjectInstance):
    half_size: float = 0.025
    rgba: RGBA = (0.78, 0.12, 0.1, 1.0)

    category: ClassVar[str] = "block"
    noun: ClassVar[str] = "block"

    @property
    def footprint_radius(self) -> float:
        return self.half_size * 2**0.5

    @property
    def height(self) -> float:
        return 2 * self.half_size

    def build(self, body: mujoco.MjsBody, prefix: str) -> None:
        body.add_geom(
            name=f"{prefix}cube",
            type=mujoco.mjtGeom.mjGEOM_BOX,
            size=[self.half_size] * 3,
            pos=[0, 0, self.half_size],
            rgba=list(self.rgba),
            density=500,
        )
        body.add_site(name=f"{prefix}top", pos=[0, 0, self.height], size=[0.004, 0, 0])


# Sizes stay near the task's 2.5 cm half-size: the task's difficulty should not change with them.
CATEGORIES = (
    Category(
        name="block",
        kind="task",
        instances=(
            Block("block/seen/0", "seen", "red", ""),
            Block("block/seen/1", "seen", "blue", "", rgba=(0.15, 0.3, 0.75, 1.0)),
            Block("block/seen/2", "seen", "green", "small", 0.023, (0.2, 0.6, 0.2, 1.0)),
            Block("block/seen/3", "seen", "yellow", "large", 0.027, (0.92, 0.8, 0.15, 1.0)),
            Block("block/unseen/0", "unseen", "purple", "", 0.024, (0.5, 0.2, 0.6, 1.0)),
            Block("block/unseen/1", "unseen", "orange", "big", 0.028, (0.95, 0.5, 0.1, 1.0)),
        ),
    ),
)
