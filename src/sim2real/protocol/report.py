"""Real-world tables from trial outcomes, in the paper's shapes:

* per condition (Tables 5-8): one row per (task, policy), k/n for Base, BG, Light, Distractor
  and Object, each with its 95% Wilson interval;
* pooled (the "Real" column of Tables 1-3): all of a task's trials together;
* Barnard's exact test between two policies, per condition and pooled;
* the sequential comparison of two policies over their interleaved pairs;
* sim-vs-real agreement (Pearson r and SimplerEnv's mean maximum rank violation, MMRV) when
  the same policies' Sim-OOD results are given.

Functions here take plain TrialOutcome records, so they work on any store (or none).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from sim2real.evaluate.stats import compare_rates, mmrv, pearson, wilson_interval
from sim2real.protocol.preset import FACTOR_LABELS, FACTORS
from sim2real.protocol.records import PolicyRecord, TrialOutcome


@dataclass(frozen=True)
class Count:
    successes: int
    trials: int

    @property
    def rate(self) -> float:
        return self.successes / self.trials if self.trials else float("nan")

    @property
    def ci95(self) -> tuple[float, float]:
        return wilson_interval(self.successes, self.trials)

    def cell(self) -> str:
        if not self.trials:
            return "-"
        low, high = self.ci95
        return f"{self.successes}/{self.trials} ({self.rate:.1%} [{low:.0%}, {high:.0%}])"

    def as_dict(self) -> dict:
        return {"successes": self.successes, "trials": self.trials, "rate": self.rate, "ci95": list(self.ci95)}


def _count(outcomes: Iterable[TrialOutcome]) -> Count:
    outcomes = list(outcomes)
    return Count(sum(o.success for o in outcomes), len(outcomes))


@dataclass(frozen=True)
class ConditionRow:
    """One row of Tables 5-8 plus its pooled Tables 1-3 cell."""

    task: str
    policy: str
    factors: dict[str, Count]
    levels: dict[str, dict[str, Count]]
    pooled: Count

    def as_dict(self) -> dict:
        return {"task": self.task, "policy": self.policy, "pooled": self.pooled.as_dict(),
                "factors": {f: c.as_dict() for f, c in self.factors.items()},
                "levels": {f: {lv: c.as_dict() for lv, c in levels.items()} for f, levels in self.levels.items()}}


def condition_rows(outcomes: Sequence[TrialOutcome]) -> list[ConditionRow]:
    """Rows in order of first appearance of (task, policy)."""
    keys = list(dict.fromkeys((o.task, o.policy) for o in outcomes))
    rows = []
    for task, policy in keys:
        mine = [o for o in outcomes if o.task == task and o.policy == policy]
        factors = {f: _count(o for o in mine if o.factor == f) for f in FACTORS}
        levels: dict[str, dict[str, Count]] = {}
        for o in mine:
            levels.setdefault(o.factor, {})
        for factor in levels:
            names = dict.fromkeys(o.level for o in mine if o.factor == factor)
            levels[factor] = {lv: _count(o for o in mine if o.factor == factor and o.level == lv) for lv in names}
        rows.append(ConditionRow(task, policy, factors, levels, _count(mine)))
    return rows


@dataclass(frozen=True)
class PolicyComparison:
    task: str
    a: str
    b: str
    p_values: dict[str, float]  # Barnard's exact test per factor
    sequential: dict | None = None  # the last SequentialState as a dict, when pairs exist
    trajectory: list = field(default_factory=list)  # (pairs, low, high) after each pair

    def as_dict(self) -> dict:
        return {"task": self.task, "a": self.a, "b": self.b, "p_values": self.p_values,
                "sequential": self.sequential}


def compare_policies(outcomes: Sequence[TrialOutcome], rows: Sequence[ConditionRow], alpha: float = 0.05,
                     baseline: str | None = None) -> list[PolicyComparison]:
    """Barnard's test per condition and the sequential test over the trials both ran (pairs in
    plan order), for each policy against `baseline`, or else for neighbouring rows of a task.

    Barnard's test runs per condition only (at most a few hundred trials): scipy's exact test
    grows with the square of the trial counts (32 s for 520 vs 520 trials), and the pooled
    comparison is the sequential test's job."""
    from sim2real.protocol.sequential import sequential_test

    comparisons = []
    by_task: dict[str, list[ConditionRow]] = {}
    for row in rows:
        by_task.setdefault(row.task, []).append(row)
    for task, task_rows in by_task.items():
        names = [r.policy for r in task_rows]
        if baseline is not None and baseline in names:
            base = task_rows[names.index(baseline)]
            pairs_of_rows = [(base, r) for r in task_rows if r is not base]
        else:
            pairs_of_rows = list(zip(task_rows, task_rows[1:]))
        for first, second in pairs_of_rows:
            p_values = {}
            for factor in FACTORS:
                ca, cb = first.factors[factor], second.factors[factor]
                if ca.trials and cb.trials:
                    p_values[factor] = _barnard(ca.successes, ca.trials, cb.successes, cb.trials)
            pairs = _pairs(outcomes, task, first.policy, second.policy)
            states = sequential_test([p[0] for p in pairs], [p[1] for p in pairs], alpha) if pairs else []
            comparisons.append(PolicyComparison(
                task, first.policy, second.policy, p_values,
                sequential=states[-1].as_dict() if states else None,
                trajectory=[(s.pairs, s.low, s.high) for s in states]))
    return comparisons


