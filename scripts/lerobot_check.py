"""Check two sim2real datasets with the real LeRobot (not a test: LeRobot pins its own torch).

    python3.11 -m venv /tmp/lerobot-venv && /tmp/lerobot-venv/bin/pip install lerobot==0.4.4
    /tmp/lerobot-venv/bin/python scripts/lerobot_check.py DATASET_A DATASET_B OUT_FOLDER

Loads each with LeRobotDataset, compares frames it decodes with PyAV's own decode of the same
MP4, aggregates each dataset's per-episode stats with LeRobot's aggregate_stats, normalises with
its QUANTILES and QUANTILE10 modes, merges the two with aggregate_datasets and reads the merged
dataset back. Prints one JSON object. Imports nothing of sim2real (it runs in LeRobot's venv).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import av
import numpy as np
import torch


def own_frames(path: Path) -> np.ndarray:
    with av.open(str(path)) as container:
        return np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)])


def keyframe_interval(path: Path) -> float:
    with av.open(str(path)) as container:
        flags = [p.is_keyframe for p in container.demux(video=0) if p.size]
    return len(flags) / max(1, sum(flags))


def episode_stats(root: Path) -> list[dict]:
    """Per-episode stats as stored in meta/episodes (`stats/<feature>/<stat>` columns), as arrays."""
    import pyarrow.parquet as pq

    out = []
    for row in pq.read_table(root / "meta/episodes/chunk-000/file-000.parquet").to_pylist():
        stats: dict = {}
        for column, value in row.items():
            if column.startswith("stats/"):
                _, feature, stat = column.split("/")
                stats.setdefault(feature, {})[stat] = np.asarray(value, dtype=np.float64)
        out.append(stats)
    return out


def check(root: Path, name: str, backend: str, scratch: Path) -> dict:
    from lerobot.configs.types import FeatureType, NormalizationMode, PolicyFeature
    from lerobot.datasets.compute_stats import aggregate_stats
    from lerobot.datasets.lerobot_dataset import LeRobotDataset
    from lerobot.processor.core import TransitionKey
    from lerobot.processor.normalize_processor import NormalizerProcessorStep

    report: dict = {}
    dataset = LeRobotDataset(name, root=root, video_backend=backend)
    report["frames"] = len(dataset)
    report["fps"] = [dataset.meta.fps, type(dataset.meta.fps).__name__]
    key = "observation.images.head"
    worst, start = 0, 0
    for episode, length in enumerate(dataset.meta.episodes["length"]):
        ours = own_frames(root / f"videos/{key}/chunk-000/file-{episode:03d}.mp4")
        for t in (0, length // 2, length - 1):
            theirs = (dataset[start + t][key].permute(1, 2, 0).numpy() * 255).round().astype(int)
            worst = max(worst, int(np.abs(theirs - ours[t].astype(int)).max()))
        start += length
    report["decode_max_abs_diff"] = worst
    report["keyframe_interval"] = keyframe_interval(root / f"videos/{key}/chunk-000/file-000.mp4")

    last = dataset.meta.episodes["length"][0] - 1
    started = time.perf_counter()
    for _ in range(20):
        dataset[last]
    report["seconds_to_read_last_frame_of_episode_0"] = (time.perf_counter() - started) / 20

    try:
        aggregated = aggregate_stats(episode_stats(root))
        stored = dataset.meta.stats
        report["aggregate_stats"] = {
            stat: float(np.abs(np.asarray(aggregated["action"][stat]) - np.asarray(stored["action"][stat])).max())
            for stat in ("mean", "std", "q01", "q99") if stat in aggregated["action"]}
        report["left_joint1_q01"] = {"stats.json": float(np.asarray(stored["action"]["q01"])[0]),
                                     "lerobot_aggregate": float(np.asarray(aggregated["action"]["q01"])[0])}
        if "pooled_q01" in stored["action"]:
            report["left_joint1_q01"]["stats.json pooled_q01"] = float(np.asarray(stored["action"]["pooled_q01"])[0])
    except Exception as error:  # noqa: BLE001  (the before/after table records the failure)
        report["aggregate_stats"] = f"{type(error).__name__}: {error}"

    from lerobot.datasets.dataset_tools import delete_episodes

    try:  # LeRobot's own editing tool: re-aggregates the kept episodes' stored stats
        kept = delete_episodes(dataset, [0], output_dir=scratch / f"{name.split('/')[1]}_without_0",
                               repo_id=f"{name}_without_0")
        report["delete_episodes"] = {"episodes": kept.meta.total_episodes, "frames": len(kept),
                                     "action_q10_left_joint1": float(np.asarray(kept.meta.stats["action"]["q10"])[0])}
    except Exception as error:  # noqa: BLE001
        report["delete_episodes"] = f"{type(error).__name__}: {error}"

    for mode in (NormalizationMode.QUANTILES, NormalizationMode.QUANTILE10):
        try:
            step = NormalizerProcessorStep(
                features={"action": PolicyFeature(type=FeatureType.ACTION, shape=(14,))},
                norm_map={FeatureType.ACTION: mode}, stats=dataset.meta.stats)
            out = step({TransitionKey.OBSERVATION: {}, TransitionKey.ACTION: dataset[0]["action"][None]})
            report[f"normalize_{mode.value}"] = [round(float(v), 4) for v in out[TransitionKey.ACTION][0][:3]]
        except Exception as error:  # noqa: BLE001
            report[f"normalize_{mode.value}"] = f"{type(error).__name__}: {error}"
    return report


def main() -> None:
    from lerobot.datasets.aggregate import aggregate_datasets
    from lerobot.datasets.lerobot_dataset import LeRobotDataset

    first, second, out = (Path(p).resolve() for p in sys.argv[1:4])
    backend = sys.argv[4] if len(sys.argv) > 4 else "pyav"
    report = {"lerobot": __import__("lerobot").__version__, "torch": torch.__version__, "video_backend": backend,
              "a": check(first, "local/a", backend, out), "b": check(second, "local/b", backend, out)}
    merged_root = out / "merged"
    try:
        aggregate_datasets(["local/a", "local/b"], "local/merged", roots=[first, second], aggr_root=merged_root)
        merged = LeRobotDataset("local/merged", root=merged_root, video_backend=backend)
        frames_a = report["a"]["frames"]
        theirs = (merged[frames_a]["observation.images.head"].permute(1, 2, 0).numpy() * 255).round().astype(int)
        ours = own_frames(second / "videos/observation.images.head/chunk-000/file-000.mp4")[0].astype(int)
        report["merged"] = {"frames": len(merged), "episodes": merged.meta.total_episodes,
                            "first_frame_of_b_max_abs_diff": int(np.abs(theirs - ours).max()),
                            "action_q01_left_joint1": float(np.asarray(merged.meta.stats["action"]["q01"])[0])}
    except Exception as error:  # noqa: BLE001
        report["merged"] = f"{type(error).__name__}: {error}"
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
