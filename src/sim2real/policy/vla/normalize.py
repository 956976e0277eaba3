"""Action and state normalisation to [-1, 1] with a dataset's q01/q99 bounds (as OpenVLA-OFT)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

_MIN_RANGE = 1e-4  # dimensions that never move (a gripper never used) map to 0, not to inf


@dataclass(frozen=True)
class Bounds:
    low: np.ndarray
    high: np.ndarray

    @classmethod
    def from_stats(cls, stats: dict) -> "Bounds":
        return cls(np.asarray(stats["q01"], dtype=np.float32), np.asarray(stats["q99"], dtype=np.float32))

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
