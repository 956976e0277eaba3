"""Path-traced cameras (Mitsuba 3) with the rasterized CameraRig's interface."""

from __future__ import annotations

import mujoco
import numpy as np

from sim2real.render.cameras import MODEL_CAMERA
from sim2real.render.denoise import denoise, linear_to_srgb8
from sim2real.render.mitsuba_scene import MitsubaScene
from sim2real.render.mitsuba_variant import select_variant
from sim2real.render.presets import PathTracePreset

AOV_CHANNELS = "albedo:albedo,normal:sh_normal"  # the denoiser's guides, rendered with colour


def path_integrator(preset: PathTracePreset) -> dict:
    """Unidirectional path tracing; with the denoiser, also albedo and normal images (AOVs)."""
    # hide_emitters: rays that escape show black, as the rasterizer's background
    path = {"type": "path", "max_depth": preset.max_depth, "hide_emitters": True}
    if not preset.denoise:
        return path
    return {"type": "aov", "aovs": AOV_CHANNELS, "image": path}


class PathTracedCameraRig:
    """The station's cameras rendered by Mitsuba from a mirror of the MuJoCo scene.

    The mirror is built once (per model); each frame moves only what moved. Frames are
    deterministic: frame k of a rig always uses sampler seed k.
    """

    def __init__(
        self,
        model: mujoco.MjModel,
        cameras: tuple[str, ...],
        image_size: tuple[int, int],
        preset: PathTracePreset,
        variant: str = "auto",
    ) -> None:
        self.variant = select_variant(variant)
        self.cameras = cameras
        self.preset = preset
        camera_ids = {name: model.camera(MODEL_CAMERA[name]).id for name in cameras}
        self.mirror = MitsubaScene(model, camera_ids, image_size, path_integrator(preset))
        self.frames = 0

    def render_linear(self, data: mujoco.MjData, camera: str) -> np.ndarray:
        """The raw render (H, W, 3 colour, then albedo and normal when denoising), linear."""
        import mitsuba as mi

        self.mirror.sync(data, camera)
        image = mi.render(
            self.mirror.scene,
            sensor=self.mirror.sensors[camera],
            spp=self.preset.spp,
            seed=self.frames,
        )
        self.frames += 1
        return np.array(image)

    def render(self, data: mujoco.MjData, camera: str) -> np.ndarray:
        channels = self.render_linear(data, camera)
        colour = channels[..., :3]
        if self.preset.denoise:
            colour = denoise(colour, channels[..., 3:6], channels[..., 6:9])
        return linear_to_srgb8(colour)

    def render_all(self, data: mujoco.MjData) -> dict[str, np.ndarray]:
        return {name: self.render(data, name) for name in self.cameras}

    def segment(self, data: mujoco.MjData, camera: str) -> np.ndarray:
        """Geom id per pixel (-1 where no geom), from the path-traced scene's own geometry."""
        return self.mirror.segment(data, camera)

    def close(self) -> None:
        self.mirror = None  # Mitsuba frees the scene with its last reference
