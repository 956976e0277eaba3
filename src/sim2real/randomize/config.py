"""Typed ranges of the randomization factors (part of EnvSettings, loadable from YAML).

Every range is the *training* range; the out-of-distribution (ood) split samples beyond it
(see each factor's module), so train and ood never overlap.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sim2real.randomize.spec import EPISODE_ONLY, KNOWN_FACTORS

Granularity = Literal["episode", "frame"]
Range = tuple[float, float]


class RandomizationConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    granularity: dict[str, Granularity] = Field(
        default_factory=dict, description="per-factor granularity, overriding the global one"
    )
    camera_radius: float = Field(0.05, gt=0, le=0.3, description="CP: train offsets up to this (m)")
    camera_jitter_deg: float = Field(1.5, ge=0, le=15, description="CP: train orientation jitter")
    table_offset: float = Field(
        0.03, gt=0, le=0.1, description="TH: train offsets within +-this (m)"
    )
    distractors: tuple[int, int] = Field((2, 5), description="TD: min, max distractors per episode")
    friction: Range = Field((0.3, 1.0), description="PHY: train sliding friction range")
    mass_scale: Range = Field((0.7, 1.4), description="PHY: train factor on task-object masses")
    damping: Range = Field((0.0, 0.02), description="PHY: train damping of task-object joints")
    texture_dir: Path | None = Field(
        None, description="BG: texture cache folder (default $SIM2REAL_CACHE or ~/.cache/sim2real)"
    )
    texture_size: int = Field(256, ge=16, le=1024, description="BG: texture width = height (px)")

    @field_validator("granularity")
    @classmethod
    def _episode_only(cls, value: dict[str, str]) -> dict[str, str]:
        for factor, granularity in value.items():
            if factor not in KNOWN_FACTORS:
                raise ValueError(f"unknown factor {factor!r}; known: {', '.join(KNOWN_FACTORS)}")
            if granularity == "frame" and factor in EPISODE_ONLY:
                raise ValueError(episode_only_message(factor))
        return value

    @field_validator("distractors")
    @classmethod
    def _count_range(cls, value: tuple[int, int]) -> tuple[int, int]:
        low, high = value
        if not 0 <= low <= high <= 12:
            raise ValueError("must be (min, max) with 0 <= min <= max <= 12")
        return value

    @model_validator(mode="after")
    def _ordered_ranges(self) -> RandomizationConfig:
        for name in ("friction", "mass_scale", "damping"):
            low, high = getattr(self, name)
            if not 0 <= low <= high:
                raise ValueError(f"{name} must be (low, high) with 0 <= low <= high")
        return self


def episode_only_message(factor: str) -> str:
    return (
        f"{factor} is episode-only (it changes what the task needs, or the dynamics); "
        "only BG, LT and CP may be re-sampled every frame"
    )
