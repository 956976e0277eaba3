"""`sim2real`: one command-line tool for the whole pipeline.

Each sub-command lives in its own module under `sim2real.cli.commands` and registers itself
through a `register(app)` function, so adding a command never touches another's code. Modules
import heavy libraries inside their command functions to keep `--help` fast.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys

import typer
from rich.markup import escape

import sim2real  # noqa: F401  (selects the GL backend before mujoco loads)
from sim2real.cli import commands
from sim2real.cli.output import console
from sim2real.errors import Sim2RealError

app = typer.Typer(
    help="Zero-shot sim-to-real research for dual-arm VLA policies.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

for _module in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
    importlib.import_module(f"{commands.__name__}.{_module.name}").register(app)


def main() -> None:
    try:
        app()
    except Sim2RealError as error:
        # No wrapping (a message is one line however long) and no markup read from it.
        console.print(f"[red]error:[/] {escape(str(error))}", soft_wrap=True, highlight=False)
        sys.exit(2)
