"""Desk bells: a flat base, a dome and a button on top."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import mujoco

from sim2real.scene.library.base import RGBA, Category, ObjectInstance


@dataclass(frozen=True)
class Bell(ObjectInstance):
    base_radius: float = 0.055
    base_height: float = 0.014
    dome_radius: float = 0.042
    dome_height: float = 0.03
    button_radius: float = 0.011
    button_height: float = 0.008
    base_rgba: RGBA = (0.12, 0.12, 0.13, 1.0)
    dome_rgba: RGBA = (0.78, 0.76, 0.7, 1.0)
    button_rgba: RGBA = (0.3, 0.3, 0.32, 1.0)

    category: ClassVar[str] = "bell"
    noun: ClassVar[str] = "bell"

    @property
    def footprint_radius(self) -> float:
        return self.base_radius

    @property
    def dome_top(self) -> float:
        return self.base_height + self.dome_height

    @property
    def height(self) -> float:
        """Height of the button's top above the bell's bottom."""
        return self.dome_top + self.button_height / 2

    def build(self, body: mujoco.MjsBody, prefix: str) -> None:
        body.add_geom(
            name=f"{prefix}base",
            type=mujoco.mjtGeom.mjGEOM_CYLINDER,
            size=[self.base_radius, self.base_height / 2, 0],
            pos=[0, 0, self.base_height / 2],
            rgba=list(self.base_rgba),
            density=2500,
        )
        # An ellipsoid from just above the bottom to the dome's top; its lower part hides in the
        # base (it stays 2 mm clear of the bottom so only the flat base touches the table).
        clearance = 0.002
        dome_half = (self.dome_top - clearance) / 2
        body.add_geom(
            name=f"{prefix}dome",
            type=mujoco.mjtGeom.mjGEOM_ELLIPSOID,
            size=[self.dome_radius, self.dome_radius, dome_half],
            pos=[0, 0, clearance + dome_half],
            rgba=list(self.dome_rgba),
            density=800,
        )
        body.add_geom(
            name=f"{prefix}button",
            type=mujoco.mjtGeom.mjGEOM_CYLINDER,
            size=[self.button_radius, self.button_height / 2, 0],
            pos=[0, 0, self.dome_top],
            rgba=list(self.button_rgba),
            density=1000,
        )
        body.add_site(name=f"{prefix}top", pos=[0, 0, self.height], size=[0.004, 0, 0])


CATEGORIES = (
    Category(
        name="bell",
        kind="task",
        instances=(
            Bell("bell/seen/0", "seen", "silver", ""),
            Bell(
                "bell/seen/1", "seen", "golden", "large", base_radius=0.06, dome_radius=0.046,
                dome_height=0.034, dome_rgba=(0.83, 0.68, 0.3, 1.0),
            ),
            Bell(
                "bell/seen/2", "seen", "black", "small", base_radius=0.05, dome_radius=0.038,
                dome_height=0.026, dome_rgba=(0.15, 0.15, 0.16, 1.0), base_rgba=(0.55, 0.1, 0.1, 1.0),
            ),
            Bell(
                "bell/unseen/0", "unseen", "red", "", base_radius=0.056, dome_radius=0.043,
                dome_height=0.032, dome_rgba=(0.75, 0.12, 0.1, 1.0),
            ),
            Bell(
                "bell/unseen/1", "unseen", "blue", "flat", base_radius=0.062, dome_radius=0.05,
                dome_height=0.022, button_radius=0.013, dome_rgba=(0.2, 0.35, 0.75, 1.0),
            ),
        ),
    ),
)
