"""Per-station queues: every job waits in one station's FIFO queue (`queue_station_id`), and a
submission may ask for one station (`station_id`: its jobs wait for that station only).

Jobs that a station holds or ran are put in that station's queue; queued jobs of a 0001
database wait in no station's queue, which any station of their kind serves.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # batch mode: SQLite adds a foreign key only by copying the table
    with op.batch_alter_table("platform_jobs") as jobs:
        jobs.add_column(sa.Column("queue_station_id", sa.Integer, nullable=True))
        jobs.create_foreign_key("fk_platform_jobs_queue_station", "platform_stations", ["queue_station_id"], ["id"])
        jobs.create_index("ix_platform_jobs_queue_station_id", ["queue_station_id"])
    with op.batch_alter_table("platform_submissions") as submissions:
        submissions.add_column(sa.Column("station_id", sa.Integer, nullable=True))
        submissions.create_foreign_key("fk_platform_submissions_station", "platform_stations", ["station_id"], ["id"])
    op.execute("UPDATE platform_jobs SET queue_station_id = station_id WHERE station_id IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table("platform_submissions") as submissions:
        submissions.drop_constraint("fk_platform_submissions_station", type_="foreignkey")
        submissions.drop_column("station_id")
    with op.batch_alter_table("platform_jobs") as jobs:
        jobs.drop_index("ix_platform_jobs_queue_station_id")
        jobs.drop_constraint("fk_platform_jobs_queue_station", type_="foreignkey")
        jobs.drop_column("queue_station_id")
