"""`sim2real protocol plan|sheet|console|report`: the real-world evaluation protocol."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sim2real.cli.options import JsonFlag
from sim2real.cli.output import console, print_json, stdout

protocol_app = typer.Typer(help="Real-world trial plans, placement sheets, the operator console and tables.",
                           no_args_is_help=True)

PlanArgument = Annotated[Path, typer.Argument(help="a plan file written by `protocol plan`")]
DbOption = Annotated[str, typer.Option("--db", help="trial database: a SQLite file, or postgresql://USER@HOST:PORT/NAME")]


@protocol_app.command("plan")
def plan_command(
    task: Annotated[str, typer.Option("--task", "-t", help="task name (see `sim2real tasks`)")],
    out: Annotated[Path, typer.Option(help="plan file to write (.json)")],
    preset: Annotated[str, typer.Option(help="preset name in configs/protocol/ (paper, smoke) or a YAML file")] = "paper",
    seed: Annotated[int, typer.Option(help="seed of the order, the shifts and the distractors")] = 0,
    as_json: JsonFlag = False,
) -> None:
    """Every trial of a campaign: setup, grid cell, shifted positions, in counterbalanced blocks."""
    from sim2real.protocol.plan import make_plan
    from sim2real.protocol.preset import load_preset

    if out.suffix != ".json":
        from sim2real.errors import invalid

        raise invalid("out", str(out), "a .json file name")
    plan = make_plan(load_preset(preset), task, seed)
    plan.save(out)
    conditions = plan.conditions()
    payload = {"plan": str(out), "task": task, "preset": plan.preset.name, "seed": seed, "digest": plan.digest,
               "trials": len(plan.trials), "blocks": plan.trials[-1].block + 1,
               "conditions": conditions, "per_factor": {f: sum(v.values()) for f, v in conditions.items()}}
    if as_json:
        print_json(payload)
        return
    from rich.table import Table

    table = Table("factor", "level", "trials")
    for factor, levels in conditions.items():
        for level, count in levels.items():
            table.add_row(factor, level, str(count))
    stdout.print(table)
    console.print(f"wrote {out}: {len(plan.trials)} trials in {payload['blocks']} blocks (digest {plan.digest})")


@protocol_app.command("sheet")
def sheet_command(
    plan: PlanArgument,
    out: Annotated[Path, typer.Option(help="sheet to write: .pdf (tiled pages) or .png (one image)")] = Path("sheet.pdf"),
    trials: Annotated[str, typer.Option(help="which trials to mark: all, or 1-based ranges such as 1-20,25")] = "all",
    paper: Annotated[str, typer.Option(help="PDF pages: a4, a3, letter (landscape, tiled) or single (exact size)")] = "a4",
    dpi: Annotated[int, typer.Option(min=30, max=600, help="PNG resolution (dots per inch; recorded in the file)")] = 150,
    as_json: JsonFlag = False,
) -> None:
    """A printable 1:1 placement sheet of the table with the grid and each trial's position."""
    from sim2real.protocol.plan import load_plan
    from sim2real.protocol.sheet import parse_trials, write_sheet

    loaded = load_plan(plan)
    result = write_sheet(loaded, out, parse_trials(trials, loaded), paper=paper, dpi=dpi)
    if as_json:
        print_json(result)
        return
    console.print(f"wrote {out}: {result['pages']} page(s) of {result['page_cm'][0]} x {result['page_cm'][1]} cm, "
                  "scale 1:1 (print at 100%; the red bar must measure 10 cm)")


@protocol_app.command("console")
def console_command(
    plan: Annotated[Path, typer.Option("--plan", help="plan file written by `protocol plan`")],
    db: DbOption,
    policy: Annotated[list[str], typer.Option("--policy", help="policy SPEC or NAME=SPEC; two or more run in interleaved pairs")],
    robot: Annotated[Path | None, typer.Option(help="robot config YAML (configs/robots/); enables Start")] = None,
    record: Annotated[Path | None, typer.Option(help="with --robot: the LeRobot v3 dataset folder every run is recorded "
                                                     "into (default: beside a SQLite database, DB-runs/)")] = None,
    no_record: Annotated[bool, typer.Option("--no-record", help="with --robot: record no run (no videos)")] = False,
    auto: Annotated[bool, typer.Option(help="sim robot only: run every trial unattended, recording the simulator's success")] = False,
    operator: Annotated[str | None, typer.Option(help="operator name recorded with each outcome")] = None,
    host: Annotated[str, typer.Option(help="address to serve on (keep it local)")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to serve on")] = 8765,
    live: Annotated[bool, typer.Option(help="show the station's head camera under the placement picture, with the "
                                             "placement markers over it (sim robot, or a robot config with a head camera)")] = True,
) -> None:
    """The operator's web page: setup, placement, Start, Success/Failure/Abort, progress; every
    outcome committed before the next trial; restarting resumes at the next unrecorded trial."""
    from sim2real.protocol.console.server import run_console

    if record is not None and no_record:
        from sim2real.errors import invalid

        raise invalid("record", str(record), "a folder, or --no-record, not both")
    run_console(plan, db, policy, robot, record, auto, operator, host, port,
                announce=lambda line: console.print(line, soft_wrap=True), live=live, no_record=no_record)


@protocol_app.command("report")
def report_command(
    db: Annotated[str, typer.Argument(help="trial database: a SQLite file or a postgresql:// URL")],
    out: Annotated[Path, typer.Option(help="folder for report.md, report.json and the PNG tables")] = Path("out/protocol_report"),
    sim: Annotated[list[Path] | None, typer.Option(help="Sim-OOD eval results of the same policies (repeatable)")] = None,
    plan: Annotated[str | None, typer.Option(help="only this plan (its digest); default: every plan in the database")] = None,
    alpha: Annotated[float, typer.Option(min=0.001, max=0.5, help="significance level of the tests")] = 0.05,
    baseline: Annotated[str | None, typer.Option(help="compare every policy with this one (default: neighbouring rows)")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Tables 5-8 (k/n per condition) and Tables 1-3's pooled Real column, Wilson intervals,
    Barnard's test and the sequential test between policies, sim-vs-real agreement."""
    from sim2real.errors import Sim2RealError
    from sim2real.evaluate.results import load_summary
    from sim2real.protocol.db import open_store
    from sim2real.protocol.publish import write_report

    sims = [load_summary(path) for path in sim or []]
    if "://" not in db and not Path(db).is_file():
        raise Sim2RealError(f"invalid db: {db!r}; allowed: an existing trial database file or a postgresql:// URL")
    with open_store(db) as store:
        outcomes = store.outcomes(plan)
        policies = store.policies(plan)
    if not outcomes:
        raise Sim2RealError(f"no recorded outcomes in {db}" + (f" for plan {plan}" if plan else ""))
    payload = write_report(outcomes, out, sims, alpha, baseline, policies)
    if as_json:
        print_json(payload)
        return
    stdout.print((out / "report.md").read_text())
    console.print(f"wrote {', '.join(payload['files'].values())}")


def register(app: typer.Typer) -> None:
    app.add_typer(protocol_app, name="protocol")
