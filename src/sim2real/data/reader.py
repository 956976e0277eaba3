"""Read a LeRobot v3 dataset written by sim2real (or any with one episode per file)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import av
import numpy as np
import pyarrow.parquet as pq

from sim2real.data import layout
from sim2real.errors import Sim2RealError


@dataclass
class Episode:
    index: int
    instruction: str
    states: np.ndarray  # T x 14 float32
    actions: np.ndarray  # T x 14 float32
    seed: int


def decode_video(path: Path) -> np.ndarray:
    """All frames of an MP4 as uint8 T x H x W x 3 (RGB)."""
    with av.open(str(path)) as container:
        return np.stack([frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)])


class Dataset:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        info = self.root / "meta" / "info.json"
        if not info.is_file():
            raise Sim2RealError(f"{self.root} is not a dataset (no meta/info.json)")
        self.info: dict[str, Any] = json.loads(info.read_text())

    @cached_property
    def episodes_table(self):
        return pq.read_table(self.root / layout.EPISODES_PATH)

    @cached_property
    def stats(self) -> dict[str, Any]:
        return json.loads((self.root / "meta" / "stats.json").read_text())

    @property
    def cameras(self) -> tuple[str, ...]:
        prefix = "observation.images."
        return tuple(k.removeprefix(prefix) for k, f in self.info["features"].items()
                     if f["dtype"] == "video" and k.startswith(prefix))

    def __len__(self) -> int:
        return int(self.info["total_episodes"])

    def episode(self, index: int) -> Episode:
        table = pq.read_table(layout.data_file(self.root, index))
        row = self.episodes_table.slice(index, 1).to_pylist()[0]
        return Episode(
            index=index,
            instruction=row["tasks"][0],
            states=np.asarray(table["observation.state"].to_pylist(), dtype=np.float32),
            actions=np.asarray(table["action"].to_pylist(), dtype=np.float32),
            seed=int(row["seed"]),
        )

    def frames(self, index: int, camera: str) -> np.ndarray:
        return decode_video(layout.video_file(self.root, camera, index))
