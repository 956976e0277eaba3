"""`study report`: one HTML page plus Markdown and PNGs in the shape of the paper's Tables 1-3
and Fig. 3, from the study's finished evaluation steps.

Which table a data setting fills follows its name: a setting named like a paper row or one of
its aliases (`clean`, `TH+CP+BG`, `all`, `CP-frame`, `medium`, ...; see paper.yaml) is that
row. Table 3's rows are the training variants of the study's first data setting.

With a protocol trial database (`--real`), the cells whose policies were also run on real
robots get a Real column (`study/real.py`), and the agreement of Sim-OOD and proxy-real with it.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim2real.core.records import EvalSummary
from sim2real.study.config import StudyConfig
from sim2real.study.graph import build_plan
from sim2real.study.paper import paper
from sim2real.study.results import Measure, collect, stage_costs
from sim2real.study.store import StudyStore
from sim2real.study.tables import Predictivity, Results, Table, paper_table, predictivity, settings_table

if TYPE_CHECKING:
    from sim2real.protocol.db.store import TrialStore
    from sim2real.study.real import RealTrials


@dataclass
class StudyReport:
    name: str
    tables: list[Table]
    predictivity: list[Predictivity]
    costs: dict[str, dict[str, float]]
    cells: dict[str, dict[str, Measure]]  # cell name -> suite -> measure
    worlds: dict[str, dict[str, dict[str, Measure]]]  # cell name -> suite -> world -> measure
    states: Counter = field(default_factory=Counter)
    real: RealTrials | None = None  # what --real's database held of the study's policies


def build_report(config: StudyConfig, root: Path, real: TrialStore | None = None) -> StudyReport:
    """The report's tables and numbers; `real`: a protocol trial database whose trials of the
    study's policies (matched by checkpoint sha256) become the suite "real"."""
    from sim2real.study.status import study_status

    plan = build_plan(config)
    store = StudyStore(root)
    collected = collect(plan, store)
    matched = None
    if real is not None:
        from sim2real.study.real import real_trials

        matched = real_trials(plan, store, real)
        for name, measure in matched.measures.items():
            collected[name].metrics["real"] = measure
    first_variant = "sft" if "sft" in config.variants else config.variants[0]
    first_setting = next(iter(config.data))
    by_setting: Results = {}
    by_variant: Results = {}
    for result in collected.values():
        cell = result.cell
        if cell.variant == first_variant:
            by_setting.setdefault(cell.setting, {})[cell.task] = result.metrics
        if cell.setting == first_setting:
            by_variant.setdefault(cell.variant, {})[cell.task] = result.metrics
    the_paper = paper()
    tasks = tuple(t for t in the_paper.tasks if t in config.tasks) + tuple(
        t for t in config.tasks if t not in the_paper.tasks)
    tables, used = [], set()
    for table in the_paper.tables.values():
        names, results = (config.variants, by_variant) if table.by_variant else (tuple(config.data), by_setting)
        sources = {}
        for row in table.rows:
            match = next((name for name in names if row.matches(name)), None)
            if match is not None:
                sources[row.name] = match
        if len(sources) >= 2:
            # one row alone shows no effect (it appears among the other settings instead)
            tables.append(paper_table(the_paper, table, {s: results.get(s, {}) for s in sources.values()},
                                      sources, tasks))
            if not table.by_variant:
                used.update(sources.values())
    others = {name: by_setting.get(name, {}) for name in config.data if name not in used}
    if others:
        tables.append(settings_table(f"Data settings without a paper row (variant {first_variant})", others, tasks))
    cells = {name: r.metrics for name, r in collected.items()}
    links = [p for p in (predictivity(cells, a, b) for a, b in (
        ("sim-ood", "proxy-real"), ("clean", "proxy-real"), ("sim-ood", "real"), ("proxy-real", "real")))
        if p is not None]
    states = Counter(row["state"] for row in study_status(config, root))
    return StudyReport(config.name, tables, links, stage_costs(plan, store), cells,
                       {name: r.worlds for name, r in collected.items()}, states, matched)


def _summary(row: str, column: str, measure: Measure) -> EvalSummary:
    return EvalSummary(task=column, policy="", label=row, success_rate=measure.rate,
                       successes=measure.successes, episodes=measure.trials, ci95=measure.ci95)


