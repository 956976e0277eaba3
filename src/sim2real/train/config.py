"""The settings of an SFT run."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class SFTConfig(BaseModel):
    """Fields left unset keep their defaults on a new run and the checkpoint's values on a
    resumed one (`model_fields_set` tells which the user gave)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    data: tuple[Path, ...]
    out: Path
    model: Literal["tiny", "base"] = "tiny"
    head: Literal["continuous", "discrete"] = "continuous"
    encoder: Literal["vit", "resnet", "efficientnet-lite0"] | None = None  # None = the preset's
    cameras: tuple[str, ...] | None = None  # None = the preset's cameras
    image_size: int | None = Field(None, ge=32, le=448)  # None = the preset's
    camera_aspect: Literal["1:1", "4:3"] | None = None  # None = the preset's (1:1)
    frozen_stages: int | None = Field(None, ge=0, le=7)  # efficientnet-lite0; None = the preset's (4)
    # efficientnet-lite0 with frozen stages: their features computed once per frame and view and
    # cached on disk (train/features.py); off = the frozen stages run on every batch.
    feature_cache: bool = True
    feature_cache_dir: Path | None = None  # None = <dataset>/cache/features
    feature_views: int = Field(4, ge=1, le=64)  # cached views per frame (1 = no augmentation)
    steps: int = Field(1000, ge=1)
    batch_size: int = Field(32, ge=1)
    learning_rate: float = Field(3e-4, gt=0, le=1)
    warmup_steps: int = Field(100, ge=0)
    weight_decay: float = Field(0.01, ge=0)
    grad_clip: float = Field(1.0, gt=0)
    augment: bool = True
    seed: int = 0
    checkpoint_every: int = Field(500, ge=1)
    log_dir: Path | None = None  # tensorboard; default: <out>.logs
    resume: bool = False  # continue from `out` when it exists
    overwrite: bool = False  # replace an existing `out` with a new run
    # A state dict of one camera encoder (FiLMViT or FiLMResNet) saved with torch.save, loaded
    # into every camera's encoder before training (FiLM layers the file lacks keep their
    # initialisation).
    vision_weights: Path | None = None
