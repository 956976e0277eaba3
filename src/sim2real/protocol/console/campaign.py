"""A campaign: one plan, the policies it evaluates (in interleaved pairs when there are two or
more), and the trial store. Everything the console shows is read back from the store, so a
restarted console resumes exactly at the next unrecorded trial."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sim2real.errors import Sim2RealError, invalid
from sim2real.protocol.db import TrialStore
from sim2real.protocol.plan import Plan, Trial, describe
from sim2real.protocol.records import PolicyRecord, Slot


def parse_policies(values: Sequence[str]) -> list[PolicyRecord]:
    """`SPEC` (named by itself) or `NAME=SPEC`; names must differ. Each spec that names a file
    (a checkpoint) gets the file's sha256, computed here, once per console start."""
    from sim2real.policy.spec import spec_sha256

    if not values:
        raise invalid("policy", "(none)", "one or more --policy SPEC or NAME=SPEC")
    given = []
    for value in values:
        name, sep, spec = value.partition("=")
        given.append((name, spec) if sep and name and "/" not in name and ":" not in name else (value, value))
    names = [name for name, _ in given]
    if len(set(names)) != len(names):
        raise invalid("policy", ", ".join(names), "distinct names (use NAME=SPEC)")
    return [PolicyRecord(name, spec, spec_sha256(spec)) for name, spec in given]


@dataclass
class Campaign:
    plan: Plan
    store: TrialStore
    policies: list[PolicyRecord]
    notices: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        # the campaign's policies, recorded in the database: those given now and any that an
        # earlier start of this plan's console evaluated
        self.recorded_policies = self.store.register_campaign(self.plan, self.policies)
        self.order = self.store.slots(self.plan, self.names)

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.policies]

    def entry(self, policy: str) -> PolicyRecord:
        for entry in self.policies:
            if entry.name == policy:
                return entry
        raise invalid("policy", policy, ", ".join(self.names))

    def spec(self, policy: str) -> str:
        return self.entry(policy).spec

    def trial(self, index: int) -> Trial:
        if not 0 <= index < len(self.plan.trials):
            raise invalid("trial", index, f"0 to {len(self.plan.trials) - 1}")
        return self.plan.trials[index]

    def check_slot(self, index: int, policy: str) -> None:
        self.trial(index)
        self.spec(policy)

    def next_slot(self) -> Slot | None:
        return self.store.next_slot(self.plan, self.names)

    def progress(self) -> dict[str, int]:
        done = sum((s.trial, s.policy) in self._recorded() for s in self.order)
        return {"done": done, "total": len(self.order)}

    def _recorded(self):
        return self.store.recorded(self.plan)

    def view(self, slot: Slot) -> dict[str, Any]:
        """What the trial page shows for a slot."""
        trial = self.trial(slot.trial)
        words = describe(self.plan, trial)
        shifts = {}
        for name, (x, y) in trial.placements.items():
            cx, cy = trial.cell_centres[name]
            shifts[name.removesuffix("_xy")] = {"x": x, "y": y, "dx": round(x - cx, 1), "dy": round(y - cy, 1)}
        previous = self.trial(slot.trial - 1) if slot.trial > 0 else None
        changed = previous is None or previous.condition != trial.condition
        return {"slot": slot, "trial": trial, "words": words, "shifts": shifts, "setup_changed": changed,
                "policy_number": self.names.index(slot.policy) + 1, "policy": self.entry(slot.policy)}

    def sequential(self) -> dict[str, Any] | None:
        """The anytime-valid comparison of the first two policies over the pairs so far."""
        if len(self.policies) < 2:
            return None
        from sim2real.protocol.sequential import sequential_test

        recorded = self._recorded()
        a, b = self.names[:2]
        pairs = [(recorded[(t.index, a)].success, recorded[(t.index, b)].success) for t in self.plan.trials
                 if (t.index, a) in recorded and (t.index, b) in recorded]
        if not pairs:
            return {"a": a, "b": b, "pairs": 0}
        state = sequential_test([p[0] for p in pairs], [p[1] for p in pairs])[-1]
        return {"a": a, "b": b, **state.as_dict()}

    def recent(self, limit: int = 30) -> list[dict[str, Any]]:
        """The newest current outcomes, for the history page (with their ids, to supersede)."""
        recorded = self._recorded()
        rows = sorted(recorded.items(), key=lambda kv: kv[1].recorded_at, reverse=True)[:limit]
        return [{"trial": index, "policy": policy, "id": o.id, "success": o.success, "progress": o.progress,
                 "notes": o.notes, "revision": o.revision, "reason": o.reason, "at": o.recorded_at,
                 "condition": self.plan.trials[index].condition} for (index, policy), o in rows]

    def require_reason(self, reason: str) -> str:
        if not reason.strip():
            raise Sim2RealError("invalid reason: ''; allowed: a few words on why")
        return reason.strip()
