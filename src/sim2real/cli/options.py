"""Options shared by several sub-commands, and turning them into settings."""

from __future__ import annotations

from typing import Annotated, Any

import typer

JsonFlag = Annotated[bool, typer.Option("--json", help="print one JSON object on stdout")]
TaskOption = Annotated[str, typer.Option("--task", "-t", help="task name (see `sim2real tasks`)")]
SeedOption = Annotated[int, typer.Option("--seed", help="first episode seed")]
SizeOption = Annotated[
    str | None, typer.Option("--image-size", help="WIDTHxHEIGHT of every camera image")
]

# The scene and rendering settings that generation and evaluation share.
RandomizeOption = Annotated[str, typer.Option(help="clean, BG, TH+CP+BG, all, ...")]
SplitOption = Annotated[str, typer.Option(help="train or ood ranges")]
GranularityOption = Annotated[str, typer.Option(help="episode or frame")]
FidelityOption = Annotated[str, typer.Option(help="low, medium or high")]
PhysicsOption = Annotated[str, typer.Option(help="default or extreme")]
InstructionsOption = Annotated[str, typer.Option(help="seen or unseen instruction templates")]
WorkersOption = Annotated[int, typer.Option(min=1, help="local worker processes")]
RayOption = Annotated[str | None, typer.Option("--ray", help="Ray cluster address")]
# The rasterizer's cost on CPU is set by these, not by resolution (a shadow map costs several
# times a small frame with Mesa's software renderer).
ShadowsOption = Annotated[bool, typer.Option("--shadows/--no-shadows", help="rasterized shadows")]
MsaaOption = Annotated[int, typer.Option("--msaa", help="multisample anti-aliasing: 0, 2, 4 or 8")]


def settings_from_options(**fields: Any):
    """EnvSettings from command-line values; None means 'use the default'."""
    from sim2real.settings import make_settings, parse_image_size

    fields = {name: value for name, value in fields.items() if value is not None}
    render = {key: fields.pop(key) for key in ("shadows", "msaa") if key in fields}
    if render:
        fields["render"] = render
    if isinstance(fields.get("image_size"), str):
        fields["image_size"] = parse_image_size(fields["image_size"])
    return make_settings(**fields)
