"""Options shared by several sub-commands (the settings options: `cli/settings_flags.py`)."""

from __future__ import annotations

from typing import Annotated

import typer

JsonFlag = Annotated[bool, typer.Option("--json", help="print one JSON object on stdout")]
TaskOption = Annotated[str, typer.Option("--task", "-t", help="task name (see `sim2real tasks`)")]
SeedOption = Annotated[int, typer.Option("--seed", help="first episode seed (0 <= seed < 2^31)")]
SizeOption = Annotated[str, typer.Option("--image-size", help="WIDTHxHEIGHT of the images")]
WorkersOption = Annotated[int, typer.Option(min=1, help="local worker processes")]
RayOption = Annotated[
    str | None, typer.Option("--ray", help="Ray cluster address (HOST:PORT of its head, or auto)")
]
