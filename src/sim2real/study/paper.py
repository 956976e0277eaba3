"""The paper's tables (paper.yaml beside this file): rows, their numbers per task, and how a
study's data settings and variants find the paper row they reproduce (by name or alias)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml

PAPER_FILE = Path(__file__).with_name("paper.yaml")
# How the paper prints each metric: Sim-OOD as whole percents, Real to one decimal.
DECIMALS = {"sim-ood": 0, "real": 1}


@dataclass(frozen=True)
class PaperRow:
    name: str
    aliases: tuple[str, ...]
    values: dict[str, dict[str, float]]  # metric -> task -> percent (as printed)
    real_counts: dict[str, tuple[int, ...]] = field(default_factory=dict)  # task -> per condition

    def matches(self, name: str) -> bool:
        return normalise(name) in {normalise(n) for n in (self.name, *self.aliases)}


@dataclass(frozen=True)
class PaperTable:
    key: str  # table1, table2, fig3, table3
    title: str
    metrics: tuple[str, ...]
    rows: tuple[PaperRow, ...]
    baseline: str | None  # the row every other row is tested against (None: pairs)
    pairs: tuple[tuple[str, str], ...] = ()  # (baseline row, row) for Table 2
    differences: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)

    @property
    def by_variant(self) -> bool:
        """Table 3's rows are training variants, the others' rows data settings."""
        return self.key == "table3"

    def row(self, name: str) -> PaperRow:
        return next(r for r in self.rows if r.name == name)

    def baseline_of(self, row: str) -> str | None:
        if self.pairs:
            return next((base for base, other in self.pairs if other == row), None)
        return self.baseline if row != self.baseline else None


@dataclass(frozen=True)
class Paper:
    tasks: tuple[str, ...]
    task_titles: dict[str, str]
    real_conditions: tuple[str, ...]
    real_trials: dict[str, tuple[int, ...]]
    tables: dict[str, PaperTable]


def normalise(name: str) -> str:
    """Names compared without case, spaces or underscores: 'TH + CP + BG' == 'th+cp+bg'."""
    return re.sub(r"[\s_]", "", name).casefold()


@cache
def paper() -> Paper:
    data = yaml.safe_load(PAPER_FILE.read_text())
    tasks = tuple(data["tasks"])

    def per_task(values) -> dict[str, float]:
        return dict(zip(tasks, values, strict=True))

    tables = {}
    for key, table in data["tables"].items():
        rows = []
        for row in table["rows"]:
            values = {metric: per_task(row[metric.replace("-", "_")])
                      for metric in ("sim-ood", "real") if metric.replace("-", "_") in row}
            counts = {t: tuple(c) for t, c in zip(tasks, row.get("real_counts", ()), strict=False)}
            if "real" not in values and counts:  # Fig. 3: the bars are the pooled counts
                values["real"] = {t: 100 * sum(c) / sum(data["real_trials"][t]) for t, c in counts.items()}
            rows.append(PaperRow(row["name"], tuple(row.get("aliases", ())), values, counts))
        differences = {factor: {m.replace("_", "-"): per_task(v) for m, v in d.items()}
                       for factor, d in (table.get("differences") or {}).items()}
        tables[key] = PaperTable(key, table["title"], tuple(table["metrics"]), tuple(rows),
                                 table.get("baseline"), tuple(tuple(p) for p in table.get("pairs", ())),
                                 differences)
    return Paper(tasks, dict(zip(tasks, data["task_titles"], strict=True)), tuple(data["real_conditions"]),
                 {t: tuple(v) for t, v in data["real_trials"].items()}, tables)
