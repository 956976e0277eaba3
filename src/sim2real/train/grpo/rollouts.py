"""GRPO's rollouts on the batched engine: an actor that samples the discrete head's tokens at a
temperature and keeps, per episode, the observations, tokens and rollout log-probabilities of
each chunk and how many of its actions were executed (the rest are masked out of the loss)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim2real.core.environment import Observation
from sim2real.core.policy import PolicyError, SamplingPolicy, check_actions
from sim2real.core.records import EpisodeInfo, EpisodeRecord
from sim2real.evaluate.engine import Actor, ask


@dataclass
class Trajectory:
    """One rollout: a chunk per policy call; reward 1 if the task succeeded within its limit."""

    seed: int
    task: str
    observations: list[Observation] = field(default_factory=list)
    tokens: list[np.ndarray] = field(default_factory=list)  # K x 14 int each
    log_probs: list[np.ndarray] = field(default_factory=list)  # K x 14 at the rollout temperature
    executed: list[int] = field(default_factory=list)  # actions executed of each chunk
    reward: float = 0.0
    steps: int = 0
    failure: str | None = None

    def mask(self, chunk: int) -> np.ndarray:
        """Tokens of actions that ran: the rows after the episode ended (or that the engine did
        not execute) produced nothing and carry no credit."""
        rows = np.arange(self.tokens[chunk].shape[0]) < self.executed[chunk]
        return np.broadcast_to(rows[:, None], self.tokens[chunk].shape)

    @property
    def chunks(self) -> int:
        return len(self.executed)  # a chunk sampled but never run (a failed episode) is dropped


class SamplingActor(Actor):
    """Samples chunks for every waiting slot in one batched call."""

    def __init__(self, policy: SamplingPolicy, temperature: float, generator: Any = None) -> None:
        self.policy = policy
        self.temperature = temperature
        self.generator = generator  # the policy's random source (None: its global one)
        self._open: dict[int, Trajectory] = {}
        self.finished: list[Trajectory] = []

    def start(self, slot: int, episode: EpisodeInfo) -> None:
        ask(lambda: self.policy.reset(episode))
        self._open[slot] = Trajectory(seed=episode.seed, task=episode.task)

    def act(self, slots: Sequence[int], observations: Sequence[Observation]):
        try:
            drawn = ask(lambda: self._sample(observations))
            actions = ask(lambda: check_actions(drawn.actions, len(observations)))
        except PolicyError as error:
            return {slot: error for slot in slots}
        for i, slot in enumerate(slots):
            trajectory = self._open[slot]
            trajectory.observations.append(observations[i])
            trajectory.tokens.append(np.asarray(drawn.tokens[i]))
            trajectory.log_probs.append(np.asarray(drawn.log_probs[i], dtype=np.float32))
        return dict(zip(slots, actions, strict=True))

    def _sample(self, observations: Sequence[Observation]):
        if self.generator is None:
            return self.policy.sample(observations, self.temperature)
        return self.policy.sample(observations, self.temperature, generator=self.generator)

    def executed(self, slot: int, steps: int) -> None:
        self._open[slot].executed.append(steps)

    def finish(self, slot: int, record: EpisodeRecord) -> None:
        trajectory = self._open.pop(slot)
        trajectory.reward = float(record.success)
        trajectory.steps = record.steps
        trajectory.failure = record.failure
        # keep only the chunks that ran (a policy error leaves a sampled, unexecuted chunk)
        n = trajectory.chunks
        del trajectory.observations[n:], trajectory.tokens[n:], trajectory.log_probs[n:]
        self.finished.append(trajectory)

    def take(self) -> list[Trajectory]:
        finished, self.finished = self.finished, []
        return finished
