"""Tables of the platform. Tokens are stored as SHA-256 digests of 256-bit random secrets (a
slow password hash buys nothing for secrets that are not guessable); a trial is unique per
(job, index) and per idempotency key, so a retried upload never counts twice."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from sim2real.protocol.db.models import utcnow  # noqa: F401  (the trial store's clock, used from here too)


def aware(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes (stored as UTC); PostgreSQL aware ones."""
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


class Base(DeclarativeBase):
    pass


class UserRow(Base):
    __tablename__ = "platform_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    submissions_per_day: Mapped[int] = mapped_column(Integer, default=10)
    concurrent_jobs: Mapped[int] = mapped_column(Integer, default=4)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class StationRow(Base):
    __tablename__ = "platform_stations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(8))  # sim | real
    state: Mapped[str] = mapped_column(String(16), default="active")  # active | maintenance
    description: Mapped[str] = mapped_column(Text, default="")
    last_heartbeat: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class TokenRow(Base):
    __tablename__ = "platform_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 hex of the secret
    scope: Mapped[str] = mapped_column(String(8))  # user | station | admin
    user_id: Mapped[int | None] = mapped_column(ForeignKey("platform_users.id"), nullable=True, index=True)
    station_id: Mapped[int | None] = mapped_column(ForeignKey("platform_stations.id"), nullable=True)
    label: Mapped[str] = mapped_column(String(100), default="")
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class BenchmarkRow(Base):
    __tablename__ = "platform_benchmarks"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    tasks: Mapped[list[str]] = mapped_column(JSON)
    preset: Mapped[str] = mapped_column(String(64))  # a protocol preset (configs/protocol/)
    preset_body: Mapped[dict[str, Any]] = mapped_column(JSON)  # the preset as loaded at creation
    seed: Mapped[int] = mapped_column(Integer, default=0)
    station_kind: Mapped[str] = mapped_column(String(8))  # sim | real
    # what the stations offer: the submitted server's metadata is checked against it
    cameras: Mapped[list[str]] = mapped_column(JSON)
    image_size: Mapped[list[int]] = mapped_column(JSON)  # width, height
    max_chunk: Mapped[int] = mapped_column(Integer, default=100)
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SubmissionRow(Base):
    __tablename__ = "platform_submissions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("platform_users.id"), index=True)
    benchmark_id: Mapped[int] = mapped_column(ForeignKey("platform_benchmarks.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    endpoint: Mapped[str] = mapped_column(Text)  # ws://host:port of the user's policy server
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", JSON)  # what the server announced
    public: Mapped[bool] = mapped_column(Boolean, default=False)
    # the one station the submitter asked for (its jobs wait in that station's queue only)
    station_id: Mapped[int | None] = mapped_column(ForeignKey("platform_stations.id"), nullable=True)
    baseline: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(16), default="queued")  # queued|running|done|failed|cancelled
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)


class JobRow(Base):
    """One task of a submission, run by one station at a time under a lease."""

    __tablename__ = "platform_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("platform_submissions.id"), index=True)
    task: Mapped[str] = mapped_column(String(64))
    station_kind: Mapped[str] = mapped_column(String(8), index=True)
    plan: Mapped[dict[str, Any]] = mapped_column(JSON)  # the protocol plan the trials follow
    planned: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16), default="queued", index=True)  # queued|leased|done|failed|cancelled
    # the station whose FIFO queue the job is in (None: no active station of its kind existed)
    queue_station_id: Mapped[int | None] = mapped_column(ForeignKey("platform_stations.id"), nullable=True,
                                                         index=True)
    station_id: Mapped[int | None] = mapped_column(ForeignKey("platform_stations.id"), nullable=True)  # the holder
    lease: Mapped[str | None] = mapped_column(String(64), nullable=True)  # the current lease's id
    lease_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # leases handed out so far
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class TrialRow(Base):
    __tablename__ = "platform_trials"
    __table_args__ = (UniqueConstraint("job_id", "index", name="uq_platform_trial_job_index"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("platform_jobs.id"), index=True)
    index: Mapped[int] = mapped_column(Integer)  # the plan's trial index
    idempotency_key: Mapped[str] = mapped_column(String(100), unique=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("platform_stations.id"))
    lease: Mapped[str] = mapped_column(String(64))
    factor: Mapped[str] = mapped_column(String(32))
    level: Mapped[str] = mapped_column(String(64))
    success: Mapped[bool] = mapped_column(Boolean)
    progress: Mapped[float | None] = mapped_column(Float, nullable=True)
    steps: Mapped[int | None] = mapped_column(Integer, nullable=True)
    failure: Mapped[str | None] = mapped_column(Text, nullable=True)
    video: Mapped[str | None] = mapped_column(Text, nullable=True)  # file name under the video folder
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
