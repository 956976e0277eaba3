"""Shared pieces of the command line: JSON output, errors without tracebacks, progress bars."""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

console = Console(stderr=True)  # messages and progress
stdout = Console()  # tables that are the command's result


def print_json(payload: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(payload, indent=None, default=float) + "\n")


def progress_bar(transient: bool = False) -> Progress:
    """A progress bar on stderr (so --json output on stdout stays clean)."""
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[status]}"),
        TimeRemainingColumn(),
        console=console,
        transient=transient,
    )
