"""`protocol report`'s files: report.md, report.json and the PNG figures, from a trial store
and, optionally, Sim-OOD results of the same policies."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sim2real.core.records import EvalSummary
from sim2real.errors import invalid
from sim2real.media import atomic_path
from sim2real.protocol import figures
from sim2real.protocol.records import PolicyRecord, TrialOutcome
from sim2real.protocol.report import (ConditionRow, agreement_markdown, comparisons_markdown, compare_policies, condition_rows,
                                      conditions_markdown, levels_markdown, policies_markdown, sim_real_agreement)


def sim_rates(summaries: Sequence[EvalSummary]) -> dict[tuple[str, str], float]:
    """Sim-OOD success rate per (task, policy name); a summary names its policy by --label."""
    return {(s.task, s.label or s.policy): s.success_rate for s in summaries}


def _check_matches(rows: Sequence[ConditionRow], sims: Sequence[EvalSummary], baseline: str | None) -> None:
    """A baseline or a Sim-OOD result that names no policy of the database would be left out
    without a word (no comparison with it, no point in the agreement): refuse it instead."""
    names = list(dict.fromkeys(r.policy for r in rows))
    if baseline is not None and baseline not in names:
        raise invalid("baseline", baseline, ", ".join(names))
    known = {(r.task, r.policy) for r in rows}
    for key in sim_rates(sims):
        if key not in known:
            pairs = ", ".join(f"{task}/{policy}" for task, policy in sorted(known))
            raise invalid("sim", "/".join(key), f"results of a task/policy in the database (eval --label names "
                          f"the policy): {pairs}")


def write_report(outcomes: Sequence[TrialOutcome], out: Path, sims: Sequence[EvalSummary] = (),
                 alpha: float = 0.05, baseline: str | None = None,
                 policies: Sequence[PolicyRecord] = ()) -> dict[str, Any]:
    """`policies`: what the policy names stand for (TrialStore.policies), for the Policies table."""
    rows = condition_rows(outcomes)
    _check_matches(rows, sims, baseline)
    comparisons = compare_policies(outcomes, rows, alpha, baseline)
    agreement = sim_real_agreement(rows, sim_rates(sims)) if sims else None
    out.mkdir(parents=True, exist_ok=True)
    files = {"markdown": out / "report.md", "json": out / "report.json",
             "conditions_png": figures.conditions_png(rows, out / "conditions.png")}
    sections = ["# Real-world evaluation", "",
                f"{len(outcomes)} recorded trials (current outcomes; superseded ones left out).", "",
                "## Policies", "", policies_markdown(policies),
                "## Per condition (the paper's Tables 5-8) and pooled (the Real column of Tables 1-3)", "",
                conditions_markdown(rows), "## Per level", "", levels_markdown(rows),
                "## Between policies", "", comparisons_markdown(comparisons, alpha)]
    if any(c.trajectory for c in comparisons):
        files["sequential_png"] = figures.sequential_png(comparisons, out / "sequential.png")
    if agreement is not None:
        sections += ["## Sim-OOD vs real", "", agreement_markdown(agreement)]
        if agreement.points:
            files["agreement_png"] = figures.agreement_png(agreement, out / "agreement.png")
    payload = {"trials": len(outcomes), "policies": [p.as_dict() for p in policies],
               "rows": [r.as_dict() for r in rows],
               "comparisons": [c.as_dict() for c in comparisons],
               "agreement": agreement.as_dict() if agreement else None}
    with atomic_path(files["markdown"], ".md") as tmp:
        tmp.write_text("\n".join(sections))
    with atomic_path(files["json"], ".json") as tmp:
        tmp.write_text(json.dumps(payload, indent=1, default=float))
    payload["files"] = {k: str(v) for k, v in files.items()}
    return payload
