"""`sim2real render`: render a scene to PNG files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sim2real.cli.options import JsonFlag, SeedOption, TaskOption
from sim2real.cli.output import console, print_json, progress_bar
from sim2real.cli.settings_flags import SettingsFlags, settings_options

GRID_TILE_SIZE = "320x240"  # per scene on a contact sheet, unless the settings say otherwise


@settings_options(exclude=("cameras", "fidelity"))  # every camera; --fidelity takes a list here
def render_command(
    task: TaskOption = "click_bell",
    seed: SeedOption = 0,
    out: Annotated[Path, typer.Option(help="folder for the PNG files")] = Path("out"),
    fidelity: Annotated[
        str | None,
        typer.Option(
            help="low, medium or high; a comma list (low,medium,high) also writes them side by side"
        ),
    ] = None,
    settings_flags: SettingsFlags = SettingsFlags(),
    grid: Annotated[
        str | None,
        typer.Option(help="ROWSxCOLS: one contact sheet of the head camera over that many seeds"),
    ] = None,
    per_factor: Annotated[
        bool, typer.Option("--per-factor", help="with --grid: also one sheet per single factor")
    ] = False,
    mesh_detail_compare: Annotated[
        bool,
        typer.Option(
            "--mesh-detail-compare",
            help="also write <task>_seed<N>_mesh_detail.png: the head view at full vs policy mesh "
            "detail, at 96 and 224 px",
        ),
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Render the initial scene: the head image and a contact sheet of every camera (PNG)."""
    from sim2real.cli.checks import check_seeds, require_folder
    from sim2real.render.fidelity import parse_fidelity_list
    from sim2real.settings import CAMERA_NAMES

    require_folder(out)
    levels = parse_fidelity_list(fidelity) if fidelity else ()
    given = {"fidelity": levels[0]} if levels else {}
    if grid is not None:
        rows, columns = parse_grid(grid)
        check_seeds(seed, rows * columns, "rows x columns")
        settings = settings_flags.settings(
            defaults={"image_size": GRID_TILE_SIZE}, given=given, forced={"cameras": ("head",)}
        )
        sheets = write_grids(task, settings, seed, rows, columns, out, per_factor)
        if as_json:
            print_json({"contact_sheets": [str(path) for path in sheets]})
        else:
            console.print("\n".join(f"wrote {path}" for path in sheets))
        return
    from sim2real.env import make
    from sim2real.media import contact_sheet, save_png
    from sim2real.render.fidelity import write_fidelity_comparison

    check_seeds(seed)
    settings = settings_flags.settings(given=given, forced={"cameras": CAMERA_NAMES})
    env = make(task, settings)
    observation, _ = env.reset(seed=seed)
    comparison = (
        write_fidelity_comparison(env, levels, out / f"{task}_seed{seed}_fidelity.png")
        if len(levels) > 1
        else None
    )
    env.close()
    detail_png = None
    if mesh_detail_compare:
        from sim2real.render.agreement import COMPARE_SIZES, write_detail_comparison

        name = f"{task}_seed{seed}_mesh_detail.png"
        render = {**settings.render.model_dump(), "mesh_detail": "policy"}
        size = (max(COMPARE_SIZES),) * 2
        env = make(task, settings, cameras=("head",), image_size=size, fidelity="low", render=render)
        try:
            env.reset(seed=seed)
            detail_png = write_detail_comparison(env, out / name)
        finally:
            env.close()
    head = save_png(out / f"{task}_seed{seed}_head.png", observation["images/head"])
    images = [observation[f"images/{name}"] for name in CAMERA_NAMES]
    sheet = save_png(
        out / f"{task}_seed{seed}_cameras.png", contact_sheet(images, list(CAMERA_NAMES))
    )
    if as_json:
        print_json(
            {
                "head": str(head),
                "contact_sheet": str(sheet),
                "instruction": observation["instruction"],
            }
            | ({"fidelity_comparison": str(comparison)} if comparison else {})
            | ({"mesh_detail_comparison": str(detail_png)} if detail_png else {})
        )
    else:
        console.print(f"wrote {head} and {sheet}\ninstruction: {observation['instruction']}")
        if comparison:
            console.print(f"wrote {comparison} (head camera at {', '.join(levels)})")
        if detail_png:
            console.print(f"wrote {detail_png} (head view, full vs policy detail, 96 and 224 px)")


def parse_grid(text: str) -> tuple[int, int]:
    """'4x4' -> (4, 4)."""
    from sim2real.errors import invalid

    try:
        rows, columns = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise invalid("grid", text, "ROWSxCOLS, for example 4x4") from None
    if not (1 <= rows <= 16 and 1 <= columns <= 16):
        raise invalid("grid", text, "1 to 16 rows and columns")
    return rows, columns


def write_grids(
    task: str, settings, seed: int, rows: int, columns: int, out: Path, per_factor: bool
) -> list[Path]:
    """A contact sheet of rows x columns scenes (seeds seed, seed+1, ...) for the settings'
    factors, and with `per_factor` one more for each of its factors alone."""
    from sim2real.randomize.spec import parse_spec

    specs = [settings.randomize]
    if per_factor:
        specs += [name for name in parse_spec(settings.randomize) if name != settings.randomize]
    paths = []
    with progress_bar() as progress:
        for spec in specs:
            paths.append(
                _write_grid(
                    task,
                    settings.model_copy(update={"randomize": spec}),
                    seed,
                    rows,
                    columns,
                    out,
                    progress,
                )
            )
    return paths


def _write_grid(
    task: str, settings, seed: int, rows: int, columns: int, out: Path, progress
) -> Path:
    from sim2real.env import Sim2RealEnv
    from sim2real.media import contact_sheet, save_png

    count = rows * columns
    bar = progress.add_task(f"{settings.randomize} ({settings.split})", total=count, status="")
    env = Sim2RealEnv(task, settings)
    images, labels = [], []
    try:
        for offset in range(count):
            observation, _ = env.reset(seed=seed + offset)
            images.append(observation["images/head"])
            labels.append(f"seed {seed + offset}")
            progress.advance(bar)
    finally:
        env.close()
    spec = settings.randomize.replace("+", "-")
    name = f"{task}_{spec}_{settings.split}_seed{seed}_grid{rows}x{columns}.png"
    return save_png(out / name, contact_sheet(images, labels, columns=columns))


def register(app: typer.Typer) -> None:
    app.command("render")(render_command)
