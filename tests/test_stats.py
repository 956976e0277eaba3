"""Wilson intervals and Barnard's test against values computed independently."""

import math

import numpy as np
import pytest
from scipy.stats import binom

from sim2real.evaluate.stats import compare_rates, wilson_interval


@pytest.mark.parametrize(
    ("successes", "trials", "expected"),
    [
        (8, 10, (0.4902, 0.9433)),  # Wilson's formula worked by hand
        (0, 20, (0.0, 0.1611)),
        (20, 20, (0.8389, 1.0)),
        (15, 60, (0.1578, 0.3723)),
    ],
)
def test_wilson_interval_known_values(successes, trials, expected):
    low, high = wilson_interval(successes, trials)
    assert low == pytest.approx(expected[0], abs=1e-4)
    assert high == pytest.approx(expected[1], abs=1e-4)


def brute_force_barnard(x1: int, n1: int, x2: int, n2: int) -> float:
    """Two-sided Barnard test with the pooled Wald statistic, maximised over a fine grid of the
    nuisance parameter: slow, obviously correct, and independent of scipy's implementation."""

    def wald(a, b):
        p1, p2 = a / n1, b / n2
        pooled = (a + b) / (n1 + n2)
        variance = pooled * (1 - pooled) * (1 / n1 + 1 / n2)
        return np.where(variance > 0, (p2 - p1) / np.sqrt(np.where(variance > 0, variance, 1)), 0.0)

    a, b = np.meshgrid(np.arange(n1 + 1), np.arange(n2 + 1), indexing="ij")
    extreme = np.abs(wald(a, b)) >= abs(float(wald(np.array(x1), np.array(x2)))) - 1e-12
    best = 0.0
    for pi in np.linspace(1e-6, 1 - 1e-6, 4001):
        probability = binom.pmf(a, n1, pi) * binom.pmf(b, n2, pi)
        best = max(best, float(probability[extreme].sum()))
    return best


# Tables where another table's statistic ties the observed one only up to rounding are left out:
# scipy (like any floating-point implementation without a tolerance) may count or drop such ties.
@pytest.mark.parametrize(("x1", "n1", "x2", "n2"), [(5, 20, 12, 20), (1, 20, 14, 20), (9, 60, 12, 60)])
def test_barnard_matches_brute_force(x1, n1, x2, n2):
    comparison = compare_rates(x1, n1, x2, n2)
    assert comparison.p_value == pytest.approx(brute_force_barnard(x1, n1, x2, n2), abs=2e-3)
    assert math.isclose(comparison.difference, x2 / n2 - x1 / n1)


def test_paper_example_th_beats_clean_on_click_bell():
    # The paper's Table 5, click_bell, base setting: clean 1/20 vs TH 14/20: a real difference.
    comparison = compare_rates(1, 20, 14, 20)
    assert comparison.p_value < 0.001 and "significant" in comparison.verdict()
    # ... whereas TD 2/20 vs clean 1/20 is not.
    assert compare_rates(1, 20, 2, 20).p_value > 0.5
