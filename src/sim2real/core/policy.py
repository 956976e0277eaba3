"""The `Policy` protocol: a batch of observations in, a batch of action chunks out.

Any VLA (OpenVLA-OFT, pi0, a model of one's own) becomes measurable here by implementing
`metadata`, `reset(episode)` and `infer(observations)`, locally or behind a websocket server.
A policy whose discrete action tokens can be sampled and scored (the reference VLA's discrete
head) also implements `SamplingPolicy`, which reinforcement fine-tuning (GRPO) needs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

from sim2real.core.contract import ACTION_DIM, ACTION_SPACE
from sim2real.core.environment import Observation
from sim2real.core.records import EpisodeInfo


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
    # Whether the policy keeps per-episode state between `infer` calls (a replay cursor, a
    # shadow simulation, a remote server's session). A stateful policy serves one episode at a
    # time (B = 1), so concurrent episodes each get their own instance; a stateless one (the
    # reference VLA) is shared and answers all of them in one batched call.
    stateful: bool = True
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

    def reset(self, episode: EpisodeInfo | None = None) -> None:
        """Start an episode. `episode` (task, seed, settings) is given for privileged policies."""

    def infer(self, observations: Sequence[Observation]) -> np.ndarray:
        """Action chunks for B observations: B x K x 14 (K >= 1)."""


@dataclass(frozen=True)
class ActionSample:
    """Sampled action chunks and the discrete tokens behind them (B x K x 14 each)."""

    actions: np.ndarray  # float64 absolute joint targets
    tokens: np.ndarray  # int64 bin indices
    log_probs: np.ndarray  # float32 log-probability of each token under the sampling policy


@runtime_checkable
class SamplingPolicy(Policy, Protocol):
    def sample(self, observations: Sequence[Observation], temperature: float,
               generator: Any = None) -> ActionSample:
        """Draw every token independently from softmax(logits / temperature); `generator` (the
        policy's own RNG type, e.g. a torch.Generator) makes the draw reproducible."""

    def log_prob(self, observations: Sequence[Observation], tokens: np.ndarray,
                 temperature: float = 1.0) -> Any:
        """Differentiable log-probabilities (B x K x 14, the policy's tensor type) of `tokens`
        under the current weights and softmax(logits / temperature); the trainer passes the
        temperature it sampled at so old and new log-probabilities are of the same distribution."""


def check_actions(actions: Any, batch: int) -> np.ndarray:
    """The policy's answer as float64 B x K x 14, or a PolicyError saying what is wrong with it.

    For B = 1 a single chunk (K x 14) or a single action (14,) is accepted too, as older
    single-observation policies return them."""
    given = np.asarray(actions) if not isinstance(actions, np.ndarray) else actions
    array = given
    if batch == 1 and given.ndim == 2:
        array = given[None]
    elif batch == 1 and given.ndim == 1:
        array = given[None, None]
    if array.ndim != 3 or array.shape[0] != batch or array.shape[1] < 1 or array.shape[2] != ACTION_DIM:
        raise PolicyError(
            f"policy returned actions of shape {tuple(given.shape)}; allowed: ({batch}, K, "
            f"{ACTION_DIM}) with K >= 1"
        )
    if not np.issubdtype(array.dtype, np.number):
        raise PolicyError(f"policy returned actions of dtype {array.dtype}; allowed: numbers")
    array = array.astype(np.float64)
    bad = np.argwhere(~np.isfinite(array))
    if bad.size:
        b, row, column = bad[0]
        raise PolicyError(
            f"policy returned a non-finite action: [{b}][{row}][{column}] = {array[b, row, column]}"
        )
    return array


def only_observation(observations: Sequence[Observation], name: str) -> Observation:
    """The one observation of a stateful policy's batch (such a policy serves one episode)."""
    if len(observations) != 1:
        raise PolicyError(
            f"policy {name} keeps per-episode state and serves one episode at a time; got a batch "
            f"of {len(observations)} observations (allowed: 1)"
        )
    return observations[0]
