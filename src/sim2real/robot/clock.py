"""The fixed-rate control loop's clock: ticks every 1/hz seconds on the monotonic clock, and
measures how late each tick was met (jitter). A tick missed by more than a period (a policy
call between chunks) re-anchors the schedule instead of rushing to catch up, and is counted as
an overrun, not as jitter."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

# Sleep until this close to the tick, then spin: time.sleep() overshoots by up to a scheduler
# quantum (about 1 ms on Linux), which would otherwise be most of the measured jitter.
SPIN_S = 0.002


@dataclass
class RateClock:
    hz: float
    _next: float | None = None
    lateness: list[float] = field(default_factory=list)  # seconds after each tick it was met
    overruns: int = 0

    @property
    def period(self) -> float:
        return 1.0 / self.hz

    def start(self) -> None:
        """The first tick is now; the schedule runs from here."""
        self._next = time.monotonic() + self.period
        self.lateness, self.overruns = [], 0

    def restart(self) -> None:
        """Forget the schedule and the measurements; the next wait() starts a new one."""
        self._next = None
        self.lateness, self.overruns = [], 0

    def wait(self) -> float:
        """Sleep until the next tick; returns how late it was met (s)."""
        if self._next is None:
            self.start()
        remaining = self._next - time.monotonic()
        if remaining > SPIN_S:
            time.sleep(remaining - SPIN_S)
        while time.monotonic() < self._next:
            pass
        now = time.monotonic()
        late = now - self._next
        if late > self.period:  # the loop was held up (a policy call): start a new schedule
            self.overruns += 1
            self._next = now + self.period
            return late
        self.lateness.append(late)
        self._next += self.period
        return late

    def report(self) -> dict[str, float]:
        """Jitter over the ticks met in time, in milliseconds, and the overruns."""
        if not self.lateness:
            return {"ticks": 0, "overruns": self.overruns}
        late = np.asarray(self.lateness) * 1e3
        return {
            "ticks": len(late),
            "overruns": self.overruns,
            "jitter_mean_ms": round(float(late.mean()), 4),
            "jitter_p99_ms": round(float(np.percentile(late, 99)), 4),
            "jitter_max_ms": round(float(late.max()), 4),
        }
