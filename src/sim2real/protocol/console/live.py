"""The live head-camera view of the console: the newest head frame, wherever it comes from.

While a trial runs, the robot runtime hands every new head frame to `LiveView.put` (its `watch`
listener), so the page shows what the policy's station sees. Between runs nothing drives the
station, so a `Preview` worker (one thread, which owns the device or the renderer) keeps the
view current for the trial being set up: a real station's head camera is opened and read a few
times a second while a page asks for it, and released before the next run needs it; the sim
station renders the trial's scene from its seed, once. The page polls `/api/camera` and reloads
the JPEG when the frame changes."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim2real.robot.cameras.base import Frame
from sim2real.robot.config import RobotConfig

CAMERA = "head"
PREVIEW_HZ = 5.0  # a real camera's frames between runs: enough to place an object by
PREVIEW_IDLE_S = 5.0  # no page asked for this long: the camera is released
SIM_PREVIEW_SIZE = (320, 240)


@dataclass(frozen=True)
class Snapshot:
    image: np.ndarray  # H x W x 3 uint8
    number: int  # counts every frame the view received (the page reloads when it changes)
    source: str  # "run" (the runtime's station during a trial) or "preview" (between runs)
    trial: int | None  # the trial whose scene this is, where known
    at: float  # time.time() when it arrived
    device_index: int

    def as_dict(self) -> dict[str, Any]:
        height, width = self.image.shape[:2]
        return {"frame": self.number, "source": self.source, "trial": self.trial, "width": width,
                "height": height, "age_s": round(time.time() - self.at, 3), "device_frame": self.device_index}


class LiveView:
    """The newest head frame; `put` may be called from any thread (the runtime's control loop)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._latest: Snapshot | None = None
        self._count = 0
        self.trial: int | None = None  # the trial the runtime is running, for frames it sends

    def put(self, frame: Frame, source: str = "run", trial: int | None = None) -> None:
        image = np.array(frame.image[..., :3], dtype=np.uint8, copy=True)  # the driver may reuse its buffer
        with self._lock:
            self._count += 1
            self._latest = Snapshot(image, self._count, source, self.trial if trial is None else trial,
                                    time.time(), frame.index)

    def latest(self) -> Snapshot | None:
        with self._lock:
            return self._latest


class Preview:
    """Keeps `view` current between runs from the station's own head camera (see module doc).
    `want(trial)` says a page is looking; `pause()` stops it before a run (and, for a real
    camera, blocks until the device is released); `resume()` lets the worker go on."""

    def __init__(self, view: LiveView, config: RobotConfig, task: str, seeds: dict[int, int]) -> None:
        self.view, self.config, self.task, self.seeds = view, config, task, seeds
        self._wake = threading.Condition()
        self._wanted: int | None = None
        self._asked_at = 0.0
        self._paused = False
        self._released = threading.Event()
        self._released.set()
        self._closed = False
        self.error: str | None = None
        self._thread = threading.Thread(target=self._loop, name="console-preview", daemon=True)
        self._thread.start()

    def want(self, trial: int) -> None:
        with self._wake:
            self._wanted, self._asked_at = trial, time.monotonic()
            self._wake.notify_all()

    def pause(self, timeout: float = 10.0) -> None:
        with self._wake:
            self._paused = True
            self._wake.notify_all()
        if not self._holds_no_device:
            self._released.wait(timeout)

    def resume(self) -> None:
        with self._wake:
            self._paused = False
            self._wake.notify_all()

    def close(self) -> None:
        with self._wake:
            self._closed = True
            self._wake.notify_all()
        self._thread.join(10)

    # -- the worker ------------------------------------------------------------------------------

    def _loop(self) -> None:
        source = None
        shown: int | None = None  # the sim's trial already rendered
        while True:
            with self._wake:
                while not self._closed and source is None and not self._active():
                    self._wake.wait(1.0)
                if self._closed:
                    break
                active, trial = self._active(), self._wanted
                if active and source is None:
                    self._released.clear()  # under the lock: a pause() from now on waits for the release
            if not active:
                if self._holds_no_device and self._paused and not self._closed:
                    with self._wake:  # the sim's own renderer takes nothing from the run: keep it
                        self._wake.wait(1.0)
                    continue
                source, shown = self._close(source), None  # a run needs the camera, or nobody looks
                continue
            try:
                if source is None:
                    source = self._open()
                if self.config.kind == "sim":
                    if shown != trial:
                        frame = source.render(self.seeds[trial])
                        self.view.put(frame, "preview", trial)
                        shown = trial
                    with self._wake:
                        self._wake.wait(0.5)
                else:
                    self.view.put(source.read(), "preview", None)
                    time.sleep(1.0 / PREVIEW_HZ)
                self.error = None
            except Exception as error:  # noqa: BLE001 - a camera that fails is shown, the console stays up
                self.error = f"{type(error).__name__}: {error}"
                source = self._close(source)
                with self._wake:
                    self._wake.wait(2.0)
        self._close(source)

    @property
    def _holds_no_device(self) -> bool:
        return self.config.kind == "sim"

    def _active(self) -> bool:
        return (not self._paused and self._wanted is not None
                and time.monotonic() - self._asked_at <= PREVIEW_IDLE_S)

    def _open(self):
        if self.config.kind == "sim":
            return _SimHead(self.config, self.task)
        from sim2real.robot.cameras import make_camera

        camera = make_camera(CAMERA, self.config.cameras[CAMERA])
        camera.connect()
        return camera

    def _close(self, source) -> None:
        if source is not None:
            try:
                source.disconnect()
            except Exception:  # noqa: BLE001 - a device that is gone is released already
                pass
        self._released.set()
        return None


class _SimHead:
    """The simulated station's head camera at a trial's initial scene (its seed)."""

    def __init__(self, config: RobotConfig, task: str) -> None:
        from sim2real.robot.backends.sim import SimRobot

        self.robot = SimRobot(config.robot, task, (CAMERA,), SIM_PREVIEW_SIZE, config.control_hz)
        self.robot.connect()

    def render(self, seed: int) -> Frame:
        self.robot.start_episode(seed)
        return self.robot.get_observation().images[CAMERA]

    def disconnect(self) -> None:
        self.robot.disconnect()


def has_head_camera(config: RobotConfig) -> bool:
    return config.kind == "sim" or CAMERA in config.cameras
