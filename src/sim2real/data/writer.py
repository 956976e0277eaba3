"""Write one episode as complete LeRobot v3 files, atomically, then its record (commit point)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from sim2real.data import layout
from sim2real.data.stats import image_histograms
from sim2real.media import atomic_path, write_mp4


@dataclass
class EpisodeFrames:
    """Everything recorded from one expert episode, frame t = (observation t, action t)."""

    states: np.ndarray  # T x 14
    actions: np.ndarray  # T x 14
    images: dict[str, np.ndarray]  # camera -> T x H x W x 3 uint8
    randomization: list[dict[str, Any]]  # per frame
    instruction: str
    episode: dict[str, Any]  # info["episode"]: task, seed, params, settings


def _write_parquet(path: Path, table: pa.Table) -> None:
    with atomic_path(path, ".parquet") as tmp:
        pq.write_table(table, tmp, compression="zstd")


def _vector_column(values: np.ndarray) -> pa.Array:
    return pa.FixedSizeListArray.from_arrays(pa.array(values.astype(np.float32).ravel()), values.shape[1])


def write_episode(root: Path, index: int, start: int, task_index: int, frames: EpisodeFrames,
                  fps: float) -> dict[str, Any]:
    """Write data, videos and randomization files of episode `index` (global frames from
    `start`), then its record. Only a present record makes the episode count."""
    length = len(frames.actions)
    indices = np.arange(length)
    table = pa.table({
        "observation.state": _vector_column(frames.states),
        "action": _vector_column(frames.actions),
        "timestamp": pa.array((indices / fps).astype(np.float32)),
        "frame_index": pa.array(indices, pa.int64()),
        "episode_index": pa.array(np.full(length, index), pa.int64()),
        "index": pa.array(start + indices, pa.int64()),
        "task_index": pa.array(np.full(length, task_index), pa.int64()),
    })
    _write_parquet(layout.data_file(root, index), table)
    _write_parquet(layout.randomization_file(root, index), pa.table({
        "index": pa.array(start + indices, pa.int64()),
        "randomization": pa.array([json.dumps(r, sort_keys=True) for r in frames.randomization]),
    }))
    histograms = {}
    for camera, images in frames.images.items():
        write_mp4(layout.video_file(root, camera, index), list(images), fps,
                  keyframe_interval=layout.KEYFRAME_INTERVAL)
        histograms[camera] = image_histograms(images).tolist()
    record = {
        "episode_index": index,
        "length": length,
        "dataset_from_index": start,
        "dataset_to_index": start + length,
        "task_index": task_index,
        "instruction": frames.instruction,
        "seed": frames.episode["seed"],
        "episode": frames.episode,
        "image_histograms": histograms,
    }
    path = layout.record_file(root, index)
    with atomic_path(path, ".json") as tmp:
        tmp.write_text(json.dumps(record))
    return record
