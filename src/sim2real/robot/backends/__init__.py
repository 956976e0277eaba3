"""Robot backends by name (`robot.type` in a station's config); each imports its driver only
when it is built, so a station without a Piper never needs piper_sdk."""

from __future__ import annotations

from sim2real.robot.cameras import make_cameras
from sim2real.robot.config import RobotConfig
from sim2real.robot.robot import Robot


def make_robot(config: RobotConfig, task: str, cameras: tuple[str, ...],
               image_size: tuple[int, int]) -> Robot:
    """The configured backend (not yet connected). The sim station renders `cameras` itself;
    a real one reads the configured camera devices."""
    backend = config.robot
    if backend.type == "sim":
        from sim2real.robot.backends.sim import SimRobot

        return SimRobot(backend, task, cameras, image_size, config.control_hz)
    devices = make_cameras(config.cameras)
    if backend.type == "trossen-wxai":
        from sim2real.robot.backends.trossen import TrossenRobot

        return TrossenRobot(backend, devices, config.control_hz)
    from sim2real.robot.backends.piper import PiperRobot

    return PiperRobot(backend, devices)
