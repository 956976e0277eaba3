"""Alembic environment of the platform database. `open_database` runs it programmatically and
hands over its connection; the version table is the platform's own, so the platform may share
one PostgreSQL database with a protocol trial store."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from sim2real.platform.db.models import Base

VERSION_TABLE = "platform_alembic_version"
config = context.config
connection = config.attributes.get("connection")

if connection is not None:
    context.configure(connection=connection, target_metadata=Base.metadata, version_table=VERSION_TABLE)
    with context.begin_transaction():
        context.run_migrations()
else:  # alembic -c ... -x url=sqlite:///platform.sqlite upgrade head
    url = context.get_x_argument(as_dictionary=True)["url"]
    with create_engine(url).begin() as own:
        context.configure(connection=own, target_metadata=Base.metadata, version_table=VERSION_TABLE)
        with context.begin_transaction():
            context.run_migrations()
