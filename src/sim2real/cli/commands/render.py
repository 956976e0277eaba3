"""`sim2real render`: render a scene to PNG files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sim2real.cli.options import JsonFlag, SeedOption, SizeOption, TaskOption, settings_from_options
from sim2real.cli.output import console, print_json


def render_command(
    task: TaskOption = "click_bell",
    seed: SeedOption = 0,
    out: Annotated[Path, typer.Option(help="folder for the PNG files")] = Path("out"),
    image_size: SizeOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Render the initial scene: the head image and a contact sheet of every camera (PNG)."""
    from sim2real.env import make
    from sim2real.media import contact_sheet, save_png
    from sim2real.settings import CAMERA_NAMES

    env = make(task, settings_from_options(cameras=CAMERA_NAMES, image_size=image_size))
    observation, _ = env.reset(seed=seed)
    env.close()
    head = save_png(out / f"{task}_seed{seed}_head.png", observation["images/head"])
    images = [observation[f"images/{name}"] for name in CAMERA_NAMES]
    sheet = save_png(
        out / f"{task}_seed{seed}_cameras.png", contact_sheet(images, list(CAMERA_NAMES))
    )
    if as_json:
        print_json(
            {"head": str(head), "contact_sheet": str(sheet), "instruction": observation["instruction"]}
        )
    else:
        console.print(f"wrote {head} and {sheet}\ninstruction: {observation['instruction']}")


def register(app: typer.Typer) -> None:
    app.command("render")(render_command)
