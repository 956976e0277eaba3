"""The platform's scheduling and records on SQLite and on a real PostgreSQL, through the
service layer (the API's handlers call exactly these): why a job waits (no station, offline,
maintenance, quota, queue position), FIFO per station kind, a lease that expires and is handed
out again, idempotent and lease-checked trial uploads, quotas per day (the migrations: test_platform_migrations);
and the per-station queues (a pinned job waits for its station, the others take unpinned work,
offline and maintenance stations, timed estimates) with every waiting job explained.

The submitted endpoint's probe is replaced by the metadata a policy server would announce
(the real handshake is tested in test_platform_api and test_platform_e2e)."""

import pytest
from sqlalchemy.orm import Session

from platform_peers import seed_platform
from sim2real.platform.admin import set_station_state
from sim2real.platform.auth import authenticate
from sim2real.platform.db import open_database
from sim2real.platform.errors import Conflict, Forbidden, NotFound, Refused, TooMany
from sim2real.platform.queue import QueueSettings
from sim2real.platform.service import Platform

ZERO = {"name": "zero", "cameras": [], "image_size": None, "chunk_size": 1, "action_dim": 14,
        "action_space": "absolute_joint_position", "privileged": False, "stateful": True, "supports_reset": True}


@pytest.fixture
def seeded(database):
    tokens = seed_platform(database, tasks=("click_bell", "place_empty_cup"), concurrent_jobs=1)
    engine = open_database(database)
    with Session(engine) as session:
        who = {name: authenticate(session, token) for name, token in tokens.items()}
    yield engine, who
    engine.dispose()


def platform_of(engine, lease_seconds=30.0) -> Platform:
    from sim2real.core.contract import ACTION_SPACE

    ZERO["action_space"] = ACTION_SPACE
    return Platform(engine, QueueSettings(lease_seconds=lease_seconds, poll_seconds=1.0), probe=lambda url: dict(ZERO))


def test_waiting_jobs_say_why_and_fifo_with_quota(seeded):
    engine, who = seeded
    platform = platform_of(engine)
    first = platform.submit(who["alice"], "tiny", "ws://127.0.0.1:9/", "a1")
    jobs = first["jobs"]
    assert [j["task"] for j in jobs] == ["click_bell", "place_empty_cup"]
    assert jobs[0]["position"] == 0 and jobs[1]["position"] == 1
    assert "no sim station is online (the last heartbeat was never)" in jobs[0]["reason"]

    set_station_state(engine, "sim-1", "maintenance")
    assert "in maintenance" in platform.submission(who["alice"], first["id"])["jobs"][0]["reason"]
    assert platform.lease(who["station"]) == {"job": None, "reason": "station sim-1 is in maintenance"}
    set_station_state(engine, "sim-1", "active")

    bob = platform.submit(who["bob"], "tiny", "ws://127.0.0.1:9/", "b1")
    leased = platform.lease(who["station"])["job"]  # FIFO: alice's first job
    assert leased["id"] == jobs[0]["id"] and leased["recorded"] == [] and leased["planned"] == 5
    view = platform.submission(who["alice"], first["id"])
    assert view["state"] == "running"
    assert view["jobs"][0]["reason"].startswith("running on sim-1")
    # alice's quota is one concurrent job: her second job waits, and says so; bob's goes first
    assert "fill your quota of 1 concurrent jobs" in view["jobs"][1]["reason"]
    second = platform.lease(who["station"])["job"]
    assert second["submission"] == bob["id"]
    assert platform.submission(who["bob"], bob["id"])["jobs"][1]["position"] == 1  # behind alice's waiting job


