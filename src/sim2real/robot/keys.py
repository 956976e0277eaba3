"""The operator's keys in the terminal while a station runs: the emergency-stop key (default
`q`) stops the arms at once (hold, then idle) and ends the run; `s` / `f` end the current
episode as a success / failure. The terminal is put in cbreak mode (keys arrive without Enter,
Ctrl-C still raises SIGINT) and restored on exit."""

from __future__ import annotations

import os
import sys
import select
import termios
import threading
import tty

from sim2real.robot.operator import Operator, Outcome

SUCCESS_KEY, FAILURE_KEY = "s", "f"


class TerminalKeys:
    def __init__(self, operator: Operator, estop_key: str = "q", fd: int | None = None) -> None:
        self.operator = operator
        self.estop_key = estop_key.lower()
        self.fd = fd if fd is not None else sys.stdin.fileno()
        self._saved = None
        self._stop = threading.Event()
        self._verdict: Outcome | None = None
        self._asked = threading.Event()
        self._answered = threading.Event()
        self._thread = threading.Thread(target=self._listen, name="operator-keys", daemon=True)

    def __enter__(self) -> TerminalKeys:
        self._saved = termios.tcgetattr(self.fd)
        tty.setcbreak(self.fd)
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join(timeout=1)
        if self._saved is not None:
            termios.tcsetattr(self.fd, termios.TCSADRAIN, self._saved)

    def judge(self, _episode: int) -> Outcome | None:
        """Wait for `s` or `f` (the episode ran out of time without a mark)."""
        self._answered.clear()
        self._asked.set()
        while not self._answered.wait(0.1):
            if self._stop.is_set() or self.operator.stopped:
                return None
        self._asked.clear()
        return self._verdict

    def _listen(self) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select([self.fd], [], [], 0.05)
            if not ready:
                continue
            data = os.read(self.fd, 32)
            if not data:
                return
            for key in data.decode(errors="ignore").lower():
                self._press(key)

    def _press(self, key: str) -> None:
        if key == self.estop_key:
            self.operator.emergency_stop(f"emergency-stop key {self.estop_key!r}")
        elif key in (SUCCESS_KEY, FAILURE_KEY):
            outcome: Outcome = "success" if key == SUCCESS_KEY else "failure"
            if self._asked.is_set():
                self._verdict = outcome
                self._answered.set()
            else:
                self.operator.mark(outcome)
