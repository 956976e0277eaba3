"""Scheduling: one FIFO queue per station; leases with heartbeats and expiry; per-user
concurrent-job quotas; and, for every waiting job, its queue position, an estimated start and
the reason it waits.

A submission's jobs join the queue of the station it asked for, or else of the active station
of their kind with the least work (online ones first); with none yet they wait in no queue.
A station serves its own queue first, oldest job first. When its queue has nothing it can
start, it takes the oldest job from elsewhere that no one asked a particular station for (in no
queue, or behind another station's running job, or at a station that is offline or in
maintenance), and the job moves to its queue: a station that dies does not strand its queue.

A lease is a random id on the job row, valid until `lease_expires_at`; each heartbeat moves the
expiry on. An expired lease puts the job back at its place in its station's queue (FIFO is by
job id, so it is next); the trials already recorded stay, and the next station starts at the
first unrecorded one."""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.orm import Session

from sim2real.platform.db.models import JobRow, StationRow, SubmissionRow, TrialRow, UserRow, aware, utcnow

ACTIVE_JOB = ("queued", "leased")


@dataclass(frozen=True)
class QueueSettings:
    lease_seconds: float = 60.0  # a lease lives this long without a heartbeat
    poll_seconds: float = 2.0  # how often an idle station asks for work (for the estimate)

    @property
    def online_seconds(self) -> float:
        """A station is online if it spoke to us within this long."""
        return max(self.lease_seconds, 3 * self.poll_seconds)


def is_online(station: StationRow, settings: QueueSettings, now: datetime) -> bool:
    beat = aware(station.last_heartbeat)
    return beat is not None and (now - beat).total_seconds() <= settings.online_seconds


def expire_leases(session: Session, now: datetime | None = None) -> int:
    """Jobs whose lease ran out go back to the queue; returns how many."""
    now = now or utcnow()
    result = session.execute(
        update(JobRow).where(JobRow.state == "leased", JobRow.lease_expires_at < now)
        .values(state="queued", station_id=None, lease=None, lease_expires_at=None)
    )
    return result.rowcount or 0


def running_per_user(session: Session) -> dict[int, int]:
    rows = session.execute(
        select(SubmissionRow.user_id, func.count(JobRow.id)).join(SubmissionRow)
        .where(JobRow.state == "leased").group_by(SubmissionRow.user_id))
    return dict(rows.all())


def queue_loads(session: Session, kind: str) -> dict[int, int]:
    """Queued and running jobs per station queue of one kind."""
    rows = session.execute(select(JobRow.queue_station_id, func.count(JobRow.id))
                           .where(JobRow.station_kind == kind, JobRow.state.in_(ACTIVE_JOB),
                                  JobRow.queue_station_id.is_not(None))
                           .group_by(JobRow.queue_station_id))
    return dict(rows.all())


def assign_queues(session: Session, kind: str, count: int, settings: QueueSettings,
                  station: StationRow | None = None) -> list[int | None]:
    """The station queue each of `count` new jobs joins: `station` when the submitter asked for
    one, else the active station of the kind with the least work (online first, then oldest),
    counting the jobs placed before it; None while the kind has no active station."""
    if station is not None:
        return [station.id] * count
    now = utcnow()
    active = session.scalars(select(StationRow).where(StationRow.kind == kind, StationRow.state == "active")
                             .order_by(StationRow.id)).all()
    if not active:
        return [None] * count
    loads = queue_loads(session, kind)
    chosen = []
    for _ in range(count):
        best = min(active, key=lambda s: (not is_online(s, settings, now), loads.get(s.id, 0), s.id))
        loads[best.id] = loads.get(best.id, 0) + 1
        chosen.append(best.id)
    return chosen


def _candidates(station: StationRow) -> Select:
    return (select(JobRow.id, SubmissionRow.user_id, UserRow.concurrent_jobs)
            .join(SubmissionRow, JobRow.submission_id == SubmissionRow.id)
            .join(UserRow, SubmissionRow.user_id == UserRow.id)
            .where(JobRow.state == "queued", JobRow.station_kind == station.kind)
            .order_by(JobRow.id).limit(200))