def test_lease_expiry_idempotent_uploads_and_finish(seeded):
    engine, who = seeded
    platform = platform_of(engine, lease_seconds=0.5)
    submission = platform.submit(who["alice"], "tiny", "ws://127.0.0.1:9/")
    job = platform.lease(who["station"])["job"]
    key = f"job{job['id']}.trial0.{job['lease']}"
    view, created = platform.upload_trial(who["station"], job["id"], job["lease"], 0, key, True, steps=10)
    again, created_again = platform.upload_trial(who["station"], job["id"], job["lease"], 0, key, False)
    assert created and not created_again and again == view and again["success"] is True  # the first stands
    with pytest.raises(Conflict, match="not yet recorded"):
        platform.upload_trial(who["station"], job["id"], job["lease"], 0, key + "x", True)
    with pytest.raises(Conflict, match="0 to 4"):
        platform.upload_trial(who["station"], job["id"], job["lease"], 7, key + "y", True)
    with pytest.raises(Conflict, match="1 of 5 trials recorded"):
        platform.finish(who["station"], job["id"], job["lease"])

    import time

    time.sleep(0.7)  # no heartbeat: the lease runs out
    with pytest.raises(Conflict, match="invalid lease"):
        platform.heartbeat(who["station"], job["id"], job["lease"])
    with pytest.raises(Conflict, match="invalid lease"):  # the old holder can no longer upload
        platform.upload_trial(who["station"], job["id"], job["lease"], 1, key + "z", True)
    again = platform.lease(who["station"])["job"]
    assert again["id"] == job["id"] and again["lease"] != job["lease"] and again["recorded"] == [0]
    assert again["attempt"] == 2
    for index in range(1, 5):
        platform.heartbeat(who["station"], again["id"], again["lease"])
        platform.upload_trial(who["station"], again["id"], again["lease"], index, f"k{again['id']}.{index}", index % 2 == 0)
    assert platform.finish(who["station"], again["id"], again["lease"])["state"] == "done"
    view = platform.submission(who["alice"], submission["id"])
    assert [t["index"] for t in view["trials"] if t["task"] == "click_bell"] == [0, 1, 2, 3, 4]
    assert view["jobs"][0]["state"] == "done" and view["jobs"][1]["state"] == "queued"
    # the second job now has a timed estimate: the first's seconds per trial
    platform.heartbeat(who["station"])
    assert view["jobs"][1]["reason"].startswith("next in line")


def test_who_sees_what_and_quotas(seeded):
    engine, who = seeded
    platform = platform_of(engine)
    private = platform.submit(who["alice"], "tiny", "ws://127.0.0.1:9/", public=False)
    public = platform.submit(who["alice"], "tiny", "ws://127.0.0.1:9/", public=True)
    with pytest.raises(NotFound):
        platform.submission(who["bob"], private["id"])  # another user's private one does not exist for bob
    with pytest.raises(NotFound):
        platform.submission(None, private["id"])
    assert platform.submission(who["bob"], public["id"])["id"] == public["id"]
    with pytest.raises(Forbidden, match="only its owner"):
        platform.cancel(who["bob"], public["id"])
    assert platform.submission(who["admin"], private["id"])["id"] == private["id"]
    assert [s["id"] for s in platform.submissions(who["bob"])] == []
    assert platform.cancel(who["alice"], private["id"])["state"] == "cancelled"
    with pytest.raises(Forbidden, match="station token cannot submit"):
        platform.submit(who["station"], "tiny", "ws://127.0.0.1:9/")
    with pytest.raises(Forbidden, match="needs a station token"):
        platform.lease(who["alice"])
    with pytest.raises(Forbidden, match="only an admin"):
        platform.submit(who["alice"], "tiny", "ws://127.0.0.1:9/", baseline=True)

    from sqlalchemy import update

    from sim2real.platform.db.models import UserRow

    with Session(engine) as session, session.begin():
        session.execute(update(UserRow).where(UserRow.name == "bob").values(submissions_per_day=1))
    platform.submit(who["bob"], "tiny", "ws://127.0.0.1:9/")
    with pytest.raises(TooMany, match="1 submissions per day"):
        platform.submit(who["bob"], "tiny", "ws://127.0.0.1:9/")

    refusing = Platform(engine, probe=lambda url: {**ZERO, "cameras": ["left_wrist"]})
    with pytest.raises(Refused, match="invalid cameras: left_wrist; allowed: head"):
        refusing.submit(who["alice"], "tiny", "ws://127.0.0.1:9/")
    refusing = Platform(engine, probe=lambda url: {**ZERO, "image_size": [64, 48]})
    with pytest.raises(Refused, match=r"invalid image_size: \[64, 48\]; allowed: \[32, 32\]"):
        refusing.submit(who["alice"], "tiny", "ws://127.0.0.1:9/")


def run_job(platform, station, successes):
    job = platform.lease(station)["job"]
    for index, success in enumerate(successes):
        platform.upload_trial(station, job["id"], job["lease"], index, f"k{job['id']}.{index}.{job['lease']}", success)
    assert platform.finish(station, job["id"], job["lease"])["state"] == "done"
    return job


