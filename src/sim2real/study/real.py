"""The Real columns of a study report: real-world trials of the study's own policies, read
from a protocol trial database (`sim2real protocol ...`).

A study policy and a protocol policy are the same when the study's finished checkpoint file has
the sha256 the protocol recorded for its campaign policy (names and paths play no part). A
cell's Real number pools the trials of its task run by the policies of all its replicates,
counted as the protocol's report counts them (current outcomes only, superseded ones left out).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim2real.errors import invalid
from sim2real.protocol.db.store import TrialStore
from sim2real.study.graph import Plan
from sim2real.study.results import Measure
from sim2real.study.store import StudyStore

ALLOWED = "a protocol trial database: an existing SQLite file or a postgresql:// URL (as `sim2real protocol` takes)"
PROTOCOL_TABLES = {"plans", "trials", "policies", "campaign_policies", "outcomes"}


def open_real(value: str) -> TrialStore:
    """The protocol database `--real` names, refused in one line (naming --real, the value and
    what is allowed) when it is no such database: no file, not SQLite, no protocol tables, or
    a server that cannot be reached. Nothing is created where there was nothing."""
    import sqlite3

    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    from sim2real.errors import Sim2RealError
    from sim2real.protocol.db.store import database_url, open_store

    if "://" not in value and not Path(value).expanduser().is_file():
        raise invalid("--real", value, f"{ALLOWED}; there is no such file")
    try:
        url = database_url(value)
    except Sim2RealError:
        raise invalid("--real", value, ALLOWED) from None
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and not Path(parsed.database or "").is_file():
        raise invalid("--real", value, f"{ALLOWED}; there is no such file")
    try:
        tables = _tables(url)
    except (SQLAlchemyError, sqlite3.Error) as error:
        reason = " ".join(str(getattr(error, "orig", None) or error).split())
        raise invalid("--real", value, f"{ALLOWED}; it cannot be opened ({reason})") from None
    missing = PROTOCOL_TABLES - tables
    if missing:
        raise invalid("--real", value, f"{ALLOWED}; it has no protocol tables ({', '.join(sorted(missing))} missing)")
    try:
        return open_store(value)  # brings an older protocol schema up to date, as every protocol command does
    except Sim2RealError as error:
        raise invalid("--real", value, f"{ALLOWED}; {error}") from None


def _tables(url: str) -> set[str]:
    """The tables of the database at `url`, read without writing (a SQLite file is opened
    read-only: the store's own engine would switch it to WAL)."""
    from sqlalchemy import inspect
    from sqlalchemy.engine import make_url

    from sim2real.protocol.db.store import make_engine

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        import sqlite3
        from contextlib import closing
        from urllib.parse import quote

        with closing(sqlite3.connect(f"file:{quote(str(Path(parsed.database).resolve()))}?mode=ro", uri=True)) as db:
            return {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    engine = make_engine(url, immediate=False)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


@dataclass
class RealTrials:
    """What a protocol database holds of a study's policies."""

    database: str  # its URL, password hidden
    measures: dict[str, Measure] = field(default_factory=dict)  # cell -> pooled real-world trials
    matched: dict[str, dict[str, Any]] = field(default_factory=dict)  # cell -> policies, successes, trials

    @property
    def none_message(self) -> str:
        return f"no real-world trials of this study's policies in {self.database}"

    def as_dict(self) -> dict[str, Any]:
        return {"database": self.database, "cells": self.matched,
                "message": None if self.matched else self.none_message}


def checkpoint_digests(plan: Plan, store: StudyStore) -> dict[str, str]:
    """sha256 of every finished training step's checkpoint (step key -> hex digest)."""
    from sim2real.policy.spec import spec_sha256

    keys = {key for cell in plan.cells.values() for key in cell.policies}
    digests = {}
    for key in keys:
        step = plan.steps[key]
        path = store.output(step)
        if store.record(step) is not None and path.is_file():
            digests[key] = spec_sha256(str(path))
    return digests


def real_trials(plan: Plan, store: StudyStore, trials: TrialStore) -> RealTrials:
    """Each cell's real-world trials: those of its task by the protocol policies whose recorded
    sha256 is that of one of the cell's checkpoints. Cells without any are left out."""
    from sim2real.protocol.report import condition_rows

    digests = checkpoint_digests(plan, store)
    names_by_digest: dict[str, list[str]] = {}
    for policy in trials.policies():
        if policy.sha256:
            names_by_digest.setdefault(policy.sha256, []).append(policy.name)
    out = RealTrials(trials.url)
    if not names_by_digest.keys() & set(digests.values()):
        return out
    rows = {(row.task, row.policy): row.pooled for row in condition_rows(trials.outcomes())}
    for name, cell in plan.cells.items():
        names = list(dict.fromkeys(n for key in cell.policies if key in digests
                                   for n in names_by_digest.get(digests[key], [])))
        counts = [rows[(cell.task, n)] for n in names if (cell.task, n) in rows]
        total = sum(c.trials for c in counts)
        if not total:
            continue  # no trials: no number rather than a zero
        successes = sum(c.successes for c in counts)
        out.measures[name] = Measure.of(successes, total)
        out.matched[name] = {"policies": names, "successes": successes, "trials": total}
    return out
