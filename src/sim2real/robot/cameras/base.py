"""A camera of a real station: frames at a configured size and rate, each with its timestamps,
and the intrinsics the simulator's camera must match for zero-shot transfer."""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from sim2real.core.contract import CAMERAS

# The simulated head camera's vertical field of view may differ from the real one by this much
# before the check warns (a D435's colour stream is specified at 42 +- 1 degrees).
FOVY_TOLERANCE_DEG = 1.5


@dataclass(frozen=True)
class Frame:
    image: np.ndarray  # uint8 H x W x 3, RGB
    timestamp: float  # the device's capture time in seconds (its own clock)
    index: int  # the device's frame number
    received_at: float  # time.monotonic() when the frame reached us


@dataclass(frozen=True)
class Intrinsics:
    width: int
    height: int
    fx: float
    fy: float
    cx: float
    cy: float

    @property
    def fovy_deg(self) -> float:
        return math.degrees(2 * math.atan(self.height / (2 * self.fy)))

    def as_dict(self) -> dict[str, float]:
        return {**self.__dict__, "fovy_deg": round(self.fovy_deg, 3)}


class Camera(ABC):
    def __init__(self, name: str, width: int, height: int, fps: int) -> None:
        self.name, self.width, self.height, self.fps = name, width, height, fps

    @abstractmethod
    def connect(self) -> None: ...

    @abstractmethod
    def read(self) -> Frame:
        """The newest frame (RGB at width x height)."""

    @abstractmethod
    def disconnect(self) -> None: ...

    @property
    @abstractmethod
    def intrinsics(self) -> Intrinsics | None:
        """The colour stream's pinhole intrinsics (None where the device does not say)."""

    def check(self) -> str | None:
        """A warning when this camera's view differs from the simulated camera's, else None."""
        return intrinsics_warning(self.name, self.intrinsics)


def intrinsics_warning(camera: str, intrinsics: Intrinsics | None) -> str | None:
    """The simulator renders `camera` at a fixed field of view and resolution (the head: fovy
    42 degrees at 640x480); a real camera that differs sees another picture than the policy
    was trained on."""
    spec = CAMERAS.get(camera)
    if spec is None or intrinsics is None:
        return None if intrinsics is not None else f"{camera}: intrinsics unknown, cannot check"
    problems = []
    if (intrinsics.width, intrinsics.height) != (spec.width, spec.height):
        problems.append(f"resolution {intrinsics.width}x{intrinsics.height} "
                        f"(simulated: {spec.width}x{spec.height})")
    if abs(intrinsics.fovy_deg - spec.fovy_deg) > FOVY_TOLERANCE_DEG:
        problems.append(f"vertical field of view {intrinsics.fovy_deg:.1f} degrees "
                        f"(simulated: {spec.fovy_deg:g})")
    if not problems:
        return None
    return f"{camera} camera differs from the simulator's: " + "; ".join(problems)


def to_size(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """`image` at width x height (area interpolation when shrinking, as cameras are resized)."""
    if image.shape[1] == width and image.shape[0] == height:
        return image
    import cv2

    shrinking = width < image.shape[1]
    interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
    return cv2.resize(image, (width, height), interpolation=interpolation)
