"""Typed, validated settings of an environment (loadable from YAML or keyword arguments).

`EnvSettings` composes the rooms' own settings (the scene's `PhysicsSettings`, the renderer's
`RenderSettings` and `SensorSettings`, the randomizer's `RandomizationConfig`, the embodiment's
`ActuationSettings`); the env hands each room its part, so no room below the env reads
`EnvSettings`."""

from __future__ import annotations

from typing import Any

from pydantic import (
    BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator,
)

from sim2real.embodiment.actuation import ActuationSettings
from sim2real.errors import Sim2RealError, describe_validation_error
from sim2real.randomize.config import RandomizationConfig
from sim2real.randomize.spec import VIEW_FACTORS, format_spec, parse_spec
from sim2real.render.detail import resolve_mesh_detail
from sim2real.render.presets import Fidelity, RenderSettings
from sim2real.render.sensor import SensorSettings
from sim2real.scene.physics import PHYSICS_PRESETS, PhysicsSettings

CAMERA_NAMES = ("head", "left_wrist", "right_wrist")
DEFAULT_IMAGE_SIZE = (640, 480)  # D435 / D405 colour stream, width x height
SPLITS = ("train", "ood", "heldout")


class EnvSettings(BaseModel):
    """Everything besides the task and seed that decides an episode."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    control_hz: float = Field(25.0, gt=0, le=500, description="policy / action rate in Hz")
    cameras: tuple[str, ...] = Field(
        CAMERA_NAMES, description=f"cameras rendered into observations: {', '.join(CAMERA_NAMES)}"
    )
    image_size: tuple[int, int] = Field(
        DEFAULT_IMAGE_SIZE, description="WIDTHxHEIGHT of every camera image"
    )
    instructions: str = Field("seen", description="instruction set: seen or unseen")
    physics: PhysicsSettings = Field(
        PhysicsSettings(), description="default or extreme, or timestep, friction, restitution, gravity"
    )
    render: RenderSettings = Field(RenderSettings(), description="rasterizer and path-tracer settings")
    fidelity: Fidelity = Field("low", description="low: rasterizer; medium, high: path tracer")
    randomize: str = Field("clean", description="factors: clean, BG, TH+CP+BG, all (see docs)")
    granularity: str = Field("episode", description="episode: sample at reset; frame: every step")
    split: str = Field("train", description="train ranges, the disjoint ood ones, or heldout (proxy-real)")
    randomization: RandomizationConfig = Field(
        RandomizationConfig(), description="typed ranges of the factors (docs/randomization.md)"
    )
    sensor: SensorSettings = Field(
        SensorSettings(), description="camera sensor effects: head fovy, noise, motion blur (proxy-real)"
    )
    actuation: ActuationSettings = Field(
        ActuationSettings(), description="command latency and joint-tracking noise (proxy-real)"
    )

    @field_validator("physics", mode="before")
    @classmethod
    def _physics_preset(cls, value: Any) -> Any:
        if isinstance(value, str):
            if value not in PHYSICS_PRESETS:
                raise ValueError(f"unknown physics preset; known: {', '.join(PHYSICS_PRESETS)}")
            return PHYSICS_PRESETS[value]
        return value

    @field_validator("randomize")
    @classmethod
    def _known_factors(cls, value: str) -> str:
        return format_spec(parse_spec(value))

    @field_validator("granularity")
    @classmethod
    def _granularity(cls, value: str, info: ValidationInfo) -> str:
        # Frame-wise re-samples the view factors (BG, LT, CP); the others stay episode-wise.
        # Asking for an episode-only factor frame-wise (randomization.granularity) is an error,
        # and so is `frame` when no named factor can change between frames: the dataset would
        # record frame-wise randomization while nothing varies per frame.
        if value not in ("episode", "frame"):
            raise ValueError("must be 'episode' or 'frame'")
        randomize = info.data.get("randomize")  # absent when it failed validation itself
        if value == "frame" and randomize is not None:
            if not any(factor in VIEW_FACTORS for factor in parse_spec(randomize)):
                raise ValueError(
                    f"nothing in randomize {randomize!r} can change every frame (TD, TH, OBJ and "
                    f"PHY are episode-only); frame needs one of {', '.join(VIEW_FACTORS)}"
                )
        return value

    @field_validator("split")
    @classmethod
    def _split(cls, value: str) -> str:
        # heldout: the ood ranges with textures and distractors from sets neither train nor ood
        # ever draws (the proxy-real world's; see sim2real.evaluate.proxy_real)
        if value not in SPLITS:
            raise ValueError("must be 'train', 'ood' or 'heldout'")
        return value

    @field_validator("cameras", mode="before")
    @classmethod
    def _known_cameras(cls, value: Any) -> tuple[str, ...]:
        if isinstance(value, str):
            value = tuple(name for name in value.split(",") if name)
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
            raise ValueError("must be a list of camera names or a comma list (head,left_wrist)")
        value = tuple(value)
        for name in value:
            if name not in CAMERA_NAMES:
                raise ValueError(f"unknown camera {name!r}; known: {', '.join(CAMERA_NAMES)}")
        if len(set(value)) != len(value):
            raise ValueError("cameras must not repeat")
        return value

    @field_validator("image_size", mode="before")
    @classmethod
    def _parse_size(cls, value: Any) -> tuple[int, int]:
        if isinstance(value, str):
            try:
                value = parse_image_size(value)
            except Sim2RealError:
                raise ValueError("must be WIDTHxHEIGHT, for example 640x480") from None
        if not isinstance(value, (list, tuple)) or len(value) != 2 or not all(
            isinstance(v, int) and not isinstance(v, bool) for v in value
        ):
            raise ValueError("must be WIDTHxHEIGHT or [width, height] in pixels")
        width, height = value
        if not (8 <= width <= 4096 and 8 <= height <= 4096):
            raise ValueError("width and height must each be between 8 and 4096 pixels")
        return width, height

    @field_validator("instructions")
    @classmethod
    def _instruction_split(cls, value: str) -> str:
        if value not in ("seen", "unseen"):
            raise ValueError("must be 'seen' or 'unseen'")
        return value

    @model_validator(mode="after")
    def _detail_of_renderer(self) -> EnvSettings:
        if self.render.mesh_detail == "policy" and self.fidelity != "low":
            raise ValueError(
                f"render.mesh_detail 'policy' is for the rasterizer; fidelity {self.fidelity!r} "
                "path traces the full scene: use mesh_detail full or auto"
            )
        return self

    @property
    def mesh_detail(self) -> str:
        """The detail the rasterized cameras draw at (auto resolved: see render.detail)."""
        return resolve_mesh_detail(self.render.mesh_detail, self.fidelity, self.image_size)

    @property
    def substeps(self) -> int:
        """Physics steps per control step (the control period rounded to whole physics steps)."""
        return max(1, round(1.0 / (self.control_hz * self.physics.timestep)))

    @property
    def control_dt(self) -> float:
        return self.substeps * self.physics.timestep


def parse_image_size(text: str) -> tuple[int, int]:
    """'224x224' -> (224, 224)."""
    try:
        width, height = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise Sim2RealError(
            f"invalid image size: {text!r}; allowed: WIDTHxHEIGHT, for example 640x480"
        ) from None
    return width, height


def make_settings(**overrides: Any) -> EnvSettings:
    """Build settings from keyword arguments, turning validation failures into clear errors.
    (Settings files and dotted overrides: `sim2real.config_file`.)"""
    try:
        return EnvSettings(**overrides)
    except ValidationError as error:
        raise Sim2RealError(describe_validation_error(error, EnvSettings)) from None
