"""CP: the head camera moved along a random direction, with a small orientation jitter.

Train: offsets up to `camera_radius` (default 5 cm) and jitter up to `camera_jitter_deg`;
ood: offsets in (radius, 2 x radius] and jitter in (jitter, 2 x jitter]. Intrinsics unchanged.
"""

from __future__ import annotations

import mujoco
import numpy as np

from sim2real.randomize.base import Factor, Params, SceneHandles, beyond, rounded, unit_vector
from sim2real.scene.station import HEAD_CAMERA


class CameraPose(Factor):
    name = "CP"
    stage = "view"

    def bind(self, handles: SceneHandles) -> None:
        model = handles.model
        self.camera = model.camera(HEAD_CAMERA).id
        self.home_pos = model.cam_pos[self.camera].copy()
        self.home_quat = model.cam_quat[self.camera].copy()

    def sample(self, rng: np.random.Generator, handles: SceneHandles) -> Params:
        radius, jitter = self.config.camera_radius, np.radians(self.config.camera_jitter_deg)
        direction = unit_vector(rng)
        if self.ood:
            distance, angle = beyond(rng, radius), beyond(rng, jitter)
        else:
            # cube root: offsets uniform over the ball's volume, not crowded at its centre
            distance, angle = radius * rng.uniform() ** (1 / 3), rng.uniform(0, jitter)
        turn = np.zeros(4)
        mujoco.mju_axisAngle2Quat(turn, unit_vector(rng), angle)
        quat = np.zeros(4)
        mujoco.mju_mulQuat(quat, self.home_quat, turn)
        return {
            "offset": rounded(direction * distance),
            "pos": rounded(self.home_pos + direction * distance),
            "quat": rounded(quat / np.linalg.norm(quat), 7),
            "jitter_deg": round(float(np.degrees(angle)), 4),
        }

    def apply(self, handles: SceneHandles, params: Params) -> None:
        model, data = handles.model, handles.data
        model.cam_pos[self.camera] = params["pos"]
        model.cam_quat[self.camera] = params["quat"]
        # The head camera hangs from the world body: its world pose is its model pose. Writing
        # it into data too spares a kinematics pass (rendering reads data.cam_x*).
        data.cam_xpos[self.camera] = params["pos"]
        mujoco.mju_quat2Mat(data.cam_xmat[self.camera], np.asarray(params["quat"]))
