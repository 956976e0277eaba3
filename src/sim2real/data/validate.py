"""Check a dataset: every file present and readable, frame counts consistent, stats true.

`validate` decodes every video and recomputes the statistics; `check_readable` is its quick
half (files present, metadata parsed, frame counts from file headers), for commands that are
about to read a dataset and should refuse a broken one in one line before doing anything.
"""

from __future__ import annotations

import json
from pathlib import Path

import av
import numpy as np
import pyarrow.parquet as pq

from sim2real.data import layout
from sim2real.data.finalize import dataset_stats, episode_stats, numeric_columns
from sim2real.data.stats import image_histograms, image_stats, stats_match
from sim2real.errors import Sim2RealError

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


def _header_frames(path: Path) -> tuple[int, None]:
    """Frame count of a video from its container header, without decoding."""
    with av.open(str(path)) as container:
        return container.streams.video[0].frames, None


def _read(root: Path, path: Path, reader, episode: int | None, problems: list[str]):
    """reader(path), or None with the problem (missing or corrupt file) noted."""
    where = f"episode {episode}: " if episode is not None else ""
    try:
        return reader(path)
    except FileNotFoundError:
        problems.append(f"{where}missing {path.relative_to(root)}")
    except Exception as error:
        problems.append(f"{where}corrupt {path.relative_to(root)} ({error})")
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


def interrupted(root: Path) -> str | None:
    """How far an unfinished `generate` into `root` got and how to resume it; None when
    `root` is not one (a finished dataset, or no generation at all)."""
    plan_path = root / layout.PLAN_PATH
    if not plan_path.is_file() or (root / "meta/info.json").is_file():
        return None
    try:
        plan = json.loads(plan_path.read_text())
        planned = [episode["index"] for episode in plan["episodes"]]
        spec = plan["spec"]
        command = f"task {spec['task']}, {spec['episodes']} episodes from seed {spec['first_seed']}"
    except (ValueError, KeyError, TypeError):
        return f"interrupted generation (its plan {layout.PLAN_PATH} is unreadable); remove the folder"
    done = sum(layout.record_file(root, index).is_file() for index in planned)
    return (
        f"interrupted generation: {done} of {len(planned)} episodes written; re-run the same "
        f"`sim2real generate --out {root}` command ({command}) to resume"
    )


REQUIRED_INFO = ("total_episodes", "total_frames", "fps", "features")


def validate(root: Path, decode: bool = True) -> list[str]:
    """Problems found, each a sentence naming the file and what is wrong; empty if valid.

    With `decode=False`, only the quick checks: videos are opened but not decoded, and the
    statistics are not recomputed."""
    unfinished = interrupted(root)
    if unfinished is not None:
        return [unfinished]
    problems: list[str] = []
    for name in ("meta/info.json", "meta/stats.json", "meta/tasks.parquet", layout.EPISODES_PATH):
        if not (root / name).is_file():
            problems.append(f"missing {name}")
    if problems:
        return problems
    read_json = lambda path: json.loads(path.read_text())  # noqa: E731
    info = _read(root, root / "meta/info.json", read_json, None, problems)
    stats = _read(root, root / "meta/stats.json", read_json, None, problems)
    episodes = _read(root, root / layout.EPISODES_PATH, lambda p: pq.read_table(p).to_pylist(),
                     None, problems)
    if problems:
        return problems
    lacking = [key for key in REQUIRED_INFO if not isinstance(info, dict) or key not in info]
    if lacking or not isinstance(stats, dict):
        return [f"corrupt meta/info.json (lacks {', '.join(lacking)})" if lacking
                else "corrupt meta/stats.json (not a mapping of feature: statistics)"]
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
            decoded = _read(root, video, _decode_video if decode else _header_frames, index, problems)
            if decoded is None:
                continue
            if decoded[0] != rows:
                problems.append(f"episode {index}: {video.relative_to(root)} has {decoded[0]} frames, data has {rows}")
            if decode:
                histograms[key] += decoded[1]
        randomization = layout.randomization_file(root, index)
        parameters = _read(root, randomization, lambda p: pq.read_metadata(p).num_rows, index, problems)
        if parameters is not None and parameters != rows:
            problems.append(f"episode {index}: {randomization.relative_to(root)} has {parameters} "
                            f"frames, data has {rows}")
        records.append({"episode_index": index})
    if problems or not decode:
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


def check_readable(root: Path) -> None:
    """Refuse, in one line, a dataset with missing, corrupt or unfinished files (the quick
    checks of `validate`)."""
    if not (root / "meta/info.json").is_file() and interrupted(root) is None:
        raise Sim2RealError(f"{root} is not a dataset (no meta/info.json)")
    problems = validate(root, decode=False)
    if problems:
        more = (f" (and {len(problems) - 1} more problems: `sim2real dataset validate {root}`)"
                if len(problems) > 1 else "")
        raise Sim2RealError(f"{root}: {problems[0]}{more}")
