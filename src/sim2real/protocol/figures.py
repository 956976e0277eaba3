"""PNG figures of the real-world report: the per-condition table, the sim-vs-real scatter and
the sequential comparison's confidence sequence."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from sim2real.protocol.preset import FACTOR_LABELS, FACTORS
from sim2real.protocol.report import Agreement, ConditionRow, PolicyComparison


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(figure, path: Path) -> Path:
    from sim2real.media import atomic_path

    with atomic_path(path, ".png") as tmp:
        figure.savefig(tmp, dpi=130, format="png", bbox_inches="tight")
    _pyplot().close(figure)
    return path


def conditions_png(rows: Sequence[ConditionRow], path: Path) -> Path:
    """Tables 5-8 as an image: k/n and % per condition, the pooled rate last; cells shaded by rate."""
    plt = _pyplot()
    header = ["task", "policy", *(FACTOR_LABELS[f] for f in FACTORS), "Real (pooled)"]
    text, colours = [], []
    cmap = plt.get_cmap("Greens")
    for row in rows:
        counts = [*(row.factors[f] for f in FACTORS), row.pooled]
        cells = [f"{c.successes}/{c.trials}\n{c.rate:.1%}" if c.trials else "-" for c in counts]
        low, high = row.pooled.ci95
        cells[-1] += f" [{low:.0%}, {high:.0%}]" if row.pooled.trials else ""
        text.append([row.task, row.policy, *cells])
        colours.append(["white", "white", *(cmap(0.15 + 0.6 * c.rate) if c.trials else "white" for c in counts)])
    figure, axes = plt.subplots(figsize=(11, 0.5 * (1 + max(1, len(rows)))))
    axes.axis("off")
    table = axes.table(cellText=text or [["-"] * len(header)], colLabels=header, bbox=(0, 0, 1, 1),
                       colWidths=[0.11, 0.21, *([0.11] * len(FACTORS)), 0.13],
                       cellColours=colours or None, cellLoc="center")
    table.auto_set_font_size(False)
    table.set_fontsize(8)
    axes.set_title("Real-world success per condition (k/n); pooled with 95% Wilson interval", fontsize=10)
    return _save(figure, path)


def agreement_png(agreement: Agreement, path: Path) -> Path:
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(5, 5))
    tasks = list(dict.fromkeys(p[0] for p in agreement.points))
    for task in tasks:
        mine = [p for p in agreement.points if p[0] == task]
        axes.scatter([100 * p[2] for p in mine], [100 * p[3] for p in mine], label=task, s=30)
        for _, policy, sim, real in mine:
            axes.annotate(policy, (100 * sim, 100 * real), fontsize=6, xytext=(3, 3), textcoords="offset points")
    axes.plot([0, 100], [0, 100], color="grey", lw=0.8, ls="--")
    axes.set(xlim=(0, 100), ylim=(0, 100), xlabel="Sim-OOD success (%)", ylabel="real success (%)",
             title=f"sim vs real: r = {agreement.pearson_r:.2f}, MMRV = {agreement.mmrv:.3f}")
    axes.legend(fontsize="small")
    axes.grid(alpha=0.3)
    return _save(figure, path)


def sequential_png(comparisons: Sequence[PolicyComparison], path: Path) -> Path:
    """The confidence sequence for p_A - p_B after each pair, one panel per comparison."""
    plt = _pyplot()
    shown = [c for c in comparisons if c.trajectory]
    figure, panels = plt.subplots(len(shown), 1, figsize=(7, 2.6 * len(shown)), squeeze=False)
    for axes, comparison in zip(panels[:, 0], shown):
        pairs = [t[0] for t in comparison.trajectory]
        axes.fill_between(pairs, [t[1] for t in comparison.trajectory], [t[2] for t in comparison.trajectory],
                          alpha=0.35, step="post", label="95% confidence sequence")
        axes.axhline(0, color="black", lw=0.8)
        decided = comparison.sequential["decided_at"]
        if decided:
            axes.axvline(decided, color="red", lw=1, ls="--", label=f"decided after pair {decided}")
        axes.set(ylim=(-1, 1), xlabel="pairs", ylabel=f"{comparison.a} - {comparison.b}",
                 title=f"{comparison.task}: {comparison.a} vs {comparison.b}")
        axes.legend(fontsize="small", loc="lower right")
    figure.tight_layout()
    return _save(figure, path)
