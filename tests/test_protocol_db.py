"""The trial database on SQLite and on a real PostgreSQL server: migrations (a database of the
previous revision upgraded with its rows), the campaign order, outcomes committed once,
corrections as superseding rows, aborts, append-only tables, a concurrent double submit counted
once, and each campaign's policies recorded with their checkpoints' sha256."""

import hashlib
import threading
from datetime import datetime, timezone

import pytest
from sqlalchemy import MetaData, text

from sim2real.errors import Sim2RealError
from sim2real.protocol.db import AlreadyRecorded, open_store
from sim2real.protocol.plan import make_plan
from sim2real.protocol.preset import load_preset
from sim2real.protocol.records import PolicyRecord

PLAN = make_plan(load_preset("smoke"), "click_bell", seed=0)


def test_migrated_schema_matches_the_models(database):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from sim2real.protocol.db.models import Base

    with open_store(database) as store, store.engine.connect() as connection:
        context = MigrationContext.configure(connection)
        assert context.get_current_revision() == "0002"
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


def test_a_database_of_revision_0001_upgrades_with_its_rows_and_its_campaigns_policies(database):
    from sim2real.protocol.db.store import database_url, make_engine, migrate

    engine = make_engine(database_url(database))
    try:
        migrate(engine, revision="0001")
        tables = MetaData()
        tables.reflect(engine)
        now = datetime.now(timezone.utc)
        trial = PLAN.trials[0]
        rows = [("plans", {"id": 1, "digest": PLAN.digest, "name": PLAN.name, "task": PLAN.task, "preset": "smoke",
                           "seed": 0, "body": PLAN.model_dump(mode="json"), "created_at": now}),
                *[("trials", {"id": t.index + 1, "plan_id": 1, "index": t.index, "factor": t.factor, "level": t.level,
                              "cell": t.cell, "cell_label": t.cell_label, "body": t.model_dump(mode="json")})
                  for t in PLAN.trials[:2]],
                ("policies", {"id": 1, "name": "A", "spec": "a.pt", "created_at": now}),
                ("policies", {"id": 2, "name": "B", "spec": None, "created_at": now}),
                ("policies", {"id": 3, "name": "unused", "spec": "zero", "created_at": now}),
                ("outcomes", {"id": 1, "trial_id": 1, "policy_id": 2, "success": True, "notes": "",
                              "revision": 0, "recorded_at": now}),
                ("aborts", {"id": 1, "trial_id": 2, "policy_id": 1, "reason": "cup fell", "recorded_at": now})]
        with engine.begin() as connection:
            for table, values in rows:
                connection.execute(tables.tables[table].insert().values(**values))
            if engine.dialect.name == "postgresql":  # explicit ids: move the sequences past them
                for table in ("plans", "trials", "policies", "outcomes", "aborts"):
                    connection.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), 10)")
        migrate(engine)
        with engine.connect() as connection:
            kept = {t: connection.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar_one()
                    for t in ("plans", "trials", "policies", "outcomes", "aborts")}
            sums = connection.execute(text("SELECT name, spec, sha256 FROM policies ORDER BY id")).all()
            linked = connection.execute(text("SELECT plan_id, policy_id, position FROM campaign_policies "
                                             "ORDER BY position")).all()
        assert kept == {"plans": 1, "trials": 2, "policies": 3, "outcomes": 1, "aborts": 1}
        assert [tuple(r) for r in sums] == [("A", "a.pt", None), ("B", None, None), ("unused", "zero", None)]
        assert [tuple(r) for r in linked] == [(1, 1, 0), (1, 2, 1)]  # the policies that ran on its trials
    finally:
        engine.dispose()
    with open_store(database) as store:  # and the upgraded rows work: a new row takes the next id
        assert store.policies(PLAN.digest) == [PolicyRecord("A", "a.pt"), PolicyRecord("B", None)]
        store.record(PLAN, trial.index, "A", False)
        assert store.counts()["outcomes"] == 2


def test_each_campaign_records_its_policies_with_their_checkpoints_sha256(database, tmp_path):
    from sim2real.protocol.console.campaign import Campaign, parse_policies
    from sim2real.protocol.publish import write_report

    checkpoint = tmp_path / "a.pt"
    checkpoint.write_bytes(b"weights" * 1000)
    digest = hashlib.sha256(checkpoint.read_bytes()).hexdigest()
    given = parse_policies([f"A={checkpoint}", "B=zero"])
    assert given == [PolicyRecord("A", str(checkpoint), digest), PolicyRecord("B", "zero", None)]
    with open_store(database) as store:
        campaign = Campaign(PLAN, store, given)
        assert campaign.recorded_policies == given
        assert campaign.view(campaign.next_slot())["policy"] in given
        store.record(PLAN, 0, "A", True)
        # restarted with other policies: the new one joins the campaign after the others; the
        # checkpoint moved (same bytes, same sha256) is the same policy
        moved = checkpoint.rename(tmp_path / "moved.pt")
        Campaign(PLAN, store, parse_policies([f"A={moved}", "C=expert"]))
        assert [p.name for p in store.policies(PLAN.digest)] == ["A", "B", "C"]
        assert store.policies(PLAN.digest)[0] == PolicyRecord("A", str(checkpoint), digest)  # as first given
        other = tmp_path / "other.pt"
        other.write_bytes(b"other weights")
        for values in ([f"A={other}"], ["B=expert"]):  # a known name for another policy
            with pytest.raises(Sim2RealError, match=r"invalid policy: .*; allowed: another name \(NAME=SPEC\)"):
                Campaign(PLAN, store, parse_policies(values))
        assert store.counts()["campaign_policies"] == 3
        policies = store.policies(PLAN.digest)
        payload = write_report(store.outcomes(PLAN.digest), tmp_path / "report", policies=policies)
    assert payload["policies"][0] == {"name": "A", "spec": str(checkpoint), "sha256": digest}
    markdown = (tmp_path / "report" / "report.md").read_text()
    assert f"| A | `{checkpoint}` | {digest[:12]} |" in markdown and "| B | `zero` | - |" in markdown
