"""Check a dataset: every file present and readable, frame counts consistent, stats true."""

from __future__ import annotations

import json
from pathlib import Path

import av
import pyarrow.parquet as pq

from sim2real.data import layout
from sim2real.data.finalize import numeric_columns
from sim2real.data.stats import numeric_stats, stats_match


def _video_frames(path: Path) -> int:
    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))


def _read(root: Path, path: Path, reader, episode: int, problems: list[str]):
    """reader(path), or None with the problem (missing or corrupt file) noted."""
    try:
        return reader(path)
    except FileNotFoundError:
        problems.append(f"episode {episode}: missing {path.relative_to(root)}")
    except Exception as error:
        problems.append(f"episode {episode}: corrupt {path.relative_to(root)} ({error})")
    return None


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
    cameras = [k for k, f in info["features"].items() if f["dtype"] == "video"]
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
            frames = _read(root, video, _video_frames, index, problems)
            if frames is not None and frames != rows:
                problems.append(f"episode {index}: {video.relative_to(root)} has {frames} frames, data has {rows}")
        records.append({"episode_index": index})
    if problems:
        return problems
    for name, values in numeric_columns(root, records).items():
        wrong = stats_match(numeric_stats(values), stats.get(name, {}))
        if wrong:
            problems.append(f"meta/stats.json: {name} {', '.join(wrong)} do not match the data")
    return problems
