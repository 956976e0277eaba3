"""One GRPO policy update: groups of rollouts in, optimiser steps out.

Advantages are computed per group and broadcast to every token the trajectory produced; the old
log-probabilities are recomputed with the rollout weights before the first optimiser step; the
trajectories are split into mini-batches, each one optimiser step on the clipped token loss.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from sim2real.core.environment import Observation
from sim2real.train.grpo.algorithm import clipped_token_loss, group_advantages
from sim2real.train.grpo.rollouts import Trajectory

# log_prob(observations, tokens B x K x 14, temperature) -> differentiable B x K x 14
LogProb = Callable[[Sequence[Observation], np.ndarray, float], torch.Tensor]


@dataclass
class Group:
    """G rollouts of one prompt (task, seed), differing only by the policy's sampling."""

    task: str
    seed: int
    trajectories: list[Trajectory]

    @property
    def rewards(self) -> list[float]:
        return [t.reward for t in self.trajectories]


@dataclass
class UpdateStats:
    loss: float
    clip_fraction: float
    approx_kl: float
    entropy: float  # estimated from the sampled tokens' log-probs at the rollout temperature
    grad_norm: float
    optimiser_steps: int
    tokens: int
    old_log_prob_drift: float  # max |recomputed - sampled| old log-prob (should be ~0)


def _log_probs(log_prob: LogProb, trajectories: Sequence[Trajectory], temperature: float) -> list[torch.Tensor]:
    """Each trajectory's flattened token log-probabilities, from one batched call."""
    observations = [o for t in trajectories for o in t.observations]
    tokens = np.concatenate([np.stack(t.tokens) for t in trajectories])
    values = log_prob(observations, tokens, temperature)
    sizes = [t.chunks for t in trajectories]
    return [v.reshape(-1) for v in torch.split(values, sizes)]


def _masks(trajectories: Sequence[Trajectory]) -> list[torch.Tensor]:
    return [torch.as_tensor(np.concatenate([t.mask(c).reshape(-1) for c in range(t.chunks)]), dtype=torch.float32)
            for t in trajectories]


def _pad(rows: Sequence[torch.Tensor]) -> torch.Tensor:
    return torch.nn.utils.rnn.pad_sequence(list(rows), batch_first=True)


def policy_update(log_prob: LogProb, parameters: Iterable[torch.nn.Parameter],
                  optimiser: torch.optim.Optimizer, groups: Sequence[Group], temperature: float,
                  mini_batch: int, clip_low: float, clip_high: float, grad_clip: float,
                  generator: torch.Generator, epochs: int = 1) -> UpdateStats:
    parameters = list(parameters)
    trajectories: list[Trajectory] = []
    advantages: list[float] = []
    for group in groups:
        for trajectory, advantage in zip(group.trajectories, group_advantages(group.rewards), strict=True):
            if trajectory.chunks:  # an episode that failed before its first action has no tokens
                trajectories.append(trajectory)
                advantages.append(float(advantage))
    if not trajectories:
        return UpdateStats(0.0, 0.0, 0.0, 0.0, 0.0, 0, 0, 0.0)
    masks = _masks(trajectories)
    with torch.no_grad():  # the rollout weights' log-probabilities, before any step
        old = _log_probs(log_prob, trajectories, temperature)
    drift = max(float((o - torch.as_tensor(np.concatenate([lp.reshape(-1) for lp in t.log_probs]))).abs().max())
                for o, t in zip(old, trajectories, strict=True))
    losses, clips, kls, norms, steps = [], [], [], [], 0
    for _ in range(epochs):
        order = torch.randperm(len(trajectories), generator=generator).tolist()
        for start in range(0, len(order), mini_batch):
            batch = order[start:start + mini_batch]
            new = _log_probs(log_prob, [trajectories[i] for i in batch], temperature)
            parts = clipped_token_loss(
                _pad(new), _pad([old[i] for i in batch]),
                torch.tensor([advantages[i] for i in batch]), _pad([masks[i] for i in batch]),
                clip_low, clip_high,
            )
            optimiser.zero_grad(set_to_none=True)
            parts.loss.backward()
            norms.append(float(torch.nn.utils.clip_grad_norm_(parameters, grad_clip)))
            optimiser.step()
            steps += 1
            losses.append(float(parts.loss.detach()))
            clips.append(parts.clip_fraction)
            kls.append(parts.approx_kl)
    entropy = float(-torch.cat([o[m > 0] for o, m in zip(old, masks, strict=True)]).mean())
    return UpdateStats(
        loss=float(np.mean(losses)) if losses else 0.0,
        clip_fraction=float(np.mean(clips)) if clips else 0.0,
        approx_kl=float(np.mean(kls)) if kls else 0.0,
        entropy=entropy,
        grad_norm=float(np.mean(norms)) if norms else 0.0,
        optimiser_steps=steps,
        tokens=int(sum(int(m.sum()) for m in masks)),
        old_log_prob_drift=drift,
    )
