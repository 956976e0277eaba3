"""Scheduling: one FIFO queue per station kind (sim, real), served by every active station of
that kind; leases with heartbeats and expiry; per-user concurrent-job quotas; and, for every
waiting job, its queue position, an estimated start and the reason it waits.

A lease is a random id on the job row, valid until `lease_expires_at`; each heartbeat moves the
expiry on. An expired lease puts the job back at its place in the queue (FIFO is by job id, so
it is next); the trials already recorded stay, and the next station starts at the first
unrecorded one."""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
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


def lease_next(session: Session, station: StationRow, settings: QueueSettings) -> JobRow | None:
    """The oldest queued job of the station's kind whose owner is under their concurrent-job
    quota, leased to `station` (None when there is none)."""
    now = utcnow()
    expire_leases(session, now)
    running = running_per_user(session)
    candidates = session.execute(
        select(JobRow.id, SubmissionRow.user_id, UserRow.concurrent_jobs)
        .join(SubmissionRow, JobRow.submission_id == SubmissionRow.id)
        .join(UserRow, SubmissionRow.user_id == UserRow.id)
        .where(JobRow.state == "queued", JobRow.station_kind == station.kind)
        .order_by(JobRow.id).limit(200)
    ).all()
    for job_id, user_id, quota in candidates:
        if running.get(user_id, 0) >= quota:
            continue
        lease = secrets.token_hex(16)
        # Guarded by state: a concurrent station that took this job first makes rowcount 0.
        taken = session.execute(
            update(JobRow).where(JobRow.id == job_id, JobRow.state == "queued")
            .values(state="leased", station_id=station.id, lease=lease, attempts=JobRow.attempts + 1,
                    lease_expires_at=now + timedelta(seconds=settings.lease_seconds), heartbeat_at=now,
                    started_at=func.coalesce(JobRow.started_at, now))
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

    registered: int
    active: list[StationRow]
    online: list[StationRow]
    busy: int
    per_trial: float | None
    mean_planned: float


def kind_state(session: Session, kind: str, settings: QueueSettings, now: datetime) -> KindState:
    stations = session.scalars(select(StationRow).where(StationRow.kind == kind)).all()
    active = [s for s in stations if s.state == "active"]
    cutoff = now - timedelta(seconds=settings.online_seconds)
    online = [s for s in active if s.last_heartbeat is not None and aware(s.last_heartbeat) >= cutoff]
    busy = session.scalar(select(func.count(JobRow.id)).where(
        JobRow.state == "leased", JobRow.station_kind == kind)) or 0
    planned = session.scalar(select(func.avg(JobRow.planned)).where(JobRow.station_kind == kind)) or 1
    return KindState(len(stations), active, online, busy, mean_trial_seconds(session, kind), float(planned))


def describe_jobs(session: Session, jobs: list[JobRow], settings: QueueSettings) -> dict[int, dict]:
    """State, queue position, last heartbeat, estimated start and, for a waiting job, why."""
    now = utcnow()
    out: dict[int, dict] = {}
    counts = recorded_counts(session, [j.id for j in jobs])
    kinds: dict[str, KindState] = {}
    running: dict[int, int] | None = None
    names = dict(session.execute(select(StationRow.id, StationRow.name)).all()) if jobs else {}
    for job in jobs:
        info = {"position": None, "estimated_start": None, "reason": None, "recorded": counts.get(job.id, 0),
                "last_heartbeat": aware(job.heartbeat_at), "station": names.get(job.station_id)}
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


def _waiting(session: Session, job: JobRow, state: KindState, running: dict[int, int], settings: QueueSettings,
             now: datetime) -> dict:
    kind = job.station_kind
    ahead = session.scalar(select(func.count(JobRow.id)).where(
        JobRow.state == "queued", JobRow.station_kind == kind, JobRow.id < job.id)) or 0
    info: dict = {"position": ahead}
    if not state.registered:
        info["reason"] = f"no {kind} station is registered yet; the platform's admin adds them"
        return info
    if not state.active:
        info["reason"] = f"all {state.registered} {kind} stations are in maintenance"
        return info
    if not state.online:
        last = max((aware(s.last_heartbeat) for s in state.active if s.last_heartbeat), default=None)
        info["reason"] = (f"no {kind} station is online (the last heartbeat was {_ago(last, now)}); "
                          "the job starts when one connects")
        return info
    owner_id, quota = session.execute(
        select(SubmissionRow.user_id, UserRow.concurrent_jobs).join(UserRow, SubmissionRow.user_id == UserRow.id)
        .where(SubmissionRow.id == job.submission_id)).one()
    mine = running.get(owner_id, 0)
    if mine >= quota:
        info["reason"] = (f"your {mine} running jobs fill your quota of {quota} concurrent jobs; "
                          "this one starts when one of them ends")
    elif ahead == 0 and state.busy < len(state.online):
        info["reason"] = f"next in line; an idle {kind} station takes it at its next poll"
    else:
        info["reason"] = f"{ahead} jobs ahead in the {kind} queue (first in, first out), {state.busy} running"
    idle = max(0, len(state.online) - state.busy)
    if ahead < idle:
        wait = settings.poll_seconds
    elif state.per_trial is not None:
        wait = math.ceil((ahead - idle + 1) / len(state.online)) * state.per_trial * state.mean_planned
    else:
        wait = None  # no finished job yet to time one by
    info["estimated_start"] = now + timedelta(seconds=wait) if wait is not None else None
    return info
