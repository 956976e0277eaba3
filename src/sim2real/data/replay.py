"""Replay a recorded episode for what its files do not hold: every camera's matrices and the
head camera's depth at each frame (for exports such as RoboTwin's, which carry them).

An episode is a pure function of (task, settings, seed), so replaying the expert on the
recorded seed gives the same states frame for frame (checked: a replay of another length is an
error). Only physics and a depth pass run: no colour is rendered, so the replay costs the same
whatever the dataset's fidelity.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import mujoco
import numpy as np

from sim2real.errors import Sim2RealError
from sim2real.render.cameras import MODEL_CAMERA

# OpenGL (and MuJoCo) cameras look along -z with y up; OpenCV cameras along +z with y down.
GL_TO_CV = np.diag([1.0, -1.0, -1.0, 1.0])


@dataclass(frozen=True)
class CameraFrame:
    """One camera at one frame, in RoboTwin's (SAPIEN's) conventions."""

    intrinsic_cv: np.ndarray  # 3 x 3: fx, fy, cx, cy in pixels
    extrinsic_cv: np.ndarray  # 3 x 4: world -> OpenCV camera
    cam2world_gl: np.ndarray  # 4 x 4: OpenGL camera -> world
    depth: np.ndarray | None  # H x W metres along the optical axis (depth cameras only)


def camera_frame(model: mujoco.MjModel, data: mujoco.MjData, camera_id: int,
                 image_size: tuple[int, int], depth: np.ndarray | None = None) -> CameraFrame:
    width, height = image_size
    focal = height / 2 / np.tan(np.radians(model.cam_fovy[camera_id]) / 2)  # square pixels
    intrinsic = np.array([[focal, 0.0, width / 2], [0.0, focal, height / 2], [0.0, 0.0, 1.0]])
    cam2world = np.eye(4)
    cam2world[:3, :3] = data.cam_xmat[camera_id].reshape(3, 3)
    cam2world[:3, 3] = data.cam_xpos[camera_id]
    world2cv = np.linalg.inv(cam2world @ GL_TO_CV)
    return CameraFrame(intrinsic, world2cv[:3], cam2world, depth)


@dataclass(frozen=True)
class ReplayedFrame:
    cameras: dict[str, CameraFrame]
    table_top: float  # world height of the table's surface (TH moves it)


def replay_cameras(task: str, settings: dict[str, Any], seed: int, length: int,
                   cameras: tuple[str, ...], depth_cameras: tuple[str, ...]) -> list[ReplayedFrame]:
    """The first `length` frames of the episode (task, settings, seed), as recorded: frame t is
    the observation before action t."""
    from sim2real.env import make
    from sim2real.experts.runner import ScriptedExpert

    env = make(task, **{**settings, "cameras": (), "fidelity": "low"})
    image_size = tuple(env.settings.image_size)
    ids = {name: env.model.camera(MODEL_CAMERA[name]).id for name in cameras}
    table = env.model.body("table").id
    renderer = mujoco.Renderer(env.model, height=image_size[1], width=image_size[0])
    renderer.enable_depth_rendering()
    frames: list[ReplayedFrame] = []

    def record(_observation, _action, _info) -> None:
        if len(frames) == length:
            return  # the final observation: no action follows it, so it is not a frame
        views = {}
        for name, camera_id in ids.items():
            depth = None
            if name in depth_cameras:
                renderer.update_scene(env.data, camera=camera_id)
                depth = renderer.render().copy()
            views[name] = camera_frame(env.model, env.data, camera_id, image_size, depth)
        frames.append(ReplayedFrame(views, float(env.data.xpos[table, 2])))

    try:
        result = ScriptedExpert(env).run(seed, record)
    finally:
        renderer.close()
        env.close()
    if result.steps != length:
        raise Sim2RealError(f"seed {seed} replayed in {result.steps} steps, the dataset has {length} "
                            "frames: it was recorded with other code or settings")
    return frames
