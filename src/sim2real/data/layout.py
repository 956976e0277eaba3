"""Where things live in a LeRobot v3 dataset, and the features it declares.

One episode per data file and per video file (file index = episode index): LeRobot v3 allows
any number of episodes per file, and one per file makes every episode an independent unit that
is written atomically, which is what crash-safe, parallel generation needs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sim2real.locks import LOCK_NAME

CODEBASE_VERSION = "v3.0"
CHUNKS_SIZE = 1000  # files per chunk folder, as LeRobot
# A keyframe every 2 frames, as LeRobot's encoder (g=2): decoding any one frame (a training
# sample) starts at most one frame back, not at the episode's start.
KEYFRAME_INTERVAL = 2
DATA_PATH = "data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet"
VIDEO_PATH = "videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4"
RANDOMIZATION_PATH = "randomization/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet"
EPISODES_PATH = "meta/episodes/chunk-000/file-000.parquet"
STAGING = "meta/.episodes"  # one JSON record per finished episode; the commit point of each
PLAN_PATH = f"{STAGING}/plan.json"  # generation's phase 1: the seeds it will write
# Every place sim2real writes in a dataset folder, with the names it writes there (globs): the
# only files a later run may sweep as temporaries of a killed writer.
OWN_FILES = (
    (".", "README.md"), (".", LOCK_NAME),
    ("meta", "info.json"), ("meta", "stats.json"), ("meta", "tasks.parquet"),
    ("meta/episodes/chunk-*", "file-*.parquet"),
    (STAGING, "plan.json"), (STAGING, "episode_*.json"),
    ("data/chunk-*", "file-*.parquet"),
    ("videos/observation.images.*/chunk-*", "file-*.mp4"),
    ("randomization/chunk-*", "file-*.parquet"),
)
JOINT_NAMES = [f"{side}_{name}" for side in ("left", "right")
               for name in (*(f"joint{i}" for i in range(1, 7)), "gripper")]


def video_key(camera: str) -> str:
    return f"observation.images.{camera}"


def chunk_of(episode: int) -> tuple[int, int]:
    return episode // CHUNKS_SIZE, episode


def data_file(root: Path, episode: int) -> Path:
    chunk, file = chunk_of(episode)
    return root / DATA_PATH.format(chunk_index=chunk, file_index=file)


def video_file(root: Path, camera: str, episode: int) -> Path:
    chunk, file = chunk_of(episode)
    return root / VIDEO_PATH.format(video_key=video_key(camera), chunk_index=chunk, file_index=file)


def randomization_file(root: Path, episode: int) -> Path:
    chunk, file = chunk_of(episode)
    return root / RANDOMIZATION_PATH.format(chunk_index=chunk, file_index=file)


def record_file(root: Path, episode: int) -> Path:
    return root / STAGING / f"episode_{episode:06d}.json"


def features(cameras: tuple[str, ...], image_size: tuple[int, int], fps: int) -> dict[str, Any]:
    width, height = image_size
    out: dict[str, Any] = {
        "observation.state": {"dtype": "float32", "shape": [14], "names": JOINT_NAMES},
        "action": {"dtype": "float32", "shape": [14], "names": JOINT_NAMES},
    }
    for camera in cameras:
        out[video_key(camera)] = {
            "dtype": "video",
            "shape": [height, width, 3],
            "names": ["height", "width", "channels"],
            "info": {
                "video.height": height, "video.width": width, "video.codec": "h264",
                "video.pix_fmt": "yuv420p", "video.is_depth_map": False, "video.fps": fps,
                "video.channels": 3, "has_audio": False,
            },
        }
    for name, dtype in (("timestamp", "float32"), ("frame_index", "int64"), ("episode_index", "int64"),
                        ("index", "int64"), ("task_index", "int64")):
        out[name] = {"dtype": dtype, "shape": [1], "names": None}
    return out
