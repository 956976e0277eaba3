"""Runs a trial on the robot in a background thread (one at a time), through the robot
runtime, and records the run in the store: started before the arms move, finished with the
runtime's episode record and the recording's location. In `auto` mode (the sim robot only) it
walks the whole campaign unattended and records the simulator's success as the outcome."""

from __future__ import annotations

import threading
import traceback
from pathlib import Path
from typing import Any

from sim2real.errors import Sim2RealError
from sim2real.protocol.console.campaign import Campaign
from sim2real.protocol.console.live import CAMERA, LiveView, Preview
from sim2real.protocol.db import AlreadyRecorded

AUTO_OPERATOR = "auto (simulator)"


def run_on_robot(robot: Path, spec: str, task: str, seed: int, record_dir: Path | None, on_event,
                 watch: dict | None = None) -> Any:
    """One episode through `sim2real.robot.runtime.run_episodes`; returns its EpisodeRecord or None.
    `watch`: camera -> listener of its frames (the live view)."""
    from sim2real.robot.runtime import run_episodes

    records = run_episodes(robot, spec, task, None, episodes=1, record_dir=record_dir, on_event=on_event,
                           seed=seed, watch=watch)
    return records[0] if records else None


def recorded_video(record_dir: Path | None, record: Any) -> str | None:
    """The recording's video of an episode (the head camera's, else the first camera's), when
    it was recorded (`--record`): the path the trial database keeps with the run."""
    from sim2real.core.contract import CAMERA_NAMES
    from sim2real.data.layout import video_file

    index = record.metrics.get("recorded_episode")
    if record_dir is None or index is None:
        return None
    for camera in dict.fromkeys((CAMERA, *CAMERA_NAMES)):
        path = video_file(Path(record_dir), camera, index)
        if path.is_file():
            return str(path)
    return None


class TrialRunner:
    def __init__(self, campaign: Campaign, robot: Path | None, record_dir: Path | None = None,
                 operator: str | None = None, runner=run_on_robot, live: LiveView | None = None,
                 preview: Preview | None = None) -> None:
        self.campaign, self.robot, self.record_dir, self.operator = campaign, robot, record_dir, operator
        self.live, self.preview = live, preview  # the head camera's view, during and between runs
        self._run = runner
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.current: dict[str, Any] | None = None  # the run in progress
        self.events: list[dict[str, Any]] = []
        self.auto_error: str | None = None
        self._executing = False

    @property
    def busy(self) -> bool:
        return self._executing

    def start(self, index: int, policy: str, operator: str | None = None) -> int:
        """Start one run of (trial, policy); returns its run id (committed before the arms move)."""
        if self.robot is None:
            raise Sim2RealError("no robot configured: start the console with --robot CONFIG.yaml")
        self.campaign.check_slot(index, policy)
        with self._lock:
            if self.busy:
                raise Sim2RealError("a run is in progress; wait for it to end")
            self._executing = True
            run_id = self.campaign.store.start_run(self.campaign.plan, index, policy, operator or self.operator)
            self.current = {"run": run_id, "trial": index, "policy": policy, "events": 0}
            self.events = []
            self._thread = threading.Thread(target=self._execute, args=(run_id, index, policy), daemon=True)
            self._thread.start()
            return run_id

    def wait(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def _execute(self, run_id: int, index: int, policy: str) -> dict[str, Any]:
        self._executing = True
        trial = self.campaign.trial(index)
        result: dict[str, Any] = {}
        watch = None
        if self.live is not None:
            self.live.trial = index
            watch = {CAMERA: self.live.put}
        try:
            if self.preview is not None:
                self.preview.pause()  # the station's camera is the runtime's now
            record = self._run(self.robot, self.campaign.spec(policy), self.campaign.plan.task, trial.seed,
                               self.record_dir, self._on_event, watch)
            if record is None:
                stopped = [e for e in self.events if e.get("kind") == "stopped"]
                result["error"] = stopped[-1]["message"] if stopped else "the run ended without an episode"
            else:
                result.update(robot_success=bool(record.success), episode=record.as_dict(),
                              record_dir=str(self.record_dir) if self.record_dir else None,
                              video_path=recorded_video(self.record_dir, record),
                              error=record.failure if record.failure and not record.success else None)
        except Exception as error:  # a failing run stays in its run; the console stays up
            result["error"] = f"{type(error).__name__}: {error}"
            traceback.print_exc()
        finally:
            self.campaign.store.finish_run(run_id, **result)
            self._executing = False
            if self.preview is not None:
                self.preview.resume()
        return result

    def _on_event(self, event) -> None:
        data = event.as_dict() if hasattr(event, "as_dict") else dict(event)
        if data.get("kind") != "step":
            data.pop("record", None)
            self.events.append(data)
        if self.current is not None:
            self.current["events"] += 1

    def start_auto(self) -> None:
        """Walk the campaign unattended: run each next slot and record the robot's verdict."""
        if self.robot is None:
            raise Sim2RealError("--auto needs --robot (the sim robot, whose episodes know their success)")
        thread = threading.Thread(target=self._auto_loop, daemon=True)
        thread.start()
        self._auto = thread

    def _auto_loop(self) -> None:
        plan, store = self.campaign.plan, self.campaign.store
        while (slot := self.campaign.next_slot()) is not None:
            run_id = store.start_run(plan, slot.trial, slot.policy, AUTO_OPERATOR)
            self.current = {"run": run_id, "trial": slot.trial, "policy": slot.policy, "events": 0}
            self.events = []
            result = self._execute(run_id, slot.trial, slot.policy)
            if "robot_success" not in result:
                self.auto_error = f"trial {slot.trial + 1}: {result.get('error')}"
                store.abort(plan, slot.trial, slot.policy, f"run failed: {result.get('error')}",
                            operator=AUTO_OPERATOR, run_id=run_id)
                return  # a station that cannot run stops the walk; the console shows why
            try:
                store.record(plan, slot.trial, slot.policy, result["robot_success"], operator=AUTO_OPERATOR,
                             run_id=run_id, notes="the simulator's success predicate")
            except AlreadyRecorded:
                pass  # an operator recorded it meanwhile: theirs stands
        self.current = None
