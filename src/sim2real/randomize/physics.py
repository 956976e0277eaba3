"""PHY: sliding friction of every contact, task-object masses and their joint damping.

Train: the configured ranges (`friction`, `mass_scale`, `damping`); ood: values on either side
beyond them. The `physics` presets (default, extreme) are settings, not this factor: PHY
varies around whatever preset the env was built with.
"""

from __future__ import annotations

import mujoco
import numpy as np

from sim2real.randomize.base import Factor, Params, SceneHandles

DISTRACTOR_PREFIX = "distractor/"


def task_object_bodies(model: mujoco.MjModel) -> list[int]:
    """Bodies on a free joint that are not distractors: the task's objects."""
    free = model.jnt_bodyid[model.jnt_type == mujoco.mjtJoint.mjJNT_FREE]
    return [int(b) for b in free if not model.body(int(b)).name.startswith(DISTRACTOR_PREFIX)]


def outside(rng: np.random.Generator, low: float, high: float, floor: float = 0.0) -> float:
    """A value beyond [low, high]: below it (down to half of low) or above it (up to 1.5 x high)."""
    below = (max(floor, low / 2), low)
    above = (high, high * 1.5 if high > 0 else 0.05)
    span = below if (rng.uniform() < 0.5 and below[0] < below[1]) else above
    return float(rng.uniform(*span))


class Physics(Factor):
    name = "PHY"
    stage = "scene"

    def bind(self, handles: SceneHandles) -> None:
        model = handles.model
        self.bodies = task_object_bodies(model)
        self.mass = model.body_mass[self.bodies].copy()
        self.inertia = model.body_inertia[self.bodies].copy()
        self.dofs = np.flatnonzero(np.isin(model.dof_bodyid, self.bodies))

    def sample(self, rng: np.random.Generator, handles: SceneHandles) -> Params:
        draws = {}
        for name in ("friction", "mass_scale", "damping"):
            low, high = getattr(self.config, name)
            value = outside(rng, low, high) if self.ood else rng.uniform(low, high)
            draws[name] = round(float(value), 5)
        return draws

    def apply(self, handles: SceneHandles, params: Params) -> None:
        model = handles.model
        model.geom_friction[:, 0] = params["friction"]
        model.body_mass[self.bodies] = self.mass * params["mass_scale"]
        model.body_inertia[self.bodies] = self.inertia * params["mass_scale"]
        model.dof_damping[self.dofs] = params["damping"]
