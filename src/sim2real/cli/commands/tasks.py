"""`sim2real tasks`: list the registered tasks."""

from __future__ import annotations

import typer

from sim2real.cli.options import JsonFlag
from sim2real.cli.output import print_json, stdout


def tasks_command(as_json: JsonFlag = False) -> None:
    """List the registered tasks."""
    from rich.table import Table

    from sim2real.tasks import task_class, task_names

    rows = []
    for name in task_names():
        cls = task_class(name)
        rows.append(
            {
                "name": name,
                "description": cls.description,
                "paper_average_steps": cls.paper_average_steps,
                "time_limit_s": cls.time_limit_s,
                "instructions_seen": len(cls.instructions.seen),
                "instructions_unseen": len(cls.instructions.unseen),
            }
        )
    if as_json:
        print_json({"tasks": rows})
        return
    table = Table("task", "description", "paper avg steps", "time limit (s)")
    for row in rows:
        table.add_row(
            row["name"], row["description"], str(row["paper_average_steps"]), f"{row['time_limit_s']:g}"
        )
    stdout.print(table)


def register(app: typer.Typer) -> None:
    app.command("tasks")(tasks_command)
