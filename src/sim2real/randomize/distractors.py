"""TD: a random number of distractor objects from the object library on the table.

Design: a pool with one body per distractor instance of the split is added to the model once
(so an episode never recompiles the model nor restarts the renderer). Unused pool bodies are
parked behind the wall, apart from each other, with contacts off and gravity compensated, so
they never touch anything nor move. Chosen ones get a pose outside the task's working area (keep-out
circles around every task object and robot base), a random colour, and are settled by
simulating a moment before the episode starts. Train uses seen instances, ood unseen ones,
heldout the held-out ones.
"""

from __future__ import annotations

import colorsys
from dataclasses import dataclass

import mujoco
import numpy as np

from sim2real.errors import Sim2RealError
from sim2real.randomize.base import Factor, Params, SceneHandles, rounded
from sim2real.randomize.config import RandomizationConfig
from sim2real.randomize.physics import DISTRACTOR_PREFIX, task_object_bodies
from sim2real.scene.library import ObjectInstance, categories
from sim2real.scene.objects import footprint_radius
from sim2real.scene.station import StationLayout

WORK_MARGIN = 0.08  # clearance kept around each task object's footprint (m)
BASE_KEEPOUT = 0.16  # radius kept clear around each arm's base (m)
GAP = 0.01  # clearance between distractors (m)
REGION_X, REGION_Y = (-0.56, 0.56), (-0.3, 0.31)  # placement area on the table, centre frame
SETTLE_SECONDS = 0.3
PLACEMENT_TRIES = 60


@dataclass(frozen=True)
class PoolBody:
    instance: ObjectInstance
    body: int
    qpos: int
    dof: int
    geoms: np.ndarray


class Distractors(Factor):
    name = "TD"
    stage = "objects"

    def __init__(
        self,
        config: RandomizationConfig,
        split: str,
        layout: StationLayout,
        excluded_categories: frozenset[str] = frozenset(),
    ) -> None:
        super().__init__(config, split, layout)
        self.instances = [
            inst
            for cat in categories("distractor")
            if cat.name not in excluded_categories
            for inst in cat.split(self.library_set)
        ]
        if not self.instances:
            raise Sim2RealError(
                "randomize TD needs distractor categories in the object library "
                "(sim2real.scene.library.categories('distractor') is empty)"
            )

    def build(self, spec: mujoco.MjSpec) -> None:
        for k, inst in enumerate(self.instances):
            # Compiled where it is parked, so even the first forward pass finds no overlaps.
            inst.add_to(spec, f"{DISTRACTOR_PREFIX}{k}").pos = parking_spot(k)

    def bind(self, handles: SceneHandles) -> None:
        model = handles.model
        self.pool = []
        for k, inst in enumerate(self.instances):
            body = model.body(f"{DISTRACTOR_PREFIX}{k}").id
            joint = model.joint(f"{DISTRACTOR_PREFIX}{k}/free")
            geoms = np.flatnonzero(model.geom_bodyid == body)
            self.pool.append(PoolBody(inst, body, joint.qposadr[0], joint.dofadr[0], geoms))
        self.contype = model.geom_contype.copy()
        self.conaffinity = model.geom_conaffinity.copy()
        self.rgba = model.geom_rgba.copy()
        self.mounts = [(m.x, m.y) for m in handles.view.robot.mounts.values()]
        for k, slot in enumerate(self.pool):
            self._park(handles.model, handles.data, k, slot)

    def sample(self, rng: np.random.Generator, handles: SceneHandles) -> Params:
        low, high = self.config.distractors
        count = int(rng.integers(low, high + 1))
        chosen = rng.choice(len(self.pool), size=min(count, len(self.pool)), replace=False)
        taken = self._keepout(handles)
        placed = []
        for k in chosen:
            radius = self.pool[k].instance.footprint_radius
            for _ in range(PLACEMENT_TRIES):
                # the whole footprint on the placement area, not only its centre
                xy = np.array(
                    [
                        rng.uniform(REGION_X[0] + radius, REGION_X[1] - radius),
                        rng.uniform(REGION_Y[0] + radius, REGION_Y[1] - radius),
                    ]
                )
                if all(np.hypot(*(xy - c)) >= r + radius + GAP for c, r in taken):
                    break
            else:
                continue  # no room for this one: the table is full enough
            taken.append((xy, radius))
            hue = rng.uniform()
            placed.append(
                {
                    "instance": self.pool[k].instance.instance_id,
                    "slot": int(k),
                    "xy": rounded(xy),
                    "yaw": round(float(rng.uniform(-np.pi, np.pi)), 5),
                    "hue": round(float(hue), 4),
                }
            )
        return {"objects": placed}

    def _keepout(self, handles: SceneHandles) -> list[tuple[np.ndarray, float]]:
        """Circles (centre xy, radius) distractors must stay out of: the task's working area."""
        model, data = handles.model, handles.data
        circles = [(np.array(m), BASE_KEEPOUT) for m in self.mounts]
        for body in task_object_bodies(model):
            reach = footprint_radius(model, body)
            circles.append((data.xpos[body, :2].copy(), reach + WORK_MARGIN))
        return circles

    def apply(self, handles: SceneHandles, params: Params) -> None:
        model, data = handles.model, handles.data
        for k, slot in enumerate(self.pool):
            self._park(model, data, k, slot)
        top = handles.view.table_top
        for item in params["objects"]:
            slot = self.pool[item["slot"]]
            model.geom_contype[slot.geoms] = self.contype[slot.geoms]
            model.geom_conaffinity[slot.geoms] = self.conaffinity[slot.geoms]
            model.body_gravcomp[slot.body] = 0.0
            yaw = item["yaw"]
            data.qpos[slot.qpos : slot.qpos + 7] = [
                *item["xy"],
                top + 0.001,
                np.cos(yaw / 2),
                0,
                0,
                np.sin(yaw / 2),
            ]
            for g in slot.geoms:
                model.geom_rgba[g] = _recolour(self.rgba[g], item["hue"])
        self._settle(model, data)

    def _park(self, model, data, k: int, slot: PoolBody) -> None:
        model.geom_contype[slot.geoms] = 0
        model.geom_conaffinity[slot.geoms] = 0
        model.body_gravcomp[slot.body] = 1.0
        data.qpos[slot.qpos : slot.qpos + 7] = [*parking_spot(k), 1, 0, 0, 0]
        data.qvel[slot.dof : slot.dof + 6] = 0.0

    @staticmethod
    def _settle(model: mujoco.MjModel, data: mujoco.MjData) -> None:
        """Let distractors come to rest before the episode starts (robot holds its pose)."""
        for _ in range(round(SETTLE_SECONDS / model.opt.timestep)):
            mujoco.mj_step(model, data)
        data.time = 0.0
        mujoco.mj_forward(model, data)


def parking_spot(k: int) -> list[float]:
    """Where pool body k waits: behind the wall (out of every camera's view), 30 cm apart."""
    return [-3.0 + 0.3 * (k % 20), 3.0 + 0.3 * (k // 20), 0.5]


def _recolour(rgba: np.ndarray, hue: float) -> np.ndarray:
    """The geom's colour with a new hue (shading between parts kept via saturation, value)."""
    _, saturation, value = colorsys.rgb_to_hsv(*rgba[:3])
    red, green, blue = colorsys.hsv_to_rgb(hue, max(saturation, 0.35), max(value, 0.25))
    return np.array([red, green, blue, rgba[3]])
