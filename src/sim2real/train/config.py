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
    encoder: Literal["vit", "resnet"] | None = None  # None = the preset's encoder
    cameras: tuple[str, ...] | None = None  # None = the preset's cameras
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
