"""A camera of a real station: frames at a configured size and rate, each with its timestamps,
and the intrinsics the simulator's camera must match for zero-shot transfer."""

from __future__ import annotations

import math
import threading
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from sim2real.core.contract import CAMERAS
from sim2real.errors import Sim2RealError

# The simulated head camera's vertical field of view may differ from the real one by this much
# before the check warns (a D435's colour stream is specified at 42 +- 1 degrees).
FOVY_TOLERANCE_DEG = 1.5
# The simulator's pixels are square; a stream resized to another aspect ratio is stretched.
ASPECT_TOLERANCE = 0.02


class CameraError(Sim2RealError):
    """A camera could not be opened, or stopped delivering frames."""


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

    def scaled(self, width: int, height: int) -> Intrinsics:
        """The same lens seen through a stream resized to width x height."""
        sx, sy = width / self.width, height / self.height
        return Intrinsics(width, height, self.fx * sx, self.fy * sy, self.cx * sx, self.cy * sy)


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
    if abs(intrinsics.fx / intrinsics.fy - 1) > ASPECT_TOLERANCE:
        problems.append(f"pixels not square (fx/fy = {intrinsics.fx / intrinsics.fy:.3f}: the "
                        "image is stretched; the simulated camera's pixels are square)")
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


class StreamingCamera(Camera):
    """A camera whose frames a background thread reads as they arrive, so `read` returns the
    newest one at once (the control loop never waits for the next exposure, nor gets an old
    buffered frame). A device that stops delivering makes `read` raise after `stale_s`.

    Subclasses open and close the device and grab one frame (blocking at most ~1 s)."""

    CONNECT_TIMEOUT_S = 5.0

    def __init__(self, name: str, width: int, height: int, fps: int) -> None:
        super().__init__(name, width, height, fps)
        # Ten frame periods, at least half a second: a dropped frame or two is not a failure.
        self.stale_s = max(0.5, 10.0 / fps)
        self._newest: Frame | None = None
        self._error: BaseException | None = None
        self._arrived = threading.Condition()
        self._closing = threading.Event()
        self._thread: threading.Thread | None = None
        self.frames_received = 0

    @abstractmethod
    def _open(self) -> None: ...

    @abstractmethod
    def _grab(self) -> tuple[np.ndarray, float, int] | None:
        """(RGB image, device timestamp in s, device frame number), or None on a timeout."""

    @abstractmethod
    def _close(self) -> None: ...

    def connect(self) -> None:
        if self._thread is not None:
            return
        self._open()
        self._newest, self._error = None, None
        self._closing.clear()
        self._thread = threading.Thread(target=self._stream, name=f"camera-{self.name}", daemon=True)
        self._thread.start()
        try:
            self._wait(self.CONNECT_TIMEOUT_S, "gave no frame within")
        except BaseException:
            self.disconnect()
            raise

    def read(self) -> Frame:
        if self._thread is None:
            raise CameraError(f"camera {self.name} is not connected")
        frame = self._wait(self.stale_s, "delivered no frame for")
        age = time.monotonic() - frame.received_at
        if age > self.stale_s:
            raise CameraError(f"camera {self.name} delivered no frame for {age:.2f} s "
                              f"(limit {self.stale_s:g} s)")
        return frame

    def disconnect(self) -> None:
        thread, self._thread = self._thread, None
        self._closing.set()
        if thread is not None:
            thread.join(timeout=2.0)
        self._close()

    def _wait(self, timeout: float, what: str) -> Frame:
        with self._arrived:
            self._arrived.wait_for(lambda: self._newest is not None or self._error is not None,
                                   timeout)
            if self._error is not None:
                raise CameraError(f"camera {self.name} failed: {self._error}") from None
            if self._newest is None:
                raise CameraError(f"camera {self.name} {what} {timeout:g} s")
            return self._newest

    def _stream(self) -> None:
        while not self._closing.is_set():
            try:
                grabbed = self._grab()
            except Exception as error:  # noqa: BLE001 - read() reports it to the control loop
                with self._arrived:
                    self._error = error
                    self._arrived.notify_all()
                return
            if grabbed is None:
                continue
            image, timestamp, index = grabbed
            frame = Frame(to_size(np.ascontiguousarray(image), self.width, self.height),
                          float(timestamp), int(index), time.monotonic())
            with self._arrived:
                self._newest = frame
                self.frames_received += 1
                self._arrived.notify_all()
