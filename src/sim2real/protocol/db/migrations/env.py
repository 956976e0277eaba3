"""Alembic environment of the trial database. The store runs it programmatically on open and
hands over its connection (config.attributes['connection']); `alembic -x url=...` works too."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from sim2real.protocol.db.models import Base

config = context.config
connection = config.attributes.get("connection")

if connection is not None:
    context.configure(connection=connection, target_metadata=Base.metadata)
    with context.begin_transaction():
        context.run_migrations()
else:  # from the alembic command line: alembic -c ... -x url=sqlite:///trials.sqlite upgrade head
    url = context.get_x_argument(as_dictionary=True)["url"]
    with create_engine(url).begin() as own:
        context.configure(connection=own, target_metadata=Base.metadata)
        with context.begin_transaction():
            context.run_migrations()
