"""Open (and migrate) the platform database: a SQLite file by default, PostgreSQL by URL. The
engine settings (WAL, BEGIN IMMEDIATE on SQLite) and the migrator are the trial store's; the
platform has its own migrations and version table, so both may share one database."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from sim2real.errors import Sim2RealError, invalid
from sim2real.protocol.db.store import database_url, make_engine

MIGRATIONS = Path(__file__).parent / "migrations"
MIGRATION_LOCK = 7_227_019  # PostgreSQL advisory lock key of the platform's migrations
VERSION_TABLE = "platform_alembic_version"


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
    engine = raw_engine(database, pool_size, existing=existing)
    try:
        migrate_to(engine, "head")
    except OperationalError as error:
        engine.dispose()
        shown = engine.url.render_as_string(hide_password=True)
        raise Sim2RealError(f"cannot open the platform database {shown}: {str(error.orig).strip()}") from None
    except BaseException:
        engine.dispose()
        raise
    return engine


def raw_engine(database: str | Path, pool_size: int | None = None, *, existing: bool = False) -> Engine:
    """The engine of a platform database as it is (not migrated)."""
    check_database(database, existing=existing)
    return make_engine(database_url(database), pool_size=pool_size)


def reader_for(engine: Engine) -> Engine:
    """An engine for reads only: on SQLite its transactions do not take the write lock (WAL
    readers see the last commit and never wait); elsewhere the engine itself."""
    if engine.dialect.name != "sqlite":
        return engine
    return make_engine(engine.url.render_as_string(hide_password=False), immediate=False)


def _alembic_config():
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def revisions() -> list[str]:
    """The shipped revisions, oldest first."""
    from alembic.script import ScriptDirectory

    return [r.revision for r in reversed(list(ScriptDirectory.from_config(_alembic_config()).walk_revisions()))]


def _revision_of(connection) -> str | None:
    from alembic.migration import MigrationContext

    return MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE}).get_current_revision()


def current_revision(engine: Engine) -> str | None:
    """The database's schema revision (None: no platform tables yet)."""
    with engine.connect() as connection:
        return _revision_of(connection)


def migrate_to(engine: Engine, revision: str = "head") -> tuple[str | None, str]:
    """Upgrade or downgrade the schema to `revision` (a shipped revision, "head" or "base"),
    under a PostgreSQL advisory lock (one migrator at a time); (from, to).

    On SQLite a revision that rebuilds a table (batch mode: SQLite alters little in place) runs
    with foreign keys off, as SQLite's own procedure for schema changes says, and the keys are
    checked before the commit: dropping a table that others reference would otherwise fail."""
    from alembic import command

    shipped = revisions()
    target = {"head": shipped[-1], "base": None}.get(revision, revision)
    if target is not None and target not in shipped:
        raise invalid("revision", revision, ", ".join(["head", "base", *shipped]))
    config = _alembic_config()
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as connection:
        raw = connection.connection.dbapi_connection if sqlite else None
        if raw is not None:
            raw.execute("PRAGMA foreign_keys=OFF")  # outside any transaction, where it takes effect
        try:
            with connection.begin():
                if not sqlite:
                    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
                now = _revision_of(connection)
                order = [None, *shipped]
                if now not in order:
                    raise Sim2RealError(f"the platform database is at revision {now}, which this sim2real does "
                                        f"not know (it ships {', '.join(shipped)}): upgrade sim2real")
                config.attributes["connection"] = connection
                if order.index(target) >= order.index(now):
                    command.upgrade(config, target or "base")
                else:
                    command.downgrade(config, target or "base")
                if raw is not None:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise Sim2RealError(f"the migration to {target} left {len(broken)} rows whose foreign keys "
                                            f"point nowhere (first: {tuple(broken[0])}); nothing was changed")
        finally:
            if raw is not None:
                raw.execute("PRAGMA foreign_keys=ON")
    return now, target
