"""Rendering settings: the rasterizer's costs and the fidelity presets (paper 3.2.4): low =
rasterizer, medium and high = path tracer.

Each path-traced preset's values can be overridden in part: `{'high': {'spp': 64}}` keeps high's
max_depth and denoiser. These models hold values only; `render.fidelity` turns them into cameras.
"""

from __future__ import annotations

from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sim2real.render.detail import MeshDetail

Fidelity = Literal["low", "medium", "high"]
FIDELITY_LEVELS: tuple[str, ...] = get_args(Fidelity)
Variant = Literal["auto", "cuda_ad_rgb", "llvm_ad_rgb", "scalar_rgb"]
VARIANT_CHOICES: tuple[str, ...] = get_args(Variant)


class PathTracePreset(BaseModel):
    """How one path-traced preset renders."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    spp: int = Field(ge=1, le=4096, description="samples per pixel")
    max_depth: int = Field(ge=1, le=64, description="longest light path, in bounces")
    denoise: bool = Field(description="Intel Open Image Denoise with albedo and normal images")

    @model_validator(mode="before")
    @classmethod
    def _known_fields(cls, value: Any) -> Any:
        if isinstance(value, dict):
            unknown = sorted(set(value) - set(cls.model_fields))
            if unknown:
                raise ValueError(
                    f"unknown preset value {unknown[0]!r}; allowed: {', '.join(cls.model_fields)}"
                )
        return value


DEFAULT_PRESETS = {
    "medium": PathTracePreset(spp=4, max_depth=4, denoise=False),
    "high": PathTracePreset(spp=32, max_depth=8, denoise=True),
}


class PathTracerSettings(BaseModel):
    """The path-traced presets' values and which Mitsuba variant runs them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    medium: PathTracePreset = DEFAULT_PRESETS["medium"]
    high: PathTracePreset = DEFAULT_PRESETS["high"]
    variant: Variant = Field(
        "auto", description="Mitsuba variant; auto = cuda_ad_rgb on a GPU, else llvm_ad_rgb"
    )

    @model_validator(mode="before")
    @classmethod
    def _merge_with_defaults(cls, value: Any) -> Any:
        """A partial override keeps the preset's other values (not the field defaults)."""
        if not isinstance(value, dict):
            return value
        merged = {}
        for name, override in value.items():
            if name not in cls.model_fields:
                raise ValueError(
                    f"unknown path-tracer setting {name!r}; allowed: medium, high, variant "
                    "(low is the rasterizer and has no path-tracing values)"
                )
            if name in DEFAULT_PRESETS and isinstance(override, dict):
                override = {**DEFAULT_PRESETS[name].model_dump(), **override}
            merged[name] = override
        return merged

    def preset(self, fidelity: str) -> PathTracePreset:
        return getattr(self, fidelity)


MSAA_SAMPLES = (0, 1, 2, 4, 8, 16)  # what MuJoCo's offscreen buffer takes (0 = off)


class RenderSettings(BaseModel):
    """Rasterizer settings; shadows and MSAA set the cost of a frame on CPU, not resolution."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    shadows: bool = Field(True, description="rasterized shadow maps (a large part of a frame's cost on CPU)")
    msaa: int = Field(
        4, description=f"multisample anti-aliasing samples: {', '.join(map(str, MSAA_SAMPLES))}"
    )
    mesh_detail: MeshDetail = Field(
        "auto",
        description="full: the assets' own meshes; policy: merged, decimated copies (for "
        "rasterized frames up to 320 px); auto: policy up to 320 px on the long side, else full",
    )
    path_tracer: PathTracerSettings = PathTracerSettings()  # medium/high presets, Mitsuba variant

    @field_validator("msaa")
    @classmethod
    def _msaa_samples(cls, value: int) -> int:
        if value not in MSAA_SAMPLES:
            raise ValueError(f"must be one of {', '.join(map(str, MSAA_SAMPLES))}")
        return value
