"""`sim2real report` and `sim2real compare`: tables, plots and significance of eval results."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sim2real.cli.options import JsonFlag
from sim2real.cli.output import console, print_json, stdout


def report_command(
    results: Annotated[list[Path], typer.Argument(help="eval result folders (or summary.json files)")],
    out: Annotated[Path, typer.Option(help="folder for report.md and report.png")] = Path("out/report"),
    as_json: JsonFlag = False,
) -> None:
    """The paper's table shape: rows = training settings, columns = tasks, success % with CIs."""
    from sim2real.cli.checks import require_folder
    from sim2real.evaluate.report import markdown_table, plot
    from sim2real.evaluate.results import load_summary
    from sim2real.media import atomic_path

    require_folder(out)
    summaries = [load_summary(path) for path in results]
    table = markdown_table(summaries)
    out.mkdir(parents=True, exist_ok=True)
    with atomic_path(out / "report.md", ".md") as tmp:
        tmp.write_text(table)
    image = plot(summaries, out / "report.png")
    if as_json:
        print_json({"markdown": str(out / "report.md"), "png": str(image), "table": table})
        return
    stdout.print(table)
    console.print(f"wrote {out / 'report.md'} and {image}")


def compare_command(
    a: Annotated[Path, typer.Argument(help="baseline eval results")],
    b: Annotated[Path, typer.Argument(help="eval results to compare with the baseline")],
    as_json: JsonFlag = False,
) -> None:
    """Difference in success rate between two result sets, with Barnard's exact test."""
    from sim2real.evaluate.results import load_summary
    from sim2real.evaluate.stats import compare_rates

    first, second = load_summary(a), load_summary(b)
    comparison = compare_rates(first.successes, first.episodes, second.successes, second.episodes)
    payload = {
        "a": {"label": first.label, "successes": first.successes, "episodes": first.episodes},
        "b": {"label": second.label, "successes": second.successes, "episodes": second.episodes},
        "difference": comparison.difference,
        "p_value": comparison.p_value,
        "significant_at_0.05": comparison.p_value < 0.05,
    }
    if as_json:
        print_json(payload)
        return
    stdout.print(
        f"{first.label}: {comparison.rate_a:.1%} ({first.successes}/{first.episodes})  vs  "
        f"{second.label}: {comparison.rate_b:.1%} ({second.successes}/{second.episodes})\n"
        f"difference {comparison.difference:+.1%}; Barnard's exact test (two-sided): {comparison.verdict()}"
    )


def register(app: typer.Typer) -> None:
    app.command("report")(report_command)
    app.command("compare")(compare_command)