def test_leaderboard_ranks_with_intervals_and_sim_real_agreement(seeded):
    from sim2real.platform.admin import add_benchmark, add_station, add_token
    from sim2real.platform.leaderboard import agreement, condition_table, leaderboard

    engine, who = seeded
    add_benchmark(engine, "tiny-real", ["click_bell"], preset="smoke", kind="real", cameras=["head"], image_size=(32, 32))
    add_station(engine, "arm-1", "real")
    with Session(engine) as session:
        real_station = authenticate(session, add_token(engine, "station", station="arm-1")["token"])
    platform = platform_of(engine)
    # two policies, each on the sim benchmark (both tasks, the same results) and on the real one
    for user, name, sim, real in (("alice", "vla-a", [1, 1, 1, 1, 0], [1, 1, 0, 0, 0]),
                                  ("bob", "vla-b", [1, 1, 0, 0, 0], [1, 0, 0, 0, 0])):
        platform.submit(who[user], "tiny", "ws://127.0.0.1:9/", name)
        run_job(platform, who["station"], [bool(x) for x in sim])
        run_job(platform, who["station"], [bool(x) for x in sim])  # place_empty_cup
        platform.submit(who[user], "tiny-real", "ws://127.0.0.1:9/", name)
        run_job(platform, real_station, [bool(x) for x in real])

    board = leaderboard(engine, "tiny")
    assert [e["name"] for e in board["entries"]] == ["vla-a", "vla-b"]
    top, second = board["entries"]
    assert top["pooled"]["successes"] == 8 and top["pooled"]["trials"] == 10
    assert top["tasks"]["click_bell"]["successes"] == 4 and top["tasks"]["click_bell"]["trials"] == 5
    assert top["pooled"]["low"] < 0.8 < top["pooled"]["high"] and top["vs_above"] is None
    assert 0 < second["vs_above"]["p_value"] <= 1
    real = agreement(engine, "tiny-real")
    assert {(p["policy"], p["sim"], p["real"]) for p in real["points"]} == {("alice/vla-a", 0.8, 0.4),
                                                                          ("bob/vla-b", 0.4, 0.2)}
    assert real["per_task"]["click_bell"]["mmrv"] == 0.0  # both rank them the same way
    assert agreement(engine, "tiny") is None
    view = platform.submission(who["alice"], board["entries"][0]["submission"])
    table = condition_table(view["trials"], "vla-a")
    assert sum(row["trials"] for row in table) == 10 and {row["factor"] for row in table} >= {"base", "background"}


def explained(view: dict) -> list[dict]:
    """Every job of a submission view: nothing waits without a reason and a queue position."""
    for job in view["jobs"]:
        if job["state"] == "queued":
            assert isinstance(job["position"], int) and job["position"] >= 0, job
            assert job["reason"], job
        elif job["state"] == "leased":
            assert job["reason"].startswith("running on") and job["last_heartbeat"] is not None, job
    return view["jobs"]


def seconds_until(job: dict) -> float:
    from sim2real.platform.db.models import utcnow

    return (job["estimated_start"] - utcnow()).total_seconds()


