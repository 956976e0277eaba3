"""An exclusive lock on a folder that a long job writes into (a dataset being generated).

The lock is a small JSON file naming its owner (pid, host, start time, command). It appears
atomically and complete: it is written under a temporary name, then hard-linked into place,
which fails if a lock is already there, so two processes can never both believe they hold it.

A lock whose owner died without removing it (kill -9, a crash, a reboot) is stale. On the owner's
own host that is decided for certain: the pid is gone, or it now belongs to another process (its
start time differs). A stale lock is taken over, and the caller is told whose it was. A lock held
from another host cannot be checked from here and is always refused, naming the holder.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

from sim2real.errors import Sim2RealError
from sim2real.media import TEMP_PREFIX

LOCK_NAME = ".sim2real.lock"
_STALE_ATTEMPTS = 5  # takeovers raced by other processes before giving up


@dataclass(frozen=True)
class LockOwner:
    pid: int
    host: str
    started: str  # ISO time, for people
    command: str
    process_start: str | None  # the kernel's start time of `pid`, to see through pid reuse
    token: str  # unique per acquisition: who removes the lock checks it is still theirs

    def describe(self) -> str:
        return f"pid {self.pid} on {self.host}, since {self.started}"


def _process_start(pid: int) -> str | None:
    """The start time of `pid` in clock ticks since boot (Linux), or None where unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # Field 22; the command name (field 2) may hold spaces, so count from its closing paren.
    return stat.rsplit(")", 1)[1].split()[19]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def is_stale(owner: LockOwner) -> bool:
    """True only when certain that the owner is gone (same host; pid dead or reused)."""
    if owner.host != socket.gethostname():
        return False
    if not _alive(owner.pid):
        return True
    start = _process_start(owner.pid)
    return owner.process_start is not None and start is not None and start != owner.process_start


def read_owner(path: Path) -> LockOwner | None:
    """The owner recorded in a lock file, or None when there is no lock file."""
    try:
        return LockOwner(**json.loads(path.read_text()))
    except FileNotFoundError:
        return None
    except (ValueError, TypeError) as error:
        raise Sim2RealError(f"{path} is not a lock file of sim2real ({error}); remove it "
                            "if no other run writes into this folder") from None


class FolderLock:
    """`with FolderLock(folder, on_note=print) as lock:` holds `folder` exclusively."""

    def __init__(self, folder: Path, on_note=None) -> None:
        self.path = Path(folder) / LOCK_NAME
        self.on_note = on_note or (lambda message: None)
        self.owner: LockOwner | None = None
        self.took_over: LockOwner | None = None

    def acquire(self) -> LockOwner:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        me = LockOwner(
            pid=os.getpid(), host=socket.gethostname(),
            started=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            command=" ".join(Path(a).name if i == 0 else a for i, a in enumerate(sys.argv))[:200],
            process_start=_process_start(os.getpid()), token=uuid.uuid4().hex,
        )
        for _ in range(_STALE_ATTEMPTS):
            if self._create(me):
                self.owner = me
                return me
            holder = read_owner(self.path)
            if holder is None:  # released between our attempt and the read: try again
                continue
            if not is_stale(holder):
                raise Sim2RealError(
                    f"{self.path.parent} is locked by another run: {holder.describe()}; wait "
                    f"for it to finish, or delete {LOCK_NAME} there if that process is gone"
                )
            if self._take_over(holder, me):
                self.owner, self.took_over = me, holder
                self.on_note(f"took over a stale lock on {self.path.parent} "
                             f"(its owner is gone: {holder.describe()})")
                return me
        raise Sim2RealError(f"could not lock {self.path.parent}: other runs keep taking it")

    def release(self) -> None:
        """Remove the lock if it is still ours (only a takeover replaces a lock, and a live
        owner's lock is never stale)."""
        if self.owner is not None:
            holder = read_owner(self.path)
            if holder is not None and holder.token == self.owner.token:
                self.path.unlink(missing_ok=True)
            self.owner = None

    def __enter__(self) -> FolderLock:
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()

    def _create(self, me: LockOwner) -> bool:
        """Link a complete lock file into place; False if one is already there."""
        fd, name = tempfile.mkstemp(prefix=f"{TEMP_PREFIX}{LOCK_NAME}.", suffix=".json",
                                    dir=self.path.parent)
        staged = Path(name)
        try:
            with os.fdopen(fd, "w") as file:
                json.dump(asdict(me), file)
            os.link(staged, self.path)
            return True
        except FileExistsError:
            return False
        except FileNotFoundError:  # swept by the holder as a leftover of a killed run
            return False
        finally:
            staged.unlink(missing_ok=True)

    def _take_over(self, stale: LockOwner, me: LockOwner) -> bool:
        """Replace the stale lock with ours. Takeovers are serialised by an flock on the folder
        itself, so two runs that both judged the same lock stale cannot both win, and a lock
        created meanwhile (link never overwrites) is never removed."""
        folder = os.open(self.path.parent, os.O_RDONLY)
        try:
            fcntl.flock(folder, fcntl.LOCK_EX)
            holder = read_owner(self.path)
            if holder is None or holder.token != stale.token:
                return False  # someone else took it over or released it: look again
            self.path.unlink()
            return self._create(me)
        finally:
            os.close(folder)  # releases the flock
