"""Policies as records of their campaign: each policy's checkpoint checksum (`policies.sha256`,
the file's sha256 when its spec names a file), and the policies each campaign (plan) evaluates,
in the order the console was given them (`campaign_policies`).

Data step: a 0001 database's campaigns get the policies that have outcomes, runs or aborts on
their trials, in the order the policies were first registered; their checksums stay unknown
(NULL: the file was not hashed when it ran), and the console fills one in when the policy is
started again with the same spec.

Revision ID: 0002
Revises: 0001
"""

from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("policies", sa.Column("sha256", sa.String(64), nullable=True))
    op.create_table(
        "campaign_policies",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("plan_id", sa.Integer, sa.ForeignKey("plans.id"), nullable=False, index=True),
        sa.Column("policy_id", sa.Integer, sa.ForeignKey("policies.id"), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("plan_id", "policy_id", name="uq_campaign_policy"),
        sa.UniqueConstraint("plan_id", "position", name="uq_campaign_position"),
    )
    _link_recorded_policies()


def _link_recorded_policies() -> None:
    connection = op.get_bind()
    used = " UNION ".join(f"SELECT t.plan_id, e.policy_id FROM {events} e JOIN trials t ON e.trial_id = t.id"
                          for events in ("outcomes", "runs", "aborts"))
    pairs = connection.execute(sa.text(f"SELECT plan_id, policy_id FROM ({used}) AS used ORDER BY 1, 2")).all()
    now = datetime.now(timezone.utc)
    positions: dict[int, int] = {}
    rows = []
    for plan_id, policy_id in pairs:
        positions[plan_id] = positions.get(plan_id, -1) + 1
        rows.append({"plan_id": plan_id, "policy_id": policy_id, "position": positions[plan_id], "added_at": now})
    if rows:
        table = sa.table("campaign_policies", sa.column("plan_id"), sa.column("policy_id"), sa.column("position"),
                         sa.column("added_at", sa.DateTime(timezone=True)))
        connection.execute(table.insert(), rows)


def downgrade() -> None:
    op.drop_table("campaign_policies")
    op.drop_column("policies", "sha256")  # SQLite >= 3.35 drops a plain column in place