@lru_cache(maxsize=4096)
def _barnard(successes_a: int, trials_a: int, successes_b: int, trials_b: int) -> float:
    return compare_rates(successes_a, trials_a, successes_b, trials_b).p_value


def _pairs(outcomes: Sequence[TrialOutcome], task: str, a: str, b: str) -> list[tuple[bool, bool]]:
    """Outcomes of A and B on the same planned trials, in plan order."""
    first = {(o.plan, o.trial): o.success for o in outcomes if o.task == task and o.policy == a}
    second = {(o.plan, o.trial): o.success for o in outcomes if o.task == task and o.policy == b}
    return [(first[k], second[k]) for k in sorted(first.keys() & second.keys())]


# ---- sim vs real ----------------------------------------------------------------------------
# Pearson r and MMRV are evaluate.stats' (one definition for the study report, this report and
# the platform's leaderboard): r is nan below 3 policies, where it could only be +-1.


@dataclass(frozen=True)
class Agreement:
    points: list[tuple[str, str, float, float]]  # (task, policy, sim rate, real rate)
    pearson_r: float
    mmrv: float  # mean over tasks of the per-task MMRV
    per_task: dict[str, dict[str, float]]

    def as_dict(self) -> dict:
        return {"pearson_r": self.pearson_r, "mmrv": self.mmrv, "per_task": self.per_task,
                "points": [{"task": t, "policy": p, "sim": s, "real": r} for t, p, s, r in self.points]}


def sim_real_agreement(rows: Sequence[ConditionRow], sim_rates: dict[tuple[str, str], float]) -> Agreement:
    """Agreement between real pooled rates and Sim-OOD rates keyed by (task, policy)."""
    points = [(r.task, r.policy, sim_rates[(r.task, r.policy)], r.pooled.rate)
              for r in rows if (r.task, r.policy) in sim_rates]
    per_task = {}
    for task in dict.fromkeys(p[0] for p in points):
        mine = [p for p in points if p[0] == task]
        per_task[task] = {"pearson_r": pearson([p[2] for p in mine], [p[3] for p in mine]),
                          "mmrv": mmrv([p[2] for p in mine], [p[3] for p in mine]), "policies": len(mine)}
    scored = [v["mmrv"] for v in per_task.values() if v["mmrv"] == v["mmrv"]]
    return Agreement(points, pearson([p[2] for p in points], [p[3] for p in points]),
                     sum(scored) / len(scored) if scored else float("nan"), per_task)


