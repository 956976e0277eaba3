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
    """Summary of a dataset: task, episodes, frames, cameras, image size, settings."""
    from sim2real.data.reader import Dataset
    from sim2real.data.validate import check_readable

    check_readable(root)
    dataset = Dataset(root)
    info = dataset.info
    settings = info.get("sim2real", {}).get("settings", {})
    lengths = dataset.episodes_table["length"].to_pylist()
    image_size = settings.get("image_size")
    summary = {
        "task": info.get("sim2real", {}).get("task"), "episodes": info["total_episodes"],
        "frames": info["total_frames"], "instructions": info.get("total_tasks"), "fps": info["fps"],
        "cameras": list(dataset.cameras),
        "image_size": "x".join(map(str, image_size)) if image_size else None,
        "mean_length": sum(lengths) / len(lengths) if lengths else 0.0,
        "randomize": settings.get("randomize"), "granularity": settings.get("granularity"),
        "split": settings.get("split"), "fidelity": settings.get("fidelity"),
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
    from sim2real.errors import invalid

    if not root.is_dir():  # a mistyped path is the user's mistake, not a broken dataset
        raise invalid("root", str(root), "a dataset folder (this " + ("is a file)" if root.exists() else "does not exist)"))
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
    jpeg: Annotated[str, typer.Option(
        "--jpeg", help="robotwin: frames as RoboTwin's own files hold them (RGB from cv2.imdecode, "
        "as its scripts read them); standard: standard JPEG (RGB from any other decoder)")] = "robotwin",
    pointcloud_points: Annotated[int, typer.Option(
        "--pointcloud-points", help="points per frame in /pointcloud (RoboTwin's 1024; 0: empty)")] = 1024,
    as_json: JsonFlag = False,
) -> None:
    """Export to another ecosystem's layout (RoboTwin 2.0 HDF5: one file per episode)."""
    from sim2real.cli.checks import require_folder
    from sim2real.data.validate import check_readable
    from sim2real.errors import invalid

    if format != "robotwin-hdf5":
        raise invalid("format", format, "robotwin-hdf5")
    require_folder(out)
    check_readable(root)
    from sim2real.cli.output import progress_bar
    from sim2real.data.export_robotwin import JPEG_ORDERS, export_robotwin
    from sim2real.data.reader import Dataset

    if jpeg not in JPEG_ORDERS:
        raise invalid("jpeg", jpeg, ", ".join(JPEG_ORDERS))
    if pointcloud_points < 0:
        raise invalid("pointcloud-points", pointcloud_points, "0 (an empty /pointcloud) or more")
    episodes = len(Dataset(root))
    with progress_bar(transient=True) as progress:
        job = progress.add_task("export", total=episodes, status="")
        written = export_robotwin(root, out, jpeg, pointcloud_points,
                                  on_episode=lambda _: progress.advance(job))
    if as_json:
        print_json({"format": format, "jpeg": jpeg, "episodes": len(written),
                    "files": [str(p) for p in written]})
        return
    console.print(f"wrote {len(written)} episodes to {out}/data/")


def register(app: typer.Typer) -> None:
    app.add_typer(dataset_app, name="dataset")
