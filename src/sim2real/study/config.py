"""A study file: YAML validated with pydantic, as the settings are; errors name the nested field.

```yaml
name: smoke
tasks: [click_bell]
env: {cameras: [head], image_size: [96, 96], render: {shadows: false, msaa: 0}}
data:                       # named data settings: EnvSettings fields over `env`
  clean: {}
  TH: {randomize: TH}
demos: 24                   # successful expert demos per (data setting, task)
training: {model: tiny, steps: 300, batch_size: 16, replicates: 1, policy: per-task}
variants: [sft]             # sft, sft+grpo, sft+grpo+dr (needs training.head: discrete)
evaluation: {suites: [clean, sim-ood], episodes: 10, first_seed: 100000}
```
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator,
                      model_validator)

from sim2real.errors import Sim2RealError
from sim2real.render.presets import Fidelity
from sim2real.settings import EnvSettings
from sim2real.train.config import SFTConfig
from sim2real.train.grpo.config import GRPOConfig

Variant = Literal["sft", "sft+grpo", "sft+grpo+dr"]
StepKind = Literal["generate", "train", "grpo", "evaluate"]
STEP_KINDS: tuple[str, ...] = ("generate", "train", "grpo", "evaluate")
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9+_.-]*$")  # data setting names: cells, --only patterns
# Fields the study sets itself for each training and GRPO step (not in a study file).
STUDY_SET_FIELDS = ("data", "out", "resume", "log_dir")
GRPO_STUDY_SET_FIELDS = ("init", "out", "tasks", "settings", "seed", "resume", "overwrite", "log_dir")


def _refuse_study_set(value: Any, names: tuple[str, ...]) -> Any:
    if isinstance(value, dict):
        for name in names:
            if name in value:
                raise ValueError(f"{name!r} is set by the study for each step; remove it")
    return value


class TrainingRecipe(SFTConfig):
    """The SFT recipe of every cell: SFTConfig's fields (model, head, encoder, cameras, steps,
    batch_size, learning_rate, ...) without those the study sets itself, plus how policies are
    grouped and how many training seeds each cell gets."""

    data: tuple[Path, ...] = ()
    out: Path = Path("policy.pt")
    policy: Literal["per-task", "multi-task"] = Field(
        "per-task", description="one policy per task, or one for all of the study's tasks")
    replicates: int = Field(1, ge=1, le=100, description="training seeds per cell: seed, seed+1, ...")

    @model_validator(mode="before")
    @classmethod
    def _study_sets(cls, value: Any) -> Any:
        return _refuse_study_set(value, STUDY_SET_FIELDS)

    def sft_fields(self) -> dict[str, Any]:
        """The SFTConfig fields of this recipe that are the same for every cell."""
        return self.model_dump(mode="json", exclude={*STUDY_SET_FIELDS, "policy", "replicates"})


class GRPOSettings(GRPOConfig):
    """GRPO fine-tuning of each SFT policy (`sim2real train grpo`): GRPOConfig's fields (group
    size, prompts per step, steps, temperature, clipping, learning rate, envs, evaluation, ...)
    without those the study sets per step (the SFT checkpoint, the output, the tasks, the
    rollout settings, the seed: the SFT replicate's), plus the rollouts' randomization in
    sft+grpo+dr."""

    init: Path = Path("sft.pt")
    out: Path = Path("grpo.pt")
    dr_randomize: str = Field("all", description="rollout randomization of sft+grpo+dr")
    dr_granularity: Literal["episode", "frame"] = "episode"

    @model_validator(mode="before")
    @classmethod
    def _study_sets(cls, value: Any) -> Any:
        return _refuse_study_set(value, GRPO_STUDY_SET_FIELDS)

    @field_validator("dr_randomize")
    @classmethod
    def _spec(cls, value: str) -> str:
        from sim2real.randomize.spec import format_spec, parse_spec

        return format_spec(parse_spec(value))

    def grpo_fields(self) -> dict[str, Any]:
        """The GRPOConfig fields of these settings that are the same for every cell."""
        return self.model_dump(mode="json", exclude={*GRPO_STUDY_SET_FIELDS, "dr_randomize", "dr_granularity"})


class EvaluationPlan(BaseModel):
    """How every policy is evaluated: suites, episodes per world and the first seed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    suites: tuple[str, ...] = Field(("clean", "sim-ood"), min_length=1)
    episodes: int = Field(100, ge=1, description="expert-solvable seeds per evaluation world")
    episodes_by_suite: dict[str, int] = Field(
        default_factory=dict, description="other episode counts for some suites (proxy-real path traces)")
    first_seed: int = Field(100_000, ge=0, description="seeds from here on (disjoint from demos)")
    fidelity: Fidelity = Field("low", description="rendering of the evaluation worlds (proxy-real sets its own)")
    execute: int | None = Field(None, ge=1, description="actions executed per chunk (None: all)")
    envs: int = Field(1, ge=1, le=64, description="environments stepped together per evaluation")

    @field_validator("suites")
    @classmethod
    def _known(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        from sim2real.evaluate.suites import ALLOWED, check_suite

        for suite in value:
            try:
                check_suite(suite)
            except Sim2RealError:
                raise ValueError(f"unknown suite {suite!r}; allowed: {ALLOWED}") from None
        if len(set(value)) != len(value):
            raise ValueError("suites must not repeat")
        return value

    @model_validator(mode="after")
    def _counts_of_known_suites(self) -> EvaluationPlan:
        for suite, episodes in self.episodes_by_suite.items():
            if suite not in self.suites:
                raise ValueError(f"episodes_by_suite names {suite!r}, which is not among the suites {list(self.suites)}")
            if episodes < 1:
                raise ValueError(f"episodes_by_suite.{suite} must be at least 1")
        return self

    def episodes_of(self, suite: str) -> int:
        return self.episodes_by_suite.get(suite, self.episodes)


class Execution(BaseModel):
    """Defaults for `study run`: processes and the most steps of each kind at once."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    workers: int = Field(1, ge=1, le=256, description="local worker processes")
    limits: dict[StepKind, int] = Field(
        default_factory=dict, description="most steps of a kind running at once (default: workers)")

    @field_validator("limits")
    @classmethod
    def _positive(cls, value: dict[str, int]) -> dict[str, int]:
        for kind, limit in value.items():
            if limit < 1:
                raise ValueError(f"the limit of {kind} must be at least 1")
        return value

    def limit(self, kind: str, workers: int) -> int:
        return min(workers, self.limits.get(kind, workers))


class StudyConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(description="the study's name (its folder defaults to out/studies/NAME)")
    tasks: tuple[str, ...] = Field(min_length=1)
    env: EnvSettings = Field(EnvSettings(), description="settings shared by generation and evaluation")
    data: dict[str, EnvSettings] = Field(min_length=1, description="named data settings over env")
    demos: int = Field(100, ge=1, le=100_000, description="successful demos per (setting, task)")
    demo_seed: int = Field(0, ge=0, description="first seed tried for demos")
    training: TrainingRecipe = TrainingRecipe()
    variants: tuple[Variant, ...] = Field(("sft",), min_length=1)
    grpo: GRPOSettings = GRPOSettings()
    evaluation: EvaluationPlan = EvaluationPlan()
    execution: Execution = Execution()
    output: Path | None = Field(None, description="study folder (default out/studies/NAME)")

    @model_validator(mode="before")
    @classmethod
    def _data_over_env(cls, value: Any) -> Any:
        """Each data setting is `env` with the setting's fields laid over it (nested mappings
        merged field by field). A broken `env` is reported once, at env, not in every setting."""
        if not isinstance(value, dict) or not isinstance(value.get("data"), dict):
            return value
        env = value.get("env") or {}
        try:
            EnvSettings(**env) if isinstance(env, dict) else None
        except ValidationError:
            return value
        if not isinstance(env, dict):
            return value
        merged = {}
        for name, setting in value["data"].items():
            if isinstance(setting, dict) or setting is None:
                setting = dict(setting or {})
                out = dict(env)
                for key, item in setting.items():
                    out[key] = {**out[key], **item} if isinstance(item, dict) and isinstance(out.get(key), dict) else item
                setting = out
            merged[name] = setting
        return {**value, "data": merged}

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not NAME.match(value):
            raise ValueError("must start with a letter or digit and hold only letters, digits, + _ . -")
        return value

    @field_validator("tasks")
    @classmethod
    def _tasks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        from sim2real.tasks.registry import task_names

        known = task_names()
        for task in value:
            if task not in known:
                raise ValueError(f"unknown task {task!r}; known: {', '.join(known)}")
        if len(set(value)) != len(value):
            raise ValueError("tasks must not repeat")
        return value

    @field_validator("data")
    @classmethod
    def _data(cls, value: dict[str, EnvSettings]) -> dict[str, EnvSettings]:
        for name, setting in value.items():
            if not NAME.match(name):
                raise ValueError(f"setting name {name!r} must start with a letter or digit and hold "
                                 "only letters, digits, + _ . -")
            if setting.split == "heldout":
                raise ValueError(f"setting {name!r}: split 'heldout' is the proxy-real world's, which "
                                 "no training data may sample; use train (or ood)")
        return value

    @field_validator("training")
    @classmethod
    def _cameras_rendered(cls, value: TrainingRecipe, info: ValidationInfo) -> TrainingRecipe:
        env, data = info.data.get("env"), info.data.get("data") or {}
        cameras = value.cameras or (env.cameras if env else ())
        for name, setting in data.items():
            missing = [c for c in cameras if c not in setting.cameras]
            if missing:
                raise ValueError(f"the policies see camera(s) {missing} that data setting {name!r} "
                                 f"does not render (it renders {list(setting.cameras)})")
        return value

    @field_validator("variants")
    @classmethod
    def _variants(cls, value: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        if len(set(value)) != len(value):
            raise ValueError("variants must not repeat")
        training = info.data.get("training")
        if training and training.head != "discrete" and any(v != "sft" for v in value):
            raise ValueError("sft+grpo and sft+grpo+dr need training.head: discrete (GRPO samples "
                             "the discrete head's action tokens)")
        return value

    @property
    def policy_cameras(self) -> tuple[str, ...]:
        return tuple(self.training.cameras or self.env.cameras)

    def folder(self, override: Path | None = None) -> Path:
        return override or self.output or Path("out") / "studies" / self.name


def describe_errors(error: ValidationError, source: str) -> str:
    """One line per problem: the nested field, the value and what is allowed."""
    lines = []
    for problem in error.errors():
        field = ".".join(str(part) for part in problem["loc"]) or "study"
        message = problem["msg"].removeprefix("Value error, ")
        if problem["type"] == "extra_forbidden":
            message = "unknown field"
        value = problem.get("input")
        shown = repr(value) if not isinstance(value, dict) else "{...}"
        lines.append(f"invalid {field}: {shown}; {message} ({source})")
    return "\n".join(lines)


def parse_study(data: Any, source: str = "study") -> StudyConfig:
    if not isinstance(data, dict):
        raise Sim2RealError(f"{source} must hold a mapping of field: value")
    try:
        return StudyConfig(**data)
    except ValidationError as error:
        raise Sim2RealError(describe_errors(error, source)) from None


def load_study(path: Path) -> StudyConfig:
    """A study from its YAML file, or one clear error per bad field."""
    if not path.is_file():
        raise Sim2RealError(f"study file not found: {path}")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        raise Sim2RealError(f"{path} is not valid YAML: {error}") from None
    return parse_study(data, str(path))
