"""The sequential comparison's error rates by simulation, the confidence sequence's coverage,
MMRV and Pearson r against brute force, and the report's files."""

from dataclasses import replace

import numpy as np
import pytest

from sim2real.errors import Sim2RealError
from sim2real.protocol.report import compare_policies, condition_rows, mmrv, pearson, sim_real_agreement
from sim2real.protocol.records import TrialOutcome
from sim2real.protocol.sequential import log_wealth, pair_scores, rejects, sequential_test

ALPHA = 0.05
SIMS, PAIRS = 3000, 200


@pytest.mark.parametrize("p", [0.1, 0.5, 0.85])
def test_type_one_error_stays_below_alpha_however_often_we_look(p):
    rng = np.random.default_rng(int(p * 100))
    z = pair_scores(rng.random((SIMS, PAIRS)) < p, rng.random((SIMS, PAIRS)) < p)
    rate = rejects(z, ALPHA).mean()
    standard_error = np.sqrt(ALPHA * (1 - ALPHA) / SIMS)
    assert rate <= ALPHA + 3 * standard_error, rate


def test_the_simulation_would_catch_a_test_that_peeks():
    """A z-test repeated after every pair (the mistake anytime-valid tests avoid) rejects a true
    null far more often than alpha over the same simulated campaigns."""
    rng = np.random.default_rng(7)
    a, b = rng.random((SIMS, PAIRS)) < 0.4, rng.random((SIMS, PAIRS)) < 0.4
    d = (a.astype(float) - b).cumsum(axis=1)
    discordant = (a != b).cumsum(axis=1)
    z = np.where(discordant > 0, d / np.sqrt(np.maximum(discordant, 1)), 0)
    peeking = (np.abs(z[:, 9:]) > 1.96).any(axis=1).mean()
    assert peeking > 3 * ALPHA
    assert rejects(pair_scores(a, b), ALPHA).mean() <= ALPHA + 0.012


def test_power_and_confidence_sequence_coverage():
    rng = np.random.default_rng(3)
    p_a, p_b = 0.65, 0.35
    a, b = rng.random((SIMS, PAIRS)) < p_a, rng.random((SIMS, PAIRS)) < p_b
    assert rejects(pair_scores(a, b), ALPHA).mean() > 0.9  # a 30-point gap is found within 200 pairs
    # the sequence covers the true difference at every step at once in >= 95% of campaigns
    true_m = (1 + p_a - p_b) / 2
    covered = ~(log_wealth(pair_scores(a[:400], b[:400]), true_m) >= np.log(1 / ALPHA)).any(axis=1)
    assert covered.mean() >= 1 - ALPHA - 0.02
    states = sequential_test(a[0], b[0], ALPHA)
    assert len(states) == PAIRS and states[-1].low <= p_a - p_b <= states[-1].high
    decided = next(s for s in states if s.decided)
    assert decided.favours == "a" and decided.wealth >= 1 / ALPHA and states[-1].decided_at == decided.pairs
    assert all(s.decided for s in states[decided.pairs - 1:])
    ties = sequential_test([True, False] * 20, [True, False] * 20)
    assert ties[-1].wealth == pytest.approx(1.0) and not ties[-1].decided  # ties carry no evidence


def test_mmrv_and_pearson_against_brute_force():
    rng = np.random.default_rng(0)
    for _ in range(50):
        sim, real = rng.random(5), rng.random(5)
        worst = [max([abs(real[i] - real[j]) for j in range(5) if j != i and ((sim[i] < sim[j]) != (real[i] < real[j]))],
                     default=0.0) for i in range(5)]
        assert mmrv(list(sim), list(real)) == pytest.approx(np.mean(worst))
        assert pearson(list(sim), list(real)) == pytest.approx(np.corrcoef(sim, real)[0, 1])
    assert mmrv([0.1, 0.2, 0.3], [0.1, 0.2, 0.3]) == 0.0  # same ranking: no violation
    assert mmrv([0.3, 0.2], [0.1, 0.5]) == pytest.approx(0.4)


def _outcomes(policy, successes_by_factor, task="click_bell"):
    out, index = [], 0
    for factor, (k, n) in successes_by_factor.items():
        for i in range(n):
            out.append(TrialOutcome(task, "plan", index, factor, "x", policy, i < k))
            index += 1
    return out


def test_report_rows_comparisons_agreement_and_files(tmp_path):
    from sim2real.core.records import EvalSummary
    from sim2real.protocol.publish import write_report

    counts = {"base": (2, 10), "background": (3, 10), "lighting": (4, 10), "distractors": (1, 10), "object": (5, 10)}
    better = {f: (min(n, k + 5), n) for f, (k, n) in counts.items()}
    outcomes = _outcomes("sft", counts) + _outcomes("rl", better) + _outcomes("rl_dr", better)
    rows = condition_rows(outcomes)
    assert [(r.policy, r.pooled.successes, r.pooled.trials) for r in rows] == [("sft", 15, 50), ("rl", 40, 50), ("rl_dr", 40, 50)]
    comparisons = compare_policies(outcomes, rows)
    assert [(c.a, c.b) for c in comparisons] == [("sft", "rl"), ("rl", "rl_dr")]  # neighbours
    assert comparisons[0].sequential["decided"] and comparisons[0].sequential["favours"] == "b"
    assert comparisons[1].sequential["wealth"] == pytest.approx(1.0)  # identical outcomes
    assert [(c.a, c.b) for c in compare_policies(outcomes, rows, baseline="sft")] == [("sft", "rl"), ("sft", "rl_dr")]
    sims = [EvalSummary(task="click_bell", policy="x", label=name, success_rate=rate, successes=0, episodes=100,
                        ci95=(0, 1)) for name, rate in (("sft", 0.2), ("rl", 0.6), ("rl_dr", 0.7))]
    agreement = sim_real_agreement(rows, {("click_bell", s.label): s.success_rate for s in sims})
    assert agreement.mmrv == 0.0 and len(agreement.points) == 3
    payload = write_report(outcomes, tmp_path, sims)
    assert {"markdown", "json", "conditions_png", "sequential_png", "agreement_png"} <= set(payload["files"])
    markdown = (tmp_path / "report.md").read_text()
    assert "| click_bell | sft | 2/10 (20.0%" in markdown and "15/50 (30.0%" in markdown
    assert "decided after" in markdown and "MMRV" in markdown
    assert payload["rows"][0]["pooled"]["successes"] == 15
    # a baseline or a Sim-OOD result naming no policy of the database is refused, not left out
    with pytest.raises(Sim2RealError, match=r"invalid baseline: 'sfft'; allowed: sft, rl, rl_dr"):
        write_report(outcomes, tmp_path, baseline="sfft")
    with pytest.raises(Sim2RealError, match=r"invalid sim: 'click_bell/x'; allowed: results of a task/policy"):
        write_report(outcomes, tmp_path, [replace(sims[0], label="")])
