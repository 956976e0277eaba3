"""The `Environment` protocol, implemented by the simulator (`sim2real.env`) and by real stations
(`sim2real.robot`), so that the rollout engine never knows which one it drives.

It follows gymnasium's reset/step signatures. Everything a consumer needs about the episode is in
`info` (a `StepInfo`); consumers never read attributes of the environment.
"""

from __future__ import annotations

from typing import Any, Protocol, TypedDict, runtime_checkable

import numpy as np

from sim2real.core.records import EpisodeInfo

Observation = dict[str, Any]  # images/<camera>, state, instruction (see core.contract)


class StepInfo(TypedDict, total=False):
    success: bool  # the task is accomplished (latched: stays True once reached)
    step: int  # control steps taken in this episode
    max_steps: int  # the episode's step limit
    episode: EpisodeInfo  # what decided the episode (task, seed, instruction, settings)
    randomization: dict[str, Any]  # every effective randomization parameter of this frame
    control_hz: float  # the rate actions are executed at
    metrics: dict[str, Any]  # what a real station measured so far (safety clamps, loop jitter)


class StationStop(RuntimeError):
    """The station ended the episode itself (a safety stop, lost hardware, an operator's stop).
    Raised from `step`; its text is the episode's failure, as it stands."""


@runtime_checkable
class Environment(Protocol):
    def reset(self, *, seed: int | None = None) -> tuple[Observation, StepInfo]:
        """Start an episode; the simulator's episodes are a pure function of the seed."""

    def step(self, action: np.ndarray) -> tuple[Observation, float, bool, bool, StepInfo]:
        """Execute one 14-number action: (observation, reward, terminated, truncated, info)."""

    def close(self) -> None:
        """Release renderers, connections and processes."""
