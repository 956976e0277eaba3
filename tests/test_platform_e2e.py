"""The platform end to end on loopback, every peer real and in its own process: the platform
server (SQLite), `sim2real serve --policy expert` as the submission, `sim2real submit`, and a
simulated station (`sim2real station run --sim`) that is SIGKILLed after its first trial. Its
lease expires, a second station re-leases the job, runs only the unrecorded trials, and the
job ends with exactly the planned trials, each once; the leaderboard shows the result."""

import json
import subprocess
import sys
import time

from platform_peers import PlatformServer, PolicyServer, Process, seed_platform
from sim2real.platform.db import open_database
from sqlalchemy import text


def wait_for(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise TimeoutError(what)


def test_submission_runs_through_a_killed_station(tmp_path):
    database = str(tmp_path / "platform.sqlite")
    tokens = seed_platform(database)
    platform = PlatformServer(database, tmp_path, lease_seconds=10.0)  # heartbeats every 3.3 s; a loaded machine delays them
    policy = PolicyServer("expert", tmp_path)
    stations = []
    try:
        submitted = subprocess.run(
            [sys.executable, "-m", "sim2real", "submit", "--server", platform.url, "--token", tokens["alice"],
             "--policy", policy.url, "--benchmark", "tiny", "--name", "expert", "--json"],
            capture_output=True, text=True, timeout=60)
        assert submitted.returncode == 0, submitted.stderr
        submission = json.loads(submitted.stdout)
        [job] = submission["jobs"]
        assert job["state"] == "queued" and job["planned"] == 5
        assert job["reason"].startswith("no sim station is online"), job["reason"]  # no station yet: it says so

        station_args = ("station", "run", "--server", platform.url, "--token", tokens["station"], "--sim",
                        "--poll", "0.2")
        first = Process(*station_args, "--videos", str(tmp_path / "station-videos"), log=tmp_path / "station1.log")
        stations.append(first)

        def recorded() -> int:
            return platform.get(f"/api/public/submissions/{submission['id']}")["jobs"][0]["recorded"]

        def uploaded_video() -> bool:  # a trial is recorded first, its video uploaded after it
            view = platform.get(f"/api/public/submissions/{submission['id']}")
            return any(t["video"] for t in view["trials"])

        wait_for(lambda: recorded() >= 1, 240, "the first station recorded no trial")
        wait_for(uploaded_video, 120, "the first station uploaded no video")
        first.kill()  # mid-job: no goodbye, its lease simply stops being renewed
        killed_at = recorded()
        assert killed_at < 5
        status = platform.get(f"/api/public/submissions/{submission['id']}")["jobs"][0]
        assert status["state"] == "leased" and status["station"] == "sim-1"

        second = Process(*station_args, "--jobs", "1", log=tmp_path / "station2.log")
        stations.append(second)
        assert second.process.wait(timeout=300) == 0, second.output()
        view = platform.get(f"/api/public/submissions/{submission['id']}")
    finally:
        for process in stations:
            process.stop()
        policy.stop()
        platform.stop()

    job = view["jobs"][0]
    assert view["state"] == "done" and job["state"] == "done"
    # a loaded machine may delay a heartbeat past the lease and add a lease of its own: >= 2
    assert job["attempts"] >= 2 and job["recorded"] == job["planned"] == 5
    assert sorted(t["index"] for t in view["trials"]) == [0, 1, 2, 3, 4]  # each once, none lost
    assert f"{5 - killed_at} of 5 trials to run" in second.output() or job["attempts"] > 2
    assert sum(t["success"] for t in view["trials"]) >= 4  # the privileged expert on clean scenes
    assert any(t["video"] for t in view["trials"])  # the first station uploaded videos

    engine = open_database(database)
    with engine.connect() as connection:  # the database agrees: 5 rows, 5 keys
        rows = connection.execute(text("SELECT COUNT(*), COUNT(DISTINCT idempotency_key) FROM platform_trials")).one()
    engine.dispose()
    assert tuple(rows) == (5, 5)
