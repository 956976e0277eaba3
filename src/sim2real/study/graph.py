"""A study as a graph of steps, each keyed by a hash of its inputs.

A step's key hashes its kind, its own config (what it computes from), the package version and
the keys of the steps it consumes. So a step is found again by any later run that asks for the
same thing (finished steps are never redone), a changed setting changes the keys of exactly
the steps downstream of it, and two cells asking for the same thing (the SFT policy of
`sft` and `sft+grpo`, a dataset shared by replicates) share one step.

Cells are the study's grid: (data setting, variant, task), named `SETTING/VARIANT/TASK`.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from sim2real.errors import Sim2RealError
from sim2real.study.config import StudyConfig

OUTPUTS = {"generate": "dataset", "train": "policy.pt", "grpo": "policy.pt", "evaluate": "results"}


def _version() -> str:
    import sim2real

    return sim2real.__version__


def step_key(kind: str, config: dict[str, Any], inputs: tuple[str, ...]) -> str:
    payload = {"kind": kind, "config": config, "inputs": list(inputs), "version": _version()}
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Step:
    kind: str
    label: str  # for people; not part of the key (renaming a setting reruns nothing)
    config: dict[str, Any]
    inputs: tuple[str, ...]  # keys of the steps whose outputs this one reads, in order
    key: str

    @property
    def folder(self) -> str:
        return f"{self.kind}-{self.key}"

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "label": self.label, "config": self.config,
                "inputs": list(self.inputs), "key": self.key}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Step:
        return cls(data["kind"], data["label"], data["config"], tuple(data["inputs"]), data["key"])


@dataclass(frozen=True)
class Evaluation:
    """One evaluation of a cell's policy: which suite, which of its worlds, which replicate."""

    suite: str
    run: str
    replicate: int
    key: str


@dataclass
class Cell:
    setting: str
    variant: str
    task: str
    policies: list[str] = field(default_factory=list)  # one step key per replicate
    evaluations: list[Evaluation] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.setting}/{self.variant}/{self.task}"


@dataclass
class Plan:
    steps: dict[str, Step] = field(default_factory=dict)  # in dependency order
    cells: dict[str, Cell] = field(default_factory=dict)

    def add(self, kind: str, label: str, config: dict[str, Any], inputs: tuple[str, ...] = ()) -> str:
        config = json.loads(json.dumps(config))  # the JSON form is what is hashed and stored
        key = step_key(kind, config, inputs)
        if key not in self.steps:
            self.steps[key] = Step(kind, label, config, inputs, key)
        return key

    def select(self, patterns: tuple[str, ...] = ()) -> list[Step]:
        """The steps the cells matching `patterns` need (all steps when none), in order."""
        if not patterns:
            return list(self.steps.values())
        wanted: set[str] = set()
        for pattern in patterns:
            cells = [c for name, c in self.cells.items() if fnmatch.fnmatchcase(name, pattern)]
            if not cells:
                raise Sim2RealError(f"invalid --only: {pattern!r}; no cell matches; cells are "
                                    f"SETTING/VARIANT/TASK: {', '.join(list(self.cells)[:6])}"
                                    f"{', ...' if len(self.cells) > 6 else ''}")
            for cell in cells:
                wanted.update(e.key for e in cell.evaluations)
                wanted.update(cell.policies)
        stack = list(wanted)
        while stack:
            for key in self.steps[stack.pop()].inputs:
                if key not in wanted:
                    wanted.add(key)
                    stack.append(key)
        return [step for key, step in self.steps.items() if key in wanted]

    def dependents(self, key: str) -> set[str]:
        """Every step downstream of `key`."""
        found: set[str] = set()
        for other in self.steps.values():  # dependency order: inputs come first
            if key in other.inputs or found.intersection(other.inputs):
                found.add(other.key)
        return found


def build_plan(config: StudyConfig) -> Plan:
    from sim2real.evaluate.suites import apply_overrides, suite_runs

    plan = Plan()
    groups = ([(t,) for t in config.tasks] if config.training.policy == "per-task"
              else [tuple(config.tasks)])
    recipe = {**config.training.sft_fields(), "cameras": list(config.policy_cameras)}
    eval_base = config.env.model_copy(update={"cameras": config.policy_cameras,
                                               "fidelity": config.evaluation.fidelity})
    for name, setting in config.data.items():
        datasets = {
            task: plan.add("generate", f"generate {name} {task}", {
                "task": task, "settings": setting.model_dump(mode="json"),
                "episodes": config.demos, "first_seed": config.demo_seed,
            })
            for task in config.tasks
        }
        for group in groups:
            group_name = "+".join(group)
            for replicate in range(config.training.replicates):
                seed = config.training.seed + replicate
                sft = plan.add("train", f"train {name} {group_name} seed {seed}", {
                    "tasks": list(group), "sft": {**recipe, "seed": seed},
                }, tuple(datasets[t] for t in group))
                for variant in config.variants:
                    policy = sft if variant == "sft" else _grpo_step(plan, config, variant, name, group, seed, sft)
                    for task in group:
                        cell = plan.cells.setdefault(f"{name}/{variant}/{task}", Cell(name, variant, task))
                        cell.policies.append(policy)
                        for suite in config.evaluation.suites:
                            for run in suite_runs(suite, task):
                                settings = apply_overrides(eval_base, run)
                                key = plan.add("evaluate", f"evaluate {name}/{variant} {task} {run.name}", {
                                    "task": task, "suite": suite, "run": run.name,
                                    "settings": settings.model_dump(mode="json"),
                                    "episodes": config.evaluation.episodes_of(suite),
                                    "first_seed": config.evaluation.first_seed,
                                    "execute": config.evaluation.execute, "envs": config.evaluation.envs,
                                }, (policy,))
                                cell.evaluations.append(Evaluation(suite, run.name, replicate, key))
    return plan


def _grpo_step(plan: Plan, config: StudyConfig, variant: str, name: str, group: tuple[str, ...],
               seed: int, sft: str) -> str:
    """GRPO from the SFT policy, with rollouts in the clean world or under randomization."""
    grpo = config.grpo.grpo_fields()
    randomized = variant == "sft+grpo+dr"
    rollouts = config.env.model_copy(update={
        "randomize": config.grpo.dr_randomize if randomized else "clean",
        "granularity": config.grpo.dr_granularity if randomized else "episode",
    })
    return plan.add("grpo", f"{variant.removeprefix('sft+')} {name} {'+'.join(group)} seed {seed}", {
        "tasks": list(group), "grpo": grpo, "seed": seed,
        "rollout_settings": rollouts.model_dump(mode="json"),
    }, (sft,))
