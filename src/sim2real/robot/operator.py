"""The person at the station, as the runtime sees them: they end an episode with its outcome
(success or failure), or stop everything (the emergency-stop key, Ctrl-C, SIGTERM). Any thread
may call these (a key listener, a signal handler, an operator console); the control loop reads
them every step."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

Outcome = Literal["success", "failure"]


@dataclass(frozen=True)
class RobotEvent:
    """What the runtime tells `on_event` listeners (an operator console, the CLI)."""

    kind: str  # connected, episode_start, step, safety_stop, reconnect, episode_end, stopped, disconnected
    episode: int | None = None
    message: str = ""
    data: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "episode": self.episode, "message": self.message, **self.data}


class Operator:
    def __init__(self, judge: Callable[[int], Outcome | None] | None = None) -> None:
        """`judge(episode)`: asked for the outcome of an episode that ended without a mark
        (its time ran out); None leaves it a failure."""
        self.judge = judge
        self._lock = threading.Lock()
        self._outcome: Outcome | None = None
        self._stop: str | None = None
        self._on_stop: list[Callable[[str], None]] = []

    def mark(self, outcome: Outcome) -> None:
        """End the current episode with this outcome."""
        if outcome not in ("success", "failure"):
            raise ValueError(f"invalid outcome: {outcome!r}; allowed: success, failure")
        with self._lock:
            self._outcome = outcome

    def emergency_stop(self, reason: str = "emergency stop") -> None:
        """Stop the arms now (hold, then idle) and end the run."""
        with self._lock:
            first = self._stop is None
            self._stop = self._stop or reason
            listeners = list(self._on_stop)
        if first:
            for listener in listeners:
                listener(reason)

    def on_stop(self, listener: Callable[[str], None]) -> None:
        with self._lock:
            self._on_stop.append(listener)

    @property
    def outcome(self) -> Outcome | None:
        with self._lock:
            return self._outcome

    @property
    def stopped(self) -> str | None:
        with self._lock:
            return self._stop

    def new_episode(self) -> None:
        with self._lock:
            self._outcome = None