def write_plots(report: StudyReport, out: Path) -> list[Path]:
    """A bar chart per table (our first column, the paper's numbers as markers), one chart of
    the Sim-OOD factors per task, and Sim-OOD against proxy-real across cells."""
    from sim2real.evaluate.report import plot
    from sim2real.study.formats import title

    images = []
    for table in report.tables:
        if not table.has_results or not table.metrics:
            continue
        metric = table.metrics[0]
        summaries = [_summary(row.name, task, row.ours[task][metric]) for row in table.rows
                     for task in table.tasks if metric in row.ours.get(task, {})]
        references = {f"paper {title(m)}": {(row.name, task): row.paper[task][m] / 100 for row in table.rows
                                            for task in table.tasks if m in row.paper.get(task, {})}
                      for m in table.paper_metrics}
        images.append(plot(summaries, out / f"{table.key}.png", references,
                           f"{table.title} - bars: ours ({title(metric)})"))
    factors: dict[str, list[EvalSummary]] = {}
    for cell, suites in report.worlds.items():
        setting, variant, task = cell.split("/")
        for world, measure in suites.get("sim-ood", {}).items():
            factors.setdefault(task, []).append(_summary(f"{setting} ({variant})", world, measure))
    for task, summaries in factors.items():
        images.append(plot(summaries, out / f"factors_{task}.png",
                           title=f"{task}: Sim-OOD success per factor (each on its OOD range)"))
    for target in ("proxy-real", "real"):
        pairs = [(cell, m["sim-ood"], m[target]) for cell, m in report.cells.items()
                 if "sim-ood" in m and target in m]
        if pairs:
            images.append(_scatter(pairs, out / f"sim_ood_vs_{target.replace('-', '_')}.png", title(target)))
    return images


def _scatter(pairs: list[tuple[str, Measure, Measure]], path: Path, target: str) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sim2real.media import atomic_path

    figure, axes = plt.subplots(figsize=(4.6, 4.2))
    for cell, sim, real in pairs:
        axes.errorbar(100 * sim.rate, 100 * real.rate, fmt="o", capsize=2,
                      xerr=[[max(0.0, 100 * (sim.rate - sim.ci95[0]))], [max(0.0, 100 * (sim.ci95[1] - sim.rate))]],
                      yerr=[[max(0.0, 100 * (real.rate - real.ci95[0]))], [max(0.0, 100 * (real.ci95[1] - real.rate))]])
        axes.annotate(cell, (100 * sim.rate, 100 * real.rate), fontsize=6, xytext=(3, 3), textcoords="offset points")
    axes.plot([0, 100], [0, 100], color="0.7", lw=0.8)
    axes.set_xlim(0, 100)
    axes.set_ylim(0, 100)
    axes.set_xlabel("Sim-OOD success (%)")
    axes.set_ylabel(f"{target} success (%)")
    axes.grid(alpha=0.3)
    figure.tight_layout()
    with atomic_path(path, ".png") as tmp:
        figure.savefig(tmp, dpi=120, format="png")
    plt.close(figure)
    return path


# The cost table's columns (results.stage_costs' fields), in the Markdown and the page alike.
COST_COLUMNS = {"steps": "steps", "seconds": "wall time (s)", "longest_seconds": "longest (s)",
                "cpu_seconds": "CPU time (s)", "peak_memory_mb": "peak memory (MB)"}


def cost_cells(cost: dict[str, float]) -> list[str]:
    return [f"{cost.get(field, 0):.0f}" for field in COST_COLUMNS]


def markdown_report(report: StudyReport) -> str:
    from sim2real.study.formats import markdown, predictivity_text

    states = ", ".join(f"{n} {s}" for s, n in report.states.most_common())
    parts = [f"# Study {report.name}", "", f"Steps: {states}.", ""]
    if report.real is not None:
        parts += [real_line(report), ""]
    for table in report.tables:
        parts.append(markdown(table))
    if report.predictivity:
        parts += ["### How well simulation predicts transfer", "", predictivity_text(report.predictivity), ""]
    if report.costs:
        parts += ["### Cost per stage", "", "| " + " | ".join(("stage", *COST_COLUMNS.values())) + " |",
                  "|---" * (len(COST_COLUMNS) + 1) + "|"]
        parts += ["| " + " | ".join((kind, *cost_cells(c))) + " |" for kind, c in report.costs.items()]
    return "\n".join(parts) + "\n"


