"""`sim2real study run | status | report`: a whole factor study from one YAML file."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from sim2real.cli.options import JsonFlag
from sim2real.cli.output import console, print_json, progress_bar, stdout

study_app = typer.Typer(help="Run a factor study (generate, train, evaluate every cell), see where "
                             "it stands, and report it in the shape of the paper's tables.",
                        no_args_is_help=True)

StudyFile = Annotated[Path, typer.Argument(help="study YAML (see configs/studies/)")]
DirOption = Annotated[Path | None, typer.Option(
    "--dir", help="study folder (default: the file's `output`, else out/studies/NAME)")]
OnlyOption = Annotated[list[str] | None, typer.Option(
    "--only", help="only cells matching SETTING/VARIANT/TASK (glob; repeat for several)")]

STATE_STYLE = {"done": "green", "running": "cyan", "failed": "red", "blocked": "yellow", "queued": "white"}


@study_app.command("run")
def run_command(
    study: StudyFile,
    workers: Annotated[int | None, typer.Option(
        min=1, help="local worker processes (default: the file's execution.workers)")] = None,
    ray: Annotated[str | None, typer.Option("--ray", help="run each step as a task on this Ray cluster")] = None,
    only: OnlyOption = None,
    folder: DirOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Run every step the study (or the --only cells) needs and has not finished; resumable."""
    from sim2real.errors import Sim2RealError
    from sim2real.study.config import load_study
    from sim2real.study.execute import run_study

    if workers is not None and ray is not None:
        raise Sim2RealError("invalid --workers with --ray: on Ray the cluster's resources set the "
                            "parallelism; give one of them")
    config = load_study(study)
    summary = run_study(config, config.folder(folder), workers, ray, tuple(only or ()), progress_bar())
    if as_json:
        print_json(summary)
    else:
        console.print(f"study {config.name}: {len(summary['ran'])} steps ran, "
                      f"{len(summary['already_done'])} were done, {len(summary['failed'])} failed, "
                      f"{len(summary['blocked'])} blocked, in {summary['seconds']:.0f} s; {summary['folder']}")
    if summary["failed"] or summary["blocked"]:
        raise typer.Exit(1)


@study_app.command("status")
def status_command(study: StudyFile, only: OnlyOption = None, folder: DirOption = None,
                   as_json: JsonFlag = False) -> None:
    """Every step: done, running, failed (with the reason), blocked or queued."""
    from collections import Counter

    from rich.table import Table

    from sim2real.study.config import load_study
    from sim2real.study.status import study_status

    config = load_study(study)
    rows = study_status(config, config.folder(folder), tuple(only or ()))
    counts = Counter(row["state"] for row in rows)
    if as_json:
        print_json({"study": config.name, "folder": str(config.folder(folder)), "counts": dict(counts), "steps": rows})
        return
    table = Table("state", "step", "detail", "key", title=f"study {config.name}: " + ", ".join(
        f"{n} {state}" for state, n in counts.most_common()))
    for row in rows:
        style = STATE_STYLE[row["state"]]
        table.add_row(f"[{style}]{row['state']}[/]", row["label"], row["detail"], row["key"])
    stdout.print(table)


@study_app.command("report")
def report_command(
    study: StudyFile,
    out: Annotated[Path, typer.Option(help="folder for report.html, report.md and the PNGs")] = Path("out/study-report"),
    folder: DirOption = None,
    real: Annotated[str | None, typer.Option(
        "--real", help="protocol trial database (SQLite file or postgresql:// URL) with real-world trials "
                       "of the study's policies, matched by checkpoint sha256: adds the Real columns and "
                       "the sim-vs-real agreement")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Tables 1-3 and Fig. 3 of the paper from the finished steps, the paper's numbers beside."""
    from contextlib import nullcontext

    from sim2real.study.config import load_study
    from sim2real.study.real import open_real
    from sim2real.study.report import write_study_report

    config = load_study(study)
    with open_real(real) if real is not None else nullcontext() as store:
        report = write_study_report(config, config.folder(folder), out, store)
    if as_json:
        print_json(report)
        return
    sys.stdout.write(report["markdown_text"])  # plain: Markdown brackets are not rich markup
    console.print(f"wrote {report['html']}, {report['markdown']} and {len(report['images'])} PNGs")


def register(app: typer.Typer) -> None:
    app.add_typer(study_app, name="study")
