"""The trial database: SQLAlchemy models, Alembic migrations (run on open) and the store the
console and the report use. SQLite (one file per campaign) by default, PostgreSQL by URL."""

from sim2real.protocol.db.store import AlreadyRecorded, TrialStore, database_url, open_store

__all__ = ["AlreadyRecorded", "TrialStore", "database_url", "open_store"]
