"""An anytime-valid comparison of two policies run in interleaved pairs: after every pair it
says whether the difference in success rate is already decided at level alpha, so a lab may
stop a campaign early without inflating its error rate.

The math (testing by betting; Waudby-Smith and Ramdas, "Estimating means of bounded random
variables by betting", 2023; Shafer and Vovk's game-theoretic probability):

Pair t gives a_t, b_t in {0, 1} (policy A's and B's outcome on the same trial setup). Put
Z_t = (a_t - b_t + 1) / 2 in {0, 1/2, 1}; its mean is m* = (1 + p_a - p_b) / 2. For a candidate
mean m, a gambler starting with wealth 1 bets lambda_t (Z_t - m) each round, with lambda_t chosen
from the pairs before t only (predictable):

    K_t(m) = prod_{i <= t} (1 + lambda_i(m) (Z_i - m)),    lambda_i in [-c / (1 - m), c / m].

If the conditional mean of every Z_t is m, K_t(m) is a nonnegative martingale with K_0 = 1, and
Ville's inequality bounds the chance it ever reaches 1 / alpha by alpha. So

* the test of "no difference" (m = 1/2) rejects, at any time we care to look, once
  K_t(1/2) >= 1 / alpha, with type-I error at most alpha however often we look; ties
  (Z = 1/2) leave the wealth unchanged, as they carry no information about the difference;
* {2m - 1 : K_s(m) < 1/alpha for all s <= t} is a confidence sequence for p_a - p_b: it covers
  the true difference at all times at once with probability at least 1 - alpha.

The bet is the approximate growth-rate-optimal one (aGRAPA): lambda = (mu - m) / (v + (mu - m)^2)
from the running mean mu and variance v of the Z's (each started with one pseudo-observation of
1/2 and 1/4), clipped to the interval above with c = 1/2 so a single loss costs at most half the
wealth.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

CLIP = 0.5
GRID = np.linspace(0.0005, 0.9995, 1000)  # candidate means m of Z (differences 2m - 1)


def bets(z: np.ndarray, m: np.ndarray | float) -> np.ndarray:
    """The predictable bets lambda_t(m) for outcomes z (..., T): bet t sees z[..., :t] only."""
    z = np.asarray(z, dtype=float)
    steps = z.shape[-1]
    count = np.arange(1, steps + 1)
    # running mean and variance before each step, each seeded with one pseudo-observation
    previous = np.concatenate([np.full(z.shape[:-1] + (1,), 0.5), z[..., :-1]], axis=-1)
    mean = np.cumsum(previous, axis=-1) / count
    seeded = np.concatenate([np.full(z.shape[:-1] + (1,), 0.25), (z[..., :-1] - mean[..., :-1]) ** 2], axis=-1)
    variance = np.cumsum(seeded, axis=-1) / count
    m = np.asarray(m, dtype=float)[..., None] if np.ndim(m) else float(m)
    gap = mean - m
    raw = gap / (variance + gap**2)
    return np.clip(raw, -CLIP / (1 - m), CLIP / m)


def log_wealth(z: np.ndarray, m: np.ndarray | float) -> np.ndarray:
    """log K_t(m) after each step t, for outcomes z (..., T)."""
    z = np.asarray(z, dtype=float)
    m_b = np.asarray(m, dtype=float)[..., None] if np.ndim(m) else float(m)
    return np.cumsum(np.log1p(bets(z, m) * (z - m_b)), axis=-1)


def pair_scores(a: Sequence[bool], b: Sequence[bool]) -> np.ndarray:
    return (np.asarray(a, dtype=float) - np.asarray(b, dtype=float) + 1.0) / 2.0


@dataclass(frozen=True)
class SequentialState:
    """Where the comparison stands after `pairs` pairs."""

    pairs: int
    a_only: int  # pairs where only A succeeded
    b_only: int
    ties: int
    wealth: float  # K_t at "no difference"; decided once >= 1 / alpha
    low: float  # confidence sequence for p_a - p_b
    high: float
    decided: bool
    favours: str | None  # "a" or "b" once decided
    decided_at: int | None  # first pair at which it was decided

    def as_dict(self) -> dict:
        return asdict(self)


def sequential_test(a: Sequence[bool], b: Sequence[bool], alpha: float = 0.05) -> list[SequentialState]:
    """The comparison after each pair (a[t], b[t])."""
    if len(a) != len(b):
        raise ValueError("a and b need one outcome per pair")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), not {alpha}")
    if len(a) == 0:
        return []
    z = pair_scores(a, b)
    threshold = np.log(1 / alpha)
    at_null = log_wealth(z, 0.5)
    # running intersection of the per-step sets {m : K_t(m) < 1/alpha}
    excluded = np.maximum.accumulate(log_wealth(z[None, :], GRID) >= threshold, axis=-1)
    states, decided_at = [], None
    for t in range(len(z)):
        if decided_at is None and at_null[t] >= threshold:
            decided_at = t + 1
        kept = GRID[~excluded[:, t]]
        low, high = (2 * kept.min() - 1, 2 * kept.max() - 1) if kept.size else (np.nan, np.nan)
        seen = z[: t + 1]
        favours = None
        if decided_at is not None:
            favours = "a" if seen.mean() > 0.5 else "b"
        states.append(SequentialState(
            pairs=t + 1, a_only=int((seen == 1).sum()), b_only=int((seen == 0).sum()), ties=int((seen == 0.5).sum()),
            wealth=float(np.exp(at_null[t])), low=float(low), high=float(high), decided=decided_at is not None,
            favours=favours, decided_at=decided_at))
    return states


def rejects(z: np.ndarray, alpha: float = 0.05) -> np.ndarray:
    """For many sequences z (S x T): whether each ever rejects "no difference" (for simulations)."""
    return (log_wealth(z, 0.5) >= np.log(1 / alpha)).any(axis=-1)
