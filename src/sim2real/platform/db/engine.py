"""Open (and migrate) the platform database: a SQLite file by default, PostgreSQL by URL. The
engine settings (WAL, BEGIN IMMEDIATE on SQLite) and the migrator are the trial store's; the
platform has its own migrations and version table, so both may share one database."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from sim2real.errors import Sim2RealError, invalid
from sim2real.protocol.db.store import database_url, make_engine, migrate

MIGRATIONS = Path(__file__).parent / "migrations"
MIGRATION_LOCK = 7_227_019  # PostgreSQL advisory lock key of the platform's migrations


def check_database(database: str | Path, *, existing: bool = False) -> None:
    """Refuse a database that cannot be one before anything is created: a SQLite path that is
    a folder or lies below a file, or (`existing`) a SQLite file that is not there yet."""
    text = str(database)
    if "://" in text:
        database_url(text)  # refuses an unknown scheme; creates nothing for a URL
        if not text.startswith("sqlite:///"):
            return
        text = text.removeprefix("sqlite:///")
    path = Path(text).expanduser()
    if path.is_dir():
        raise invalid("db", text, "a SQLite file path (this is a folder) or postgresql://USER@HOST:PORT/NAME")
    if any(parent.is_file() for parent in path.parents):
        raise invalid("db", text, "a SQLite file path whose folders are folders (a file is in the way)")
    if existing and not path.exists():
        raise invalid("db", text, "an existing platform database (create one with `sim2real platform admin "
                      "user|station|benchmark`)")


def open_database(database: str | Path, pool_size: int | None = None, *, existing: bool = False) -> Engine:
    """The migrated engine of a platform database (a file path or a sqlite:// / postgresql:// URL);
    `existing`: refuse a SQLite file that is not there rather than create it."""
    check_database(database, existing=existing)
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
