"""Any camera OpenCV opens: a UVC device by index (V4L2 on Linux) or a network stream by URL
(MJPEG over HTTP, RTSP: through FFmpeg). A UVC device is asked for the configured size, rate
and MJPG compression; a stream comes as it is served and is resized. Such cameras do not report
their intrinsics: give them in the config (`intrinsics: [fx, fy, cx, cy]`, from a calibration)
for the check against the simulator's camera."""

from __future__ import annotations

import time

import numpy as np

from sim2real.robot.cameras.base import CameraError, Intrinsics, StreamingCamera
from sim2real.robot.config import CameraConfig


class OpenCVCamera(StreamingCamera):
    def __init__(self, name: str, config: CameraConfig) -> None:
        super().__init__(name, config.width, config.height, config.fps)
        self.config = config
        device = config.device
        self.source: int | str = int(device) if isinstance(device, str) and device.isdigit() else device
        self._capture = None
        self._count = 0

    @property
    def intrinsics(self) -> Intrinsics | None:
        if self.config.intrinsics is None:
            return None
        fx, fy, cx, cy = self.config.intrinsics
        return Intrinsics(self.width, self.height, fx, fy, cx, cy)

    def _open(self) -> None:
        import cv2

        if isinstance(self.source, int):
            capture = cv2.VideoCapture(self.source, cv2.CAP_V4L2)
            capture.set(cv2.CAP_PROP_FOURCC, cv2.VideoWriter_fourcc(*"MJPG"))
            capture.set(cv2.CAP_PROP_FRAME_WIDTH, self.width)
            capture.set(cv2.CAP_PROP_FRAME_HEIGHT, self.height)
            capture.set(cv2.CAP_PROP_FPS, self.fps)
            capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)
        else:
            capture = cv2.VideoCapture(self.source, cv2.CAP_FFMPEG)
        if not capture.isOpened():
            capture.release()
            raise CameraError(f"camera {self.name}: OpenCV could not open device {self.source!r} "
                              "(a UVC index such as 0, or a stream URL)")
        self._capture, self._count = capture, 0

    def _grab(self) -> tuple[np.ndarray, float, int] | None:
        import cv2

        ok, bgr = self._capture.read()
        if not ok:
            raise CameraError(f"device {self.source!r} stopped delivering frames")
        self._count += 1
        # V4L2 stamps each buffer when the frame was captured; a network stream's position is
        # synthetic, so its frames are stamped when they arrive.
        stamp = self._capture.get(cv2.CAP_PROP_POS_MSEC) / 1e3 if isinstance(self.source, int) else 0.0
        return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), stamp or time.time(), self._count

    def _close(self) -> None:
        capture, self._capture = self._capture, None
        if capture is not None:
            capture.release()
