"""Placing objects of the library in a compiled model."""

from __future__ import annotations

import mujoco
import numpy as np


def set_free_pose(
    model: mujoco.MjModel, data: mujoco.MjData, joint: str, position: np.ndarray, yaw: float = 0.0
) -> None:
    """Place a free body at a world position with a yaw about z, at rest."""
    jnt = model.joint(joint)
    adr, vadr = jnt.qposadr[0], jnt.dofadr[0]
    data.qpos[adr : adr + 3] = position
    data.qpos[adr + 3 : adr + 7] = [np.cos(yaw / 2), 0.0, 0.0, np.sin(yaw / 2)]
    data.qvel[vadr : vadr + 6] = 0.0


def footprint_radius(model: mujoco.MjModel, body: int, default: float = 0.05) -> float:
    """Radius of a circle about a body's origin that covers its geoms seen from above (each
    geom's offset plus its bounding radius); `default` for a body without geoms."""
    geoms = np.flatnonzero(model.geom_bodyid == body)
    return float(max((np.hypot(*model.geom_pos[g, :2]) + model.geom_rbound[g] for g in geoms),
                     default=default))
