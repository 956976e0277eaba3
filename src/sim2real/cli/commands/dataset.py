"""`sim2real dataset info|validate|export`: inspect, check and convert datasets."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sim2real.cli.options import JsonFlag
from sim2real.cli.output import console, print_json, stdout

dataset_app = typer.Typer(help="Inspect and check datasets.", no_args_is_help=True)


@dataset_app.command("info")
def info_command(root: Annotated[Path, typer.Argument(help="dataset folder")], as_json: JsonFlag = False) -> None:
    """Summary of a dataset: task, episodes, frames, cameras, settings."""
    from sim2real.data.reader import Dataset

    dataset = Dataset(root)
    info = dataset.info
    lengths = dataset.episodes_table["length"].to_pylist()
    summary = {
        "task": info["sim2real"]["task"], "episodes": info["total_episodes"],
        "frames": info["total_frames"], "instructions": info["total_tasks"], "fps": info["fps"],
        "cameras": list(dataset.cameras), "mean_length": sum(lengths) / len(lengths),
        "randomize": info["sim2real"]["settings"].get("randomize"),
        "granularity": info["sim2real"]["settings"].get("granularity"),
        "bytes": sum(f.stat().st_size for f in root.rglob("*") if f.is_file()),
    }
    if as_json:
        print_json(summary)
        return
    for key, value in summary.items():
        stdout.print(f"{key:>12}: {value}")


@dataset_app.command("validate")
def validate_command(root: Annotated[Path, typer.Argument(help="dataset folder")], as_json: JsonFlag = False) -> None:
    """Check files, frame counts and statistics; exit 1 if anything is wrong."""
    from sim2real.data.validate import validate

    problems = validate(root)
    if as_json:
        print_json({"valid": not problems, "problems": problems})
    elif problems:
        for problem in problems:
            console.print(f"[red]invalid:[/] {problem}")
    else:
        console.print(f"{root}: valid")
    if problems:
        raise typer.Exit(1)


@dataset_app.command("export")
def export_command(
    root: Annotated[Path, typer.Argument(help="dataset folder")],
    out: Annotated[Path, typer.Option(help="output folder")],
    format: Annotated[str, typer.Option("--format", help="robotwin-hdf5")] = "robotwin-hdf5",
    as_json: JsonFlag = False,
) -> None:
    """Export to another ecosystem's layout (RoboTwin 2.0 HDF5: one file per episode)."""
    from sim2real.errors import invalid

    if format != "robotwin-hdf5":
        raise invalid("format", format, "robotwin-hdf5")
    from sim2real.data.export_robotwin import export_robotwin

    written = export_robotwin(root, out)
    if as_json:
        print_json({"format": format, "episodes": len(written), "files": [str(p) for p in written]})
        return
    console.print(f"wrote {len(written)} episodes to {out}/data/")


def register(app: typer.Typer) -> None:
    app.add_typer(dataset_app, name="dataset")
