"""Check a dataset: every file present and readable, frame counts consistent, stats true."""

from __future__ import annotations

import json
from pathlib import Path

import av
import numpy as np
import pyarrow.parquet as pq

from sim2real.data import layout
from sim2real.data.finalize import dataset_stats, episode_stats, numeric_columns
from sim2real.data.stats import image_histograms, image_stats, stats_match

# Image statistics are computed from the rendered frames, before lossy H.264 encoding: decoded
# frames may differ by a little, never by this much (a channel's mean or spread in [0, 1]).
IMAGE_STATS_TOLERANCE = 0.02
IMAGE_STATS_CHECKED = ("mean", "std")


def _decode_video(path: Path) -> tuple[int, np.ndarray]:
    """Frame count and summed channel histograms of a video (decoding every frame)."""
    frames, histograms = 0, np.zeros((3, 256), dtype=np.int64)
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            histograms += image_histograms(frame.to_ndarray(format="rgb24")[None])
            frames += 1
    return frames, histograms


def _read(root: Path, path: Path, reader, episode: int, problems: list[str]):
    """reader(path), or None with the problem (missing or corrupt file) noted."""
    try:
        return reader(path)
    except FileNotFoundError:
        problems.append(f"episode {episode}: missing {path.relative_to(root)}")
    except Exception as error:
        problems.append(f"episode {episode}: corrupt {path.relative_to(root)} ({error})")
    return None


def settings_mismatches(info: dict, episodes: list[dict]) -> list[str]:
    """Episodes whose recorded task or settings differ from the dataset's (meta/info.json):
    a dataset must be one distribution, or its statistics and its labels are wrong."""
    recorded = info.get("sim2real", {})
    problems = []
    for row in episodes:
        try:
            episode = json.loads(row["episode"])
        except (KeyError, TypeError, ValueError):
            problems.append(f"episode {row['episode_index']}: meta/episodes has no readable "
                            "`episode` record (task, seed, settings)")
            continue
        if episode.get("task") != recorded.get("task"):
            problems.append(f"episode {row['episode_index']}: task {episode.get('task')!r}, "
                            f"meta/info.json says {recorded.get('task')!r}")
        differing = _differing_keys(recorded.get("settings", {}), episode.get("settings", {}))
        if differing:
            shown = "; ".join(differing[:4]) + ("; ..." if len(differing) > 4 else "")
            problems.append(f"episode {row['episode_index']}: settings differ from meta/info.json ({shown})")
    return problems


def _differing_keys(expected, actual, prefix: str = "") -> list[str]:
    """'key: expected -> actual' for each leaf setting that differs (nested keys dotted)."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        out = []
        for key in sorted(set(expected) | set(actual)):
            out += _differing_keys(expected.get(key), actual.get(key), f"{prefix}{key}.")
        return out
    return [] if expected == actual else [f"{prefix.rstrip('.')}: {expected!r} in info, {actual!r} recorded"]


def validate(root: Path) -> list[str]:
    """Problems found, each a sentence naming the file and what is wrong; empty if valid."""
    problems: list[str] = []
    for name in ("meta/info.json", "meta/stats.json", "meta/tasks.parquet", layout.EPISODES_PATH):
        if not (root / name).is_file():
            problems.append(f"missing {name}")
    if problems:
        return problems
    try:
        info = json.loads((root / "meta/info.json").read_text())
        stats = json.loads((root / "meta/stats.json").read_text())
        episodes = pq.read_table(root / layout.EPISODES_PATH).to_pylist()
    except Exception as error:
        return [f"corrupt metadata: {error}"]
    if len(episodes) != info["total_episodes"]:
        problems.append(f"meta/info.json says {info['total_episodes']} episodes, meta/episodes has {len(episodes)}")
    problems += settings_mismatches(info, episodes)
    cameras = [k for k, f in info["features"].items() if f["dtype"] == "video"]
    task_indices = _read(root, root / "meta/tasks.parquet",
                         lambda p: set(pq.read_table(p)["task_index"].to_pylist()), -1, problems)
    histograms = {key: np.zeros((3, 256), dtype=np.int64) for key in cameras}
    records = []
    for row in episodes:
        index, length = row["episode_index"], row["length"]
        data = layout.data_file(root, index)
        rows = _read(root, data, lambda p: pq.read_metadata(p).num_rows, index, problems)
        if rows is None:
            continue
        if rows != length:
            problems.append(f"episode {index}: {data.relative_to(root)} has {rows} frames, metadata says {length}")
        for key in cameras:
            video = layout.video_file(root, key.removeprefix("observation.images."), index)
            decoded = _read(root, video, _decode_video, index, problems)
            if decoded is None:
                continue
            if decoded[0] != rows:
                problems.append(f"episode {index}: {video.relative_to(root)} has {decoded[0]} frames, data has {rows}")
            histograms[key] += decoded[1]
        randomization = layout.randomization_file(root, index)
        parameters = _read(root, randomization, lambda p: pq.read_metadata(p).num_rows, index, problems)
        if parameters is not None and parameters != rows:
            problems.append(f"episode {index}: {randomization.relative_to(root)} has {parameters} "
                            f"frames, data has {rows}")
        records.append({"episode_index": index})
    if problems:
        return problems
    columns = numeric_columns(root, records)
    if task_indices is not None and not set(columns["task_index"].ravel()) <= task_indices:
        problems.append("data: task_index values missing from meta/tasks.parquet")
    lengths = [row["length"] for row in episodes]
    expected = dataset_stats(columns, episode_stats(columns, lengths, {}), {})
    for name, values in expected.items():
        wrong = stats_match(values, stats.get(name, {}))
        if wrong:
            problems.append(f"meta/stats.json: {name} {', '.join(wrong)} do not match the data")
    total_frames = sum(row["length"] for row in episodes)
    for key, summed in histograms.items():
        decoded = image_stats(summed, total_frames)
        recorded = {stat: stats.get(key, {}).get(stat) for stat in IMAGE_STATS_CHECKED}
        wrong = [stat for stat, values in recorded.items()
                 if values is None or not np.allclose(values, decoded[stat], atol=IMAGE_STATS_TOLERANCE)]
        if wrong:
            problems.append(f"meta/stats.json: {key} {', '.join(wrong)} do not match the decoded videos")
    return problems
