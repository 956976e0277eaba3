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

# The click that typer runs on: its own copy in recent typer releases, click itself before.
click_errors = sys.modules[typer.BadParameter.__module__]

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
        # Not standalone: click's own mistakes (an unknown option, a value that is not a
        # number) come here instead of as a boxed usage message, and are one line like ours.
        code = app(standalone_mode=False)
    except getattr(click_errors, "NoArgsIsHelpError", ()):
        sys.exit(2)  # the help is printed already
    except click_errors.UsageError as error:
        hint = f" (see `{error.ctx.command_path} --help`)" if error.ctx is not None else ""
        print_error(" ".join(error.format_message().split()).rstrip(".") + hint)
        sys.exit(2)
    except click_errors.ClickException as error:
        error.show()
        sys.exit(error.exit_code)
    except typer.Abort:
        console.print("aborted")
        sys.exit(1)
    except Sim2RealError as error:
        print_error(str(error))
        sys.exit(2)
    sys.exit(code if isinstance(code, int) else 0)  # an int is typer.Exit's code; else success


def print_error(message: str) -> None:
    # No wrapping (a message is one line however long) and no markup read from it.
    console.print(f"[red]error:[/] {escape(message)}", soft_wrap=True, highlight=False)
