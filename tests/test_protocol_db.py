"""The trial database on SQLite and on a real PostgreSQL server: migrations, the campaign order,
outcomes committed once, corrections as superseding rows, aborts, append-only tables, and a
concurrent double submit counted once."""

import threading

import pytest
from sqlalchemy import text

from sim2real.errors import Sim2RealError
from sim2real.protocol.db import AlreadyRecorded, open_store
from sim2real.protocol.plan import make_plan
from sim2real.protocol.preset import load_preset

PLAN = make_plan(load_preset("smoke"), "click_bell", seed=0)


def test_migrated_schema_matches_the_models(database):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from sim2real.protocol.db.models import Base

    with open_store(database) as store, store.engine.connect() as connection:
        context = MigrationContext.configure(connection)
        assert context.get_current_revision() == "0001"
        assert compare_metadata(context, Base.metadata) == []
    open_store(database).close()  # opening again is a no-op upgrade


def test_outcomes_are_recorded_once_superseded_with_a_reason_and_append_only(database):
    policies = ["A", "B"]
    with open_store(database) as store:
        store.register_plan(PLAN)
        assert store.register_plan(PLAN).digest == PLAN.digest  # idempotent
        order = store.slots(PLAN, policies)
        assert len(order) == 2 * len(PLAN.trials)
        assert {(s.trial, s.policy) for s in order} == {(t.index, p) for t in PLAN.trials for p in policies}
        first = store.next_slot(PLAN, policies)
        assert first == order[0]
        outcome = store.record(PLAN, first.trial, first.policy, True, progress=1.0, notes="clean", operator="ana")
        with pytest.raises(AlreadyRecorded):
            store.record(PLAN, first.trial, first.policy, False)
        assert store.next_slot(PLAN, policies) == order[1]
        # abort-and-redo keeps the slot open
        store.abort(PLAN, order[1].trial, order[1].policy, "cup fell while resetting", operator="ana")
        assert store.next_slot(PLAN, policies) == order[1]
        with pytest.raises(Sim2RealError, match="reason"):
            store.supersede(outcome, False, " ")
        with pytest.raises(Sim2RealError, match="progress"):
            store.record(PLAN, order[1].trial, order[1].policy, True, progress=1.5)
        corrected = store.supersede(outcome, False, "video shows the gripper missed the button", operator="ben")
        with pytest.raises(AlreadyRecorded, match="already superseded"):
            store.supersede(outcome, True, "second correction of the old row")
        store.supersede(corrected, True, "re-checked the video: it did ring")

    with open_store(database) as store:  # a new process: everything is still there
        current = store.outcomes(PLAN.digest)
        assert len(current) == 1 and current[0].success is True and current[0].revision == 2
        history = [e for e in store.history(PLAN, first.trial) if e["policy"] == first.policy]
        kinds = [(e["kind"], e.get("revision")) for e in history]
        assert kinds == [("outcome", 0), ("outcome", 1), ("outcome", 2)]
        assert history[1]["supersedes"] == history[0]["id"] and "missed" in history[1]["reason"]
        assert [e["kind"] for e in store.history(PLAN, order[1].trial) if e["policy"] == order[1].policy] == ["abort"]
        for statement in ("UPDATE outcomes SET success = false", "DELETE FROM outcomes", "DELETE FROM aborts"):
            with pytest.raises(Exception, match="append-only"):
                with store.engine.begin() as connection:
                    connection.execute(text(statement))
        assert store.counts()["outcomes"] == 3 and store.counts()["aborts"] == 1


def test_two_tabs_submitting_the_same_trial_count_once(database):
    with open_store(database) as store:
        store.register_plan(PLAN)
        store.ensure_policy("A")
        barrier, results = threading.Barrier(4), []

        def submit(success):
            barrier.wait()
            try:
                results.append(store.record(PLAN, 0, "A", success))
            except AlreadyRecorded:
                results.append("refused")

        threads = [threading.Thread(target=submit, args=(i % 2 == 0,)) for i in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert results.count("refused") == 3
        assert len(store.outcomes(PLAN.digest)) == 1


def test_bad_database_urls_are_one_line_errors(tmp_path):
    with pytest.raises(Sim2RealError, match="invalid database"):
        open_store("mysql://x@localhost/db")
    with pytest.raises(Sim2RealError, match="cannot open the trial database"):
        open_store("postgresql://nobody@127.0.0.1:1/none")
