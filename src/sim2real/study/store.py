"""A study folder: the plan, then one folder per step with its outputs and its commit record.

```
STUDY/
  study.yaml        the study file of the last run (a copy)
  plan.json         every step of the last run: key, kind, label, config, inputs
  .sim2real.lock    held by the one `study run` working on this folder (sim2real.locks)
  steps/KIND-KEY/
    dataset/ | policy.pt | results/   the step's outputs (see graph.OUTPUTS)
    progress.json   how far a running step is (written by the step, read by run and status)
    record.json     the commit record: present = done (written last, atomically)
    failed.json     why the last attempt failed (removed when an attempt starts)
    lock            held while the step runs (by whichever process or Ray task runs it)
```

As `data/writer.py`: plan first, then commit each unit atomically. A step's outputs are
written under its folder and only its record makes it count, so a killed run leaves at most
unfinished steps, which the next run redoes (generation and training continue from their own
checkpoints inside the folder).
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sim2real.locks import FolderLock
from sim2real.media import atomic_path, remove_temporaries
from sim2real.study.graph import OUTPUTS, Step

RECORD, FAILED, PROGRESS, LOCK = "record.json", "failed.json", "progress.json", "lock"
STEP_FILES = ((".", "*"), ("results", "*"))  # what the study writes in a step's folder (not datasets')


def write_json(path: Path, payload: Any) -> None:
    with atomic_path(path, ".json") as tmp:
        tmp.write_text(json.dumps(payload, indent=1, default=str))


def read_json(path: Path) -> Any | None:
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None  # absent, or (only possible for a foreign writer) half-written


@contextmanager
def try_lock(path: Path) -> Iterator[bool]:
    """An exclusive lock on `path` if nobody holds it (yields whether it was taken). The kernel
    releases it when the holder dies, even by SIGKILL, so a lock is never stale."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            handle.seek(0)
            handle.truncate()
            handle.write(json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "since": time.time()}))
            handle.flush()
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def is_locked(path: Path) -> bool:
    if not path.is_file():
        return False
    with try_lock(path) as taken:
        return not taken


class StudyStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    # -- the study ---------------------------------------------------------------------------

    def run_lock(self) -> FolderLock:
        """One `study run` per folder at a time; a second one is refused, naming the holder.
        (Steps use flock instead: a step's lock must vanish with its holder on whichever node
        ran it, and the kernel sees to that.)"""
        return FolderLock(self.root)

    def write_plan(self, steps: list[Step], study: dict[str, Any]) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        write_json(self.root / "study.json", study)
        write_json(self.root / "plan.json", {"steps": [s.as_dict() for s in steps]})

    # -- one step ----------------------------------------------------------------------------

    def folder(self, step: Step) -> Path:
        return self.root / "steps" / step.folder

    def output(self, step: Step) -> Path:
        return self.folder(step) / OUTPUTS[step.kind]

    def record(self, step: Step) -> dict[str, Any] | None:
        record = read_json(self.folder(step) / RECORD)
        return record if record and record.get("key") == step.key else None

    def failure(self, step: Step) -> dict[str, Any] | None:
        return read_json(self.folder(step) / FAILED)

    def progress(self, step: Step) -> dict[str, Any] | None:
        return read_json(self.folder(step) / PROGRESS)

    def running(self, step: Step) -> bool:
        return is_locked(self.folder(step) / LOCK)

    def state(self, step: Step) -> str:
        """done, running, failed or pending (blocked and queued are the scheduler's view)."""
        if self.record(step) is not None:
            return "done"
        if self.running(step):
            return "running"
        if self.failure(step) is not None:
            return "failed"
        return "pending"

    @contextmanager
    def attempt(self, step: Step) -> Iterator[bool]:
        """Hold the step's lock while running it; yields False if another process runs it."""
        folder = self.folder(step)
        with try_lock(folder / LOCK) as taken:
            if taken:
                # half-written files of a killed attempt: records, checkpoints, results
                remove_temporaries(folder, STEP_FILES)
                (folder / FAILED).unlink(missing_ok=True)
            yield taken

    def commit(self, step: Step, record: dict[str, Any]) -> None:
        (self.folder(step) / PROGRESS).unlink(missing_ok=True)
        write_json(self.folder(step) / RECORD, {"key": step.key, "kind": step.kind, "label": step.label,
                                                "config": step.config, "inputs": list(step.inputs), **record})

    def fail(self, step: Step, reason: str, detail: str = "") -> None:
        (self.folder(step) / PROGRESS).unlink(missing_ok=True)
        write_json(self.folder(step) / FAILED, {"key": step.key, "label": step.label, "reason": reason,
                                                "detail": detail, "at": time.time()})

    def report_progress(self, step: Step, completed: float, total: float, status: str = "") -> None:
        write_json(self.folder(step) / PROGRESS, {"completed": completed, "total": total,
                                                  "status": status, "at": time.time()})
