"""Evaluation suites: named sets of evaluation worlds, each a set of settings laid over the
evaluation's own (cameras, image size, rendering).

* `clean`: the training world without randomization.
* `sim-ood`: the paper's Sim-OOD evaluation, one factor at a time, each on its
  out-of-distribution range; the suite's number is the mean over factors.
* `proxy-real`: the held-out proxy-real world (sim2real.evaluate.proxy_real, versioned).
* any randomize spec (`TH+CP`): those factors together on their OOD ranges; `SPEC@train` on
  their training ranges.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sim2real.errors import invalid

SIM_OOD_FACTORS = ("BG", "LT", "TD", "CP", "TH")
NAMED_SUITES = ("clean", "sim-ood", "proxy-real")
ALLOWED = "clean, sim-ood, proxy-real, or a randomize spec (TH+CP, all) with optional @train or @ood"


@dataclass(frozen=True)
class SuiteRun:
    """One evaluation world of a suite: its name (a results sub-folder) and its settings."""

    name: str
    overrides: dict[str, Any] = field(default_factory=dict)

    def settings_over(self, granularity: str) -> dict[str, Any]:
        """The settings this world fixes, with the evaluation's `granularity` kept where the
        world's factors can change every frame (the view factors) and episode elsewhere."""
        from sim2real.randomize.spec import VIEW_FACTORS, parse_spec

        if "granularity" in self.overrides or "randomize" not in self.overrides:
            return dict(self.overrides)
        per_frame = any(f in VIEW_FACTORS for f in parse_spec(self.overrides["randomize"]))
        return {**self.overrides, "granularity": granularity if per_frame else "episode"}


def suite_runs(suite: str, task: str) -> tuple[SuiteRun, ...]:
    """The worlds `suite` evaluates `task` in; a clear error for an unknown suite."""
    from sim2real.randomize.spec import format_spec, parse_spec

    if suite == "clean":
        return (SuiteRun("clean", {"randomize": "clean", "split": "train"}),)
    if suite == "sim-ood":
        return tuple(SuiteRun(f, {"randomize": f, "split": "ood"}) for f in SIM_OOD_FACTORS)
    if suite == "proxy-real":
        from sim2real.evaluate.proxy_real import VERSION, proxy_real_overrides

        return (SuiteRun(f"proxy-real-{VERSION}", proxy_real_overrides(task)),)
    spec, _, split = suite.partition("@")
    if split not in ("", "train", "ood"):
        raise invalid("suite", suite, ALLOWED)
    try:
        factors = format_spec(parse_spec(spec))
    except ValueError:
        raise invalid("suite", suite, ALLOWED) from None
    return (SuiteRun(suite, {"randomize": factors, "split": split or "ood"}),)


def check_suite(suite: str) -> str:
    """`suite` if it names a suite, else a clear error (no task needed)."""
    if suite not in NAMED_SUITES:
        suite_runs(suite, "click_bell")
    return suite


def apply_overrides(settings, world: SuiteRun):
    """`settings` (EnvSettings) with an evaluation world's settings laid over it; nested
    settings (e.g. randomization ranges) are merged field by field, not replaced."""
    from sim2real.config_file import layered_settings

    return layered_settings([
        ("", settings.model_dump()),
        (f"suite {world.name}", world.settings_over(settings.granularity)),
    ])
