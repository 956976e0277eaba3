"""The trial store: opens (and migrates) a database, registers plans, hands out the next
unrecorded trial and commits outcomes. Every write is its own committed transaction, so a
killed console loses at most the trial that was on the screen, never a recorded one.

An outcome is written once per (trial, policy, revision): a second "first" outcome for the same
trial and policy (a double click, a second browser tab) fails on the database's unique key and
is reported as AlreadyRecorded rather than counted twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from sim2real.errors import Sim2RealError, invalid
from sim2real.protocol.db.models import (AbortRow, CampaignPolicyRow, OperatorRow, OutcomeRow, PlanRow, PolicyRow, RunRow,
                                         TrialRow, utcnow)
from sim2real.protocol.plan import Plan
from sim2real.protocol.records import PolicyRecord, Slot, TrialOutcome

MIGRATIONS = Path(__file__).parent / "migrations"
_MIGRATION_LOCK = 7_227_001  # PostgreSQL advisory lock key: one migrator at a time


class AlreadyRecorded(Sim2RealError):
    """This trial already has an outcome for this policy; supersede it to change it."""


def database_url(value: str | Path) -> str:
    """A SQLAlchemy URL from a file path (SQLite) or a sqlite:// / postgresql:// URL."""
    text_value = str(value)
    if "://" not in text_value:
        path = Path(text_value).expanduser().resolve()
        path.parent.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{path}"
    scheme = text_value.split("://", 1)[0]
    if scheme in ("postgresql", "postgres", "postgresql+psycopg"):
        return "postgresql+psycopg://" + text_value.split("://", 1)[1]
    if scheme == "sqlite":
        return text_value
    raise Sim2RealError(f"invalid database: {text_value!r}; allowed: a file path (SQLite), "
                        "sqlite:///PATH or postgresql://USER@HOST:PORT/NAME")


def make_engine(url: str, pool_size: int | None = None, immediate: bool = True) -> Engine:
    """An engine for a database URL (SQLite: WAL, writers serialised by BEGIN IMMEDIATE;
    `immediate=False` for an engine that only reads, whose readers then never wait)."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_connect(connection, _record) -> None:
            # Let SQLAlchemy, not the sqlite3 module, open transactions (BEGIN IMMEDIATE below),
            # so that reading the next trial and writing its outcome never interleave with
            # another writer; WAL + synchronous=FULL: a commit is on disk when it returns.
            connection.isolation_level = None
            cursor = connection.cursor()
            for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON", "busy_timeout=30000"):
                cursor.execute(f"PRAGMA {pragma}")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(connection) -> None:
            connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    pool = {"pool_size": pool_size, "max_overflow": pool_size} if pool_size else {}
    return create_engine(url, pool_pre_ping=True, **pool)


def migrate(engine: Engine, migrations: Path = MIGRATIONS, lock: int = _MIGRATION_LOCK,
            revision: str = "head") -> None:
    """Upgrade the schema to `revision`, by default the newest shipped with the package
    (`migrations`: an Alembic script folder; `lock`: its PostgreSQL advisory lock key, one
    migrator at a time)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(migrations))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock})
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def open_store(database: str | Path) -> TrialStore:
    url = database_url(database)
    engine = make_engine(url)
    try:
        migrate(engine)
    except OperationalError as error:
        engine.dispose()
        shown = make_url(url).render_as_string(hide_password=True)
        raise Sim2RealError(f"cannot open the trial database {shown}: {str(error.orig).strip()}") from None
    return TrialStore(engine)


@dataclass(frozen=True)
class PlanRef:
    id: int
    digest: str


class TrialStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @property
    def url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> TrialStore:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # ---- plans, policies, operators -------------------------------------------------------

    def register_plan(self, plan: Plan) -> PlanRef:
        """Store a plan and its trials once (by digest); later calls return the same row."""
        with Session(self.engine) as session, session.begin():
            row = session.scalar(select(PlanRow).where(PlanRow.digest == plan.digest))
            if row is None:
                row = PlanRow(digest=plan.digest, name=plan.name, task=plan.task, preset=plan.preset.name,
                              seed=plan.seed, body=plan.model_dump(mode="json"))
                session.add(row)
                session.flush()
                session.add_all(
                    TrialRow(plan_id=row.id, index=t.index, factor=t.factor, level=t.level, cell=t.cell,
                             cell_label=t.cell_label, body=t.model_dump(mode="json"))
                    for t in plan.trials
                )
            return PlanRef(row.id, row.digest)

    def plans(self) -> list[dict[str, Any]]:
        with Session(self.engine) as session:
            rows = session.scalars(select(PlanRow).order_by(PlanRow.id))
            return [{"digest": r.digest, "name": r.name, "task": r.task, "preset": r.preset, "seed": r.seed}
                    for r in rows]

    def load_plan(self, digest: str) -> Plan:
        with Session(self.engine) as session:
            row = session.scalar(select(PlanRow).where(PlanRow.digest == digest))
            if row is None:
                raise Sim2RealError(f"no plan {digest!r} in {self.url}")
            return Plan.model_validate(row.body)

    def _named(self, session: Session, table: type, name: str, **extra: Any) -> int:
        row = session.scalar(select(table).where(table.name == name))
        if row is None:
            row = table(name=name, **extra)
            session.add(row)
            session.flush()
        return row.id

    def ensure_policy(self, name: str, spec: str | None = None) -> int:
        return self._ensure(PolicyRow, name, spec=spec)

    def register_campaign(self, plan: Plan, policies: Sequence[PolicyRecord]) -> list[PolicyRecord]:
        """Record that `plan`'s campaign evaluates `policies` (registering the plan too): each
        policy once by name with its spec and checksum, linked to the plan in the order given
        (a policy new to the campaign goes after those already in it). A name already recorded
        for another checkpoint (another sha256; for a spec without a file, another spec) is
        refused: its outcomes would pool two policies. Returns the campaign's policies."""
        self.register_plan(plan)
        for attempt in range(2):  # a concurrent console may create the same rows first
            try:
                with Session(self.engine) as session, session.begin():
                    plan_id = session.scalar(select(PlanRow.id).where(PlanRow.digest == plan.digest))
                    linked = set(session.scalars(select(CampaignPolicyRow.policy_id)
                                                 .where(CampaignPolicyRow.plan_id == plan_id)))
                    for policy in policies:
                        row = self._policy_row(session, policy)
                        if row.id not in linked:
                            session.add(CampaignPolicyRow(plan_id=plan_id, policy_id=row.id,
                                                          position=len(linked), added_at=utcnow()))
                            session.flush()
                            linked.add(row.id)
                break
            except IntegrityError:
                if attempt:
                    raise Sim2RealError(f"could not register the policies of plan {plan.digest} "
                                        f"in {self.url}") from None
        return self.policies(plan.digest)

    def _policy_row(self, session: Session, policy: PolicyRecord) -> PolicyRow:
        row = session.scalar(select(PolicyRow).where(PolicyRow.name == policy.name))
        if row is None:
            row = PolicyRow(name=policy.name, spec=policy.spec, sha256=policy.sha256, created_at=utcnow())
            session.add(row)
            session.flush()
            return row
        if row.sha256 and policy.sha256:
            same = row.sha256 == policy.sha256  # the same file, wherever it lies now
        else:
            same = row.spec is None or row.spec == policy.spec
        if not same:
            was = f"{row.spec}" + (f" (sha256 {row.sha256[:12]})" if row.sha256 else "")
            now = f"{policy.spec}" + (f" (sha256 {policy.sha256[:12]})" if policy.sha256 else "")
            raise invalid("policy", f"{policy.name}={policy.spec}",
                          f"another name (NAME=SPEC): {policy.name!r} in {self.url} is {was}, not {now}")
        if row.spec is None or (row.sha256 is None and policy.sha256):  # imported by name, or hashed first now
            row.spec, row.sha256 = policy.spec, policy.sha256
        return row

    def policies(self, plan_digest: str | None = None) -> list[PolicyRecord]:
        """The policies of a campaign (or of every campaign), in campaign order, then those that
        only have outcomes (imported by name) in first-registered order."""
        with Session(self.engine) as session:
            linked = (select(PolicyRow).join(CampaignPolicyRow, CampaignPolicyRow.policy_id == PolicyRow.id)
                      .join(PlanRow, CampaignPolicyRow.plan_id == PlanRow.id)
                      .order_by(PlanRow.id, CampaignPolicyRow.position))
            used = (select(OutcomeRow.policy_id).join(TrialRow, OutcomeRow.trial_id == TrialRow.id)
                    .join(PlanRow, TrialRow.plan_id == PlanRow.id))
            if plan_digest is not None:
                linked = linked.where(PlanRow.digest == plan_digest)
                used = used.where(PlanRow.digest == plan_digest)
            recorded = select(PolicyRow).where(PolicyRow.id.in_(used)).order_by(PolicyRow.id)
            rows = dict.fromkeys([*session.scalars(linked), *session.scalars(recorded)])
            return [PolicyRecord(r.name, r.spec, r.sha256) for r in rows]

    def ensure_operator(self, name: str) -> int:
        return self._ensure(OperatorRow, name)

    def _ensure(self, table: type, name: str, **extra: Any) -> int:
        for _ in range(2):  # a concurrent creator may win the unique name: then read theirs
            try:
                with Session(self.engine) as session, session.begin():
                    return self._named(session, table, name, **extra)
            except IntegrityError:
                continue
        raise Sim2RealError(f"could not register {table.__tablename__} {name!r}")

    # ---- progress ------------------------------------------------------------------------

    def slots(self, plan: Plan, policies: Sequence[str]) -> list[Slot]:
        """The campaign's order: trial by trial, each trial's policies in the plan's pair order."""
        out = []
        for trial in plan.trials:
            for i in plan.policy_order(trial.index, len(policies)):
                out.append(Slot(trial=trial.index, policy=policies[i], position=len(out)))
        return out

    def recorded(self, plan: Plan) -> dict[tuple[int, str], OutcomeRow]:
        """The current outcome of every recorded (trial, policy) of a plan."""
        with Session(self.engine) as session:
            rows = session.execute(
                select(OutcomeRow, TrialRow.index, PolicyRow.name)
                .join(TrialRow, OutcomeRow.trial_id == TrialRow.id)
                .join(PlanRow, TrialRow.plan_id == PlanRow.id)
                .join(PolicyRow, OutcomeRow.policy_id == PolicyRow.id)
                .where(PlanRow.digest == plan.digest)
            ).all()
            current: dict[tuple[int, str], OutcomeRow] = {}
            for outcome, index, policy in rows:
                key = (index, policy)
                if key not in current or outcome.revision > current[key].revision:
                    current[key] = outcome
                session.expunge(outcome)
            return current

    def next_slot(self, plan: Plan, policies: Sequence[str]) -> Slot | None:
        """The first slot in campaign order without an outcome (None when all are recorded)."""
        done = self.recorded(plan)
        return next((s for s in self.slots(plan, policies) if (s.trial, s.policy) not in done), None)

    # ---- runs, outcomes, aborts ------------------------------------------------------------

    def _trial_id(self, session: Session, plan: Plan, index: int) -> int:
        trial_id = session.scalar(
            select(TrialRow.id).join(PlanRow).where(PlanRow.digest == plan.digest, TrialRow.index == index))
        if trial_id is None:
            raise Sim2RealError(f"plan {plan.digest} has no trial {index} in {self.url}; register the plan first")
        return trial_id

    def _ids(self, session: Session, plan: Plan, index: int, policy: str, operator: str | None):
        trial_id = self._trial_id(session, plan, index)
        policy_id = self._named(session, PolicyRow, policy)
        operator_id = self._named(session, OperatorRow, operator) if operator else None
        return trial_id, policy_id, operator_id

    def start_run(self, plan: Plan, index: int, policy: str, operator: str | None = None) -> int:
        with Session(self.engine) as session, session.begin():
            trial_id, policy_id, operator_id = self._ids(session, plan, index, policy, operator)
            run = RunRow(trial_id=trial_id, policy_id=policy_id, operator_id=operator_id, started_at=utcnow())
            session.add(run)
            session.flush()
            return run.id

    def finish_run(self, run_id: int, *, robot_success: bool | None = None, episode: dict | None = None,
                   record_dir: str | None = None, video_path: str | None = None, error: str | None = None) -> None:
        with Session(self.engine) as session, session.begin():
            run = session.get(RunRow, run_id)
            run.finished_at, run.robot_success, run.episode = utcnow(), robot_success, episode
            run.record_dir, run.video_path, run.error = record_dir, video_path, error

    def run(self, run_id: int) -> dict[str, Any] | None:
        with Session(self.engine) as session:
            run = session.get(RunRow, run_id)
            if run is None:
                return None
            return {"id": run.id, "started_at": run.started_at, "finished_at": run.finished_at,
                    "robot_success": run.robot_success, "video_path": run.video_path,
                    "record_dir": run.record_dir, "error": run.error, "episode": run.episode}

    def record(self, plan: Plan, index: int, policy: str, success: bool, *, progress: float | None = None,
               notes: str = "", operator: str | None = None, run_id: int | None = None) -> int:
        """Commit the first outcome of (trial, policy); AlreadyRecorded if one exists."""
        _check_progress(progress)
        try:
            with Session(self.engine) as session, session.begin():
                trial_id, policy_id, operator_id = self._ids(session, plan, index, policy, operator)
                row = OutcomeRow(trial_id=trial_id, policy_id=policy_id, run_id=run_id, operator_id=operator_id,
                                 success=success, progress=progress, notes=notes, revision=0, recorded_at=utcnow())
                session.add(row)
                session.flush()
                return row.id
        except IntegrityError:
            raise AlreadyRecorded(f"trial {index + 1} already has an outcome for policy {policy!r}; "
                                  "supersede it (with a reason) to change it") from None

    def supersede(self, outcome_id: int, success: bool, reason: str, *, progress: float | None = None,
                  notes: str = "", operator: str | None = None) -> int:
        """Record a corrected outcome that replaces `outcome_id` (which stays in the history)."""
        if not reason.strip():
            raise Sim2RealError("invalid reason: ''; allowed: why the outcome is corrected (required)")
        _check_progress(progress)
        try:
            with Session(self.engine) as session, session.begin():
                old = session.get(OutcomeRow, outcome_id)
                if old is None:
                    raise Sim2RealError(f"invalid outcome: {outcome_id}; allowed: an id in {self.url}")
                operator_id = self._named(session, OperatorRow, operator) if operator else None
                row = OutcomeRow(trial_id=old.trial_id, policy_id=old.policy_id, run_id=old.run_id,
                                 operator_id=operator_id, success=success, progress=progress, notes=notes,
                                 revision=old.revision + 1, supersedes_id=old.id, reason=reason.strip(),
                                 recorded_at=utcnow())
                session.add(row)
                session.flush()
                return row.id
        except IntegrityError:
            raise AlreadyRecorded(f"outcome {outcome_id} was already superseded; correct the newest one") from None

    def abort(self, plan: Plan, index: int, policy: str, reason: str, *, operator: str | None = None,
              run_id: int | None = None) -> int:
        with Session(self.engine) as session, session.begin():
            trial_id, policy_id, operator_id = self._ids(session, plan, index, policy, operator)
            row = AbortRow(trial_id=trial_id, policy_id=policy_id, run_id=run_id, operator_id=operator_id,
                           reason=reason.strip() or "aborted", recorded_at=utcnow())
            session.add(row)
            session.flush()
            return row.id

    def import_outcomes(self, plan: Plan, policy: str, results: Iterable[tuple[int, bool]],
                        operator: str | None = None) -> int:
        """Record many first outcomes in one transaction (results kept elsewhere, e.g. a
        spreadsheet or a paper's table); all or nothing."""
        try:
            with Session(self.engine) as session, session.begin():
                ids = dict(session.execute(
                    select(TrialRow.index, TrialRow.id).join(PlanRow).where(PlanRow.digest == plan.digest)).all())
                policy_id = self._named(session, PolicyRow, policy)
                operator_id = self._named(session, OperatorRow, operator) if operator else None
                now = utcnow()
                rows = [{"trial_id": ids[i], "policy_id": policy_id, "operator_id": operator_id, "success": bool(s),
                         "notes": "", "revision": 0, "recorded_at": now} for i, s in results]
                if rows:
                    session.connection().execute(OutcomeRow.__table__.insert(), rows)  # Core: no ORM overhead
                return len(rows)
        except IntegrityError:
            raise AlreadyRecorded(f"some trials already have outcomes for policy {policy!r}") from None

    # ---- reading back --------------------------------------------------------------------

    def outcomes(self, plan_digest: str | None = None) -> list[TrialOutcome]:
        """The current outcome of every recorded trial (superseded ones left out)."""
        with Session(self.engine) as session:
            query = (
                select(PlanRow.task, PlanRow.digest, TrialRow.index, TrialRow.factor, TrialRow.level,
                       PolicyRow.name, OutcomeRow.success, OutcomeRow.progress, OutcomeRow.revision,
                       OperatorRow.name, RunRow.video_path)
                .join(TrialRow, OutcomeRow.trial_id == TrialRow.id)
                .join(PlanRow, TrialRow.plan_id == PlanRow.id)
                .join(PolicyRow, OutcomeRow.policy_id == PolicyRow.id)
                .outerjoin(OperatorRow, OutcomeRow.operator_id == OperatorRow.id)
                .outerjoin(RunRow, OutcomeRow.run_id == RunRow.id)
                .order_by(PlanRow.id, TrialRow.index, OutcomeRow.revision)
            )
            if plan_digest is not None:
                query = query.where(PlanRow.digest == plan_digest)
            current: dict[tuple[str, int, str], TrialOutcome] = {}
            for task, digest, index, factor, level, policy, success, progress, revision, operator, video \
                    in session.execute(query):
                current[(digest, index, policy)] = TrialOutcome(
                    task=task, plan=digest, trial=index, factor=factor, level=level, policy=policy,
                    success=success, progress=progress, revision=revision, operator=operator, video=video)
            return list(current.values())

    def history(self, plan: Plan, index: int) -> list[dict[str, Any]]:
        """Everything recorded about one trial, oldest first: outcomes (with what they
        superseded), aborts and runs."""
        with Session(self.engine) as session:
            trial_id = self._trial_id(session, plan, index)
            events: list[dict[str, Any]] = []
            for row, policy, operator in session.execute(
                    select(OutcomeRow, PolicyRow.name, OperatorRow.name).join(PolicyRow)
                    .outerjoin(OperatorRow, OutcomeRow.operator_id == OperatorRow.id)
                    .where(OutcomeRow.trial_id == trial_id)):
                events.append({"kind": "outcome", "id": row.id, "policy": policy, "operator": operator,
                               "success": row.success, "progress": row.progress, "notes": row.notes,
                               "revision": row.revision, "supersedes": row.supersedes_id, "reason": row.reason,
                               "at": row.recorded_at, "run": row.run_id})
            for row, policy, operator in session.execute(
                    select(AbortRow, PolicyRow.name, OperatorRow.name).join(PolicyRow)
                    .outerjoin(OperatorRow, AbortRow.operator_id == OperatorRow.id)
                    .where(AbortRow.trial_id == trial_id)):
                events.append({"kind": "abort", "id": row.id, "policy": policy, "operator": operator,
                               "reason": row.reason, "at": row.recorded_at, "run": row.run_id})
            for row, policy in session.execute(
                    select(RunRow, PolicyRow.name).join(PolicyRow).where(RunRow.trial_id == trial_id)):
                events.append({"kind": "run", "id": row.id, "policy": policy, "at": row.started_at,
                               "finished": row.finished_at, "robot_success": row.robot_success,
                               "video": row.video_path, "error": row.error})
            return sorted(events, key=lambda e: (_aware(e["at"]), e["kind"]))

    def counts(self) -> dict[str, int]:
        with Session(self.engine) as session:
            return {table: session.scalar(text(f"SELECT COUNT(*) FROM {table}"))
                    for table in ("plans", "trials", "policies", "campaign_policies", "operators", "runs", "outcomes",
                          "aborts")}


def _aware(moment):
    # SQLite hands back naive datetimes (stored as UTC); PostgreSQL aware ones
    from datetime import timezone

    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _check_progress(progress: float | None) -> None:
    if progress is not None and not 0.0 <= progress <= 1.0:
        raise Sim2RealError(f"invalid progress: {progress!r}; allowed: a fraction from 0 to 1, or empty")
