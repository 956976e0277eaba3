"""Tables as Markdown and HTML: our cells (rate at the paper's precision, 95% Wilson interval,
counts, Barnard's p against the row's baseline) beside the paper's printed numbers."""

from __future__ import annotations

import html
import math

from sim2real.study.paper import DECIMALS
from sim2real.study.results import Measure
from sim2real.study.tables import METRIC_TITLES, Predictivity, Row, Table, finite


def percent(rate: float, decimals: int) -> str:
    return f"{100 * rate:.{decimals}f}%"


def ours_cell(measure: Measure | None, metric: str, p_value: float | None = None) -> str:
    if measure is None:
        return "-"
    low, high = measure.ci95
    text = f"{percent(measure.rate, DECIMALS.get(metric, 0))} [{100 * low:.0f}, {100 * high:.0f}] " \
           f"({measure.successes}/{measure.trials})"
    return text + (f", p {p_value:.2g}" if p_value is not None else "")


def paper_cell(value: float | None, metric: str) -> str:
    return "-" if value is None else f"{value:.{DECIMALS.get(metric, 0)}f}%"


def difference_cell(value: float | None, decimals: int = 1, points: bool = True) -> str:
    if value is None:
        return "-"
    return f"{100 * value:+.{decimals}f}" if points else f"{value:+.{decimals}f}"


def title(metric: str) -> str:
    return METRIC_TITLES.get(metric, metric)


def _columns(table: Table) -> list[tuple[str, str, str]]:
    """(task, 'ours' | 'paper', metric) for every column after the row name."""
    return [(task, who, metric) for task in table.tasks
            for who, metrics in (("ours", table.metrics), ("paper", table.paper_metrics))
            for metric in metrics]


def _cells(table: Table, row: Row, difference: bool = False) -> list[str]:
    out = []
    for task, who, metric in _columns(table):
        if difference:
            value = (row.ours if who == "ours" else row.paper).get(task, {}).get(metric)
            value = value.rate if isinstance(value, Measure) else value
            out.append(difference_cell(value, points=who == "ours"))
        elif who == "ours":
            out.append(ours_cell(row.ours.get(task, {}).get(metric), metric,
                                 row.p_values.get(task, {}).get(metric)))
        else:
            out.append(paper_cell(row.paper.get(task, {}).get(metric), metric))
    return out


def _row_label(row: Row) -> str:
    if row.source is None or row.source == row.name:
        return row.name
    return f"{row.name} ({row.source})"


def markdown(table: Table) -> str:
    header = ["setting"] + [f"{task} {title(metric)} ({who})" for task, who, metric in _columns(table)]
    lines = [f"### {table.title}", "", "| " + " | ".join(header) + " |", "|---" * len(header) + "|"]
    for row in table.rows:
        lines.append("| " + " | ".join([_row_label(row), *_cells(table, row)]) + " |")
    for row in table.differences:
        lines.append("| " + " | ".join([row.name, *_cells(table, row, difference=True)]) + " |")
    baseline = next((r.baseline for r in table.rows if r.baseline), None)
    if baseline:
        lines += ["", f"p: Barnard's exact test (two-sided) of the cell against its row's baseline "
                      f"({'the episode-wise row' if table.differences else baseline}), same task and column."]
    if table.agreement:
        lines += ["", "Rank agreement with the paper over the rows both have (Spearman rho, Kendall tau):", "",
                  "| ours vs paper | " + " | ".join(table.tasks) + " |", "|---" * (len(table.tasks) + 1) + "|"]
        for ours in table.metrics:
            for theirs in table.paper_metrics:
                cells = [_agreement_cell(table.agreement.get((task, ours, theirs))) for task in table.tasks]
                if any(c != "-" for c in cells):
                    lines.append(f"| {title(ours)} vs {title(theirs)} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _agreement_cell(agreement) -> str:
    if agreement is None:
        return "-"
    if not finite(agreement.spearman):
        return f"n/a (n {agreement.n})"
    return f"rho {agreement.spearman:.2f}, tau {agreement.kendall:.2f} (n {agreement.n})"


def predictivity_text(items: list[Predictivity]) -> str:
    lines = []
    for item in items:
        r = f"{item.pearson_r:.2f}" if finite(item.pearson_r) else "n/a"
        m = f"{100 * item.mmrv:.1f} points" if not math.isnan(item.mmrv) else "n/a"
        lines.append(f"- {title(item.predictor)} predicting {title(item.target)} over {item.n} cells: "
                     f"Pearson r {r}, MMRV {m}")
    return "\n".join(lines)


def html_table(table: Table) -> str:
    esc = html.escape
    per_task = len(table.metrics) + len(table.paper_metrics)
    head = "<tr><th rowspan=2>setting</th>" + "".join(
        f"<th colspan={per_task}>{esc(task)}</th>" for task in table.tasks) + "</tr><tr>" + "".join(
        f"<th class={who}>{esc(title(metric))}<br><small>{who}</small></th>"
        for _, who, metric in _columns(table)) + "</tr>"
    body = []
    for row in table.rows:
        cells = "".join(f"<td class={who}>{esc(c)}</td>"
                        for (_, who, _), c in zip(_columns(table), _cells(table, row), strict=True))
        body.append(f"<tr><th>{esc(_row_label(row))}</th>{cells}</tr>")
    for row in table.differences:
        cells = "".join(f"<td class={who}>{esc(c)}</td>"
                        for (_, who, _), c in zip(_columns(table), _cells(table, row, True), strict=True))
        body.append(f"<tr class=difference><th>{esc(row.name)}</th>{cells}</tr>")
    return f"<table><thead>{head}</thead><tbody>{''.join(body)}</tbody></table>"


PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; margin: 1em 0; font-size: 0.85em; }}
th, td {{ border: 1px solid #ccc; padding: 0.3em 0.5em; text-align: right; white-space: nowrap; }}
th {{ background: #f4f4f4; }}
td.paper {{ color: #555; background: #fafafa; }}
tr.difference {{ background: #fde8e8; }}
img {{ max-width: 100%; margin: 0.5em 0; }}
pre {{ background: #f6f6f6; padding: 1em; }}
</style></head><body>
{body}
</body></html>
"""
