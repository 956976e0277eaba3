"""Load on the benchmark platform (issue 19), bounded and on loopback: N clients polling their
jobs' status and M stations leasing jobs and uploading trials (each upload sent twice, as a
retry would, to check idempotency) for S seconds, against `sim2real platform serve` on SQLite
and on a real PostgreSQL (started here from Debian's binaries, as the tests do).

Reports p50/p99 latency of status polls and trial uploads, next to `/healthz` on the same
server in the same run (the bare FastAPI + uvicorn floor: the ratio is what the platform's own
work costs), and checks that no acknowledged trial is lost or duplicated.

    nice -n 10 python benchmarks/platform_load.py --seconds 60 --clients 200 --stations 20 [--db sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import http.client
import json
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the test peers: the platform server process, PostgreSQL

from platform_peers import PlatformServer  # noqa: E402
from sim2real.core.contract import ACTION_SPACE  # noqa: E402
from sim2real.platform.admin import add_benchmark, add_station, add_token, add_user  # noqa: E402
from sim2real.platform.auth import authenticate  # noqa: E402
from sim2real.platform.db import open_database  # noqa: E402
from sim2real.platform.service import Platform  # noqa: E402

METADATA = {"name": "load", "cameras": [], "chunk_size": 1, "action_dim": 14, "action_space": ACTION_SPACE}


def seed(database: str, stations: int, jobs: int) -> dict:
    """Users, station tokens and `jobs` queued jobs (submissions made in-process: the load is on
    the platform, so no policy server is dialled)."""
    from sqlalchemy.orm import Session

    engine = open_database(database)
    add_benchmark(engine, "load", ["click_bell"], preset="smoke", kind="sim", cameras=["head"], image_size=(32, 32))
    add_user(engine, "load", submissions_per_day=10**6, concurrent_jobs=10**6)
    user = add_token(engine, "user", user="load")["token"]
    station_tokens = []
    for i in range(stations):
        add_station(engine, f"s{i}", "sim")
        station_tokens.append(add_token(engine, "station", station=f"s{i}")["token"])
    platform = Platform(engine, probe=lambda url: dict(METADATA))
    with Session(engine) as session:
        who = authenticate(session, user)
    submissions = [platform.submit(who, "load", "ws://127.0.0.1:9/")["id"] for _ in range(jobs)]
    engine.dispose()
    return {"user": user, "stations": station_tokens, "submissions": submissions}


class Client:
    """One keep-alive HTTP connection, timing every request."""

    def __init__(self, port: int, token: str | None) -> None:
        self.port, self.token = port, token
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def call(self, method: str, path: str, body=None) -> tuple[int, dict, float]:
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        data = json.dumps(body).encode() if body is not None else None
        start = time.perf_counter()
        for attempt in range(3):
            try:
                self.connection.request(method, path, body=data, headers=headers)
                response = self.connection.getresponse()
                payload = response.read()
                break
            except (OSError, http.client.HTTPException):
                self.connection.close()
                self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                if attempt == 2:
                    raise
        return response.status, (json.loads(payload) if payload else {}), time.perf_counter() - start


def percentiles(samples: list[float]) -> dict:
    if not samples:
        return {"n": 0}
    ordered = sorted(samples)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000  # noqa: E731
    return {"n": len(ordered), "p50_ms": round(pick(0.50), 2), "p99_ms": round(pick(0.99), 2)}


def run(database: str, folder: Path, clients: int, stations: int, seconds: float) -> dict:
    seeded = seed(database, stations, jobs=stations * 40)
    server = PlatformServer(database, folder, lease_seconds=60, rate_limit=0)
    stop = time.monotonic() + seconds
    polls, uploads, floor, errors = [], [], [], []
    acknowledged: set[tuple[int, int]] = set()
    lock = threading.Lock()

    def poller(i: int) -> None:
        client = Client(server.port, seeded["user"])
        submissions = seeded["submissions"]
        k = i
        while time.monotonic() < stop:
            status, _body, elapsed = client.call("GET", f"/api/submissions/{submissions[k % len(submissions)]}")
            k += clients
            with lock:
                (polls if status == 200 else errors).append(elapsed if status == 200 else status)
            if i % 20 == 0:  # a few clients also time the bare floor
                status, _body, elapsed = client.call("GET", "/healthz")
                with lock:
                    floor.append(elapsed)

    def station(token: str) -> None:
        client = Client(server.port, token)
        while time.monotonic() < stop:
            status, reply, _ = client.call("POST", "/api/station/lease", {})
            job = reply.get("job")
            if job is None:
                return
            for index in range(job["planned"]):
                if time.monotonic() >= stop:
                    return
                body = {"lease": job["lease"], "index": index, "success": index % 2 == 0,
                        "idempotency_key": f"j{job['id']}.t{index}.{job['lease']}", "steps": 10}
                for _retry in range(2):  # the second send is a retry: it must not count twice
                    status, _reply, elapsed = client.call("POST", f"/api/jobs/{job['id']}/trials", body)
                    with lock:
                        if status in (200, 201):
                            uploads.append(elapsed)
                            acknowledged.add((job["id"], index))
                        else:
                            errors.append(status)
            client.call("POST", f"/api/jobs/{job['id']}/finish", {"lease": job["lease"]})

    threads = [threading.Thread(target=poller, args=(i,)) for i in range(clients)]
    threads += [threading.Thread(target=station, args=(t,)) for t in seeded["stations"]]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        server.stop()

    from sqlalchemy import text

    engine = open_database(database)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT job_id, \"index\" FROM platform_trials")).all()
    engine.dispose()
    stored = [tuple(r) for r in rows]
    poll, floor_p = percentiles(polls), percentiles(floor)
    return {"clients": clients, "stations": stations, "seconds": seconds,
            "status_poll": poll, "trial_upload": percentiles(uploads), "healthz_floor": floor_p,
            "poll_p50_over_floor": round(poll["p50_ms"] / floor_p["p50_ms"], 1) if floor_p.get("n") else None,
            "trials_acknowledged": len(acknowledged), "trials_stored": len(stored),
            "lost": len(acknowledged - set(stored)), "duplicated": len(stored) - len(set(stored)),
            "errors": len(errors), "error_statuses": sorted(set(errors))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="how long the load lasts, per database")
    parser.add_argument("--clients", type=int, default=200, help="clients polling job status")
    parser.add_argument("--stations", type=int, default=20, help="stations leasing jobs and uploading trials")
    parser.add_argument("--db", default="sqlite,postgresql", help="comma-separated: sqlite, postgresql")
    args = parser.parse_args()
    results = {}
    for kind in args.db.split(","):
        with tempfile.TemporaryDirectory(prefix="platform-load-") as folder:
            if kind == "sqlite":
                results[kind] = run(str(Path(folder) / "platform.sqlite"), Path(folder), args.clients,
                                    args.stations, args.seconds)
            else:
                from postgres import PostgresServer, binaries

                bin_dir = binaries()
                if bin_dir is None:
                    results[kind] = {"skipped": "PostgreSQL server binaries are not installed"}
                    continue
                pg = PostgresServer(bin_dir).start()
                try:
                    results[kind] = run(pg.create_database("load"), Path(folder), args.clients, args.stations,
                                        args.seconds)
                finally:
                    pg.stop()
        print(json.dumps({kind: results[kind]}), flush=True)
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
