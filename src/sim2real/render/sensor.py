"""What a real camera adds to a render, applied after rendering (any fidelity): motion blur, as
the previous frame bleeding into the exposure, then Gaussian read noise. Off by default; the
proxy-real world turns it on. Noise comes from the episode's own random stream, so images stay
a pure function of (task, settings, seed)."""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict, Field


class SensorSettings(BaseModel):
    """How the cameras differ from ideal pinhole renders: the head camera's field of view, and
    read noise and motion blur applied to every image after rendering (off by default)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    head_fovy: float | None = Field(
        None, gt=10, lt=120, description="head camera's vertical field of view in degrees (None: the D435's 42)")
    noise_std: float = Field(0.0, ge=0, le=0.5, description="Gaussian read noise, std as a fraction of full scale")
    motion_blur: float = Field(
        0.0, ge=0, lt=1, description="weight of the previous frame blended into each image (exposure overlap)")


class SensorModel:
    def __init__(self, settings: SensorSettings) -> None:
        self.settings = settings
        self._previous: dict[str, np.ndarray] = {}
        self._rng = np.random.default_rng(0)

    @property
    def active(self) -> bool:
        return self.settings.noise_std > 0 or self.settings.motion_blur > 0

    def reset(self, rng: np.random.Generator) -> None:
        """A new episode: no previous frame to blend, a fresh noise stream."""
        self._previous.clear()
        self._rng = rng

    def __call__(self, camera: str, image: np.ndarray) -> np.ndarray:
        blur, noise = self.settings.motion_blur, self.settings.noise_std
        rendered = image.astype(np.float32)
        out = rendered
        previous = self._previous.get(camera)
        if blur > 0 and previous is not None:
            out = (1 - blur) * rendered + blur * previous
        if blur > 0:
            self._previous[camera] = rendered  # the render, not the blurred image: no trails
        if noise > 0:
            out = out + self._rng.normal(0.0, 255.0 * noise, out.shape).astype(np.float32)
        return np.clip(np.rint(out), 0, 255).astype(np.uint8)
