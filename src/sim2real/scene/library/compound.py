"""Objects made of a few primitive parts, described as data.

Most distractors (fruit, boxes, cans, tools, toys) are a handful of spheres, boxes, cylinders,
capsules and ellipsoids; describing them as parts avoids one class per category.
"""

from __future__ import annotations

from dataclasses import dataclass
import mujoco
import numpy as np

from sim2real.scene.library.base import RGBA, ObjectInstance

_TYPES = {
    "box": mujoco.mjtGeom.mjGEOM_BOX,
    "sphere": mujoco.mjtGeom.mjGEOM_SPHERE,
    "cylinder": mujoco.mjtGeom.mjGEOM_CYLINDER,
    "capsule": mujoco.mjtGeom.mjGEOM_CAPSULE,
    "ellipsoid": mujoco.mjtGeom.mjGEOM_ELLIPSOID,
}


@dataclass(frozen=True)
class Part:
    """One primitive: MuJoCo size parameters, position of its centre above the object's bottom
    centre, an optional rotation about x then z (radians), colour and density."""

    shape: str
    size: tuple[float, ...]
    pos: tuple[float, float, float]
    rgba: RGBA
    tilt_x: float = 0.0
    yaw: float = 0.0
    density: float = 600.0

    def quat(self) -> list[float]:
        half_x, half_z = self.tilt_x / 2, self.yaw / 2
        qx = np.array([np.cos(half_x), np.sin(half_x), 0.0, 0.0])
        qz = np.array([np.cos(half_z), 0.0, 0.0, np.sin(half_z)])
        out = np.zeros(4)
        mujoco.mju_mulQuat(out, qz, qx)
        return out.tolist()

    def extent(self) -> tuple[float, float]:
        """(horizontal reach from the object's axis, top height), conservatively."""
        size, tilt = self.size, abs(self.tilt_x)
        if self.shape == "box":
            reach = float(np.hypot(size[0], size[1])) + size[2] * np.sin(tilt)
            half_height = size[2] * np.cos(tilt) + size[1] * np.sin(tilt)
        elif self.shape in ("sphere", "ellipsoid"):
            reach = half_height = max(size)
        else:  # cylinder or capsule: radius, half length along the (tilted) axis
            radius, half = size[0], size[1]
            reach = radius + half * np.sin(tilt)
            half_height = half * np.cos(tilt) + radius * (np.sin(tilt) if self.shape == "cylinder" else 1)
        return float(np.hypot(self.pos[0], self.pos[1]) + reach), float(self.pos[2] + half_height)


@dataclass(frozen=True)
class Compound(ObjectInstance):
    """An instance whose category and noun are data (one class serves many categories)."""

    parts: tuple[Part, ...] = ()
    category_name: str = ""
    noun_name: str = ""

    @property  # type: ignore[override]
    def category(self) -> str:
        return self.category_name

    @property  # type: ignore[override]
    def noun(self) -> str:
        return self.noun_name

    @property
    def footprint_radius(self) -> float:
        return max(part.extent()[0] for part in self.parts)

    @property
    def height(self) -> float:
        return max(part.extent()[1] for part in self.parts)

    def build(self, body: mujoco.MjsBody, prefix: str) -> None:
        for index, part in enumerate(self.parts):
            size = list(part.size) + [0.0] * (3 - len(part.size))
            body.add_geom(
                name=f"{prefix}part{index}",
                type=_TYPES[part.shape],
                size=size,
                pos=list(part.pos),
                quat=part.quat(),
                rgba=list(part.rgba),
                density=part.density,
            )
