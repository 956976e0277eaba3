"""Real peers for the platform's tests, each its own process on 127.0.0.1 and a free port,
stopped by pid: the platform server, a policy server (`sim2real serve`) and stations."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from sim2real.platform.admin import add_benchmark, add_station, add_token, add_user
from sim2real.platform.db import open_database


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Process:
    def __init__(self, *args: str, log: Path) -> None:
        self.log_path = log
        self.log = open(log, "wb")
        self.process = subprocess.Popen([sys.executable, "-m", "sim2real", *args], stdout=self.log,
                                        stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"})

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_until(self, ready, what: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while not ready():
            if self.process.poll() is not None or time.monotonic() > deadline:
                output = self.output()
                self.stop()
                raise RuntimeError(f"{what} did not start: {output[-3000:]}")
            time.sleep(0.1)

    def kill(self) -> None:
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


def _answers(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=1).read()
        return True
    except OSError:
        return False


class PlatformServer(Process):
    def __init__(self, database: str, folder: Path, lease_seconds: float = 2.0, rate_limit: int = 0) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        super().__init__("platform", "serve", "--db", database, "--port", str(self.port), "--videos",
                         str(folder / "videos"), "--lease-seconds", str(lease_seconds),
                         "--rate-limit", str(rate_limit), log=folder / f"platform-{self.port}.log")
        self.wait_until(lambda: _answers(self.url + "/healthz"), "the platform")

    def get(self, path: str):
        return json.loads(urllib.request.urlopen(self.url + path, timeout=10).read())


class PolicyServer(Process):
    def __init__(self, policy: str, folder: Path) -> None:
        self.port = free_port()
        self.url = f"ws://127.0.0.1:{self.port}"
        super().__init__("serve", "--policy", policy, "--port", str(self.port), log=folder / f"policy-{self.port}.log")
        self.wait_until(lambda: "serving" in self.output(), "the policy server")


def seed_platform(database: str, *, image_size=(32, 32), tasks=("click_bell",), concurrent_jobs: int = 4) -> dict:
    """A small sim benchmark, a sim station, a user, an admin, and their tokens."""
    engine = open_database(database)
    try:
        add_benchmark(engine, "tiny", list(tasks), preset="smoke", kind="sim", cameras=["head"],
                      image_size=image_size)
        add_station(engine, "sim-1", "sim")
        add_user(engine, "alice", concurrent_jobs=concurrent_jobs)
        add_user(engine, "bob")
        add_user(engine, "root", admin=True)
        return {"alice": add_token(engine, "user", user="alice")["token"],
                "bob": add_token(engine, "user", user="bob")["token"],
                "admin": add_token(engine, "admin", user="root")["token"],
                "station": add_token(engine, "station", station="sim-1")["token"]}
    finally:
        engine.dispose()
