"""Open (and migrate) the platform database: a SQLite file by default, PostgreSQL by URL. The
engine settings (WAL, BEGIN IMMEDIATE on SQLite) and the migrator are the trial store's; the
platform has its own migrations and version table, so both may share one database."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from sim2real.errors import Sim2RealError
from sim2real.protocol.db.store import database_url, make_engine, migrate

MIGRATIONS = Path(__file__).parent / "migrations"
MIGRATION_LOCK = 7_227_019  # PostgreSQL advisory lock key of the platform's migrations


def open_database(database: str | Path, pool_size: int | None = None) -> Engine:
    """The migrated engine of a platform database (a file path or a sqlite:// / postgresql:// URL)."""
    url = database_url(database)
    engine = make_engine(url, pool_size=pool_size)
    try:
        migrate(engine, MIGRATIONS, MIGRATION_LOCK)
    except OperationalError as error:
        engine.dispose()
        shown = make_url(url).render_as_string(hide_password=True)
        raise Sim2RealError(f"cannot open the platform database {shown}: {str(error.orig).strip()}") from None
    return engine


def reader_for(engine: Engine) -> Engine:
    """An engine for reads only: on SQLite its transactions do not take the write lock (WAL
    readers see the last commit and never wait); elsewhere the engine itself."""
    if engine.dialect.name != "sqlite":
        return engine
    return make_engine(engine.url.render_as_string(hide_password=False), immediate=False)
