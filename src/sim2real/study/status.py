"""Where a study stands: every step the selection needs, as done, running, failed (with the
reason), blocked (an input failed) or queued, read from the study folder alone (a running
`study run` is seen through the locks its steps hold)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sim2real.study.config import StudyConfig
from sim2real.study.graph import build_plan
from sim2real.study.store import StudyStore


def study_status(config: StudyConfig, root: Path, only: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    plan = build_plan(config)
    store = StudyStore(root)
    rows: list[dict[str, Any]] = []
    states: dict[str, str] = {}
    for step in plan.select(only):  # dependency order: inputs are seen first
        state, detail = store.state(step), ""
        if state == "done":
            record = store.record(step) or {}
            detail = f"{record.get('seconds', 0):.0f} s, {record.get('peak_memory_mb', 0):.0f} MB peak"
        elif state == "running":
            progress = store.progress(step) or {}
            if progress.get("total"):
                detail = f"{progress['completed']:.0f}/{progress['total']:.0f} {progress.get('status', '')}".strip()
        elif state == "failed":
            detail = (store.failure(step) or {}).get("reason", "")
        else:
            bad = next((i for i in step.inputs if states.get(i) in ("failed", "blocked")), None)
            state = "blocked" if bad else "queued"
            if bad:
                detail = f"needs {plan.steps[bad].label}, which {states[bad]}"
        states[step.key] = state
        rows.append({"key": step.key, "kind": step.kind, "label": step.label, "state": state, "detail": detail})
    return rows
