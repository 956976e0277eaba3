"""The protocol's records as plain data: what the report, the console and the benchmark
platform exchange, independent of the database that stores them."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class TrialOutcome:
    """The current (not superseded) outcome of one policy on one planned trial."""

    task: str
    plan: str  # the plan's digest
    trial: int  # index in the plan
    factor: str
    level: str
    policy: str
    success: bool
    progress: float | None = None
    revision: int = 0  # 0 = as first recorded; n = corrected n times
    operator: str | None = None
    video: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Slot:
    """One unit of work in a campaign: a planned trial run by one policy."""

    trial: int  # index in the plan
    policy: str
    position: int  # place in the campaign's order (trial-major, pair order within a trial)


@dataclass(frozen=True)
class PolicyRecord:
    """A policy a campaign evaluates: the name tables use, the SPEC as given to --policy (None
    when only outcomes were imported under the name), and the sha256 of the file the spec names
    (a checkpoint), None for built-in and remote policies."""

    name: str
    spec: str | None
    sha256: str | None = None

    @property
    def short_sha256(self) -> str:
        return self.sha256[:12] if self.sha256 else "-"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
