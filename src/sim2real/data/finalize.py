"""Build a dataset's shared metadata from its finished episodes, atomically:
meta/info.json, meta/stats.json, meta/tasks.parquet, meta/episodes/..., and the dataset card."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from sim2real.data import layout
from sim2real.data.stats import (aggregate, image_stats, numeric_stats, pooled_image_quantiles,
                                 pooled_quantiles)
from sim2real.errors import Sim2RealError
from sim2real.media import atomic_path


def load_records(root: Path) -> list[dict[str, Any]]:
    records = [json.loads(p.read_text()) for p in sorted((root / layout.STAGING).glob("episode_*.json"))]
    return sorted(records, key=lambda r: r["episode_index"])


def _write(path: Path, write) -> None:
    with atomic_path(path, path.suffix) as tmp:
        write(tmp)


def numeric_columns(root: Path, records: list[dict[str, Any]]) -> dict[str, np.ndarray]:
    tables = [pq.read_table(layout.data_file(root, r["episode_index"])) for r in records]
    table = pa.concat_tables(tables)
    return {
        name: np.asarray(table[name].to_pylist(), dtype=np.float64).reshape(len(table), -1)
        for name in ("observation.state", "action", "timestamp", "frame_index", "episode_index",
                     "index", "task_index")
    }


def tasks_table(instructions: dict[int, str]) -> pa.Table:
    """meta/tasks.parquet as LeRobot writes it with pandas: a `task_index` column and the task
    string as the frame's index (named `task`), so `tasks.iloc[i].name` is the instruction."""
    order = sorted(instructions)
    table = pa.table({"task_index": pa.array(order, pa.int64()),
                      "task": pa.array([instructions[i] for i in order], pa.string())})
    pandas_metadata = {
        "index_columns": ["task"],
        "column_indexes": [{"name": None, "field_name": None, "pandas_type": "unicode",
                            "numpy_type": "object", "metadata": {"encoding": "UTF-8"}}],
        "columns": [
            {"name": "task_index", "field_name": "task_index", "pandas_type": "int64",
             "numpy_type": "int64", "metadata": None},
            {"name": "task", "field_name": "task", "pandas_type": "unicode",
             "numpy_type": "object", "metadata": None},
        ],
        "creator": {"library": "pyarrow", "version": pa.__version__},
        "pandas_version": "2.2.3",
    }
    return table.replace_schema_metadata({b"pandas": json.dumps(pandas_metadata).encode()})


def episode_stats(columns: dict[str, np.ndarray], lengths: list[int],
                  histograms: dict[str, list[np.ndarray]]) -> dict[str, list[dict[str, list]]]:
    """Each episode's own statistics, per feature (`columns` holds the episodes' frames one
    after another; `histograms` each camera's per-episode channel histograms)."""
    ends = np.cumsum(lengths)
    out = {name: [numeric_stats(part) for part in np.split(values, ends[:-1])]
           for name, values in columns.items()}
    for camera, per_episode in histograms.items():
        out[layout.video_key(camera)] = [image_stats(h, n) for h, n in zip(per_episode, lengths, strict=True)]
    return out


def dataset_stats(columns: dict[str, np.ndarray], per_episode: dict[str, list[dict[str, list]]],
                  histograms: dict[str, list[np.ndarray]]) -> dict[str, dict[str, list]]:
    """meta/stats.json: LeRobot's aggregate of the episodes' statistics, plus the quantiles over
    all frames (`pooled_q..`, which our trainer normalises with; see data/stats.py)."""
    out = {name: aggregate(episodes) for name, episodes in per_episode.items()}
    for name, values in columns.items():
        out[name].update(pooled_quantiles(values))
    for camera, per_episode_histograms in histograms.items():
        out[layout.video_key(camera)].update(pooled_image_quantiles(sum(per_episode_histograms)))
    return out


def episode_stat_columns(per_episode: dict[str, list[dict[str, list]]]) -> dict[str, list]:
    """LeRobot v3's `stats/<feature>/<stat>` columns of meta/episodes, values in their own
    shapes (an image channel statistic stays (3, 1, 1), as LeRobot's writer stores it)."""
    return {f"stats/{feature}/{stat}": [episode[stat] for episode in episodes]
            for feature, episodes in per_episode.items() for stat in episodes[0]}


Card = Callable[[dict[str, Any], list[dict[str, Any]]], str]