def lease_next(session: Session, station: StationRow, settings: QueueSettings) -> JobRow | None:
    """The oldest job of the station's own queue whose owner is under their concurrent-job
    quota, else the oldest such job elsewhere that asked for no particular station, leased to
    `station` (None when there is none)."""
    now = utcnow()
    expire_leases(session, now)
    running = running_per_user(session)
    own = session.execute(_candidates(station).where(JobRow.queue_station_id == station.id)).all()
    others = session.execute(_candidates(station).where(
        SubmissionRow.station_id.is_(None),
        or_(JobRow.queue_station_id.is_(None), JobRow.queue_station_id != station.id))).all()
    for job_id, user_id, quota in [*own, *others]:
        if running.get(user_id, 0) >= quota:
            continue
        lease = secrets.token_hex(16)
        # Guarded by state: a concurrent station that took this job first makes rowcount 0.
        taken = session.execute(
            update(JobRow).where(JobRow.id == job_id, JobRow.state == "queued")
            .values(state="leased", station_id=station.id, queue_station_id=station.id, lease=lease,
                    attempts=JobRow.attempts + 1, lease_expires_at=now + timedelta(seconds=settings.lease_seconds),
                    heartbeat_at=now, started_at=func.coalesce(JobRow.started_at, now))
        ).rowcount
        if taken:
            session.execute(update(SubmissionRow).where(SubmissionRow.id == (
                select(JobRow.submission_id).where(JobRow.id == job_id).scalar_subquery()),
                SubmissionRow.state == "queued").values(state="running"))
            return session.get(JobRow, job_id)
    return None


def recorded_counts(session: Session, job_ids: list[int]) -> dict[int, int]:
    if not job_ids:
        return {}
    rows = session.execute(select(TrialRow.job_id, func.count(TrialRow.id))
                           .where(TrialRow.job_id.in_(job_ids)).group_by(TrialRow.job_id))
    return dict(rows.all())


def mean_trial_seconds(session: Session, kind: str) -> float | None:
    """Seconds per trial on stations of `kind`, from finished jobs (None before the first)."""
    rows = session.execute(
        select(JobRow.started_at, JobRow.finished_at, JobRow.planned)
        .where(JobRow.state == "done", JobRow.station_kind == kind)
        .order_by(JobRow.id.desc()).limit(20)).all()
    spans = [((aware(end) - aware(start)).total_seconds(), planned) for start, end, planned in rows if start and end]
    trials = sum(p for _, p in spans)
    return sum(s for s, _ in spans) / trials if trials else None


