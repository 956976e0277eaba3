"""Built-in policies: the privileged expert (an upper bound), replay, and zero motion."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from sim2real.core.contract import ACTION_DIM
from sim2real.core.environment import Observation
from sim2real.core.policy import PolicyError, PolicyMetadata, only_observation
from sim2real.core.records import EpisodeInfo
from sim2real.errors import Sim2RealError


class ZeroMotionPolicy:
    """Holds the robot where it is: the baseline every policy should beat.

    An episode starts at `reset` or, for clients that never send one (openpi's), implicitly at
    the first `infer`."""

    metadata = PolicyMetadata(name="zero")

    def __init__(self) -> None:
        self._hold: np.ndarray | None = None

    def reset(self, episode: EpisodeInfo | None = None) -> None:
        self._hold = None

    def infer(self, observations: Sequence[Observation]) -> np.ndarray:
        observation = only_observation(observations, self.metadata.name)
        if self._hold is None:  # the first state: later states sag or drift, the target doesn't
            self._hold = np.asarray(observation["state"], dtype=np.float64).copy()
        return self._hold[None, None]


class ReplayPolicy:
    """Plays recorded actions (N x 14) in order, then holds the last one."""

    def __init__(self, actions: np.ndarray, chunk_size: int = 1, name: str = "replay") -> None:
        actions = np.asarray(actions, dtype=np.float64)
        if actions.ndim != 2 or actions.shape[1] != ACTION_DIM or len(actions) == 0:
            raise Sim2RealError(
                f"invalid replay actions shape: {actions.shape}; allowed: N x {ACTION_DIM}, N >= 1"
            )
        self.actions = actions
        self.metadata = PolicyMetadata(name=name, chunk_size=chunk_size)
        self._next = 0

    @classmethod
    def from_file(cls, path: Path) -> ReplayPolicy:
        allowed = f"a .npy file holding an N x {ACTION_DIM} array of joint targets"
        if not path.is_file():
            raise Sim2RealError(f"invalid policy: 'replay:{path}'; allowed: {allowed} (no such file)")
        try:  # never unpickle: a replay file is data
            actions = np.load(path, allow_pickle=False)
        except (ValueError, OSError, EOFError) as error:
            raise Sim2RealError(
                f"invalid policy: 'replay:{path}'; allowed: {allowed} (not a .npy array: {error})"
            ) from None
        if not isinstance(actions, np.ndarray) or actions.dtype.kind not in "iuf":
            kind = "an .npz archive" if not isinstance(actions, np.ndarray) else f"{actions.dtype} values"
            raise Sim2RealError(f"invalid policy: 'replay:{path}'; allowed: {allowed} (holds {kind})")
        if actions.ndim != 2 or actions.shape[1] != ACTION_DIM or len(actions) == 0:
            raise Sim2RealError(
                f"invalid policy: 'replay:{path}'; allowed: {allowed} (holds shape {actions.shape})"
            )
        return cls(actions, name=f"replay:{path.name}")

    def reset(self, episode: EpisodeInfo | None = None) -> None:
        self._next = 0

    def infer(self, observations: Sequence[Observation]) -> np.ndarray:
        only_observation(observations, self.metadata.name)
        k = self.metadata.chunk_size
        indices = np.minimum(np.arange(self._next, self._next + k), len(self.actions) - 1)
        self._next += k
        return self.actions[indices][None]


class ExpertPolicy:
    """The scripted expert as a policy. Privileged: it keeps a shadow simulation of the episode
    (same task, settings and seed, no cameras) stepped with its own actions, and plans from its
    state, so it needs `reset(episode)` with the episode's task, seed and settings."""

    metadata = PolicyMetadata(name="expert", privileged=True)

    def __init__(self) -> None:
        self._env = None
        self._env_key: str | None = None
        self._actions = None
        self._last: np.ndarray | None = None

    def reset(self, episode: EpisodeInfo | None = None) -> None:
        import json

        from sim2real.env import make
        from sim2real.experts.runner import ScriptedExpert

        if episode is None:
            raise PolicyError(
                "the expert policy is privileged: reset() needs the episode (task, seed, settings)"
            )
        settings = {**episode.settings, "cameras": (), "fidelity": "low"}
        key = json.dumps([episode.task, settings], sort_keys=True, default=str)
        if key != self._env_key:  # build the shadow env once per task and settings
            if self._env is not None:
                self._env.close()
            self._env = make(episode.task, **settings)
            self._env_key = key
        self._env.reset(seed=int(episode.seed))
        self._actions = ScriptedExpert(self._env).actions()
        self._last = self._env.home_action.copy()

    def infer(self, observations: Sequence[Observation]) -> np.ndarray:
        from sim2real.experts.motion import PlanningError

        only_observation(observations, self.metadata.name)
        if self._actions is None:
            raise PolicyError("call reset(episode) before infer()")
        try:
            action = next(self._actions, None)
        except PlanningError as error:
            raise PolicyError(f"expert planning failed: {error}") from None
        if action is None:
            action = self._last  # the plan is over: hold
        else:
            self._env.step(action)
            self._last = action
        return np.asarray(action)[None, None]
