"""The first platform schema: users, hashed scoped tokens, stations, benchmarks, submissions,
jobs (with leases and heartbeats) and trials (unique per job and index, and per idempotency key).

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _when(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "platform_users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("is_admin", sa.Boolean, nullable=False),
        sa.Column("submissions_per_day", sa.Integer, nullable=False),
        sa.Column("concurrent_jobs", sa.Integer, nullable=False),
        _when("created_at"),
    )
    op.create_table(
        "platform_stations",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        _when("last_heartbeat", nullable=True),
        _when("created_at"),
    )
    op.create_table(
        "platform_tokens",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("digest", sa.String(64), nullable=False, unique=True),
        sa.Column("scope", sa.String(8), nullable=False),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("platform_users.id"), nullable=True, index=True),
        sa.Column("station_id", sa.Integer, sa.ForeignKey("platform_stations.id"), nullable=True),
        sa.Column("label", sa.String(100), nullable=False),
        sa.Column("revoked", sa.Boolean, nullable=False),
        _when("created_at"),
    )
    op.create_table(
        "platform_benchmarks",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("tasks", sa.JSON, nullable=False),
        sa.Column("preset", sa.String(64), nullable=False),
        sa.Column("preset_body", sa.JSON, nullable=False),
        sa.Column("seed", sa.Integer, nullable=False),
        sa.Column("station_kind", sa.String(8), nullable=False),
        sa.Column("cameras", sa.JSON, nullable=False),
        sa.Column("image_size", sa.JSON, nullable=False),
        sa.Column("max_chunk", sa.Integer, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        _when("created_at"),
    )
    op.create_table(
        "platform_submissions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("platform_users.id"), nullable=False, index=True),
        sa.Column("benchmark_id", sa.Integer, sa.ForeignKey("platform_benchmarks.id"), nullable=False, index=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("endpoint", sa.Text, nullable=False),
        sa.Column("metadata", sa.JSON, nullable=False),
        sa.Column("public", sa.Boolean, nullable=False),
        sa.Column("baseline", sa.Boolean, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        _when("created_at"),
    )
    op.create_index("ix_platform_submissions_created_at", "platform_submissions", ["created_at"])
    op.create_table(
        "platform_jobs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("submission_id", sa.Integer, sa.ForeignKey("platform_submissions.id"), nullable=False, index=True),
        sa.Column("task", sa.String(64), nullable=False),
        sa.Column("station_kind", sa.String(8), nullable=False, index=True),
        sa.Column("plan", sa.JSON, nullable=False),
        sa.Column("planned", sa.Integer, nullable=False),
        sa.Column("state", sa.String(16), nullable=False, index=True),
        sa.Column("station_id", sa.Integer, sa.ForeignKey("platform_stations.id"), nullable=True),
        sa.Column("lease", sa.String(64), nullable=True),
        _when("lease_expires_at", nullable=True),
        _when("heartbeat_at", nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("error", sa.Text, nullable=True),
        _when("created_at"),
        _when("started_at", nullable=True),
        _when("finished_at", nullable=True),
    )
    op.create_table(
        "platform_trials",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("job_id", sa.Integer, sa.ForeignKey("platform_jobs.id"), nullable=False, index=True),
        sa.Column("index", sa.Integer, nullable=False),
        sa.Column("idempotency_key", sa.String(100), nullable=False, unique=True),
        sa.Column("station_id", sa.Integer, sa.ForeignKey("platform_stations.id"), nullable=False),
        sa.Column("lease", sa.String(64), nullable=False),
        sa.Column("factor", sa.String(32), nullable=False),
        sa.Column("level", sa.String(64), nullable=False),
        sa.Column("success", sa.Boolean, nullable=False),
        sa.Column("progress", sa.Float, nullable=True),
        sa.Column("steps", sa.Integer, nullable=True),
        sa.Column("failure", sa.Text, nullable=True),
        sa.Column("video", sa.Text, nullable=True),
        _when("recorded_at"),
        sa.UniqueConstraint("job_id", "index", name="uq_platform_trial_job_index"),
    )


def downgrade() -> None:
    for table in ("platform_trials", "platform_jobs", "platform_submissions", "platform_benchmarks",
                  "platform_tokens", "platform_stations", "platform_users"):
        op.drop_table(table)
