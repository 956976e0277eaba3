"""Procedural objects built from primitives, so the library needs no downloads."""

from __future__ import annotations

from dataclasses import dataclass

import mujoco
import numpy as np


@dataclass(frozen=True)
class BellShape:
    """A desk bell: a flat base, a dome and a button on top (metres, RGBA)."""

    base_radius: float = 0.055
    base_height: float = 0.014
    dome_radius: float = 0.042
    dome_height: float = 0.03
    button_radius: float = 0.011
    button_height: float = 0.008
    base_rgba: tuple[float, float, float, float] = (0.12, 0.12, 0.13, 1.0)
    dome_rgba: tuple[float, float, float, float] = (0.78, 0.76, 0.7, 1.0)
    button_rgba: tuple[float, float, float, float] = (0.3, 0.3, 0.32, 1.0)
    colour_name: str = "silver"

    @property
    def top_height(self) -> float:
        """Height of the button's top above the bell's bottom."""
        return self.base_height + self.dome_height + self.button_height * 0.5

    @property
    def dome_top(self) -> float:
        return self.base_height + self.dome_height


def add_bell(spec: mujoco.MjSpec, name: str, shape: BellShape) -> mujoco.MjsBody:
    """A free-moving bell whose body origin is the centre of its bottom face."""
    body = spec.worldbody.add_body(name=name)
    body.add_freejoint(name=f"{name}/free")
    body.add_geom(
        name=f"{name}/base",
        type=mujoco.mjtGeom.mjGEOM_CYLINDER,
        size=[shape.base_radius, shape.base_height / 2, 0],
        pos=[0, 0, shape.base_height / 2],
        rgba=list(shape.base_rgba),
        density=2500,
    )
    # An ellipsoid from just above the bottom to the dome's top; its lower part hides in the base
    # (it stays 2 mm clear of the bottom so only the flat base touches the table).
    clearance = 0.002
    dome_half = (shape.dome_top - clearance) / 2
    body.add_geom(
        name=f"{name}/dome",
        type=mujoco.mjtGeom.mjGEOM_ELLIPSOID,
        size=[shape.dome_radius, shape.dome_radius, dome_half],
        pos=[0, 0, clearance + dome_half],
        rgba=list(shape.dome_rgba),
        density=800,
    )
    body.add_geom(
        name=f"{name}/button",
        type=mujoco.mjtGeom.mjGEOM_CYLINDER,
        size=[shape.button_radius, shape.button_height / 2, 0],
        pos=[0, 0, shape.base_height + shape.dome_height],
        rgba=list(shape.button_rgba),
        density=1000,
    )
    body.add_site(name=f"{name}/top", pos=[0, 0, shape.top_height], size=[0.004, 0, 0])
    return body


def set_free_pose(
    model: mujoco.MjModel, data: mujoco.MjData, joint: str, position: np.ndarray, yaw: float = 0.0
) -> None:
    """Place a free body at a world position with a yaw about z, at rest."""
    jnt = model.joint(joint)
    adr, vadr = jnt.qposadr[0], jnt.dofadr[0]
    data.qpos[adr : adr + 3] = position
    data.qpos[adr + 3 : adr + 7] = [np.cos(yaw / 2), 0.0, 0.0, np.sin(yaw / 2)]
    data.qvel[vadr : vadr + 6] = 0.0