def _ago(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return "never"
    seconds = int((now - aware(moment)).total_seconds())
    return f"{seconds} s ago" if seconds < 120 else f"{seconds // 60} min ago"


@dataclass
class KindState:
    """What every waiting job of one station kind shares (read once per request)."""

    stations: dict[int, StationRow]
    active: list[StationRow]
    online: list[StationRow]
    busy: set[int]  # ids of the stations holding a job
    per_trial: float | None
    mean_planned: float

    @property
    def idle(self) -> list[StationRow]:
        return [s for s in self.online if s.id not in self.busy]


def kind_state(session: Session, kind: str, settings: QueueSettings, now: datetime) -> KindState:
    stations = session.scalars(select(StationRow).where(StationRow.kind == kind).order_by(StationRow.id)).all()
    active = [s for s in stations if s.state == "active"]
    online = [s for s in active if is_online(s, settings, now)]
    busy = set(session.scalars(select(JobRow.station_id).where(JobRow.state == "leased", JobRow.station_kind == kind)))
    planned = session.scalar(select(func.avg(JobRow.planned)).where(JobRow.station_kind == kind)) or 1
    return KindState({s.id: s for s in stations}, active, online, busy, mean_trial_seconds(session, kind),
                     float(planned))


def describe_jobs(session: Session, jobs: list[JobRow], settings: QueueSettings) -> dict[int, dict]:
    """State, queue, queue position, the station's last heartbeat, estimated start and, for a
    waiting job, why."""
    now = utcnow()
    out: dict[int, dict] = {}
    counts = recorded_counts(session, [j.id for j in jobs])
    kinds: dict[str, KindState] = {}
    running: dict[int, int] | None = None
    rows = session.execute(select(StationRow.id, StationRow.name, StationRow.last_heartbeat)).all() if jobs else []
    names = {id_: name for id_, name, _ in rows}
    beats = {id_: aware(beat) for id_, _, beat in rows}
    for job in jobs:
        # the last heartbeat of the station concerned: the job's holder (on this job), else the
        # station whose queue it waits in
        beat = beats.get(job.queue_station_id) if job.state == "queued" else aware(job.heartbeat_at)
        info = {"position": None, "estimated_start": None, "reason": None, "recorded": counts.get(job.id, 0),
                "last_heartbeat": beat, "station": names.get(job.station_id),
                "queue": names.get(job.queue_station_id)}
        if job.state == "leased":
            expired = aware(job.lease_expires_at) < now
            info["reason"] = (f"lease expired (last heartbeat {_ago(job.heartbeat_at, now)}); back in the queue "
                              "at the next station poll" if expired else
                              f"running on {info['station']} (heartbeat {_ago(job.heartbeat_at, now)})")
        elif job.state == "queued":
            if job.station_kind not in kinds:
                kinds[job.station_kind] = kind_state(session, job.station_kind, settings, now)
            if running is None:
                running = running_per_user(session)
            info.update(_waiting(session, job, kinds[job.station_kind], running, settings, now))
        out[job.id] = info
    return out


def _station_status(station: StationRow, settings: QueueSettings, now: datetime) -> str:
    if station.state != "active":
        return f"in {station.state}"
    if not is_online(station, settings, now):
        return f"offline (the last heartbeat was {_ago(station.last_heartbeat, now)})"
    return "online"


def _waiting(session: Session, job: JobRow, state: KindState, running: dict[int, int], settings: QueueSettings,
             now: datetime) -> dict:
    kind = job.station_kind
    same_queue = (JobRow.queue_station_id == job.queue_station_id if job.queue_station_id is not None
                  else JobRow.queue_station_id.is_(None))
    ahead = session.scalar(select(func.count(JobRow.id)).where(
        JobRow.state == "queued", JobRow.station_kind == kind, same_queue, JobRow.id < job.id)) or 0
    info: dict = {"position": ahead}
    owner_id, quota, asked = session.execute(
        select(SubmissionRow.user_id, UserRow.concurrent_jobs, SubmissionRow.station_id)
        .join(UserRow, SubmissionRow.user_id == UserRow.id).where(SubmissionRow.id == job.submission_id)).one()
    queue = state.stations.get(job.queue_station_id)
    if asked is not None:  # it waits for that one station and no other
        status = _station_status(queue, settings, now)
        if status != "online":
            info["reason"] = f"you asked for {queue.name}, which is {status}; the job waits for it"
            return info
    elif not state.stations:
        info["reason"] = f"no {kind} station is registered yet; the platform's admin adds them"
        return info
    elif not state.active:
        info["reason"] = f"all {len(state.stations)} {kind} stations are in maintenance"
        return info
    elif not state.online:
        last = max((aware(s.last_heartbeat) for s in state.active if s.last_heartbeat), default=None)
        info["reason"] = (f"no {kind} station is online (the last heartbeat was {_ago(last, now)}); "
                          "the job starts when one connects")
        return info
    mine = running.get(owner_id, 0)
    queue_idle = queue is not None and queue in state.online and queue.id not in state.busy
    # an unpinned job is also taken by any idle station whose own queue is empty (approximately:
    # the idle stations beyond the jobs ahead of it)
    taken_by_another = asked is None and not queue_idle and len(state.idle) > ahead
    if mine >= quota:
        info["reason"] = (f"your {mine} running jobs fill your quota of {quota} concurrent jobs; "
                          "this one starts when one of them ends")
    elif queue is None:
        info["reason"] = f"in no station's queue yet; the next idle {kind} station takes it"
    elif ahead == 0 and queue_idle:
        info["reason"] = f"next in line on {queue.name}; it takes it at its next poll"
    elif asked is None and queue not in state.online:
        info["reason"] = (f"{queue.name} is {_station_status(queue, settings, now)}; the next idle {kind} "
                          "station takes it")
    else:
        running_there = "1 running" if queue.id in state.busy else "none running"
        info["reason"] = (f"{ahead} jobs ahead in {queue.name}'s queue (first in, first out), {running_there}"
                          + (f"; an idle {kind} station may take it sooner" if taken_by_another else ""))
    if mine >= quota:
        return info
    if (ahead == 0 and queue_idle) or taken_by_another or (queue is None and state.idle):
        wait = settings.poll_seconds
    elif state.per_trial is not None and queue is not None:
        wait = (ahead + (queue.id in state.busy)) * state.per_trial * state.mean_planned
    elif state.per_trial is not None:
        wait = math.ceil((ahead + 1) / len(state.online)) * state.per_trial * state.mean_planned
    else:
        wait = None  # no finished job yet to time one by
    info["estimated_start"] = now + timedelta(seconds=wait) if wait is not None else None
    return info
