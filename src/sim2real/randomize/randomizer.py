"""The randomizer: the factors a spec names, each with its own random stream per episode.

Episode-wise factors are sampled once at reset; frame-wise ones (BG, LT, CP when asked) are
re-sampled at every control step, after physics, so the view changes but the dynamics never do.
"""

from __future__ import annotations

import copy

import mujoco
import numpy as np

from sim2real.randomize.background import Background
from sim2real.randomize.base import Factor, Params, SceneHandles
from sim2real.randomize.camera import CameraPose
from sim2real.randomize.config import RandomizationConfig
from sim2real.randomize.distractors import Distractors
from sim2real.randomize.lights import Lighting
from sim2real.randomize.physics import Physics
from sim2real.randomize.spec import parse_spec
from sim2real.randomize.streams import episode_rng
from sim2real.randomize.table import TableHeight
from sim2real.scene.station import StationLayout

FACTOR_TYPES: dict[str, type[Factor]] = {
    "BG": Background, "LT": Lighting, "TD": Distractors, "CP": CameraPose, "TH": TableHeight,
    "PHY": Physics,
}  # fmt: skip
# Streams 1-9 are the env's own (layout, instruction); factors draw from streams of their own,
# so turning one on changes neither another factor's draws nor the task's layout.
FACTOR_STREAMS = {"BG": 11, "LT": 12, "TD": 13, "CP": 14, "TH": 15, "OBJ": 16, "PHY": 17}
STAGES = ("scene", "objects", "view")


class Randomizer:
    """The factors named by `spec` (e.g. 'TH+CP+BG'), with the ranges of `config`, drawn from
    the train ranges or beyond them (`split` ood, or heldout: the proxy-real sets), per episode
    or per frame (`granularity`, unless `config.granularity` says otherwise for a factor)."""

    def __init__(
        self,
        spec: str,
        config: RandomizationConfig,
        layout: StationLayout,
        *,
        split: str = "train",
        granularity: str = "episode",
        task_categories: frozenset[str] = frozenset(),
    ) -> None:
        self.names = parse_spec(spec)
        self.split = split
        self.factors: list[Factor] = []
        for name in self.names:
            if name not in FACTOR_TYPES:
                continue  # OBJ is decided when the task is built (see sim2real.randomize.objects)
            if name == "TD":
                self.factors.append(Distractors(config, split, layout, task_categories))
            else:
                self.factors.append(FACTOR_TYPES[name](config, split, layout))
        per_factor = config.granularity
        self.frame_factors = [
            f for f in self.factors
            if f.stage == "view" and per_factor.get(f.name, granularity) == "frame"
        ]  # fmt: skip
        self.params: dict[str, Params] = {}
        self.handles: SceneHandles | None = None
        self._rngs: dict[str, np.random.Generator] = {}

    def build(self, spec: mujoco.MjSpec) -> None:
        for factor in self.factors:
            factor.build(spec)

    def bind(self, handles: SceneHandles) -> None:
        self.handles = handles
        for factor in self.factors:
            factor.bind(handles)

    def start_episode(self, seed: int) -> None:
        self._rngs = {f.name: episode_rng(seed, FACTOR_STREAMS[f.name]) for f in self.factors}
        self.params = {}

    def apply_stage(self, stage: str) -> None:
        """Sample and apply the factors of one stage of reset (see Factor.stage)."""
        for factor in self.factors:
            if factor.stage == stage:
                self._draw(factor)

    def next_frame(self) -> None:
        """Re-sample the frame-wise factors (called after each control step's physics)."""
        for factor in self.frame_factors:
            self._draw(factor)

    def note(self, name: str, params: Params) -> None:
        """Record parameters of a factor applied outside the randomizer (OBJ: the env's task)."""
        self.params[name] = params

    def record(self) -> dict:
        """This frame's effective parameters, as a deep copy: callers keep infos, and must not
        be able to change the randomizer's state (nor see it change later) through them."""
        return copy.deepcopy({"factors": list(self.names), "split": self.split, **self.params})

    def _draw(self, factor: Factor) -> None:
        params = factor.sample(self._rngs[factor.name], self.handles)
        factor.apply(self.handles, params)
        self.params[factor.name] = params

