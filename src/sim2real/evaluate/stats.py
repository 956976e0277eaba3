"""Statistics a reader needs to trust a success rate: Wilson intervals and Barnard's test."""

from __future__ import annotations

import math
from dataclasses import dataclass

Z95 = 1.959963984540054


def wilson_interval(successes: int, trials: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of a binomial proportion (95% by default)."""
    if trials == 0:
        return 0.0, 1.0
    p = successes / trials
    denominator = 1 + z**2 / trials
    centre = (p + z**2 / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z**2 / (4 * trials**2)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class Comparison:
    rate_a: float
    rate_b: float
    difference: float  # b - a
    p_value: float  # two-sided Barnard's exact test

    def verdict(self, alpha: float = 0.05) -> str:
        if self.p_value < alpha:
            return f"significant at {alpha:g} (p = {self.p_value:.3g})"
        return f"not significant at {alpha:g} (p = {self.p_value:.3g})"


def compare_rates(successes_a: int, trials_a: int, successes_b: int, trials_b: int) -> Comparison:
    """Is B's success rate different from A's? Barnard's exact test (two-sided), which is more
    powerful than Fisher's for 2x2 tables with both margins not fixed, as here."""
    from scipy.stats import barnard_exact

    if trials_a == 0 or trials_b == 0:
        raise ValueError("both result sets need at least one episode")
    # scipy's barnard_exact takes the two samples as the table's columns.
    table = [[successes_a, successes_b], [trials_a - successes_a, trials_b - successes_b]]
    # n=200 nuisance-parameter samples: scipy's default 32 can miss the supremum (0.523 instead
    # of 0.531 for 9/60 vs 12/60).
    p_value = float(barnard_exact(table, alternative="two-sided", n=200).pvalue)
    rate_a, rate_b = successes_a / trials_a, successes_b / trials_b
    return Comparison(rate_a, rate_b, rate_b - rate_a, p_value)


@dataclass(frozen=True)
class RankAgreement:
    """How well one column of success rates orders the rows as another does."""

    n: int  # rows that have both
    spearman: float  # rho; nan when undefined (fewer than 3 rows, or a constant column)
    spearman_p: float
    kendall: float  # tau-b
    kendall_p: float


def rank_agreement(ours: list[float], theirs: list[float]) -> RankAgreement:
    """Spearman's rho and Kendall's tau-b between two equally long columns (with p-values)."""
    from scipy.stats import kendalltau, spearmanr

    if len(ours) != len(theirs):
        raise ValueError("the two columns need the same rows")
    n = len(ours)
    if n < 3 or len(set(ours)) < 2 or len(set(theirs)) < 2:
        return RankAgreement(n, math.nan, math.nan, math.nan, math.nan)
    rho = spearmanr(ours, theirs)
    tau = kendalltau(ours, theirs)
    return RankAgreement(n, float(rho.statistic), float(rho.pvalue), float(tau.statistic), float(tau.pvalue))


def pearson(xs: list[float], ys: list[float]) -> float:
    """Pearson's r (nan with fewer than 3 points or a constant column)."""
    if len(xs) != len(ys):
        raise ValueError("the two columns need the same rows")
    if len(xs) < 3 or len(set(xs)) < 2 or len(set(ys)) < 2:
        return math.nan
    from scipy.stats import pearsonr

    return float(pearsonr(xs, ys).statistic)


def mmrv(sim: list[float], real: list[float]) -> float:
    """Mean Maximum Rank Violation (SIMPLER, Li et al. 2024) of simulated success rates as a
    predictor of real ones: for each policy, the largest real-success gap to another policy
    that the simulator orders the other way round, averaged over policies. 0 = every pair
    ordered as in reality; in success-rate units (0 to 1)."""
    if len(sim) != len(real):
        raise ValueError("the two columns need the same policies")
    n = len(sim)
    if n < 2:
        return math.nan
    worst = [
        max((abs(real[i] - real[j]) for j in range(n)
             if (sim[i] < sim[j]) != (real[i] < real[j])), default=0.0)
        for i in range(n)
    ]
    return sum(worst) / n
