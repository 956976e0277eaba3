"""The leaderboard of a benchmark: every public submission's success per task and pooled over
its tasks, with 95% Wilson intervals, ranked by pooled rate, and Barnard's exact test between
each entry and the one ranked above it; and a submission's per-condition table (the protocol's
factors and levels), as the paper's tables show them."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import Engine, case, func, select
from sqlalchemy.orm import Session

from sim2real.evaluate.stats import compare_rates, mmrv, pearson, wilson_interval
from sim2real.platform.db.models import BenchmarkRow, JobRow, SubmissionRow, TrialRow, UserRow
from sim2real.platform.errors import NotFound


def rate(successes: int, trials: int) -> dict[str, Any]:
    low, high = wilson_interval(successes, trials) if trials else (0.0, 1.0)
    return {"successes": successes, "trials": trials, "rate": successes / trials if trials else None,
            "low": low, "high": high}


def leaderboard(engine: Engine, benchmark: str) -> dict[str, Any]:
    with Session(engine) as session:
        bench = session.scalar(select(BenchmarkRow).where(BenchmarkRow.name == benchmark))
        if bench is None:
            raise NotFound(f"invalid benchmark: {benchmark!r}; allowed: a benchmark of this platform")
        counts = session.execute(
            select(SubmissionRow.id, SubmissionRow.name, UserRow.name, SubmissionRow.state, SubmissionRow.baseline,
                   JobRow.task, func.count(TrialRow.id), func.coalesce(func.sum(
                       case((TrialRow.success.is_(True), 1), else_=0)), 0))
            .join(UserRow, SubmissionRow.user_id == UserRow.id)
            .join(JobRow, JobRow.submission_id == SubmissionRow.id)
            .outerjoin(TrialRow, TrialRow.job_id == JobRow.id)
            .where(SubmissionRow.benchmark_id == bench.id, SubmissionRow.public.is_(True),
                   SubmissionRow.state != "cancelled")
            .group_by(SubmissionRow.id, SubmissionRow.name, UserRow.name, SubmissionRow.state,
                      SubmissionRow.baseline, JobRow.task)
        ).all()
    entries: dict[int, dict[str, Any]] = {}
    for sid, name, user, state, baseline, task, trials, successes in counts:
        entry = entries.setdefault(sid, {"submission": sid, "name": name, "user": user, "state": state,
                                         "baseline": baseline, "tasks": {}, "_s": 0, "_n": 0})
        entry["tasks"][task] = rate(int(successes), int(trials))
        entry["_s"] += int(successes)
        entry["_n"] += int(trials)
    rows = []
    for entry in entries.values():
        s, n = entry.pop("_s"), entry.pop("_n")
        if n:
            rows.append({**entry, "pooled": rate(s, n)})
    rows.sort(key=lambda r: (-r["pooled"]["rate"], -r["pooled"]["trials"], r["submission"]))
    for rank, (above, row) in enumerate(zip([None, *rows], rows), start=1):
        row["rank"] = rank
        row["vs_above"] = None
        if above is not None:
            a, b = above["pooled"], row["pooled"]
            p = compare_rates(a["successes"], a["trials"], b["successes"], b["trials"]).p_value
            row["vs_above"] = {"p_value": p, "significant": p < 0.05}
    return {"benchmark": bench.name, "tasks": bench.tasks, "station_kind": bench.station_kind,
            "preset": bench.preset, "entries": rows}


def condition_table(trials: list[dict[str, Any]], policy: str) -> list[dict[str, Any]]:
    """A submission's per-condition rows (the protocol's Tables 5-8: per task, each factor and
    level with its Wilson interval), from its trial views."""
    from sim2real.protocol.records import TrialOutcome
    from sim2real.protocol.report import condition_rows

    outcomes = [TrialOutcome(task=t["task"], plan=str(t["job"]), trial=t["index"], factor=t["factor"],
                             level=t["level"], policy=policy, success=t["success"], progress=t["progress"])
                for t in trials]
    table = []
    for row in condition_rows(outcomes):
        for factor, levels in row.levels.items():
            for level, count in levels.items():
                table.append({"task": row.task, "factor": factor, "level": level,
                              **rate(count.successes, count.trials)})
    return table


def agreement(engine: Engine, benchmark: str) -> dict[str, Any] | None:
    """Sim-vs-real agreement on a real benchmark: the submissions (same user and name) that also
    have a sim evaluation of the same task; Pearson r and MMRV per task over those policies."""
    board = leaderboard(engine, benchmark)
    if board["station_kind"] != "real":
        return None
    with Session(engine) as session:
        sim_names = session.scalars(select(BenchmarkRow.name).where(BenchmarkRow.station_kind == "sim")).all()
    sim_rates: dict[tuple[str, str, str], float] = {}
    for name in sim_names:
        for entry in leaderboard(engine, name)["entries"]:
            for task, r in entry["tasks"].items():
                if r["trials"]:
                    sim_rates[(entry["user"], entry["name"], task)] = r["rate"]
    points = [{"task": task, "policy": f"{e['user']}/{e['name']}", "sim": sim_rates[(e["user"], e["name"], task)],
               "real": r["rate"]}
              for e in board["entries"] for task, r in e["tasks"].items()
              if r["trials"] and (e["user"], e["name"], task) in sim_rates]
    per_task = {}
    for task in dict.fromkeys(p["task"] for p in points):
        mine = [p for p in points if p["task"] == task]
        sim, real = [p["sim"] for p in mine], [p["real"] for p in mine]
        per_task[task] = {"policies": len(mine), "pearson_r": pearson(sim, real), "mmrv": mmrv(sim, real)}
    return {"points": points, "per_task": per_task}
