"""An Intel RealSense colour stream through pyrealsense2: a live camera chosen by serial number
(any connected one when none is given), or a recording (.db3, or .bag from older
librealsense) played back in real time and looped, so a recorded station can stand in for the
cameras. Frames carry the device's own timestamp and frame number; the intrinsics are the
stream's as the device reports them, scaled to the configured size."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sim2real.robot.cameras.base import CameraError, Intrinsics, StreamingCamera
from sim2real.robot.config import CameraConfig

GRAB_TIMEOUT_MS = 1000


class RealSenseCamera(StreamingCamera):
    def __init__(self, name: str, config: CameraConfig) -> None:
        super().__init__(name, config.width, config.height, config.fps)
        self.config = config
        self._pipeline = None
        self._intrinsics: Intrinsics | None = None
        self.native_size: tuple[int, int] | None = None
        self.source = str(config.file) if config.file else f"serial {config.serial or '(any)'}"

    @property
    def intrinsics(self) -> Intrinsics | None:
        return self._intrinsics

    def _open(self) -> None:
        import pyrealsense2 as rs

        setup = rs.config()
        if self.config.file is not None:
            path = Path(self.config.file).expanduser()
            if not path.is_file():
                raise CameraError(f"invalid cameras.{self.name}.file: {str(path)!r}; allowed: a "
                                  "RealSense recording (.db3 or .bag) that exists")
            setup.enable_device_from_file(str(path.resolve()), repeat_playback=True)
        else:
            # The pipeline would wait seconds for a device that is not there: say it at once.
            connected = connected_serials()
            if not connected or (self.config.serial and self.config.serial not in connected):
                raise CameraError(f"camera {self.name}: no RealSense with {self.source}; "
                                  f"connected: {', '.join(connected) or 'none'}")
            if self.config.serial:
                setup.enable_device(self.config.serial)
            setup.enable_stream(rs.stream.color, self.width, self.height, rs.format.rgb8, self.fps)
        pipeline = rs.pipeline()
        try:
            profile = pipeline.start(setup)
        except RuntimeError as error:
            raise CameraError(f"camera {self.name}: RealSense {self.source} could not start: "
                              f"{error}; connected: {', '.join(connected_serials()) or 'none'}") from None
        try:
            stream = profile.get_stream(rs.stream.color).as_video_stream_profile()
        except RuntimeError:
            pipeline.stop()
            raise CameraError(f"camera {self.name}: {self.source} has no colour stream") from None
        if stream.format() not in (rs.format.rgb8, rs.format.bgr8):
            pipeline.stop()
            raise CameraError(f"camera {self.name}: {self.source} colour stream is {stream.format()}; "
                              "allowed: rgb8 or bgr8")
        native = stream.get_intrinsics()
        self.native_size = (native.width, native.height)
        self._intrinsics = Intrinsics(native.width, native.height, native.fx, native.fy,
                                      native.ppx, native.ppy).scaled(self.width, self.height)
        self._bgr = stream.format() == rs.format.bgr8
        self._pipeline = pipeline

    def _grab(self) -> tuple[np.ndarray, float, int] | None:
        ok, frames = self._pipeline.try_wait_for_frames(GRAB_TIMEOUT_MS)
        if not ok:
            return None
        color = frames.get_color_frame()
        if not color:
            return None
        image = np.asanyarray(color.get_data())
        image = image[..., ::-1] if self._bgr else image.copy()
        return image, color.get_timestamp() / 1e3, color.get_frame_number()

    def _close(self) -> None:
        pipeline, self._pipeline = self._pipeline, None
        if pipeline is not None:
            try:
                pipeline.stop()
            except RuntimeError:  # already stopped
                pass


def connected_serials() -> list[str]:
    """Serial numbers of the RealSense cameras on this machine (for the error messages and docs)."""
    import pyrealsense2 as rs

    try:
        return [d.get_info(rs.camera_info.serial_number) for d in rs.context().query_devices()]
    except RuntimeError:
        return []
