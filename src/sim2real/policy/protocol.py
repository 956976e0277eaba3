"""The Policy protocol: observations in, chunks of 14-number actions out.

Any VLA (OpenVLA-OFT, pi0, a model of one's own) becomes measurable here by implementing
`metadata`, `reset(episode)` and `infer(observation)`, locally or behind a websocket server.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

from sim2real.embodiment.dual_arm import ACTION_DIM

ACTION_SPACE = "absolute joint targets [left joint1..6, left gripper, right joint1..6, right gripper]"


class PolicyError(RuntimeError):
    """A policy misbehaved (wrong shape, NaN, a broken connection): the episode fails with it."""


@dataclass(frozen=True)
class PolicyMetadata:
    name: str
    cameras: tuple[str, ...] = ()  # the cameras the policy looks at
    image_size: tuple[int, int] | None = None  # width, height it wants (None: any)
    chunk_size: int = 1  # actions per inference (K)
    action_dim: int = ACTION_DIM
    action_space: str = ACTION_SPACE
    privileged: bool = False  # reads the simulator's state (the expert): an upper bound only
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["cameras"] = list(self.cameras)
        out["image_size"] = list(self.image_size) if self.image_size else None
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PolicyMetadata:
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        known["cameras"] = tuple(known.get("cameras") or ())
        if known.get("image_size"):
            known["image_size"] = tuple(known["image_size"])
        return cls(**known)


@runtime_checkable
class Policy(Protocol):
    metadata: PolicyMetadata

    def reset(self, episode: dict[str, Any] | None = None) -> None:
        """Start an episode. `episode` (task, seed, settings) is given for privileged policies."""

    def infer(self, observation: dict[str, Any]) -> np.ndarray:
        """An action chunk, K x 14 (K >= 1)."""


def check_chunk(chunk: Any) -> np.ndarray:
    """The chunk as float64 K x 14, or a PolicyError saying what is wrong with it."""
    array = np.asarray(chunk, dtype=np.float64) if not isinstance(chunk, np.ndarray) else chunk
    if array.ndim == 1 and array.shape[0] == ACTION_DIM:
        array = array[None]
    if array.ndim != 2 or array.shape[0] < 1 or array.shape[1] != ACTION_DIM:
        raise PolicyError(
            f"policy returned actions of shape {tuple(array.shape)}; allowed: (K, {ACTION_DIM}) with K >= 1"
        )
    if not np.issubdtype(array.dtype, np.number):
        raise PolicyError(f"policy returned actions of dtype {array.dtype}; allowed: numbers")
    array = array.astype(np.float64)
    bad = np.argwhere(~np.isfinite(array))
    if bad.size:
        row, column = bad[0]
        raise PolicyError(f"policy returned a non-finite action: chunk[{row}][{column}] = {array[row, column]}")
    return array