def finalize(root: Path, settings: dict[str, Any], card: Card | None = None,
             robot_type: str = "dual_widowx_ai") -> dict[str, Any]:
    """`card` writes the dataset's README (default: a simulated expert dataset's)."""
    records = load_records(root)
    if not records:
        raise Sim2RealError(f"{root} has no finished episodes")
    cameras = tuple(settings["cameras"])
    fps = int(settings["control_hz"])  # LeRobot's fps is an int (its video.fps too)
    image_size = tuple(settings["image_size"])
    total_frames = sum(r["length"] for r in records)

    columns = numeric_columns(root, records)
    histograms = {camera: [np.array(r["image_histograms"][camera]) for r in records] for camera in cameras}
    per_episode = episode_stats(columns, [r["length"] for r in records], histograms)
    stats = dataset_stats(columns, per_episode, histograms)
    _write(root / "meta" / "stats.json", lambda p: p.write_text(json.dumps(stats, indent=1)))

    instructions: dict[int, str] = {r["task_index"]: r["instruction"] for r in records}
    _write(root / "meta" / "tasks.parquet", lambda p: pq.write_table(tasks_table(instructions), p))

    episode_columns: dict[str, list] = {
        "episode_index": [r["episode_index"] for r in records],
        "tasks": [[r["instruction"]] for r in records],
        "length": [r["length"] for r in records],
        "data/chunk_index": [layout.chunk_of(r["episode_index"])[0] for r in records],
        "data/file_index": [r["episode_index"] for r in records],
        "dataset_from_index": [r["dataset_from_index"] for r in records],
        "dataset_to_index": [r["dataset_to_index"] for r in records],
        "seed": [r["seed"] for r in records],
        "episode": [json.dumps(r["episode"], sort_keys=True) for r in records],
    }
    for camera in cameras:
        key = layout.video_key(camera)
        episode_columns[f"videos/{key}/chunk_index"] = episode_columns["data/chunk_index"]
        episode_columns[f"videos/{key}/file_index"] = episode_columns["data/file_index"]
        episode_columns[f"videos/{key}/from_timestamp"] = [0.0] * len(records)
        episode_columns[f"videos/{key}/to_timestamp"] = [r["length"] / fps for r in records]
    episode_columns.update(episode_stat_columns(per_episode))
    episode_columns["meta/episodes/chunk_index"] = [0] * len(records)
    episode_columns["meta/episodes/file_index"] = [0] * len(records)
    _write(root / layout.EPISODES_PATH, lambda p: pq.write_table(pa.table(episode_columns), p))

    info = {
        "codebase_version": layout.CODEBASE_VERSION,
        "robot_type": robot_type,
        "total_episodes": len(records),
        "total_frames": total_frames,
        "total_tasks": len(instructions),
        "chunks_size": layout.CHUNKS_SIZE,
        "data_files_size_in_mb": 100,
        "video_files_size_in_mb": 500,
        "fps": fps,
        "splits": {"train": f"0:{len(records)}"},
        "data_path": layout.DATA_PATH,
        "video_path": layout.VIDEO_PATH if cameras else None,
        "features": layout.features(cameras, image_size, fps),
        "sim2real": {"task": records[0]["episode"]["task"], "settings": settings,
                     "randomization_path": layout.RANDOMIZATION_PATH},
    }
    _write(root / "meta" / "info.json", lambda p: p.write_text(json.dumps(info, indent=2)))
    _write(root / "README.md", lambda p: p.write_text((card or dataset_card)(info, records)))
    return {"episodes": len(records), "frames": total_frames, "tasks": len(instructions),
            "bytes": sum(f.stat().st_size for f in root.rglob("*") if f.is_file())}


def dataset_card(info: dict[str, Any], records: list[dict[str, Any]]) -> str:
    settings = info["sim2real"]["settings"]
    seeds = [r["seed"] for r in records]
    return f"""# {info['sim2real']['task']}: {info['total_episodes']} expert demonstrations

Generated by `sim2real generate` (LeRobot {info['codebase_version']} layout).

| | |
|---|---|
| task | {info['sim2real']['task']} |
| episodes / frames | {info['total_episodes']} / {info['total_frames']} |
| control rate | {info['fps']:g} Hz |
| cameras | {', '.join(settings['cameras']) or 'none'} at {settings['image_size'][0]}x{settings['image_size'][1]} |
| randomization | {settings.get('randomize', 'clean')} ({settings.get('granularity', 'episode')}-wise, {settings.get('split', 'train')} split) |
| fidelity | {settings.get('fidelity', 'low')} |
| physics | friction {settings['physics']['friction']}, restitution {settings['physics']['restitution']}, gravity {settings['physics']['gravity']} |
| instructions | {settings.get('instructions', 'seen')} set, {info['total_tasks']} distinct |
| seeds | {seeds[0]}..{seeds[-1]} ({len(seeds)} successful) |

Only successful episodes of the scripted expert are kept. Each episode's seed and full settings
are in `meta/episodes/` (column `episode`), so `sim2real` can regenerate it bit for bit. The
randomization parameters of every frame are in `randomization/` (JSON per frame, keyed by `index`).
"""
