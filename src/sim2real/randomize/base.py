"""What every factor is: build-time additions, a sampler of parameters, and an applier."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import mujoco
import numpy as np

from sim2real.randomize.config import RandomizationConfig
from sim2real.scene.station import StationLayout
from sim2real.tasks.base import SimView

Params = dict[str, Any]  # JSON-serialisable: recorded per frame in info["randomization"]

# Which set of a library (textures, distractor instances) each split draws from. heldout (the
# proxy-real world) samples the ood ranges but from sets that neither train nor ood ever use.
LIBRARY_SETS = {"train": "seen", "ood": "unseen", "heldout": "heldout"}


@dataclass
class SceneHandles:
    """What a factor may change: the compiled model, its data, the task's view, the cameras."""

    model: mujoco.MjModel
    data: mujoco.MjData
    view: SimView
    cameras: Any = None  # the env's camera rig, or None when nothing is rendered


class Factor:
    """One randomization factor. Subclasses change only the model fields they own.

    stage: "scene" before the task places its objects (TH, PHY), "objects" after (TD),
    "view" last (BG, LT, CP: only what cameras see).
    """

    name: ClassVar[str]
    stage: ClassVar[str]

    def __init__(self, config: RandomizationConfig, split: str, layout: StationLayout) -> None:
        self.config = config
        self.ood = split != "train"  # ood and heldout both sample beyond the train ranges
        self.library_set = LIBRARY_SETS[split]
        self.layout = layout

    def build(self, spec: mujoco.MjSpec) -> None:
        """Add what the factor needs to the spec before it is compiled (most need nothing)."""

    def bind(self, handles: SceneHandles) -> None:
        """Look up ids in the compiled model and remember the values it starts with."""

    def sample(self, rng: np.random.Generator, handles: SceneHandles) -> Params:
        """Draw this factor's parameters (only from `rng`, so draws are independent of other
        factors); `handles` shows the scene as it is, for factors that must avoid things."""
        raise NotImplementedError

    def apply(self, handles: SceneHandles, params: Params) -> None:
        raise NotImplementedError


def beyond(rng: np.random.Generator, limit: float, factor: float = 2.0) -> float:
    """A magnitude in (limit, factor * limit]: the ood side of a train range [0, limit]."""
    return float(rng.uniform(limit, factor * limit)) if limit > 0 else 0.0


def unit_vector(rng: np.random.Generator) -> np.ndarray:
    vector = rng.normal(size=3)
    return vector / np.linalg.norm(vector)


def rounded(values, digits: int = 5) -> list[float]:
    """Compact numbers for the per-frame record (well below any effect on an image)."""
    return [round(float(v), digits) for v in np.ravel(values)]