# ---- Markdown ------------------------------------------------------------------------------


def policies_markdown(policies: Sequence[PolicyRecord]) -> str:
    """What each policy name stands for: its spec as given to the console and, for a checkpoint
    file, the first 12 hex digits of its sha256 (the full one is in report.json)."""
    if not policies:
        return "_No policies recorded._\n"
    lines = ["| policy | spec | sha256 |", "|---|---|---|"]
    for policy in policies:
        spec = f"`{policy.spec}`" if policy.spec else "(imported by name)"
        lines.append(f"| {policy.name} | {spec} | {policy.short_sha256} |")
    return "\n".join(lines) + "\n"


def conditions_markdown(rows: Sequence[ConditionRow]) -> str:
    """Tables 5-8's shape with the pooled Real column of Tables 1-3 at the end."""
    header = ["task", "policy", *(FACTOR_LABELS[f] for f in FACTORS), "Real (pooled)"]
    lines = ["| " + " | ".join(header) + " |", "|---" * len(header) + "|"]
    for row in rows:
        cells = [row.task, row.policy, *(row.factors[f].cell() for f in FACTORS), row.pooled.cell()]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def levels_markdown(rows: Sequence[ConditionRow]) -> str:
    lines = ["| task | policy | factor | level | success |", "|---|---|---|---|---|"]
    for row in rows:
        for factor in FACTORS:
            for level, count in row.levels.get(factor, {}).items():
                lines.append(f"| {row.task} | {row.policy} | {FACTOR_LABELS[factor]} | {level} | {count.cell()} |")
    return "\n".join(lines) + "\n"


def comparisons_markdown(comparisons: Sequence[PolicyComparison], alpha: float = 0.05) -> str:
    if not comparisons:
        return "_One policy per task: nothing to compare._\n"
    header = ["task", "A", "B", *(FACTOR_LABELS[f] for f in FACTORS), "sequential (all pairs)"]
    lines = ["| " + " | ".join(header) + " |", "|---" * len(header) + "|"]
    for c in comparisons:
        cells = [c.task, c.a, c.b]
        for factor in FACTORS:
            p = c.p_values.get(factor)
            cells.append("-" if p is None else f"p = {p:.3g}{' *' if p < alpha else ''}")
        s = c.sequential
        if s is None:
            cells.append("no shared trials")
        elif s["decided"]:
            winner = c.a if s["favours"] == "a" else c.b
            cells.append(f"decided after {s['decided_at']} of {s['pairs']}: {winner} better; "
                         f"A - B in [{s['low']:+.2f}, {s['high']:+.2f}]")
        else:
            cells.append(f"undecided after {s['pairs']}; A - B in [{s['low']:+.2f}, {s['high']:+.2f}]")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + f"\n\n`*`: Barnard's exact test (two-sided) significant at {alpha:g}. Sequential: " \
        f"anytime-valid betting test and confidence sequence over interleaved pairs at alpha = {alpha:g}.\n"


def agreement_markdown(agreement: Agreement) -> str:
    lines = [f"Pearson r (all tasks and policies): {agreement.pearson_r:.3f}; MMRV (mean over tasks): "
             f"{agreement.mmrv:.3f}", "", "| task | policies | Pearson r | MMRV |", "|---|---|---|---|"]
    for task, v in agreement.per_task.items():
        lines.append(f"| {task} | {v['policies']} | {v['pearson_r']:.3f} | {v['mmrv']:.3f} |")
    lines += ["", "| task | policy | Sim-OOD | Real |", "|---|---|---|---|"]
    lines += [f"| {t} | {p} | {s:.1%} | {r:.1%} |" for t, p, s, r in agreement.points]
    return "\n".join(lines) + "\n"
