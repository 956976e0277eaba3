"""What may be sent to the arms, decided before any driver sees it (controllers clip silently or
reset on NaN, so the runtime refuses first):

* NaN or infinite targets are refused (the episode stops; nothing is sent);
* targets outside the joint limits are clamped into them, and counted;
* each step's change of a target is capped (`max_relative_target`, per joint), and counted;
* the feedback's header id / timestamp must advance: a silent peer makes drivers return their
  last values forever without raising, so stale feedback stops the episode.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim2real.core.contract import ACTION_DIM, action_label
from sim2real.core.environment import StationStop


class UnsafeAction(StationStop):
    """An action that must not reach the arms (not finite, wrong shape)."""


class StaleFeedback(StationStop):
    """An arm's feedback stopped advancing: its controller is frozen or gone."""


@dataclass
class SafetyCounts:
    """How often the layer changed what the policy asked for, per action slot."""

    clamped: np.ndarray = field(default_factory=lambda: np.zeros(ACTION_DIM, dtype=np.int64))
    capped: np.ndarray = field(default_factory=lambda: np.zeros(ACTION_DIM, dtype=np.int64))
    refused: int = 0
    steps: int = 0

    def as_dict(self) -> dict:
        return {
            "steps": self.steps,
            "clamped": int(self.clamped.sum()),
            "capped": int(self.capped.sum()),
            "refused": self.refused,
            "clamped_by_joint": {action_label(i): int(n) for i, n in enumerate(self.clamped) if n},
            "capped_by_joint": {action_label(i): int(n) for i, n in enumerate(self.capped) if n},
        }


class SafetyLayer:
    def __init__(self, low: np.ndarray, high: np.ndarray, max_step: float | tuple[float, ...]) -> None:
        self.low, self.high = np.asarray(low, dtype=np.float64), np.asarray(high, dtype=np.float64)
        self.max_step = np.broadcast_to(np.asarray(max_step, dtype=np.float64), (ACTION_DIM,)).copy()
        self.counts = SafetyCounts()

    def reset(self) -> None:
        self.counts = SafetyCounts()

    def filter(self, action, previous: np.ndarray) -> np.ndarray:
        """The target to send instead of `action`, given the previous target sent."""
        array = np.asarray(action, dtype=np.float64) if _numeric(action) else None
        if array is None or array.shape != (ACTION_DIM,):
            self.counts.refused += 1
            shape = getattr(np.asarray(action), "shape", None)
            raise UnsafeAction(f"safety stop: refused an action of shape {shape} "
                               f"(allowed: {ACTION_DIM} numbers)")
        bad = np.flatnonzero(~np.isfinite(array))
        if bad.size:
            self.counts.refused += 1
            i = bad[0]
            raise UnsafeAction(f"safety stop: refused a non-finite action: action[{i}] "
                               f"({action_label(i)}) = {array[i]}")
        self.counts.steps += 1
        inside = np.clip(array, self.low, self.high)
        self.counts.clamped += inside != array
        # Compared, not recomputed: previous + (inside - previous) is not always `inside` in
        # floating point, and an uncapped target must pass through bit for bit.
        capped = np.abs(inside - previous) > self.max_step
        self.counts.capped += capped
        target = np.where(capped, previous + np.clip(inside - previous, -self.max_step, self.max_step), inside)
        return np.clip(target, self.low, self.high)

    def towards(self, start: np.ndarray, goal: np.ndarray, speed: float, hz: float) -> np.ndarray:
        """Targets from `start` to `goal` at `speed` (rad/s; grippers: fraction/s), one per
        control step, inside the limits: how the station moves home."""
        goal = np.clip(goal, self.low, self.high)
        start = np.clip(start, self.low, self.high)
        steps = max(1, int(np.ceil(np.max(np.abs(goal - start)) / (speed / hz))))
        return start + (goal - start) * (np.arange(1, steps + 1)[:, None] / steps)


def _numeric(action) -> bool:
    try:
        return np.issubdtype(np.asarray(action).dtype, np.number)
    except (TypeError, ValueError):
        return False


class FeedbackWatchdog:
    """Each arm's (header id, timestamp) must change within `stale_after` seconds."""

    def __init__(self, stale_after: float) -> None:
        self.stale_after = stale_after
        self._last: dict[str, tuple[tuple[int, float], float]] = {}

    def reset(self) -> None:
        self._last = {}

    def check(self, stamps: dict[str, tuple[int, float]], now: float) -> None:
        for arm, stamp in stamps.items():
            seen = self._last.get(arm)
            if seen is None or seen[0] != stamp:
                self._last[arm] = (stamp, now)
            elif now - seen[1] > self.stale_after:
                raise StaleFeedback(
                    f"safety stop: {arm} arm feedback stale for {now - seen[1]:.2f} s (header id "
                    f"{stamp[0]} not advancing; limit {self.stale_after:g} s): its controller "
                    "stopped answering")


def effective_limits(robot_limits: tuple[np.ndarray, np.ndarray],
                     sim_limits: tuple[np.ndarray, np.ndarray],
                     configured: tuple[tuple[float, float], ...] | None) -> tuple[np.ndarray, np.ndarray]:
    """The intersection of what the hardware accepts, what the policy was trained with (the
    simulator's joint ranges) and what the station's config narrows them to."""
    low = np.maximum(robot_limits[0], sim_limits[0])
    high = np.minimum(robot_limits[1], sim_limits[1])
    if configured is not None:
        pairs = np.asarray(configured, dtype=np.float64)
        low, high = np.maximum(low, pairs[:, 0]), np.minimum(high, pairs[:, 1])
    empty = np.flatnonzero(low > high)
    if empty.size:
        from sim2real.errors import Sim2RealError

        i = empty[0]
        raise Sim2RealError(f"invalid safety.joint_limits[{i}] ({action_label(i)}): nothing is "
                            f"left of [{low[i]:.4g}, {high[i]:.4g}] after intersecting the robot's "
                            "and the simulator's limits")
    return low, high
