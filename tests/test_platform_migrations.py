"""The platform's Alembic migrations on SQLite and on a real PostgreSQL: an empty database
upgraded to head has exactly the tables the models declare; a database of the previous
revision, holding users, stations, a benchmark, a submission, a job a station holds, a queued
job and a trial, is upgraded to head with every row kept (and the held job put in its station's
queue), works with the new scheduling, and is downgraded again with every row of the old
columns kept."""

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import MetaData, func, inspect, select

from sim2real.platform.auth import Principal
from sim2real.platform.db.engine import current_revision, migrate_to, open_database, raw_engine, revisions
from sim2real.platform.queue import QueueSettings
from sim2real.platform.service import Platform


def test_an_empty_database_upgraded_to_head_matches_the_models(database):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from sim2real.platform.db.models import Base

    engine = open_database(database)
    open_database(database).dispose()  # a second open finds it at head and changes nothing
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"version_table": "platform_alembic_version"})
        assert context.get_current_revision() == revisions()[-1] == "0002"
        diff = [d for d in compare_metadata(context, Base.metadata)
                if not (isinstance(d, tuple) and d[0] == "remove_table")]  # a shared database's other tables
    engine.dispose()
    assert diff == []


def _fill_revision_0001(engine) -> None:
    """Rows as a 0001 platform wrote them (its columns only, through the reflected tables)."""
    tables = MetaData()
    tables.reflect(engine)
    now = datetime.now(timezone.utc)
    plan = {"trials": [{"index": i, "factor": "base", "level": "clean", "seed": i} for i in range(3)]}
    rows = [
        ("platform_users", {"id": 1, "name": "alice", "is_admin": False, "submissions_per_day": 10,
                            "concurrent_jobs": 4, "created_at": now}),
        *[("platform_stations", {"id": i, "name": f"sim-{i}", "kind": "sim", "state": "active", "description": "",
                                 "last_heartbeat": now, "created_at": now}) for i in (1, 2)],
        ("platform_benchmarks", {"id": 1, "name": "tiny", "tasks": ["click_bell", "place_empty_cup"],
                                 "preset": "smoke", "preset_body": {}, "seed": 0, "station_kind": "sim",
                                 "cameras": ["head"], "image_size": [32, 32], "max_chunk": 100,
                                 "description": "", "created_at": now}),
        ("platform_submissions", {"id": 1, "user_id": 1, "benchmark_id": 1, "name": "old", "endpoint": "ws://h:1",
                                  "metadata": {"name": "old"}, "public": True, "baseline": False,
                                  "state": "running", "created_at": now}),
        ("platform_jobs", {"id": 1, "submission_id": 1, "task": "click_bell", "station_kind": "sim", "plan": plan,
                           "planned": 3, "state": "leased", "station_id": 2, "lease": "ab" * 16,
                           "lease_expires_at": now + timedelta(minutes=5), "heartbeat_at": now, "attempts": 1,
                           "error": None, "created_at": now, "started_at": now, "finished_at": None}),
        ("platform_jobs", {"id": 2, "submission_id": 1, "task": "place_empty_cup", "station_kind": "sim",
                           "plan": plan, "planned": 3, "state": "queued", "station_id": None, "lease": None,
                           "lease_expires_at": None, "heartbeat_at": None, "attempts": 0, "error": None,
                           "created_at": now, "started_at": None, "finished_at": None}),
        ("platform_trials", {"id": 1, "job_id": 1, "index": 0, "idempotency_key": "job1.trial0.x", "station_id": 2,
                             "lease": "ab" * 16, "factor": "base", "level": "clean", "success": True,
                             "progress": None, "steps": 40, "failure": None, "video": None, "recorded_at": now}),
    ]
    with engine.begin() as connection:
        for table, values in rows:
            connection.execute(tables.tables[table].insert().values(**values))
    if engine.dialect.name == "postgresql":  # explicit ids: move the sequences past them
        with engine.begin() as connection:
            for table in ("platform_users", "platform_stations", "platform_submissions", "platform_jobs",
                          "platform_trials", "platform_benchmarks"):
                connection.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), 10)")


def _counts(engine) -> dict[str, int]:
    tables = MetaData()
    tables.reflect(engine)
    with engine.connect() as connection:
        return {name: connection.execute(select(func.count()).select_from(table)).scalar_one()
                for name, table in tables.tables.items() if name.startswith("platform_") and "alembic" not in name}


def _columns(engine, table: str) -> set[str]:
    return {c["name"] for c in inspect(engine).get_columns(table)}


def test_a_database_of_the_previous_revision_upgrades_with_its_rows_and_downgrades(database):
    engine = raw_engine(database)
    try:
        assert migrate_to(engine, "0001") == (None, "0001")
        _fill_revision_0001(engine)
        before = _counts(engine)
        assert before["platform_jobs"] == 2 and before["platform_trials"] == 1

        assert migrate_to(engine, "head") == ("0001", "0002")
        assert _counts(engine) == before
        with engine.connect() as connection:
            queues = dict(connection.exec_driver_sql(
                "SELECT id, queue_station_id FROM platform_jobs ORDER BY id").all())
            asked = connection.exec_driver_sql("SELECT station_id FROM platform_submissions").scalar_one()
        assert queues == {1: 2, 2: None} and asked is None  # the held job is in its holder's queue

        # the upgraded rows work with the new scheduling: the queued job is in no station's
        # queue, so sim-1 (idle, its own queue empty) takes it and it moves to sim-1's queue
        platform = Platform(engine, QueueSettings(lease_seconds=30, poll_seconds=1))
        view = platform.submission(None, 1)
        assert [j["queue"] for j in view["jobs"]] == ["sim-2", None]
        assert view["jobs"][1]["reason"] == "in no station's queue yet; the next idle sim station takes it"
        leased = platform.lease(Principal(scope="station", token_id=0, station_id=1))["job"]
        assert leased["id"] == 2 and leased["recorded"] == []
        assert platform.submission(None, 1)["jobs"][1]["queue"] == "sim-1"
        upgraded = _counts(engine)

        assert migrate_to(engine, "0001") == ("0002", "0001")
        assert current_revision(engine) == "0001"
        assert "queue_station_id" not in _columns(engine, "platform_jobs")
        assert "station_id" not in _columns(engine, "platform_submissions")
        assert _counts(engine) == upgraded  # every row of the old columns kept
        with engine.connect() as connection:
            held = connection.exec_driver_sql("SELECT id, station_id, state FROM platform_jobs ORDER BY id").all()
        assert [tuple(r) for r in held] == [(1, 2, "leased"), (2, 1, "leased")]

        assert migrate_to(engine, "head") == ("0001", "0002")  # and up again
        assert migrate_to(engine, "base") == ("0002", None)
        assert not [t for t in inspect(engine).get_table_names() if t.startswith("platform_") and "alembic" not in t]
    finally:
        engine.dispose()


def test_unknown_revisions_are_refused(tmp_path):
    from sim2real.errors import Sim2RealError

    engine = raw_engine(str(tmp_path / "p.sqlite"))
    try:
        with pytest.raises(Sim2RealError, match=r"invalid revision: '0009'; allowed: head, base, 0001, 0002"):
            migrate_to(engine, "0009")
        assert not (tmp_path / "p.sqlite").exists()  # refused before connecting
        migrate_to(engine, "head")
        with engine.begin() as connection:  # a newer sim2real's database
            connection.exec_driver_sql("UPDATE platform_alembic_version SET version_num = '0099'")
        with pytest.raises(Sim2RealError, match="at revision 0099, which this sim2real does not know"):
            migrate_to(engine, "head")
    finally:
        engine.dispose()
