"""Nothing lost, nothing mixed: the dataset folder's lock, refusing folders that are not ours,
sweeping only our own temporary files, and validation of one distribution per dataset."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sim2real.data.validate import validate
from sim2real.errors import Sim2RealError
from sim2real.locks import LOCK_NAME, FolderLock, LockOwner, _process_start

# Two tiny episodes: one 16 x 16 head camera, no shadow map or MSAA (they set the cost on CPU).
GENERATE = ["generate", "--task", "click_bell", "--episodes", "2", "--cameras", "head",
            "--image-size", "16x16", "--no-shadows", "--msaa", "0", "--json"]


def _sim2real(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "sim2real", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "COLUMNS": "400"})


def _wait_for(condition, process: subprocess.Popen, timeout: float = 120.0) -> None:
    deadline = time.time() + timeout
    while not condition():
        assert process.poll() is None, process.communicate()
        assert time.time() < deadline, "timed out"
        time.sleep(0.01)


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@pytest.fixture(scope="module")
def contested(tmp_path_factory) -> tuple[Path, str, str]:
    """Two real `sim2real generate` runs into one folder with different settings: the second
    starts while the first holds the lock (the first is paused with SIGSTOP right after taking
    it, so the overlap is certain, then resumed). Returns the folder and both runs' stderr."""
    root = tmp_path_factory.mktemp("contested") / "ds"
    first = _sim2real(*GENERATE, "--out", str(root))
    try:
        _wait_for(lambda: (root / LOCK_NAME).exists(), first)
        first.send_signal(signal.SIGSTOP)
        second = _sim2real(*GENERATE, "--randomize", "BG", "--seed", "100", "--out", str(root))
        _, second_err = second.communicate(timeout=120)
        assert second.returncode == 2, second_err
    finally:
        first.send_signal(signal.SIGCONT)
    out, first_err = first.communicate(timeout=300)
    assert first.returncode == 0, first_err
    assert json.loads(out)["episodes"] == 2
    return root, first_err, second_err + f"\nfirst pid {first.pid}"


def test_a_second_concurrent_run_is_refused_naming_the_holder(contested):
    root, _, second_err = contested
    first_pid = second_err.rsplit("first pid ", 1)[1]
    lines = [line for line in second_err.splitlines()[:-1] if line.strip()]
    assert len(lines) == 1 and "locked by another run" in lines[0], second_err
    assert f"pid {first_pid} on {socket.gethostname()}" in lines[0]
    # The first run's dataset is whole, all clean, and its lock is gone.
    assert validate(root) == []
    info = json.loads((root / "meta/info.json").read_text())
    assert info["sim2real"]["settings"]["randomize"] == "clean"
    assert not (root / LOCK_NAME).exists()


def test_validate_refuses_episodes_whose_settings_differ_from_info(contested, tmp_path):
    """What two unlocked runs produced: episodes recorded with BG among a `clean` dataset."""
    mixed = tmp_path / "mixed"
    shutil.copytree(contested[0], mixed)
    path = mixed / "meta/episodes/chunk-000/file-000.parquet"
    rows = pq.read_table(path).to_pylist()
    episode = json.loads(rows[1]["episode"])
    episode["settings"]["randomize"] = "BG"
    rows[1]["episode"] = json.dumps(episode)
    pq.write_table(pa.Table.from_pylist(rows, schema=pq.read_schema(path)), path)
    assert validate(mixed) == [
        "episode 1: settings differ from meta/info.json (randomize: 'clean' in info, 'BG' recorded)"]


def test_resume_sweeps_only_its_own_temporaries(contested, tmp_path):
    root = tmp_path / "resumed"
    shutil.copytree(contested[0], root)
    ours = [root / "data/chunk-000/.tmp-file-001.parquet.a1b2c3d4.parquet",
            root / "videos/observation.images.head/chunk-000/.tmp-file-000.mp4.x_9yz0ab.mp4",
            root / "meta/.episodes/.tmp-episode_000001.json.qwertyui.json"]
    theirs = [root / ".tmp-my-notes.txt", root / "data/chunk-000/.tmp-draft",
              root / "extra/.tmp-file-000.parquet.a1b2c3d4.parquet"]
    for path in ours + theirs:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x")
    done = _sim2real(*GENERATE, "--out", str(root))  # the same command: resumes, refinalizes
    _, err = done.communicate(timeout=300)
    assert done.returncode == 0, err
    assert [p for p in ours if p.exists()] == []
    assert [p for p in theirs if not p.exists()] == []


