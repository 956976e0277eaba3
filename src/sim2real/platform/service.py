"""Every operation of the platform, each its own transaction: submitting (quota, endpoint
check, one job per task), reading and cancelling submissions, and the station's side (lease,
heartbeat, trial upload, finish). The API and the pages call these; they never touch SQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sim2real.platform.auth import Principal
from sim2real.platform.db.models import BenchmarkRow, JobRow, StationRow, SubmissionRow, TrialRow, UserRow, aware, utcnow
from sim2real.platform.checkpoints import BUILTIN_EXPERT, CheckpointStore, digest_of, metadata_of
from sim2real.platform.endpoint import check_metadata, check_policy, fetch_metadata
from sim2real.platform.errors import Conflict, Forbidden, NotFound, Refused, TooMany
from sim2real.platform.queue import QueueSettings, assign_queues, describe_jobs, expire_leases, lease_next

MetadataProbe = Callable[[str], dict[str, Any]]


def benchmark_view(row: BenchmarkRow) -> dict[str, Any]:
    return {"name": row.name, "tasks": row.tasks, "preset": row.preset, "seed": row.seed,
            "station_kind": row.station_kind, "cameras": row.cameras, "image_size": row.image_size,
            "max_chunk": row.max_chunk, "description": row.description}


class Platform:
    def __init__(self, engine: Engine, queue: QueueSettings | None = None,
                 probe: MetadataProbe = fetch_metadata, checkpoints: CheckpointStore | None = None) -> None:
        from sim2real.platform.db import reader_for

        self.engine = engine
        self.reader = reader_for(engine)  # pages and status polls never queue behind a writer
        self.queue = queue or QueueSettings()
        self.probe = probe  # the endpoint's metadata (tests of the API's edges may pass their own)
        self.checkpoints = checkpoints  # uploaded checkpoints (None: this platform takes none)

    # ---- benchmarks -------------------------------------------------------------------------

    def benchmarks(self) -> list[dict[str, Any]]:
        with Session(self.reader) as session:
            return [benchmark_view(b) for b in session.scalars(select(BenchmarkRow).order_by(BenchmarkRow.id))]

    def benchmark(self, session: Session, name: str) -> BenchmarkRow:
        row = session.scalar(select(BenchmarkRow).where(BenchmarkRow.name == name))
        if row is None:
            names = session.scalars(select(BenchmarkRow.name)).all()
            raise NotFound(f"invalid benchmark: {name!r}; allowed: {', '.join(names) or '(none yet)'}")
        return row

    # ---- submissions -------------------------------------------------------------------------

    def submit(self, who: Principal, benchmark: str, endpoint: str, name: str = "", public: bool = True,
               baseline: bool = False, station: str | None = None) -> dict[str, Any]:
        """Check the quota and the endpoint, then queue one job per task of the benchmark (in
        the queue of `station` only, when given)."""
        from sim2real.protocol.plan import make_plan
        from sim2real.protocol.preset import preset_from_dict

        if who.user_id is None:
            raise Forbidden("invalid token: a station token cannot submit; allowed: a user or admin token")
        if baseline and not who.is_admin:
            raise Forbidden("invalid baseline: true; allowed: only an admin seeds baselines")
        check_policy(endpoint)
        if endpoint == BUILTIN_EXPERT and not who.is_admin:
            raise Forbidden(f"invalid policy: {endpoint!r}; allowed: only an admin submits a built-in policy "
                            "(a baseline); serve yours, or upload a checkpoint")
        with Session(self.engine) as session:
            bench = self.benchmark(session, benchmark)
            user = session.get(UserRow, who.user_id)
            since = utcnow() - timedelta(days=1)
            today = session.scalar(select(func.count(SubmissionRow.id)).where(
                SubmissionRow.user_id == user.id, SubmissionRow.created_at >= since)) or 0
            if today >= user.submissions_per_day and not who.is_admin:
                raise TooMany(f"invalid submission: {today + 1} in 24 h; allowed: {user.submissions_per_day} "
                              "submissions per day for this user")
            spec = benchmark_view(bench)
            asked = self._asked_station(session, station, spec["station_kind"]) if station else None
        try:
            raw = self.announced(endpoint)  # outside any transaction: the server may be slow to answer
            metadata = check_metadata(raw, kind=spec["station_kind"], cameras=spec["cameras"],
                                      image_size=spec["image_size"], max_chunk=spec["max_chunk"])
        except Refused:
            raise
        except Exception as error:  # EndpointRefused and anything else the probe raises
            raise Refused(str(error)) from None
        preset = preset_from_dict(bench.preset_body)
        plans = {task: make_plan(preset, task, spec["seed"]) for task in spec["tasks"]}
        with Session(self.engine) as session, session.begin():
            row = SubmissionRow(user_id=who.user_id, benchmark_id=bench.id, name=name or metadata.name,
                                endpoint=endpoint, metadata_={**metadata.as_dict(), "announced": raw_names(raw)},
                                public=public, baseline=baseline, state="queued", station_id=asked)
            session.add(row)
            session.flush()
            pinned = session.get(StationRow, asked) if asked is not None else None
            queues = assign_queues(session, spec["station_kind"], len(plans), self.queue, pinned)
            session.add_all(JobRow(submission_id=row.id, task=task, station_kind=spec["station_kind"],
                                   plan=plan.model_dump(mode="json"), planned=len(plan.trials), state="queued",
                                   queue_station_id=queue)
                            for (task, plan), queue in zip(plans.items(), queues))
            submission_id = row.id
        return self.submission(who, submission_id)

    def announced(self, policy: str) -> dict[str, Any]:
        """What the policy announces: its server's first message, or, for one the station serves
        itself, the metadata that server will announce."""
        if policy == BUILTIN_EXPERT:
            from sim2real.policy.builtin import ExpertPolicy

            return ExpertPolicy.metadata.as_dict()
        if policy.startswith("checkpoint:"):
            if self.checkpoints is None:
                raise Refused(f"invalid policy: {policy!r}; allowed: a ws:// policy server (this platform "
                              "stores no checkpoints)")
            return metadata_of(self.checkpoints.path(digest_of(policy)))
        return self.probe(policy)

    def checkpoint_upload(self, who: Principal):
        """A new checkpoint upload (users and admins): write() its bytes, then finish()."""
        if who.user_id is None:
            raise Forbidden("invalid token: a station token cannot upload a checkpoint; allowed: a user or admin token")
        if self.checkpoints is None:
            raise NotFound("invalid checkpoint: this platform stores no checkpoints; allowed: a ws:// policy server")
        return self.checkpoints.upload()

    def checkpoint_path(self, who: Principal, sha256: str):
        """An uploaded checkpoint's file, for the stations that serve it (and admins)."""
        if who.scope != "station" and not who.is_admin:
            raise Forbidden("invalid token: scope user; allowed: a station or admin token downloads checkpoints")
        if self.checkpoints is None:
            raise NotFound(f"invalid checkpoint: {sha256}; allowed: none (this platform stores no checkpoints)")
        return self.checkpoints.path(sha256)

    @staticmethod
    def _asked_station(session: Session, name: str, kind: str) -> int:
        """The id of the station a submission asks for: one of the benchmark's kind."""
        row = session.scalar(select(StationRow).where(StationRow.name == name, StationRow.kind == kind))
        if row is None:
            names = session.scalars(select(StationRow.name).where(StationRow.kind == kind).order_by(StationRow.id)).all()
            raise NotFound(f"invalid station: {name!r}; allowed: {', '.join(names) or f'(no {kind} station yet)'} "
                           f"(the {kind} stations), or none for the first free one")
        return row.id

    def _owned(self, session: Session, who: Principal, submission_id: int, write: bool = False) -> SubmissionRow:
        row = session.get(SubmissionRow, submission_id)
        mine = row is not None and (who.is_admin or row.user_id == who.user_id)
        if row is None or not (mine or row.public):
            # Someone else's private submission is reported as absent: its id says nothing.
            raise NotFound(f"invalid submission: {submission_id}; allowed: your own submissions or public ones")
        if write and not mine:
            raise Forbidden(f"invalid submission: {submission_id}; allowed: only its owner cancels it")
        return row

    def submission(self, who: Principal | None, submission_id: int) -> dict[str, Any]:
        with Session(self.reader) as session:
            if who is None:
                row = session.get(SubmissionRow, submission_id)
                if row is None or not row.public:
                    raise NotFound(f"invalid submission: {submission_id}; allowed: a public submission")
            else:
                row = self._owned(session, who, submission_id)
            return self._view(session, row, trials=True)

    def submissions(self, who: Principal) -> list[dict[str, Any]]:
        with Session(self.reader) as session:
            query = select(SubmissionRow).order_by(SubmissionRow.id.desc()).limit(200)
            if not who.is_admin:
                query = query.where(SubmissionRow.user_id == who.user_id)
            return [self._view(session, row) for row in session.scalars(query)]

    def _view(self, session: Session, row: SubmissionRow, trials: bool = False) -> dict[str, Any]:
        jobs = session.scalars(select(JobRow).where(JobRow.submission_id == row.id).order_by(JobRow.id)).all()
        details = describe_jobs(session, list(jobs), self.queue)
        bench = session.get(BenchmarkRow, row.benchmark_id)
        out = {"id": row.id, "name": row.name, "benchmark": bench.name, "user": session.get(UserRow, row.user_id).name,
               "endpoint": row.endpoint, "state": row.state, "public": row.public, "baseline": row.baseline,
               "station": session.get(StationRow, row.station_id).name if row.station_id is not None else None,
               "created_at": aware(row.created_at), "metadata": row.metadata_,
               "jobs": [job_view(job, details[job.id]) for job in jobs]}
        if trials:
            rows = session.scalars(select(TrialRow).where(TrialRow.job_id.in_([j.id for j in jobs]))
                                   .order_by(TrialRow.job_id, TrialRow.index)).all()
            task_of = {j.id: j.task for j in jobs}
            out["trials"] = [trial_view(t, task_of[t.job_id]) for t in rows]
        return out

    def cancel(self, who: Principal, submission_id: int) -> dict[str, Any]:
        with Session(self.engine) as session, session.begin():
            row = self._owned(session, who, submission_id, write=True)
            if row.state in ("done", "failed", "cancelled"):
                raise Conflict(f"invalid cancel: submission {submission_id} is {row.state}; "
                               "allowed: a queued or running submission")
            row.state = "cancelled"
            session.execute(update(JobRow).where(JobRow.submission_id == row.id, JobRow.state.in_(("queued", "leased")))
                            .values(state="cancelled", lease=None, finished_at=utcnow()))
        return self.submission(who, submission_id)

    def job(self, who: Principal, job_id: int) -> dict[str, Any]:
        with Session(self.reader) as session:
            job = session.get(JobRow, job_id)
            if job is None:
                raise NotFound(f"invalid job: {job_id}; allowed: a job of your own submissions")
            if who.scope == "station":
                if job.station_id != who.station_id:
                    raise NotFound(f"invalid job: {job_id}; allowed: a job leased to this station")
            else:
                self._owned(session, who, job.submission_id)
            return job_view(job, describe_jobs(session, [job], self.queue)[job.id])

    # ---- stations --------------------------------------------------------------------------

    def _station(self, session: Session, who: Principal) -> StationRow:
        if who.scope != "station" or who.station_id is None:
            raise Forbidden("invalid token: this needs a station token; allowed: one made with "
                            "`platform admin token add --scope station`")
        station = session.get(StationRow, who.station_id)
        station.last_heartbeat = utcnow()
        return station

    def lease(self, who: Principal) -> dict[str, Any]:
        """The next job for this station with everything needed to run it, or why there is none."""
        with Session(self.engine) as session, session.begin():
            station = self._station(session, who)
            if station.state != "active":
                return {"job": None, "reason": f"station {station.name} is in {station.state}"}
            job = lease_next(session, station, self.queue)
            if job is None:
                return {"job": None, "reason": f"no queued {station.kind} job"}
            submission = session.get(SubmissionRow, job.submission_id)
            bench = session.get(BenchmarkRow, submission.benchmark_id)
            done = session.scalars(select(TrialRow.index).where(TrialRow.job_id == job.id)).all()
            return {"job": {"id": job.id, "lease": job.lease, "task": job.task, "plan": job.plan,
                            "planned": job.planned, "recorded": sorted(done), "endpoint": submission.endpoint,
                            "submission": submission.id, "benchmark": benchmark_view(bench),
                            "lease_seconds": self.queue.lease_seconds, "attempt": job.attempts},
                    "reason": None}

    def _leased(self, session: Session, who: Principal, job_id: int, lease: str) -> JobRow:
        self._station(session, who)
        expire_leases(session)
        job = session.get(JobRow, job_id, with_for_update=True)
        if job is None or job.station_id != who.station_id or job.lease != lease or job.state != "leased":
            state = job.state if job is not None else "absent"
            raise Conflict(f"invalid lease: job {job_id} is not leased to this station under this lease "
                           f"(the job is {state}); allowed: the lease of a job you hold; ask for a new job")
        return job

    def heartbeat(self, who: Principal, job_id: int | None = None, lease: str | None = None) -> dict[str, Any]:
        with Session(self.engine) as session, session.begin():
            if job_id is None or lease is None:
                self._station(session, who)
                return {"ok": True}
            job = self._leased(session, who, job_id, lease)
            now = utcnow()
            job.heartbeat_at = now
            job.lease_expires_at = now + timedelta(seconds=self.queue.lease_seconds)
            return {"ok": True, "lease_expires_at": aware(job.lease_expires_at)}

    def upload_trial(self, who: Principal, job_id: int, lease: str, index: int, key: str, success: bool,
                     progress: float | None = None, steps: int | None = None,
                     failure: str | None = None) -> tuple[dict[str, Any], bool]:
        """Record one trial; (its view, created). A retry with the same key returns the first
        record (created False); another key for a recorded trial is a Conflict."""
        with Session(self.engine) as session:
            existing = session.scalar(select(TrialRow).where(TrialRow.idempotency_key == key))
            if existing is not None:
                if existing.job_id != job_id or existing.index != index:
                    raise Conflict(f"invalid idempotency_key: {key!r} names trial {existing.index} of job "
                                   f"{existing.job_id}; allowed: a key of its own for each trial")
                return trial_view(existing, session.get(JobRow, job_id).task), False
        try:
            with Session(self.engine) as session, session.begin():
                job = self._leased(session, who, job_id, lease)
                if not 0 <= index < job.planned:
                    raise Conflict(f"invalid index: {index}; allowed: 0 to {job.planned - 1} (the job's plan)")
                trial = job.plan["trials"][index]
                row = TrialRow(job_id=job.id, index=index, idempotency_key=key, station_id=who.station_id,
                               lease=lease, factor=trial["factor"], level=trial["level"], success=success,
                               progress=progress, steps=steps, failure=failure, recorded_at=utcnow())
                session.add(row)
                session.flush()
                return trial_view(row, job.task), True
        except IntegrityError:
            with Session(self.engine) as session:  # a concurrent retry with the same key won: theirs
                existing = session.scalar(select(TrialRow).where(TrialRow.idempotency_key == key))
                if existing is not None and existing.job_id == job_id and existing.index == index:
                    return trial_view(existing, session.get(JobRow, job_id).task), False
            raise Conflict(f"invalid index: {index}; allowed: a trial not yet recorded for job {job_id}") from None

    def attach_video(self, who: Principal, job_id: int, lease: str, index: int, name: str) -> None:
        with Session(self.engine) as session, session.begin():
            self._leased(session, who, job_id, lease)
            trial = session.scalar(select(TrialRow).where(TrialRow.job_id == job_id, TrialRow.index == index))
            if trial is None:
                raise NotFound(f"invalid index: {index}; allowed: a recorded trial (upload the result first)")
            trial.video = name

    def finish(self, who: Principal, job_id: int, lease: str, error: str | None = None) -> dict[str, Any]:
        """Close a job: done when every planned trial is recorded; else failed with `error`
        (or, without one, Conflict: trials are missing)."""
        with Session(self.engine) as session, session.begin():
            job = self._leased(session, who, job_id, lease)
            recorded = session.scalar(select(func.count(TrialRow.id)).where(TrialRow.job_id == job.id)) or 0
            if recorded < job.planned and error is None:
                raise Conflict(f"invalid finish: {recorded} of {job.planned} trials recorded; "
                               "allowed: finish after the last trial, or with an error")
            job.state = "done" if recorded == job.planned else "failed"
            job.error, job.lease, job.finished_at = error, None, utcnow()
            session.flush()
            states = set(session.scalars(select(JobRow.state).where(JobRow.submission_id == job.submission_id)))
            submission = session.get(SubmissionRow, job.submission_id)
            if states <= {"done"}:
                submission.state = "done"
            elif "failed" in states and not states & {"queued", "leased"}:
                submission.state = "failed"
            return {"id": job.id, "state": job.state, "recorded": recorded, "planned": job.planned}

    def stations(self) -> list[dict[str, Any]]:
        with Session(self.reader) as session:
            now = utcnow()
            out = []
            for s in session.scalars(select(StationRow).order_by(StationRow.id)):
                beat = aware(s.last_heartbeat)
                online = beat is not None and (now - beat).total_seconds() <= self.queue.online_seconds
                current = session.scalar(select(JobRow).where(JobRow.station_id == s.id, JobRow.state == "leased"))
                done = session.scalar(select(func.count(TrialRow.id)).where(TrialRow.station_id == s.id)) or 0
                queued = session.scalar(select(func.count(JobRow.id)).where(
                    JobRow.state == "queued", JobRow.queue_station_id == s.id)) or 0
                out.append({"name": s.name, "kind": s.kind, "state": s.state, "online": online,
                            "status": s.state if s.state != "active" else ("online" if online else "offline"),
                            "last_heartbeat": beat, "current_job": current.id if current else None,
                            "trials_recorded": done, "queue": queued, "description": s.description})
            return out


def raw_names(raw: dict[str, Any]) -> list[str]:
    return sorted(str(k) for k in raw)


def job_view(job: JobRow, info: dict[str, Any]) -> dict[str, Any]:
    return {"id": job.id, "submission": job.submission_id, "task": job.task, "state": job.state,
            "planned": job.planned, "recorded": info["recorded"], "attempts": job.attempts,
            "station": info["station"], "queue": info["queue"], "position": info["position"], "last_heartbeat": info["last_heartbeat"],
            "estimated_start": info["estimated_start"], "reason": info["reason"], "error": job.error,
            "started_at": aware(job.started_at), "finished_at": aware(job.finished_at)}


def trial_view(row: TrialRow, task: str) -> dict[str, Any]:
    return {"job": row.job_id, "task": task, "index": row.index, "factor": row.factor, "level": row.level,
            "success": row.success, "progress": row.progress, "steps": row.steps, "failure": row.failure,
            "video": row.video, "idempotency_key": row.idempotency_key, "recorded_at": aware(row.recorded_at)}
