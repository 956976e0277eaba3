"""Physics of the scene: the settings (the paper's reference simulator defaults and the
`extreme` stress preset) and how they are applied to the station's spec."""

from __future__ import annotations

import mujoco
import numpy as np
from pydantic import BaseModel, ConfigDict, Field


class PhysicsSettings(BaseModel):
    """Physics of the scene: the paper's reference simulator defaults."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    timestep: float = Field(1 / 250, gt=0, le=0.02, description="physics step in seconds")
    friction: float = Field(0.5, ge=0, le=5, description="sliding friction of every contact")
    restitution: float = Field(0.0, ge=0, le=1, description="bounciness of contacts (0 = none)")
    gravity: float = Field(9.81, ge=0, le=20, description="magnitude of gravity in m/s^2")


# `physics: extreme` is the paper's stress test: a fifth of the friction, bouncy contacts and
# half of Earth's gravity (docs/randomization.md).
PHYSICS_PRESETS = {
    "default": PhysicsSettings(),
    "extreme": PhysicsSettings(friction=0.1, restitution=0.5, gravity=4.9),
}


def finalize_physics(spec: mujoco.MjSpec, physics: PhysicsSettings) -> None:
    """Apply the contact parameters to every geom (after tasks have added theirs)."""
    dampratio = restitution_to_dampratio(physics.restitution)
    for geom in spec.geoms:
        geom.friction[0] = physics.friction
        geom.solref = [0.01, dampratio]


def restitution_to_dampratio(restitution: float) -> float:
    """MuJoCo contacts are damped springs; pick the damping ratio that bounces back `e` of the
    approach speed (e = exp(-zeta*pi/sqrt(1-zeta^2))). e = 0 gives a critically damped contact."""
    if restitution <= 0.0:
        return 1.0
    log_e = np.log(restitution)
    return float(-log_e / np.sqrt(np.pi**2 + log_e**2))
