"""`--record DIR`: each real episode into the same LeRobot v3 layout as the simulated demos
(`data/writer.py`, `data/layout.py`, `data/finalize.py`), so it can be inspected with `dataset
info/validate`, replayed in simulation (`policy replay:` of its actions) and compared.

Frame t pairs the observation t (cameras at the policy's size, measured joints) with the
action actually sent after it (after the safety layer). The per-frame record, which a simulated
dataset fills with randomization parameters, holds what was measured: the loop's clock, the
lateness of the tick, camera timestamps and frame numbers, the arms' feedback stamps. The
episode's record holds the operator's outcome, the failure and the metrics. Episodes are
appended to a folder that already holds a compatible recording; each is written atomically and
the metadata rebuilt after it, so a crash loses at most the episode being written. One run at
a time may record into a folder (the dataset folder lock `generate` takes).
"""

from __future__ import annotations

import json
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import numpy as np

from sim2real.core.records import EpisodeInfo, EpisodeRecord
from sim2real.data.finalize import finalize, load_records
from sim2real.data.writer import EpisodeFrames, write_episode
from sim2real.errors import Sim2RealError
from sim2real.robot.station import RecordedFrame

class EpisodeRecorder:
    def __init__(self, root: Path, station: str, robot_type: str, cameras: tuple[str, ...],
                 image_size: tuple[int, int], hz: float) -> None:
        from sim2real.data.generate import output_folder

        self.root = Path(root)
        # The dataset folder lock generation uses: new, empty or ours only; one run at a time.
        self._held = ExitStack()
        self._held.enter_context(output_folder(self.root))
        self.robot_type = robot_type
        self.settings = {"cameras": list(cameras), "image_size": list(image_size),
                         "control_hz": hz, "station": station, "robot_type": robot_type}
        self._check_compatible()
        records = load_records(self.root)
        self.next_index = max((r["episode_index"] for r in records), default=-1) + 1
        self.next_frame = max((r["dataset_to_index"] for r in records), default=0)
        self.tasks = {r["instruction"]: r["task_index"] for r in records}

    def write(self, frames: list[RecordedFrame], record: EpisodeRecord, episode: EpisodeInfo) -> int | None:
        """Write one episode (skipped when it has no frame); returns its index."""
        if not frames:
            return None
        task_index = self.tasks.setdefault(episode.instruction, len(self.tasks))
        outcome = "success" if record.success else "failure"
        content = EpisodeFrames(
            states=np.array([f.state for f in frames]),
            actions=np.array([f.action for f in frames]),
            images={c: np.array([f.images[c] for f in frames]) for c in self.settings["cameras"]},
            randomization=[f.record for f in frames],
            instruction=episode.instruction,
            # The dataset's settings are the recording's (station, cameras, rate), as meta/info.json
            # holds them, so validation sees one distribution; what the station itself reported
            # for the episode (a simulated one's scene settings) is kept beside them.
            episode={**episode.as_dict(), "settings": self.settings, "station_settings": episode.settings,
                     "outcome": outcome, "failure": record.failure, "seconds": record.seconds,
                     "metrics": record.metrics},
        )
        index = self.next_index
        write_episode(self.root, index, self.next_frame, task_index, content, self.settings["control_hz"])
        self.next_index += 1
        self.next_frame += len(frames)
        finalize(self.root, self.settings, card=recording_card, robot_type=self.robot_type)
        return index

    def close(self) -> None:
        self._held.close()

    def _check_compatible(self) -> None:
        info_path = self.root / "meta" / "info.json"
        if not info_path.is_file():
            return
        saved = json.loads(info_path.read_text()).get("sim2real", {}).get("settings", {})
        for key in ("cameras", "image_size", "control_hz"):
            if saved.get(key) != self.settings[key]:
                self.close()
                raise Sim2RealError(
                    f"invalid record: {str(self.root)!r}; it holds episodes with {key} "
                    f"{saved.get(key)!r}, this run has {self.settings[key]!r} (allowed: a new "
                    "folder, or one recorded with the same cameras, image size and rate)")


def recording_card(info: dict[str, Any], records: list[dict[str, Any]]) -> str:
    settings = info["sim2real"]["settings"]
    outcomes = [r["episode"].get("outcome") for r in records]
    width, height = settings["image_size"]
    return f"""# {info['sim2real']['task']}: {info['total_episodes']} episodes on {settings['station']}

Recorded by `sim2real robot run --record` (LeRobot {info['codebase_version']} layout).

| | |
|---|---|
| station / robot | {settings['station']} / {info['robot_type']} |
| episodes / frames | {info['total_episodes']} / {info['total_frames']} |
| outcomes | {outcomes.count('success')} success, {outcomes.count('failure')} failure |
| control rate | {info['fps']:g} Hz |
| cameras | {', '.join(settings['cameras']) or 'none'} at {width}x{height} |

`action` is what was sent to the arms after the safety layer. `meta/episodes/` (column
`episode`) holds each episode's instruction, outcome, failure and metrics (safety clamps, loop
jitter); `randomization/` holds each frame's measured timing (tick lateness, camera timestamps
and frame numbers, feedback header stamps) as JSON keyed by `index`.
"""
