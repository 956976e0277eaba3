"""Tables of the trial database. Outcomes and aborts are append-only (the migration installs
triggers that refuse UPDATE and DELETE): a wrong outcome is superseded by a new row that names
it and gives a reason, so the history of every trial stays readable."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    pass


class PlanRow(Base):
    __tablename__ = "plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    digest: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    task: Mapped[str] = mapped_column(String(64), index=True)
    preset: Mapped[str] = mapped_column(String(64))
    seed: Mapped[int] = mapped_column(Integer)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)  # the whole plan, as its JSON file
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class TrialRow(Base):
    __tablename__ = "trials"
    __table_args__ = (UniqueConstraint("plan_id", "index", name="uq_trial_plan_index"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"), index=True)
    index: Mapped[int] = mapped_column(Integer)
    factor: Mapped[str] = mapped_column(String(32))
    level: Mapped[str] = mapped_column(String(64))
    cell: Mapped[int] = mapped_column(Integer)
    cell_label: Mapped[str] = mapped_column(String(16))
    body: Mapped[dict[str, Any]] = mapped_column(JSON)


class PolicyRow(Base):
    __tablename__ = "policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    spec: Mapped[str | None] = mapped_column(Text, nullable=True)  # as given to --policy
    sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)  # of the file the spec names
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class CampaignPolicyRow(Base):
    """A policy a campaign (a plan in this database) evaluates; `position` is its place in the
    list the console was given (the interleaving order is drawn over that list)."""

    __tablename__ = "campaign_policies"
    __table_args__ = (UniqueConstraint("plan_id", "policy_id", name="uq_campaign_policy"),
                      UniqueConstraint("plan_id", "position", name="uq_campaign_position"))

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"), index=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("policies.id"))
    position: Mapped[int] = mapped_column(Integer)
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class OperatorRow(Base):
    __tablename__ = "operators"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class RunRow(Base):
    """One execution of a policy on the robot for a trial (Start in the console); its video."""

    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    trial_id: Mapped[int] = mapped_column(ForeignKey("trials.id"), index=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("policies.id"))
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("operators.id"), nullable=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    robot_success: Mapped[bool | None] = mapped_column(Boolean, nullable=True)  # a simulated station's verdict
    episode: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)  # EpisodeRecord.as_dict()
    record_dir: Mapped[str | None] = mapped_column(Text, nullable=True)
    video_path: Mapped[str | None] = mapped_column(Text, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)


class OutcomeRow(Base):
    """A recorded result. Revision 0 is the first; revision n + 1 supersedes revision n."""

    __tablename__ = "outcomes"
    __table_args__ = (
        UniqueConstraint("trial_id", "policy_id", "revision", name="uq_outcome_revision"),
        CheckConstraint("(revision = 0) = (supersedes_id IS NULL)", name="ck_outcome_supersedes"),
        CheckConstraint("supersedes_id IS NULL OR reason IS NOT NULL", name="ck_outcome_reason"),
        CheckConstraint("progress IS NULL OR (progress >= 0 AND progress <= 1)", name="ck_outcome_progress"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    trial_id: Mapped[int] = mapped_column(ForeignKey("trials.id"), index=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("policies.id"))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id"), nullable=True)
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("operators.id"), nullable=True)
    success: Mapped[bool] = mapped_column(Boolean)
    progress: Mapped[float | None] = mapped_column(Float, nullable=True)
    notes: Mapped[str] = mapped_column(Text, default="")
    revision: Mapped[int] = mapped_column(Integer, default=0)
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("outcomes.id"), nullable=True, unique=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AbortRow(Base):
    """Abort-and-redo: the run did not count (a reset went wrong, a person stepped in); the
    trial stays open and is shown again."""

    __tablename__ = "aborts"

    id: Mapped[int] = mapped_column(primary_key=True)
    trial_id: Mapped[int] = mapped_column(ForeignKey("trials.id"), index=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("policies.id"))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id"), nullable=True)
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("operators.id"), nullable=True)
    reason: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
