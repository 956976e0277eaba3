"""GRPO's arithmetic, free of simulators and models: which groups carry signal, the advantage of
each trajectory, and the clipped token loss. Each function is checked against hand-computed
values in tests/test_grpo.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

ADVANTAGE_EPS = 1e-6


def keeps_group(rewards: Sequence[float], low: float = 0.1, high: float = 0.9) -> bool:
    """Dynamic sampling: a group whose rollouts all succeed or all fail has zero advantage
    everywhere and teaches nothing; keep groups whose success rate lies in [low, high] (1 to 7
    successes of 8)."""
    rate = float(np.mean(rewards))
    return low <= rate <= high


def group_advantages(rewards: Sequence[float]) -> np.ndarray:
    """(R - mean) / (std + eps) within a group, one value per trajectory (population std, as
    SimpleVLA-RL's GRPO normalisation)."""
    r = np.asarray(rewards, dtype=np.float64)
    return (r - r.mean()) / (r.std() + ADVANTAGE_EPS)


@dataclass(frozen=True)
class LossParts:
    loss: torch.Tensor  # to minimise
    clip_fraction: float  # tokens whose ratio was clipped
    approx_kl: float  # mean of (ratio - 1) - log(ratio): KL(old || new), k3 estimator
    ratio_mean: float


def clipped_token_loss(new_log_probs: torch.Tensor, old_log_probs: torch.Tensor,
                       advantages: torch.Tensor, mask: torch.Tensor,
                       clip_low: float = 0.2, clip_high: float = 0.28) -> LossParts:
    """PPO's clipped surrogate per token with an asymmetric range [1 - clip_low, 1 + clip_high]
    (DAPO's clip-higher), no KL term and no entropy bonus. Shapes: log-probs and mask T x N
    (trajectories x tokens, padded), advantages T. The token mean is taken within each
    trajectory, then the mean over trajectories."""
    mask = mask.to(new_log_probs.dtype)
    log_ratio = new_log_probs - old_log_probs
    ratio = torch.exp(log_ratio)
    advantage = advantages[:, None].to(new_log_probs.dtype)
    unclipped = ratio * advantage
    clipped = torch.clamp(ratio, 1.0 - clip_low, 1.0 + clip_high) * advantage
    surrogate = torch.minimum(unclipped, clipped)
    tokens = mask.sum(dim=1).clamp_min(1.0)
    per_trajectory = (surrogate * mask).sum(dim=1) / tokens
    loss = -per_trajectory.mean()
    with torch.no_grad():
        valid = mask.sum().clamp_min(1.0)
        was_clipped = ((ratio < 1.0 - clip_low) | (ratio > 1.0 + clip_high)).to(mask.dtype)
        clip_fraction = float((was_clipped * mask).sum() / valid)
        approx_kl = float((((ratio - 1.0) - log_ratio) * mask).sum() / valid)
        ratio_mean = float((ratio * mask).sum() / valid)
    return LossParts(loss, clip_fraction, approx_kl, ratio_mean)
