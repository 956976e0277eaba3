"""Cameras of a real station: `realsense` (pyrealsense2: a serial number, or a recording to
play back) and `opencv` (a UVC device index or a stream URL)."""

from __future__ import annotations

from sim2real.robot.cameras.base import Camera, Frame, Intrinsics, intrinsics_warning
from sim2real.robot.config import CameraConfig


def make_camera(name: str, config: CameraConfig) -> Camera:
    if config.type == "realsense":
        from sim2real.robot.cameras.realsense import RealSenseCamera

        return RealSenseCamera(name, config)
    from sim2real.robot.cameras.opencv import OpenCVCamera

    return OpenCVCamera(name, config)


def make_cameras(configs: dict[str, CameraConfig]) -> dict[str, Camera]:
    return {name: make_camera(name, config) for name, config in configs.items()}


__all__ = ["Camera", "Frame", "Intrinsics", "intrinsics_warning", "make_camera", "make_cameras"]