def test_a_folder_that_is_not_a_dataset_is_refused_untouched(tmp_path):
    from sim2real.data.generate import GenerateSpec, generate

    folder = tmp_path / "mine"
    (folder / "notes").mkdir(parents=True)
    (folder / "README.md").write_text("my project\n")
    (folder / "notes/.tmp-draft.txt").write_text("draft\n")
    before = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    with pytest.raises(Sim2RealError, match="not empty and not a sim2real dataset.*README.md"):
        generate(GenerateSpec("click_bell", {}, episodes=1, first_seed=0), folder)
    assert {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in folder.iterdir()) == ["README.md", "notes"]

    refused = _sim2real(*GENERATE, "--out", str(folder))
    _, err = refused.communicate(timeout=120)
    assert refused.returncode == 2 and "README.md" in err and len(err.strip().splitlines()) == 1
    assert {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()} == before


def _write_lock(folder: Path, **fields) -> LockOwner:
    owner = LockOwner(**{"pid": os.getpid(), "host": socket.gethostname(), "started": "then",
                         "command": "sim2real generate", "process_start": None, "token": "t0",
                         **fields})
    folder.mkdir(parents=True, exist_ok=True)
    (folder / LOCK_NAME).write_text(json.dumps(owner.__dict__))
    return owner


def test_a_stale_lock_is_taken_over_with_a_note(tmp_path):
    dead = _dead_pid()
    _write_lock(tmp_path, pid=dead)
    notes = []
    with FolderLock(tmp_path, notes.append) as lock:
        assert lock.took_over.pid == dead
        assert json.loads((tmp_path / LOCK_NAME).read_text())["pid"] == os.getpid()
    assert len(notes) == 1 and f"pid {dead}" in notes[0] and "stale" in notes[0]
    assert not (tmp_path / LOCK_NAME).exists()

    # A live pid that now belongs to another process (its start time differs) is stale too.
    _write_lock(tmp_path, process_start="1")
    with FolderLock(tmp_path) as lock:
        assert lock.took_over.process_start == "1"
    assert _process_start(os.getpid()) not in (None, "1")


def test_a_live_or_foreign_lock_is_refused(tmp_path):
    _write_lock(tmp_path, process_start=_process_start(os.getpid()))  # this very process
    with pytest.raises(Sim2RealError, match=f"locked by another run: pid {os.getpid()}"):
        FolderLock(tmp_path).acquire()
    _write_lock(tmp_path, host="some-other-host", pid=_dead_pid())  # cannot be checked here
    with pytest.raises(Sim2RealError, match="on some-other-host"):
        FolderLock(tmp_path).acquire()
    assert json.loads((tmp_path / LOCK_NAME).read_text())["host"] == "some-other-host"


def test_only_one_of_many_racing_processes_gets_the_lock(tmp_path):
    """Four processes try at the same instant, on a stale lock: exactly one holds it, and it
    keeps holding it while the others try (it waits for its stdin to close)."""
    folder, go = tmp_path / "ds", tmp_path / "go"
    _write_lock(folder, pid=_dead_pid())
    script = ("import sys, time; from pathlib import Path; from sim2real.locks import FolderLock\n"
              "print('ready', flush=True)\n"
              "while not Path(sys.argv[2]).exists(): time.sleep(0.001)\n"
              "try:\n    FolderLock(Path(sys.argv[1])).acquire(); print('got', flush=True)\n"
              "except Exception:\n    print('refused', flush=True)\n"
              "sys.stdin.read()\n")
    racers = [subprocess.Popen([sys.executable, "-c", script, str(folder), str(go)],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
              for _ in range(4)]
    assert [racer.stdout.readline().strip() for racer in racers] == ["ready"] * 4
    go.touch()
    results = [racer.stdout.readline().strip() for racer in racers]
    for racer in racers:
        racer.communicate(timeout=60)
    assert sorted(results) == ["got"] + ["refused"] * 3, results
