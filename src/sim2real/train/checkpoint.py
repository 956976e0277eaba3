"""Self-describing checkpoints: weights, optimiser state, model config, normalisation bounds and
the instruction-encoder id, so a checkpoint alone is enough to serve or evaluate the policy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from sim2real.errors import Sim2RealError
from sim2real.media import atomic_path

FORMAT = "sim2real-vla/1"


def save_checkpoint(path: Path, payload: dict[str, Any]) -> Path:
    with atomic_path(path, ".pt") as tmp:
        torch.save({"format": FORMAT, **payload}, tmp)
    return path


def load_checkpoint(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise Sim2RealError(f"checkpoint not found: {path}")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as error:  # a truncated or foreign file
        raise Sim2RealError(f"cannot read checkpoint {path}: {error}") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise Sim2RealError(f"{path} is not a sim2real VLA checkpoint (format {FORMAT})")
    return payload
