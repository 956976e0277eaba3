"""Real peers of the tests, each a `python -m sim2real ...` process of its own on 127.0.0.1 and
a port chosen free at run time, stopped by pid and reaped: the shared start / wait / kill /
stop of the platform's servers and stations and of the protocol's operator console."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def answers(url: str) -> bool:
    """Whether an HTTP GET of `url` gets any answer within a second."""
    try:
        urllib.request.urlopen(url, timeout=1).read()
        return True
    except OSError:
        return False


class Process:
    """`python -m sim2real ARGS`, its output in `log` (a temporary file when none is given)."""

    def __init__(self, *args: str, log: Path | None = None) -> None:
        self.temporary_log = log is None
        if log is None:
            handle, name = tempfile.mkstemp(prefix="sim2real-peer-", suffix=".log")
            os.close(handle)
            log = Path(name)
        self.log_path = log
        self.log = open(log, "wb")
        self.process = subprocess.Popen([sys.executable, "-m", "sim2real", *args], stdout=self.log,
                                        stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"})

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_until(self, ready: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while not ready():
            if self.process.poll() is not None or time.monotonic() > deadline:
                output = self.output()
                self.stop()
                raise RuntimeError(f"{what} did not start: {output[-3000:]}")
            time.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flush (a crash)."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
        if self.temporary_log:
            self.log_path.unlink(missing_ok=True)


class HttpServer(Process):
    """A sim2real web server (`ARGS --port P`) that is ready once its /healthz answers."""

    def __init__(self, *args: str, what: str, log_folder: Path | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        log = log_folder / f"{what.replace(' ', '-')}-{self.port}.log" if log_folder is not None else None
        super().__init__(*args, "--port", str(self.port), log=log)
        self.wait_until(lambda: answers(self.url + "/healthz"), what)