def real_line(report: StudyReport) -> str:
    real = report.real
    if not real.matched:
        return real.none_message + "."
    cells = ", ".join(f"{cell} ({m['trials']} trials)" for cell, m in real.matched.items())
    return f"Real: trials of this study's policies (same checkpoint sha256) in {real.database}: {cells}."


def html_report(report: StudyReport, images: list[Path]) -> str:
    import html

    from sim2real.study.formats import PAGE, html_table, markdown, predictivity_text

    esc = html.escape
    body = [f"<h1>Study {esc(report.name)}</h1>",
            f"<p>Steps: {esc(', '.join(f'{n} {s}' for s, n in report.states.most_common()))}.</p>"]
    if report.real is not None:
        body.append(f"<p>{esc(real_line(report))}</p>")
    by_key = {image.stem: image for image in images}
    for table in report.tables:
        body.append(f"<h2>{esc(table.title)}</h2>")
        body.append(html_table(table))
        notes = markdown(table).split("\n\n", 2)[2:]  # the test and agreement notes after the table
        if notes:
            body.append(f"<pre>{esc(notes[0])}</pre>")
        if table.key in by_key:
            body.append(f'<img src="{by_key[table.key].name}" alt="{esc(table.title)}">')
    body += [f'<h2>Sim-OOD factors: {esc(i.stem.removeprefix("factors_"))}</h2><img src="{i.name}">'
             for i in images if i.stem.startswith("factors_")]
    if report.predictivity:
        body.append("<h2>How well simulation predicts transfer</h2>")
        body.append(f"<pre>{esc(predictivity_text(report.predictivity))}</pre>")
        body += [f'<img src="{i.name}">' for i in images if i.stem.startswith("sim_ood_vs_")]
    if report.costs:
        head = "".join(f"<th>{esc(name)}</th>" for name in ("stage", *COST_COLUMNS.values()))
        rows = "".join(f"<tr><th>{esc(k)}</th>" + "".join(f"<td>{v}</td>" for v in cost_cells(c)) + "</tr>"
                       for k, c in report.costs.items())
        body.append(f"<h2>Cost per stage</h2><table><tr>{head}</tr>{rows}</table>")
    return PAGE.format(title=esc(f"Study {report.name}"), body="\n".join(body))


def report_json(report: StudyReport) -> dict[str, Any]:
    def measure(m: Measure) -> dict[str, Any]:
        return {"rate": m.rate, "successes": m.successes, "trials": m.trials, "ci95": list(m.ci95)}

    return {
        "study": report.name,
        "states": dict(report.states),
        "cells": {c: {s: measure(m) for s, m in metrics.items()} for c, metrics in report.cells.items()},
        "tables": {t.key: [{"row": r.name, "setting": r.source,
                            "ours": {task: {m: measure(v) for m, v in ms.items()} for task, ms in r.ours.items()},
                            "paper": r.paper, "p_values": r.p_values} for r in t.rows] for t in report.tables},
        "predictivity": [p.__dict__ for p in report.predictivity],
        "costs": report.costs,
        "real": report.real.as_dict() if report.real is not None else None,
    }


def write_study_report(config: StudyConfig, root: Path, out: Path, real: TrialStore | None = None) -> dict[str, Any]:
    from sim2real.media import atomic_path

    report = build_report(config, root, real)
    out.mkdir(parents=True, exist_ok=True)
    images = write_plots(report, out)
    text = markdown_report(report)
    payload = report_json(report)
    for name, content in (("report.md", text), ("report.html", html_report(report, images)),
                          ("report.json", json.dumps(payload, indent=1, default=float))):
        with atomic_path(out / name, Path(name).suffix) as tmp:
            tmp.write_text(content)
    return {"html": str(out / "report.html"), "markdown": str(out / "report.md"),
            "images": [str(i) for i in images], "markdown_text": text, **payload}
