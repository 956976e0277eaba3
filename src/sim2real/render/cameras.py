"""Render the station's cameras with MuJoCo's rasterizer (shadows and MSAA configurable)."""

from __future__ import annotations

import os

import mujoco
import numpy as np

from sim2real.errors import Sim2RealError
from sim2real.render.presets import RenderSettings

# Our camera names -> names in the compiled model.
MODEL_CAMERA = {"head": "head", "left_wrist": "left/cam", "right_wrist": "right/cam"}


class CameraRig:
    """One offscreen renderer shared by all cameras of one image size."""

    def __init__(
        self,
        model: mujoco.MjModel,
        cameras: tuple[str, ...],
        image_size: tuple[int, int],
        settings: RenderSettings,
    ) -> None:
        width, height = image_size
        self.cameras = cameras
        self.camera_ids = {name: model.camera(MODEL_CAMERA[name]).id for name in cameras}
        try:
            self.renderer = mujoco.Renderer(model, height=height, width=width)
        except Exception as error:  # the GL backend failed to start: say how to fix it
            backend = os.environ.get("MUJOCO_GL", "unset")
            raise Sim2RealError(
                f"cannot start the headless renderer (MUJOCO_GL={backend}): {error}. "
                "Install libegl1 and libgl1-mesa-dri (MUJOCO_GL=egl) or libosmesa6 "
                "(MUJOCO_GL=osmesa); `make setup` installs them."
            ) from None
        self.renderer.scene.flags[mujoco.mjtRndFlag.mjRND_SHADOW] = settings.shadows
        self.option = mujoco.MjvOption()

    def render(self, data: mujoco.MjData, camera: str) -> np.ndarray:
        self.renderer.update_scene(data, camera=self.camera_ids[camera], scene_option=self.option)
        return self.renderer.render()

    def render_all(self, data: mujoco.MjData) -> dict[str, np.ndarray]:
        return {name: self.render(data, name) for name in self.cameras}

    def close(self) -> None:
        self.renderer.close()
