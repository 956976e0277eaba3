"""A station's configuration: which robot backend, its addresses, cameras, safety limits, rate.

Loaded from YAML (`configs/robots/*.yaml`), validated before anything connects: a mistake gives
one line naming the field, the value and what is allowed. The `robot.type` field picks the
backend (as LeRobot's configs register by name):

* `sim`: the MuJoCo station behind the Robot interface (latency and observation noise settable).
* `trossen-wxai`: two WidowX AI arms through the `trossen_arm` driver, one IP address per arm.
* `piper`: two AgileX Piper arms through `piper_sdk` over python-can, one CAN channel per arm.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from sim2real.core.contract import ACTION_DIM, ARM_SIDES, CAMERA_NAMES, CONTROL_HZ
from sim2real.errors import Sim2RealError

ArmAddresses = dict[Literal["left", "right"], str]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SimRobotConfig(_Strict):
    """The simulated station: the same MuJoCo scene the policies were trained in."""

    type: Literal["sim"] = "sim"
    latency_s: float = Field(0.0, ge=0, le=1, description="delay before a sent action acts")
    state_noise_std: float = Field(0.0, ge=0, le=0.5, description="Gaussian noise on measured joints")
    # step: physics advances one control period per action (reproducible, the expert succeeds
    # exactly as in eval); wall: physics advances by the wall time that passed, as a real arm
    # keeps moving while the policy thinks.
    clock: Literal["step", "wall"] = "step"
    randomize: str = Field("clean", description="randomization spec of the simulated scene")
    split: Literal["train", "ood"] = "train"
    fidelity: Literal["low", "medium", "high"] = "low"
    shadows: bool = True
    msaa: int = 4


class TrossenRobotConfig(_Strict):
    """Two WidowX AI arms, each with its own controller on the network."""

    type: Literal["trossen-wxai"] = "trossen-wxai"
    arms: ArmAddresses = Field(description="IP address of each arm's controller")
    end_effector: str = Field("wxai_v0_follower", description="trossen_arm.StandardEndEffector name")
    connect_timeout_s: float = Field(5.0, gt=0, le=60)

    @field_validator("arms")
    @classmethod
    def _both_arms(cls, value: ArmAddresses) -> ArmAddresses:
        return _both(value)


class PiperRobotConfig(_Strict):
    """Two AgileX Piper arms, each on its own CAN channel."""

    type: Literal["piper"] = "piper"
    arms: ArmAddresses = Field(description="CAN channel of each arm (socketcan name, e.g. can_left)")
    interface: str = Field("socketcan", description="python-can interface: socketcan, slcan, virtual")
    gripper_stroke_m: float = Field(0.07, gt=0, le=0.2, description="finger opening at gripper = 1")
    gripper_effort: float = Field(1.0, ge=0, le=5, description="gripper force limit in N")
    speed_percent: int = Field(50, ge=1, le=100, description="the controller's joint speed rate")
    # Piper joint i = sign_i * contract joint i + offset_i (radians): the Piper's zero pose and
    # axis directions differ from the WidowX AI's (see docs/robot.md).
    joint_signs: tuple[float, ...] = (1.0, 1.0, -1.0, 1.0, 1.0, 1.0)
    joint_offsets: tuple[float, ...] = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    enable_timeout_s: float = Field(2.0, gt=0, le=30)

    @field_validator("arms")
    @classmethod
    def _both_arms(cls, value: ArmAddresses) -> ArmAddresses:
        return _both(value)

    @field_validator("joint_signs")
    @classmethod
    def _signs(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if len(value) != 6 or any(v not in (-1.0, 1.0) for v in value):
            raise ValueError("must be 6 numbers, each 1 or -1")
        return value

    @field_validator("joint_offsets")
    @classmethod
    def _offsets(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if len(value) != 6:
            raise ValueError("must be 6 numbers (radians)")
        return value


def _both(arms: ArmAddresses) -> ArmAddresses:
    missing = [side for side in ARM_SIDES if not arms.get(side)]
    if missing:
        raise ValueError(f"needs an address for both arms (left, right); missing: {', '.join(missing)}")
    return arms


class CameraConfig(_Strict):
    """One camera: a RealSense (serial number, or a recorded .db3 file to play back) or any
    UVC / network camera OpenCV opens (a device index or a URL)."""

    type: Literal["realsense", "opencv"]
    serial: str | None = Field(None, description="RealSense serial number")
    file: Path | None = Field(None, description="RealSense recording to play back (.db3 or .bag)")
    device: int | str | None = Field(None, description="OpenCV device index or stream URL")
    width: int = Field(640, ge=8, le=4096)
    height: int = Field(480, ge=8, le=4096)
    fps: int = Field(30, ge=1, le=240)
    intrinsics: tuple[float, float, float, float] | None = Field(
        None, description="fx, fy, cx, cy in pixels at width x height, from a calibration "
        "(an opencv camera does not report its own; a realsense does)")

    @model_validator(mode="after")
    def _source(self) -> CameraConfig:
        if self.type == "realsense" and self.device is not None:
            raise ValueError("a realsense camera takes serial or file, not device")
        if self.type == "opencv" and (self.serial or self.file):
            raise ValueError("an opencv camera takes device (index or URL), not serial or file")
        if self.type == "opencv" and self.device is None:
            raise ValueError("an opencv camera needs device: an index (0) or a URL")
        return self


class SafetyConfig(_Strict):
    """Enforced by the runtime before anything reaches a driver (controllers clip silently or
    reset on NaN, so they cannot be relied on)."""

    max_relative_target: float | tuple[float, ...] = Field(
        0.2, description="largest change of a joint target per step: rad (grippers: fraction)")
    joint_limits: tuple[tuple[float, float], ...] | None = Field(
        None, description="14 [low, high] pairs narrowing the simulator's and the robot's limits")
    policy_deadline_s: float = Field(1.0, gt=0, le=60, description="longest wait for a policy")
    stale_after_s: float = Field(0.25, gt=0, le=10, description="feedback older than this stops")
    hold_s: float = Field(0.5, ge=0, le=10, description="hold position this long, then go idle")
    home_speed: float = Field(0.5, gt=0, le=3, description="rad/s when moving home")
    estop_key: str = Field("q", min_length=1, max_length=1, description="terminal emergency stop")

    @field_validator("max_relative_target")
    @classmethod
    def _per_joint(cls, value):
        values = (value,) if isinstance(value, (int, float)) else tuple(value)
        if len(values) not in (1, ACTION_DIM) or any(v <= 0 for v in values):
            raise ValueError(f"must be one positive number or {ACTION_DIM} of them")
        return value

    @field_validator("joint_limits")
    @classmethod
    def _pairs(cls, value):
        if value is not None and (len(value) != ACTION_DIM or any(lo > hi for lo, hi in value)):
            raise ValueError(f"must be {ACTION_DIM} [low, high] pairs with low <= high")
        return value


class RobotConfig(_Strict):
    name: str = Field("station", description="station name in records and datasets")
    robot: Annotated[SimRobotConfig | TrossenRobotConfig | PiperRobotConfig,
                     Field(discriminator="type")] = SimRobotConfig()
    cameras: dict[str, CameraConfig] = Field(default_factory=dict)
    control_hz: float = Field(CONTROL_HZ, gt=0, le=200, description="fixed control rate")
    safety: SafetyConfig = SafetyConfig()
    # The image size policies see when they do not ask for one (they usually do).
    image_size: tuple[int, int] = (224, 224)

    @field_validator("cameras")
    @classmethod
    def _known_cameras(cls, value: dict[str, CameraConfig]) -> dict[str, CameraConfig]:
        unknown = [name for name in value if name not in CAMERA_NAMES]
        if unknown:
            raise ValueError(f"unknown camera {unknown[0]!r}; known: {', '.join(CAMERA_NAMES)}")
        return value

    @model_validator(mode="after")
    def _sim_has_its_own_cameras(self) -> RobotConfig:
        if self.robot.type == "sim" and self.cameras:
            raise ValueError("the sim robot renders its own cameras; remove the cameras section")
        return self

    @property
    def kind(self) -> str:
        return self.robot.type


def load_robot_config(path: Path | str) -> RobotConfig:
    """A station's configuration from YAML, or a Sim2RealError naming what is wrong."""
    path = Path(path)
    if not path.is_file():
        raise Sim2RealError(f"invalid robot: {str(path)!r}; allowed: a robot config file "
                            "(see configs/robots/)")
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as error:
        raise Sim2RealError(f"robot config {path} is not valid YAML: {error}") from None
    if not isinstance(data, dict):
        raise Sim2RealError(f"robot config {path} must hold a mapping of field: value")
    return make_robot_config(**data)


def make_robot_config(**fields) -> RobotConfig:
    from sim2real.errors import describe_validation_error

    try:
        return RobotConfig(**fields)
    except ValidationError as error:
        raise Sim2RealError(describe_validation_error(error, RobotConfig)) from None
