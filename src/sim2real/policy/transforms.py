"""What turns observations into model inputs and model outputs into actions, in one place.

Image resizing and cropping, and state/action normalisation to [-1, 1] with the q01/q99 bounds
of the datasets' `meta/stats.json` (as OpenVLA-OFT). Training (`train/`), the reference VLA at
inference (`VLAPolicy`) and the remote adapter (`RemotePolicy`, resizing to a remote policy's
declared image size) all call these functions, so training and serving cannot disagree.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

_MIN_RANGE = 1e-4  # dimensions that never move (a gripper never used) map to 0, not to inf
STATS_KEYS = {"action": "action", "state": "observation.state"}  # our name -> stats.json feature


def resize_images(images: np.ndarray | torch.Tensor, height: int, width: int) -> torch.Tensor:
    """uint8 N x H x W x 3 -> uint8 N x height x width x 3 (bilinear, antialiased; the aspect is
    squashed, as OpenVLA-OFT does with its 224 x 224 inputs)."""
    x = torch.as_tensor(np.asarray(images)).permute(0, 3, 1, 2).float()
    x = F.interpolate(x, size=(height, width), mode="bilinear", antialias=True, align_corners=False)
    return x.round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).contiguous()


def resize_square(images: np.ndarray | torch.Tensor, size: int) -> torch.Tensor:
    return resize_images(images, size, size)


def model_images(images: torch.Tensor, size: int, augment: bool = False,
                 generator: torch.Generator | None = None) -> torch.Tensor:
    """uint8 B x S x S x 3 -> float B x 3 x size x size in [0, 1]: OpenVLA-OFT's random resized
    crop (90% of the area) and colour jitter when training, the central 90% at inference."""
    from sim2real.policy.vla.augment import centre_crop, colour_jitter, random_resized_crop

    x = images.permute(0, 3, 1, 2).float() / 255.0
    if augment:
        return colour_jitter(random_resized_crop(x, size, generator=generator), generator=generator)
    return centre_crop(x, size)


@dataclass(frozen=True)
class Bounds:
    low: np.ndarray
    high: np.ndarray

    @classmethod
    def from_stats(cls, stats: Mapping[str, Any]) -> Bounds:
        """A feature's bounds from its statistics: a dataset's (the pooled quantiles where ours
        has them, see data/stats.py) or a checkpoint's own q01/q99."""
        from sim2real.data.stats import normalization_bounds

        return cls(*normalization_bounds(stats))

    def as_dict(self) -> dict[str, list[float]]:
        return {"q01": self.low.tolist(), "q99": self.high.tolist()}

    def _torch(self, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        low = torch.as_tensor(self.low, dtype=like.dtype, device=like.device)
        high = torch.as_tensor(self.high, dtype=like.dtype, device=like.device)
        return low, high

    def normalise(self, values: torch.Tensor) -> torch.Tensor:
        low, high = self._torch(values)
        span = (high - low).clamp_min(_MIN_RANGE)
        return ((values - low) / span * 2 - 1).clamp(-1, 1)

    def denormalise(self, values: torch.Tensor) -> torch.Tensor:
        low, high = self._torch(values)
        span = (high - low).clamp_min(_MIN_RANGE)
        return (values.clamp(-1, 1) + 1) / 2 * span + low

    def same_as(self, other: Bounds, tolerance: float = 1e-6) -> bool:
        return bool(np.allclose(self.low, other.low, atol=tolerance, rtol=0)
                    and np.allclose(self.high, other.high, atol=tolerance, rtol=0))


@dataclass(frozen=True)
class Normalisation:
    """The action and state bounds a model is trained and served with."""

    action: Bounds
    state: Bounds

    @classmethod
    def pooled(cls, stats: Sequence[Mapping[str, Any]]) -> Normalisation:
        """Bounds over several datasets from their stats.json alone: the lowest q01 and the
        highest q99 per dimension. Exact for one dataset; for several it is the envelope, which
        never clips the central 98% of any one dataset (a frame-weighted mean of the quantiles
        would clip a task whose joints range wider than the others')."""
        if not stats:
            raise ValueError("normalisation needs at least one dataset's statistics")
        bounds = {}
        for name, feature in STATS_KEYS.items():
            per_dataset = [Bounds.from_stats(s[feature]) for s in stats]
            bounds[name] = Bounds(np.min([b.low for b in per_dataset], axis=0),
                                  np.max([b.high for b in per_dataset], axis=0))
        return cls(**bounds)

    @classmethod
    def from_datasets(cls, roots: Sequence[Path]) -> Normalisation:
        from sim2real.data.reader import Dataset

        return cls.pooled([Dataset(Path(root)).stats for root in roots])

    @classmethod
    def unit(cls, dim: int = 14) -> Normalisation:
        """Bounds of [-1, 1] everywhere (models with random weights: benchmarks, tests)."""
        bounds = Bounds(np.full(dim, -1.0, dtype=np.float32), np.full(dim, 1.0, dtype=np.float32))
        return cls(bounds, bounds)

    def as_dict(self) -> dict[str, dict[str, list[float]]]:
        return {"action": self.action.as_dict(), "state": self.state.as_dict()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Normalisation:
        return cls(Bounds.from_stats(data["action"]), Bounds.from_stats(data["state"]))

    def same_as(self, other: Normalisation) -> bool:
        return self.action.same_as(other.action) and self.state.same_as(other.state)