def test_per_station_queues_states_and_estimates(tmp_path):
    """Two sim stations: jobs spread over their queues, a job pinned to a station waits for
    that one (offline, in maintenance) while the other takes unpinned work from its queue;
    an offline station's last heartbeat and a timed estimated start are shown (SQLite: the
    same queries run on PostgreSQL in the tests above)."""
    from datetime import timedelta

    from sqlalchemy import update

    from sim2real.platform.admin import add_station, add_token
    from sim2real.platform.db.models import JobRow, StationRow, utcnow

    database = str(tmp_path / "platform.sqlite")
    tokens = seed_platform(database, tasks=("click_bell", "place_empty_cup"))
    engine = open_database(database)
    add_station(engine, "sim-2", "sim")
    tokens["station2"] = add_token(engine, "station", station="sim-2")["token"]
    with Session(engine) as session:
        who = {name: authenticate(session, token) for name, token in tokens.items()}
    platform = platform_of(engine)
    try:
        # nobody online: the jobs spread over both queues, no estimate
        alice = platform.submit(who["alice"], "tiny", "ws://127.0.0.1:9/", "a1")
        jobs = explained(alice)
        assert [j["queue"] for j in jobs] == ["sim-1", "sim-2"] and [j["position"] for j in jobs] == [0, 0]
        assert all("no sim station is online (the last heartbeat was never)" in j["reason"] for j in jobs)
        assert [j["estimated_start"] for j in jobs] == [None, None]
        bob = platform.submit(who["bob"], "tiny", "ws://127.0.0.1:9/", "b1", station="sim-2")
        jobs = explained(bob)
        assert [j["queue"] for j in jobs] == ["sim-2", "sim-2"] and [j["position"] for j in jobs] == [1, 2]
        assert jobs[0]["reason"] == "you asked for sim-2, which is offline (the last heartbeat was never); the job waits for it"

        # sim-1 comes online: its own job is next; the unpinned one in offline sim-2's queue is up for grabs
        platform.heartbeat(who["station"])
        jobs = explained(platform.submission(who["alice"], alice["id"]))
        assert jobs[0]["last_heartbeat"] is not None and jobs[1]["last_heartbeat"] is None  # its queue's station
        assert jobs[0]["reason"] == "next in line on sim-1; it takes it at its next poll"
        assert jobs[1]["reason"] == "sim-2 is offline (the last heartbeat was never); the next idle sim station takes it"
        assert all(0 < seconds_until(j) <= 1.0 for j in jobs)  # one poll away
        # sim-1 takes its own queue first, then alice's unpinned job from sim-2's queue, never bob's pinned ones
        first, second = platform.lease(who["station"])["job"], platform.lease(who["station"])["job"]
        assert [first["id"], second["id"]] == [j["id"] for j in jobs]
        assert platform.lease(who["station"]) == {"job": None, "reason": "no queued sim job"}
        assert [j["queue"] for j in explained(platform.submission(who["alice"], alice["id"]))] == ["sim-1", "sim-1"]
        assert [j["position"] for j in explained(platform.submission(who["bob"], bob["id"]))] == [0, 1]

        # sim-2 in maintenance: the pinned jobs say so; a lease is refused; new unpinned jobs go to sim-1
        set_station_state(engine, "sim-2", "maintenance")
        assert explained(platform.submission(who["bob"], bob["id"]))[0]["reason"] == \
            "you asked for sim-2, which is in maintenance; the job waits for it"
        assert platform.lease(who["station2"]) == {"job": None, "reason": "station sim-2 is in maintenance"}
        later = explained(platform.submit(who["alice"], "tiny", "ws://127.0.0.1:9/", "a2"))
        assert [j["queue"] for j in later] == ["sim-1", "sim-1"] and [j["position"] for j in later] == [0, 1]
        assert later[0]["reason"] == "0 jobs ahead in sim-1's queue (first in, first out), 1 running"
        set_station_state(engine, "sim-2", "active")

        # sim-2 back and polling: FIFO in its own queue, bob's first job first
        assert platform.lease(who["station2"])["job"]["id"] == bob["jobs"][0]["id"]

        # a finished job times the estimate: 10 s per trial, 5 trials a job
        for index in range(first["planned"]):
            platform.upload_trial(who["station"], first["id"], first["lease"], index, f"k{index}", True)
        platform.finish(who["station"], first["id"], first["lease"])
        with Session(engine) as session, session.begin():
            session.execute(update(JobRow).where(JobRow.id == first["id"])
                            .values(started_at=utcnow() - timedelta(seconds=50), finished_at=utcnow()))
        later = explained(platform.submission(who["alice"], later[0]["submission"]))
        # one job running on sim-1 and one ahead of the second: (0 + 1) and (1 + 1) jobs of 50 s
        assert [round(seconds_until(j) / 50) for j in later] == [1, 2]

        # both stations silent for ten minutes: offline, with the last heartbeat's age
        with Session(engine) as session, session.begin():
            session.execute(update(StationRow).values(last_heartbeat=utcnow() - timedelta(minutes=10)))
        jobs = explained(platform.submission(who["alice"], later[0]["submission"]))
        assert jobs[0]["reason"] == ("no sim station is online (the last heartbeat was 10 min ago); "
                                     "the job starts when one connects") and jobs[0]["estimated_start"] is None
    finally:
        engine.dispose()


def test_no_station_of_the_kind_yet_and_the_admin_exempt_from_the_daily_quota(tmp_path):
    """A job of a kind with no station waits in no queue, says why, and is taken by the first
    station of its kind; an admin's submissions are not held to a daily quota."""
    from sqlalchemy import update

    from sim2real.platform.admin import add_benchmark, add_station, add_token
    from sim2real.platform.db.models import UserRow

    database = str(tmp_path / "platform.sqlite")
    tokens = seed_platform(database)
    engine = open_database(database)
    add_benchmark(engine, "tiny-real", ["click_bell"], preset="smoke", kind="real", cameras=["head"], image_size=(32, 32))
    with Session(engine) as session, session.begin():
        session.execute(update(UserRow).values(submissions_per_day=0))
    with Session(engine) as session:
        who = {name: authenticate(session, token) for name, token in tokens.items()}
    platform = platform_of(engine)
    try:
        with pytest.raises(TooMany, match="0 submissions per day"):
            platform.submit(who["alice"], "tiny-real", "ws://127.0.0.1:9/")
        job = explained(platform.submit(who["admin"], "tiny-real", "ws://127.0.0.1:9/", "expert"))[0]
        assert job["queue"] is None and job["position"] == 0 and job["estimated_start"] is None
        assert job["reason"] == "no real station is registered yet; the platform's admin adds them"
        add_station(engine, "arm-1", "real")
        with Session(engine) as session:
            arm = authenticate(session, add_token(engine, "station", station="arm-1")["token"])
        platform.heartbeat(arm)
        job = explained(platform.submission(who["admin"], job["submission"]))[0]
        assert job["reason"] == "in no station's queue yet; the next idle real station takes it"
        assert platform.lease(who["station"]) == {"job": None, "reason": "no queued sim job"}  # wrong kind
        assert platform.lease(arm)["job"]["id"] == job["id"]
    finally:
        engine.dispose()
