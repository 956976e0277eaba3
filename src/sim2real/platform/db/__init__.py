"""The platform's database: SQLAlchemy tables and Alembic migrations, run on open."""

from sim2real.platform.db.engine import open_database, reader_for

__all__ = ["open_database", "reader_for"]
