"""The paper's table shapes from evaluation results: rows = training settings (policy labels),
columns = tasks, cells = success % with 95% Wilson intervals; as Markdown and as a PNG plot."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from sim2real.core.records import EvalSummary
from sim2real.errors import Sim2RealError


def _cell(summary: EvalSummary) -> str:
    low, high = summary.ci95
    return (f"{summary.success_rate:.0%} [{low:.0%}, {high:.0%}] "
            f"({summary.successes}/{summary.episodes})")


def grid(summaries: Sequence[EvalSummary]) -> tuple[list[str], list[str], dict]:
    rows = list(dict.fromkeys(s.label for s in summaries))
    columns = list(dict.fromkeys(s.task for s in summaries))
    cells: dict[tuple[str, str], EvalSummary] = {}
    for s in summaries:
        key = (s.label, s.task)
        if key in cells:
            raise Sim2RealError(
                f"two results for setting {key[0]!r} on task {key[1]!r}; give each evaluation its "
                "own --label (a row per training setting), or pass a suite's folder for its mean"
            )
        cells[key] = s
    return rows, columns, cells


def markdown_table(summaries: Sequence[EvalSummary]) -> str:
    rows, columns, cells = grid(summaries)
    lines = ["| setting | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
    for row in rows:
        values = [_cell(cells[(row, c)]) if (row, c) in cells else "-" for c in columns]
        lines.append(f"| {row} | " + " | ".join(values) + " |")
    return "\n".join(lines) + "\n"


def plot(summaries: Sequence[EvalSummary], path: Path,
         references: dict[str, dict[tuple[str, str], float]] | None = None, title: str | None = None) -> Path:
    """Grouped bars (one group per task, one bar per setting) with Wilson error bars.

    `references` draws other numbers of the same cells as markers on the bars, e.g. a paper's:
    {"paper Sim-OOD": {(setting, task): rate}}."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from sim2real.media import atomic_path

    rows, columns, cells = grid(summaries)
    width = 0.8 / max(1, len(rows))
    figure, axes = plt.subplots(figsize=(max(5, 1.6 * len(columns) * max(1, len(rows)) ** 0.5), 3.6))
    positions = np.arange(len(columns))
    for i, row in enumerate(rows):
        rates, lows, highs = [], [], []
        for column in columns:
            s = cells.get((row, column))
            rate = s.success_rate if s else np.nan
            rates.append(100 * rate)
            # clamped: a bound may sit a rounding error past the rate at 0% and 100%
            lows.append(max(0.0, 100 * (rate - s.ci95[0])) if s else 0)
            highs.append(max(0.0, 100 * (s.ci95[1] - rate)) if s else 0)
        axes.bar(positions + i * width - 0.4 + width / 2, rates, width, yerr=[lows, highs],
                 capsize=3, label=row)
    for k, (name, values) in enumerate((references or {}).items()):
        points = [(positions[columns.index(c)] + rows.index(r) * width - 0.4 + width / 2, 100 * v)
                  for (r, c), v in values.items() if r in rows and c in columns]
        if points:
            xs, ys = zip(*points, strict=True)
            axes.scatter(xs, ys, marker="Dxv^"[k % 4], color="k" if k == 0 else "tab:red", s=22,
                         zorder=3, label=name)
    axes.set_xticks(positions, columns)
    axes.set_ylabel("success rate (%)")
    if title:
        axes.set_title(title, fontsize="medium")
    axes.set_ylim(0, 100)
    axes.legend(fontsize="small", ncols=min(3, len(rows)))
    axes.grid(axis="y", alpha=0.3)
    figure.tight_layout()
    with atomic_path(path, ".png") as tmp:
        figure.savefig(tmp, dpi=120, format="png")
    plt.close(figure)
    return path
