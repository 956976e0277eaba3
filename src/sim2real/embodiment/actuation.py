"""What the arms execute of what a policy commands: a delay of whole control steps (drawn once
per episode) and Gaussian tracking noise on the arm joints' targets (grippers excepted). Off by
default; the proxy-real world turns both on. Both draw from the episode's own random stream."""

from __future__ import annotations

from collections import deque

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from sim2real.core.contract import ACTION_DIM, GRIPPER_SLOTS


class ActuationSettings(BaseModel):
    """How the arms execute commands: a delay of whole control steps (drawn per episode from the
    inclusive range) and Gaussian joint-tracking noise on the arm joints' targets (off by default)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    latency_steps: tuple[int, int] = Field((0, 0), description="min, max control steps of delay")
    tracking_noise: float = Field(0.0, ge=0, le=0.2, description="std of arm joint target noise (rad)")

    @field_validator("latency_steps")
    @classmethod
    def _ordered(cls, value: tuple[int, int]) -> tuple[int, int]:
        low, high = value
        if not 0 <= low <= high <= 10:
            raise ValueError("must be (min, max) with 0 <= min <= max <= 10")
        return value

ARM_JOINT_SLOTS = np.array([i for i in range(ACTION_DIM) if i not in GRIPPER_SLOTS])


class Actuation:
    def __init__(self, settings: ActuationSettings) -> None:
        self.settings = settings
        self.latency = 0
        self._pending: deque[np.ndarray] = deque()
        self._rng = np.random.default_rng(0)

    @property
    def active(self) -> bool:
        return self.settings.latency_steps != (0, 0) or self.settings.tracking_noise > 0

    def reset(self, rng: np.random.Generator, held: np.ndarray) -> None:
        """A new episode: draw its delay; until a command arrives the arms hold `held`."""
        low, high = self.settings.latency_steps
        self._rng = rng
        self.latency = int(rng.integers(low, high + 1))
        self._pending = deque(np.array(held, dtype=np.float64) for _ in range(self.latency))

    def __call__(self, action: np.ndarray) -> np.ndarray:
        """The targets executed this control step, given the one commanded now."""
        self._pending.append(np.array(action, dtype=np.float64))
        executed = self._pending.popleft()
        if self.settings.tracking_noise > 0:
            executed = executed.copy()
            executed[ARM_JOINT_SLOTS] += self._rng.normal(0.0, self.settings.tracking_noise, len(ARM_JOINT_SLOTS))
        return executed
