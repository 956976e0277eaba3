"""The report's tables in the shape of the paper's: rows = data settings (Tables 1, 2, Fig. 3)
or training variants (Table 3), a column group per task with our numbers (95% Wilson
intervals, Barnard's test against the row's baseline) beside the paper's, and the rank
agreement of each of our columns with the paper's. Pure: results in, tables out."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from sim2real.evaluate.stats import RankAgreement, compare_rates, mmrv, pearson, rank_agreement
from sim2real.study.paper import Paper, PaperTable
from sim2real.study.results import Measure

# Our columns in this order when present; other suites (randomize specs) follow.
METRIC_ORDER = ("sim-ood", "clean", "proxy-real", "real")
METRIC_TITLES = {"sim-ood": "Sim-OOD", "clean": "clean", "proxy-real": "proxy-real", "real": "Real"}

Results = dict[str, dict[str, dict[str, Measure]]]  # row source -> task -> metric -> measure


@dataclass
class Row:
    name: str  # the paper's row name (or our setting's, in the table of other settings)
    source: str | None  # our data setting or variant it shows; None: the study has no such row
    ours: dict[str, dict[str, Measure]] = field(default_factory=dict)  # task -> metric -> measure
    paper: dict[str, dict[str, float]] = field(default_factory=dict)  # task -> metric -> percent
    p_values: dict[str, dict[str, float]] = field(default_factory=dict)  # vs the row's baseline
    baseline: str | None = None


@dataclass
class Table:
    key: str
    title: str
    tasks: tuple[str, ...]
    metrics: tuple[str, ...]  # ours
    paper_metrics: tuple[str, ...]
    rows: list[Row]
    agreement: dict[tuple[str, str, str], RankAgreement] = field(default_factory=dict)  # task, ours, paper
    differences: list[Row] = field(default_factory=list)  # Table 2: frame - episode, in points

    @property
    def has_results(self) -> bool:
        return any(row.ours for row in self.rows)


def ordered_metrics(names) -> tuple[str, ...]:
    names = set(names)
    return tuple(m for m in METRIC_ORDER if m in names) + tuple(sorted(names - set(METRIC_ORDER)))


def paper_table(paper: Paper, table: PaperTable, results: Results, sources: dict[str, str],
                tasks: tuple[str, ...], significance: bool = True) -> Table:
    """`table` with our results beside the paper's. `sources` maps a paper row name to the key
    of `results` that reproduces it (found by the caller from names and aliases). Barnard's
    tests cost O(trials^2) each: `significance=False` leaves them out."""
    metrics = ordered_metrics(m for r in results.values() for t in r.values() for m in t)
    rows = []
    for paper_row in table.rows:
        source = sources.get(paper_row.name)
        row = Row(paper_row.name, source, results.get(source, {}) if source else {},
                  {t: {m: v[t] for m, v in paper_row.values.items() if t in v} for t in tasks},
                  baseline=table.baseline_of(paper_row.name))
        rows.append(row)
    if significance:
        _test_against_baselines(rows)
    out = Table(table.key, table.title, tasks, metrics, table.metrics, rows)
    out.agreement = _agreement(rows, tasks, metrics, table.metrics)
    for base, other in table.pairs:
        diff = _difference(out, base, other)
        if diff is not None:
            out.differences.append(diff)
    return out


def settings_table(title: str, results: Results, tasks: tuple[str, ...], key: str = "other") -> Table:
    """Rows of ours the paper has no row for (no paper numbers, no baseline)."""
    rows = [Row(name, name, by_task) for name, by_task in results.items()]
    metrics = ordered_metrics(m for r in results.values() for t in r.values() for m in t)
    return Table(key, title, tasks, metrics, (), rows)


def _test_against_baselines(rows: list[Row]) -> None:
    """Barnard's exact test of every cell against its row's baseline (same task and metric)."""
    by_name = {row.name: row for row in rows}
    for row in rows:
        base = by_name.get(row.baseline) if row.baseline else None
        if base is None:
            continue
        for task, measures in row.ours.items():
            for metric, measure in measures.items():
                reference = base.ours.get(task, {}).get(metric)
                if reference is not None and reference.trials and measure.trials:
                    row.p_values.setdefault(task, {})[metric] = compare_rates(
                        reference.successes, reference.trials, measure.successes, measure.trials).p_value


def _agreement(rows: list[Row], tasks, metrics, paper_metrics) -> dict[tuple[str, str, str], RankAgreement]:
    """Per task, each of our columns against each of the paper's, over the rows with both."""
    out = {}
    for task in tasks:
        for ours in metrics:
            for theirs in paper_metrics:
                pairs = [(row.ours[task][ours].rate, row.paper[task][theirs]) for row in rows
                         if ours in row.ours.get(task, {}) and theirs in row.paper.get(task, {})]
                if pairs:
                    out[(task, ours, theirs)] = rank_agreement([a for a, _ in pairs], [b for _, b in pairs])
    return out


def _difference(table: Table, base: str, other: str) -> Row | None:
    """Table 2's shaded rows: the frame-wise row minus its episode-wise row, in points."""
    rows = {row.name: row for row in table.rows}
    a, b = rows[base], rows[other]
    factor = other.split()[-1]
    diff = Row(f"(Frame - Episode) {factor}", None)
    for task in table.tasks:
        ours = {m: Measure(b.ours[task][m].rate - a.ours[task][m].rate, 0, 0) for m in table.metrics
                if m in a.ours.get(task, {}) and m in b.ours.get(task, {})}
        paper = {m: b.paper[task][m] - a.paper[task][m] for m in table.paper_metrics
                 if m in a.paper.get(task, {}) and m in b.paper.get(task, {})}
        if ours:
            diff.ours[task] = ours
        diff.paper[task] = paper
    return diff


@dataclass(frozen=True)
class Predictivity:
    """How well one of our columns predicts another across all cells (policies)."""

    predictor: str
    target: str
    n: int
    pearson_r: float
    mmrv: float


def predictivity(cells: dict[str, dict[str, Measure]], predictor: str, target: str) -> Predictivity | None:
    pairs = [(m[predictor].rate, m[target].rate) for m in cells.values() if predictor in m and target in m]
    if not pairs:
        return None
    xs, ys = [a for a, _ in pairs], [b for _, b in pairs]
    return Predictivity(predictor, target, len(pairs), pearson(xs, ys), mmrv(xs, ys))


def finite(value: float) -> bool:
    return value is not None and not math.isnan(value)
