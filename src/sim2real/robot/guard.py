"""Stopping the arms safely, and the watch that does it when the control loop cannot.

Every call into the robot goes through `Guard.call` (one lock: the control loop, the watch
thread and an emergency stop never talk to a driver at the same time). A stop holds the arms
where they are, waits `hold_s`, then idles them; after it, nothing more is sent until the
next episode. Between control steps (while the policy thinks) a thread polls the feedback
every `POLL_S`: a policy slower than its deadline, feedback whose header stops advancing or a
driver that raises stops the arms within deadline + POLL_S (stale feedback: stale_after +
POLL_S), without waiting for the policy to return.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from sim2real.core.environment import StationStop
from sim2real.robot.robot import Robot
from sim2real.robot.safety import FeedbackWatchdog, StaleFeedback

POLL_S = 0.02


class Guard:
    def __init__(self, robot: Robot, watchdog: FeedbackWatchdog, deadline_s: float, hold_s: float,
                 on_stop: Callable[[str, float], None] | None = None) -> None:
        self.robot = robot
        self.watchdog = watchdog
        self.deadline_s = deadline_s
        self.hold_s = hold_s
        self.on_stop = on_stop
        self.lost = False  # the driver raised: reconnect before the next episode
        self.tripped: str | None = None
        self.stopped_after: float | None = None  # seconds from the cause to the stop command
        self._lock = threading.RLock()
        self._armed = False
        self._in_step = False
        self._stepped = False  # the deadline counts from the first action: a policy's reset and
        # first inference (warm-up) may take longer while the arms hold still at home
        self._idle_from = time.monotonic()  # when the loop last handed control to the policy
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="robot-guard", daemon=True)
        self._thread.start()

    # -- the control loop's side ---------------------------------------------------------------

    def call(self, method: Callable[..., Any], *args) -> Any:
        """A robot call under the lock, refused once the arms were stopped; a driver failure
        stops the episode as a lost connection."""
        with self._lock:
            if self.tripped:
                raise StationStop(self.tripped)
            try:
                return method(*args)
            except StationStop:
                raise
            except Exception as error:  # noqa: BLE001 - any driver failure is a lost connection
                self.lost = True
                reason = f"safety stop: lost connection to the robot: {_first_line(error)}"
        self.stop(reason)
        raise StationStop(reason)

    def arm(self) -> None:
        """An episode runs: the watch starts checking between steps."""
        with self._lock:
            self.tripped, self.stopped_after = None, None
            self._armed, self._in_step, self._stepped = True, False, False
            self._idle_from = time.monotonic()

    def disarm(self) -> None:
        with self._lock:
            self._armed = False

    def enter_step(self) -> None:
        """The loop took control back from the policy: was the policy within its deadline?"""
        with self._lock:
            self._in_step = True
            waited = time.monotonic() - self._idle_from
            tripped = self.tripped
        if tripped:
            raise StationStop(tripped)
        if self._armed and self._stepped and waited > self.deadline_s:
            reason = self._slow_policy(waited)
            self.stop(reason, waited - self.deadline_s)
            raise StationStop(reason)

    def leave_step(self) -> None:
        with self._lock:
            self._in_step, self._stepped = False, True
            self._idle_from = time.monotonic()

    def stop(self, reason: str, after: float = 0.0) -> None:
        """Hold the arms, wait hold_s, idle them. The first stop wins; later ones return."""
        with self._lock:
            if self.tripped:
                return
            self.tripped, self.stopped_after = reason, after
            self._try(self.robot.hold)
        if self.on_stop is not None:
            self.on_stop(reason, after)
        if self.hold_s:
            time.sleep(self.hold_s)
        with self._lock:
            self._try(self.robot.idle)

    def close(self) -> None:
        self._closed.set()
        self._thread.join(timeout=2)

    # -- the watch -------------------------------------------------------------------------------

    def _watch(self) -> None:
        while not self._closed.wait(POLL_S):
            reason, after = None, 0.0
            with self._lock:
                if not self._armed or self._in_step or self.tripped or self.lost:
                    continue
                now = time.monotonic()
                waited = now - self._idle_from
                if self._stepped and waited > self.deadline_s:
                    reason, after = self._slow_policy(waited), waited - self.deadline_s
                else:
                    try:
                        _, stamps = self.robot.read_joints()
                        self.watchdog.check(stamps, time.monotonic())
                    except StaleFeedback as stale:
                        reason = str(stale)
                    except Exception as error:  # noqa: BLE001
                        self.lost = True
                        reason = f"safety stop: lost connection to the robot: {_first_line(error)}"
            if reason:
                self.stop(reason, after)

    def _slow_policy(self, waited: float) -> str:
        return (f"safety stop: the policy took {waited:.2f} s to answer (deadline "
                f"{self.deadline_s:g} s); arms held, then idled")

    def _try(self, method: Callable[[], None]) -> None:
        try:
            method()
        except Exception:  # noqa: BLE001 - the connection is gone; nothing more can be sent
            self.lost = True


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}"
