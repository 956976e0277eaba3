"""Evaluation suites. `sim-ood`: the paper's Sim-OOD evaluation, one factor at a time, each on
its out-of-distribution range, and the mean over factors."""

from __future__ import annotations

from sim2real.errors import invalid

SUITES: dict[str, tuple[str, ...]] = {"sim-ood": ("BG", "LT", "TD", "CP", "TH")}


def suite_factors(name: str) -> tuple[str, ...]:
    if name not in SUITES:
        raise invalid("suite", name, ", ".join(SUITES))
    return SUITES[name]
