"""The station's cameras rasterized by MuJoCo: one GL context, one scene update per step.

Per step, `render_all` builds the abstract scene once (mjv_updateScene with the first camera),
then for each camera moves only the viewpoint (mjv_updateCamera; the headlight follows it),
draws and reads the pixels back into a buffer the rig allocated once. Nothing is allocated per
frame: the images `render_all` returns are views of those buffers, valid until the next call.
Whoever keeps an image copies it (the env does, once per camera per step, in `_observation`;
the copy also turns OpenGL's bottom-up rows top-down).
"""

from __future__ import annotations

import os

import mujoco
import numpy as np

from sim2real.errors import Sim2RealError
from sim2real.render.detail import geom_groups, has_policy_detail
from sim2real.render.presets import RenderSettings

# Our camera names -> names in the compiled model.
MODEL_CAMERA = {"head": "head", "left_wrist": "left/cam", "right_wrist": "right/cam"}
FONT_SCALE = mujoco.mjtFontScale.mjFONTSCALE_100  # no text is drawn; the smallest font atlas


class CameraRig:
    """All rasterized cameras of one env, at one image size and one mesh detail."""

    def __init__(
        self,
        model: mujoco.MjModel,
        cameras: tuple[str, ...],
        image_size: tuple[int, int],
        settings: RenderSettings,
        detail: str = "full",
    ) -> None:
        if detail == "policy" and not has_policy_detail(model):
            raise Sim2RealError(
                "render.mesh_detail 'policy' needs a model built with policy detail "
                "(sim2real.make builds one when its cameras rasterize at policy detail)"
            )
        width, height = image_size
        self.model = model
        self.cameras = cameras
        self.detail = detail
        self.camera_ids = {name: model.camera(MODEL_CAMERA[name]).id for name in cameras}
        self.gl = _start_gl(width, height)
        self.context = mujoco.MjrContext(model, FONT_SCALE.value)
        mujoco.mjr_setBuffer(mujoco.mjtFramebuffer.mjFB_OFFSCREEN, self.context)
        self.scene = mujoco.MjvScene(model, maxgeom=max(1000, 2 * model.ngeom))
        self.scene.flags[mujoco.mjtRndFlag.mjRND_SHADOW] = settings.shadows
        self.option = mujoco.MjvOption()
        self.option.geomgroup[:] = geom_groups(detail)
        self.rect = mujoco.MjrRect(0, 0, width, height)
        self._views = {name: _fixed_camera(cam) for name, cam in self.camera_ids.items()}
        # OpenGL's row order (bottom row first); images are their flipped views.
        self._pixels = {name: np.empty((height, width, 3), np.uint8) for name in cameras}
        self._images = {name: pixels[::-1] for name, pixels in self._pixels.items()}
        self._viewing: str | None = None  # the camera the scene was last set up for

    # -- the render path, stage by stage (the benchmark times each) ----------------------------

    def update(self, data: mujoco.MjData, camera: str | None = None) -> None:
        """Build the abstract scene (geoms, lights) from `data`, seen from `camera`."""
        camera = camera or self.cameras[0]
        self.gl.make_current()
        mujoco.mjv_updateScene(
            self.model, data, self.option, None, self._views[camera],
            mujoco.mjtCatBit.mjCAT_ALL, self.scene,
        )  # fmt: skip
        self._viewing = camera

    def draw(self, data: mujoco.MjData, camera: str) -> None:
        """Rasterize the current scene from `camera` (moving only the viewpoint if needed)."""
        if camera != self._viewing:
            mujoco.mjv_updateCamera(self.model, data, self._views[camera], self.scene)
            mujoco.mjv_makeLights(self.model, data, self.scene)  # the headlight follows
            self._viewing = camera
        mujoco.mjr_render(self.rect, self.scene, self.context)

    def read(self, camera: str) -> np.ndarray:
        """Read `camera`'s pixels into its buffer; returns the top-down view of that buffer."""
        mujoco.mjr_readPixels(self._pixels[camera], None, self.rect, self.context)
        return self._images[camera]

    # -- what callers use -----------------------------------------------------------------------

    def render_all(self, data: mujoco.MjData) -> dict[str, np.ndarray]:
        """Every camera's image of `data`, as views of the rig's buffers: valid until the next
        render; copy what you keep."""
        self.update(data)
        for name in self.cameras:
            self.draw(data, name)
            self.read(name)
        return self._images

    def render(self, data: mujoco.MjData, camera: str) -> np.ndarray:
        """One camera's image of `data`, as a new array (not overwritten by later frames)."""
        self.update(data, camera)
        self.draw(data, camera)
        return self.read(camera).copy()

    def segment(self, data: mujoco.MjData, camera: str) -> np.ndarray:
        """Geom id per pixel (-1 where no geom), top-down rows, for the same frame."""
        flags = self.scene.flags
        saved = flags.copy()
        flags[mujoco.mjtRndFlag.mjRND_SEGMENT] = flags[mujoco.mjtRndFlag.mjRND_IDCOLOR] = 1
        try:
            self.update(data, camera)
            self.draw(data, camera)
            colours = self.read(camera).astype(np.int64)
        finally:
            flags[:] = saved
        segment = colours[..., 0] + (colours[..., 1] << 8) + (colours[..., 2] << 16)
        geom_of = np.full(self.scene.ngeom + 1, -1, np.int64)  # segment 0 = background
        for index in range(self.scene.ngeom):
            geom = self.scene.geoms[index]
            if geom.objtype == mujoco.mjtObj.mjOBJ_GEOM and geom.segid >= 0:
                geom_of[geom.segid + 1] = geom.objid
        return geom_of[np.minimum(segment, self.scene.ngeom)]

    def upload_texture(self, texture: int) -> None:
        """Send a texture the model changed (BG) to this rig's GL context."""
        self.gl.make_current()
        mujoco.mjr_uploadTexture(self.model, self.context, texture)

    def close(self) -> None:
        if self.gl is None:
            return
        self.gl.make_current()
        self.context.free()
        self.gl.free()
        self.gl = None


def _fixed_camera(camera_id: int) -> mujoco.MjvCamera:
    view = mujoco.MjvCamera()
    view.type = mujoco.mjtCamera.mjCAMERA_FIXED
    view.fixedcamid = camera_id
    return view


def _start_gl(width: int, height: int):
    """An offscreen OpenGL context, or a clear error saying how to get one."""
    try:
        from mujoco.gl_context import GLContext

        context = GLContext(width, height)
        context.make_current()
        return context
    except Exception as error:  # the GL backend failed to start: say how to fix it
        backend = os.environ.get("MUJOCO_GL", "unset")
        raise Sim2RealError(
            f"cannot start the headless renderer (MUJOCO_GL={backend}): {error}. "
            "Install libegl1 and libgl1-mesa-dri (MUJOCO_GL=egl) or libosmesa6 "
            "(MUJOCO_GL=osmesa); `make setup` installs them."
        ) from None
