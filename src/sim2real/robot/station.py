"""A station (real, or the simulated one behind the Robot interface) as a `core` Environment:
the same observation keys (`images/<camera>`, `state`, `instruction`) and 14-number actions as
the simulator, so the rollout engine drives it at B = 1 exactly as it drives `eval`.

Each step: refuse or limit the action (`safety`), send it, wait for the next tick of the fixed
rate clock, read joints and cameras, check the feedback is fresh. Every failure on the way
(a refused action, stale feedback, a lost driver, a slow policy, an operator's stop) holds the
arms, then idles them, and ends the episode with its reason (`StationStop`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim2real.core.contract import HOME_ACTION, image_key
from sim2real.core.environment import Observation, StationStop, StepInfo
from sim2real.core.records import EpisodeInfo
from sim2real.robot.cameras.base import Frame, to_size
from sim2real.robot.clock import RateClock
from sim2real.robot.config import RobotConfig
from sim2real.robot.guard import Guard
from sim2real.robot.operator import Operator, RobotEvent
from sim2real.robot.robot import Robot, RobotError, RobotReading
from sim2real.robot.safety import FeedbackWatchdog, SafetyLayer, StaleFeedback, effective_limits

AT_HOME = 1e-3  # rad: closer than this to home, the arms do not move before an episode
RECONNECT_ATTEMPTS = 3


class RunStopped(Exception):
    """The operator stopped the run (emergency stop, Ctrl-C, SIGTERM): no further episodes."""


@dataclass
class RecordedFrame:
    """Frame t of a recorded episode: what was observed, then what was sent (LeRobot's pairing)."""

    state: np.ndarray
    action: np.ndarray
    images: dict[str, np.ndarray]
    record: dict[str, Any] = field(default_factory=dict)  # timestamps, clamps of this frame


class RobotStation:
    def __init__(self, robot: Robot, config: RobotConfig, task: str, instruction: str | None,
                 cameras: tuple[str, ...], image_size: tuple[int, int], max_steps: int,
                 operator: Operator | None = None,
                 emit: Callable[[RobotEvent], None] | None = None, record: bool = False,
                 watch: dict[str, Callable[[Frame], None]] | None = None) -> None:
        from sim2real.embodiment.dual_arm import simulated_limits

        self.robot, self.config, self.task = robot, config, task
        self.instruction = instruction
        self.cameras, self.image_size = tuple(cameras), tuple(image_size)
        self.max_steps = max_steps
        self.operator = operator or Operator()
        self.emit = emit or (lambda event: None)
        self.record = record
        self.watch = dict(watch or {})  # camera -> hears each new frame (an operator's live view)
        self.hz = config.control_hz
        safety = config.safety
        self.safety = SafetyLayer(*effective_limits(robot.limits, simulated_limits(), safety.joint_limits),
                                  safety.max_relative_target)
        self.clock = RateClock(self.hz)
        self.watchdog = FeedbackWatchdog(safety.stale_after_s)
        self.guard = Guard(robot, self.watchdog, safety.policy_deadline_s, safety.hold_s,
                           on_stop=self._stopped)
        self.operator.on_stop(lambda reason: self.guard.stop(f"stopped by the operator: {reason}"))
        self.episode_index = -1
        self.frames: list[RecordedFrame] = []
        self._target = HOME_ACTION.copy()
        self._steps = 0
        self._success = False
        self._episode: EpisodeInfo | None = None
        self._reading: RobotReading | None = None
        self._send_ms: list[float] = []
        self._read_ms: list[float] = []

    # -- Environment ---------------------------------------------------------------------------

    def reset(self, *, seed: int | None = None) -> tuple[Observation, StepInfo]:
        if self.operator.stopped:
            raise RunStopped(self.operator.stopped)
        self.guard.disarm()
        if self.guard.lost or not self.robot.is_connected:
            self._reconnect()
        self.episode_index += 1
        seed = self.episode_index if seed is None else int(seed)
        self.guard.tripped = None
        started = self.guard.call(self.robot.start_episode, seed)
        self.watchdog.reset()
        self._reading = self._read()
        self._go_home()
        self.safety.reset()
        self.operator.new_episode()
        self.frames, self._send_ms, self._read_ms = [], [], []
        self._steps, self._success = 0, False
        instruction = self.instruction or started.get("instruction") or self._default_instruction()
        self._episode = EpisodeInfo(task=self.task, seed=seed, instruction=instruction,
                                    params=started.get("params", {}),
                                    settings=started.get("settings") or self._settings())
        self.clock.restart()  # the schedule starts at the first action, after the policy's reset
        self.guard.arm()
        self.emit(RobotEvent("episode_start", self.episode_index, instruction,
                             {"seed": seed, "robot": self.config.name}))
        return self._observation(self._reading), self._info()

    def step(self, action: np.ndarray) -> tuple[Observation, float, bool, bool, StepInfo]:
        self.guard.enter_step()
        try:
            return self._step(action)
        except StationStop as stop:
            self.guard.stop(str(stop))  # a no-op when the stop came from the guard itself
            self.guard.disarm()
            raise
        finally:
            self.guard.leave_step()

    def close(self) -> None:
        self.guard.disarm()
        self.guard.close()
        if self.robot.is_connected:
            try:
                self.robot.hold()
                self.robot.idle()
            except Exception:  # noqa: BLE001 - disconnecting matters more
                pass
            self.robot.disconnect()
        self.emit(RobotEvent("disconnected", self.episode_index, self.config.name))

    # -- one control step ------------------------------------------------------------------------

    def _step(self, action) -> tuple[Observation, float, bool, bool, StepInfo]:
        if self.operator.stopped:
            raise StationStop(f"stopped by the operator: {self.operator.stopped}")
        observed = self._reading
        target = self.safety.filter(action, self._target)
        began = time.monotonic()
        sent = self.guard.call(self.robot.send_action, target)
        self._send_ms.append((time.monotonic() - began) * 1e3)
        self._target = np.asarray(sent, dtype=np.float64)
        late = self.clock.wait()
        began = time.monotonic()
        reading = self._read()
        self._read_ms.append((time.monotonic() - began) * 1e3)
        try:
            self.watchdog.check(reading.stamps, reading.read_at)
        except StaleFeedback as stale:
            self.guard.stop(str(stale))
            raise
        self._reading = reading
        self._steps += 1
        if self.record:
            self.frames.append(self._frame(observed, late))
        outcome = self.operator.outcome
        self._success = self._success or bool(reading.success) or outcome == "success"
        terminated = self._success or outcome == "failure"
        truncated = not terminated and self._steps >= self.max_steps
        if truncated and reading.success is None and self.operator.judge is not None:
            self._success = self.operator.judge(self.episode_index) == "success"
        if terminated or truncated:
            self.guard.disarm()
            self.guard.call(self.robot.hold)
        return self._observation(reading), float(self._success), terminated, truncated, self._info()

    def _frame(self, observed: RobotReading, late: float) -> RecordedFrame:
        images = {name: self._image(observed, name) for name in self.cameras}
        record = {"t": round(observed.read_at, 6), "late_ms": round(late * 1e3, 3),
                  "camera_timestamps": {n: f.timestamp for n, f in observed.images.items()},
                  "camera_frames": {n: f.index for n, f in observed.images.items()},
                  "stamps": {arm: list(s) for arm, s in observed.stamps.items()}}
        return RecordedFrame(observed.state.copy(), self._target.copy(), images, record)

    # -- observations and episode facts ----------------------------------------------------------

    def _read(self) -> RobotReading:
        reading = self.guard.call(self.robot.get_observation)
        for camera, listener in self.watch.items():
            if camera in reading.images:
                listener(reading.images[camera])
        return reading

    def _observation(self, reading: RobotReading) -> Observation:
        observation: Observation = {image_key(n): self._image(reading, n) for n in self.cameras}
        observation["state"] = reading.state.astype(np.float32)
        observation["instruction"] = self._episode.instruction if self._episode else ""
        return observation

    def _image(self, reading: RobotReading, camera: str) -> np.ndarray:
        frame = reading.images.get(camera)
        if frame is None:
            raise StationStop(f"camera {camera} gave no frame")
        return to_size(frame.image, *self.image_size)

    def _info(self) -> StepInfo:
        return StepInfo(success=self._success, step=self._steps, max_steps=self.max_steps,
                        episode=self._episode, control_hz=self.hz, metrics=self.metrics())

    def metrics(self) -> dict[str, Any]:
        out: dict[str, Any] = {"safety": self.safety.counts.as_dict(), "loop": self.clock.report()}
        for name, values in (("send_ms", self._send_ms), ("read_ms", self._read_ms)):
            if values:
                out["loop"][f"{name}_mean"] = round(float(np.mean(values)), 3)
                out["loop"][f"{name}_max"] = round(float(np.max(values)), 3)
        if self.guard.tripped:
            out["stop"] = {"reason": self.guard.tripped, "after_s": round(self.guard.stopped_after or 0, 4)}
        return out

    def _settings(self) -> dict[str, Any]:
        return {"robot": self.config.name, "kind": self.config.kind, "control_hz": self.hz,
                "cameras": list(self.cameras), "image_size": list(self.image_size)}

    def _default_instruction(self) -> str:
        from sim2real.tasks.registry import task_class

        return task_class(self.task).description

    # -- between episodes --------------------------------------------------------------------------

    def _go_home(self) -> None:
        """Move both arms home at `safety.home_speed`, through the same limits as any action."""
        state = self._reading.state
        if np.max(np.abs(state - HOME_ACTION)) < AT_HOME:
            self._target = np.clip(HOME_ACTION, self.safety.low, self.safety.high)
            return
        self._target = move_home(lambda t: self.guard.call(self.robot.send_action, t),
                                 lambda: self.guard.call(self.robot.read_joints), state,
                                 self.safety, self.config.safety.home_speed, self.clock,
                                 self.watchdog)
        self._reading = self._read()

    def _reconnect(self) -> None:
        """Clean up the lost driver and connect again (a few attempts)."""
        error: Exception | None = None
        for attempt in range(1, RECONNECT_ATTEMPTS + 1):
            try:
                self.robot.disconnect()
            except Exception:  # noqa: BLE001 - cleanup of a dead connection may fail
                pass
            try:
                self.robot.connect()
            except Exception as failure:  # noqa: BLE001
                error = failure
                time.sleep(0.5 * attempt)
                continue
            self.guard.lost = False
            self.emit(RobotEvent("reconnect", self.episode_index, f"reconnected (attempt {attempt})"))
            return
        raise RobotError(f"could not reconnect to the robot after {RECONNECT_ATTEMPTS} attempts: "
                         f"{str(error).splitlines()[0] if error else ''}")

    def _stopped(self, reason: str, after: float) -> None:
        self.emit(RobotEvent("safety_stop", self.episode_index, reason, {"after_s": after}))


def move_home(send: Callable[[np.ndarray], np.ndarray], read: Callable[[], tuple],
              start: np.ndarray, safety: SafetyLayer, speed: float, clock: RateClock,
              watchdog: FeedbackWatchdog) -> np.ndarray:
    """Targets from `start` to home at `speed`, one per tick, feedback checked at each; returns
    the last target sent."""
    clock.restart()
    sent = start
    for target in safety.towards(start, HOME_ACTION, speed, clock.hz):
        sent = np.asarray(send(target), dtype=np.float64)
        clock.wait()
        _, stamps = read()
        watchdog.check(stamps, time.monotonic())
    return sent


def step_limit(task: str, hz: float, max_seconds: float | None) -> int:
    """The episode's step limit: `max_seconds`, else the task's evaluation time limit."""
    from sim2real.tasks.registry import task_class

    seconds = max_seconds if max_seconds is not None else task_class(task).time_limit_s
    return max(1, math.ceil(seconds * hz))
