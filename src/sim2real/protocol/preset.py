"""Protocol presets: the YAML a lab copies and edits to describe its real-world campaign.

A preset names the base setup, the factors varied one at a time with their levels, the grid of
object positions per task and how many trials each condition gets. `plan.py` turns a preset, a
task and a seed into the ordered list of trials.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from sim2real.errors import Sim2RealError, invalid

# The paper's factor columns (Tables 5-8) in their order, with the labels the tables use.
FACTORS = ("base", "background", "lighting", "distractors", "object")
FACTOR_LABELS = {"base": "Base", "background": "BG", "lighting": "Light",
                 "distractors": "Distractor", "object": "Object"}
CONFIGS_DIR = Path(__file__).resolve().parents[3] / "configs" / "protocol"


class ObjectGrid(BaseModel):
    """Where one task object goes: the cell centres are every (x, y) of the two lists, in cm in
    the simulator's table frame (origin at the table-top centre, x to the robot's right, y away
    from the robot). A single (x, y) holds the object at one spot in every trial."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    x_cm: list[float] = Field(min_length=1, description="column centres, left to right as listed")
    y_cm: list[float] = Field(min_length=1, description="row centres, near to far as listed")
    jitter_cm: float | None = Field(None, ge=0, le=10, description="overrides the preset's jitter")

    @property
    def cells(self) -> int:
        return len(self.x_cm) * len(self.y_cm)

    def centre(self, cell: int) -> tuple[float, float]:
        """Cell `cell` in row-major order from the near row; a one-cell grid repeats its spot."""
        cell %= self.cells
        row, column = divmod(cell, len(self.x_cm))
        return self.x_cm[column], self.y_cm[row]


class TaskProtocol(BaseModel):
    """One task's part of the campaign."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    trials_per_condition: int = Field(gt=0, description="trials of the base setup and of each level")
    instance: str = Field(description="the training object instance used by every condition but 'object'")
    object_levels: list[str] = Field(min_length=1, description="instances of the object factor")
    objects: dict[str, ObjectGrid] = Field(
        min_length=1, description="the task's placement parameters (as the simulator names them) and their grids"
    )

    @model_validator(mode="after")
    def _grids_line_up(self) -> TaskProtocol:
        sizes = {name: grid.cells for name, grid in self.objects.items() if grid.cells > 1}
        if len(set(sizes.values())) > 1:
            raise ValueError(f"object grids of several cells must have the same number of cells: {sizes}")
        cells = self.cells
        if self.trials_per_condition % cells:
            raise ValueError(f"trials_per_condition ({self.trials_per_condition}) must be a multiple "
                             f"of the grid's {cells} cells, so every cell gets the same number of trials")
        return self

    @property
    def cells(self) -> int:
        return max(grid.cells for grid in self.objects.values())

    def primary(self) -> str:
        """The object whose grid names the cells (the first with more than one cell)."""
        return next((n for n, g in self.objects.items() if g.cells > 1), next(iter(self.objects)))


class Preset(BaseModel):
    """A whole campaign's protocol."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    description: str = ""
    jitter_cm: float = Field(1.5, ge=0, le=10, description="uniform shift per axis around a cell centre")
    block_size: int = Field(5, gt=0, description="consecutive trials of one condition between setup changes")
    base: dict[str, str] = Field(description="the base setup: background and lighting (name: what to do)")
    backgrounds: dict[str, str] = Field(min_length=1, description="background levels (name: what to lay)")
    lightings: dict[str, str] = Field(min_length=1, description="lighting levels (name: what to switch on)")
    distractor_counts: list[int] = Field(min_length=1, description="distractor levels (objects on the table)")
    distractor_objects: list[str] = Field(min_length=1, description="the distractor set, disjoint from task objects")
    distractor_area_cm: tuple[float, float, float, float] = Field(
        (-35.0, 35.0, -22.0, 28.0), description="x_min, x_max, y_min, y_max where distractors may go")
    distractor_clearance_cm: float = Field(8.0, ge=0, description="distractor centres at least this far from other objects")
    tasks: dict[str, TaskProtocol] = Field(min_length=1)

    @field_validator("base")
    @classmethod
    def _base_names_both(cls, value: dict[str, str]) -> dict[str, str]:
        missing = {"background", "lighting"} - set(value)
        if missing:
            raise ValueError(f"base needs {sorted(missing)}")
        return value

    @model_validator(mode="after")
    def _counts_fit(self) -> Preset:
        for task, protocol in self.tasks.items():
            if protocol.trials_per_condition % self.block_size:
                raise ValueError(f"tasks.{task}.trials_per_condition ({protocol.trials_per_condition}) "
                                 f"must be a multiple of block_size ({self.block_size})")
        too_many = max(self.distractor_counts)
        if too_many > len(self.distractor_objects):
            raise ValueError(f"{too_many} distractors asked for but only {len(self.distractor_objects)} objects listed")
        return self

    def levels(self, factor: str, task: str) -> list[str]:
        """The levels of a factor, as plans and tables name them."""
        if factor == "base":
            return ["base"]
        if factor == "background":
            return list(self.backgrounds)
        if factor == "lighting":
            return list(self.lightings)
        if factor == "distractors":
            return [str(n) for n in self.distractor_counts]
        if factor == "object":
            return list(self.tasks[task].object_levels)
        raise invalid("factor", factor, ", ".join(FACTORS))

    def task(self, task: str) -> TaskProtocol:
        if task not in self.tasks:
            raise invalid("task", task, f"a task of preset {self.name!r}: {', '.join(self.tasks)}")
        return self.tasks[task]


def preset_names() -> list[str]:
    return sorted(p.stem for p in CONFIGS_DIR.glob("*.yaml"))


def load_preset(name_or_path: str | Path) -> Preset:
    """A preset by name (a file in configs/protocol/) or by path to a YAML file."""
    path = Path(name_or_path)
    if not path.suffix:
        path = CONFIGS_DIR / f"{name_or_path}.yaml"
        if not path.is_file():
            raise invalid("preset", str(name_or_path), f"{', '.join(preset_names())} or a YAML file")
    if not path.is_file():
        raise invalid("preset", str(name_or_path), "an existing YAML file or a preset name")
    try:
        data: Any = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        raise Sim2RealError(f"preset {path} is not valid YAML: {error}") from None
    return preset_from_dict(data, source=str(path))


def preset_from_dict(data: Any, source: str = "preset") -> Preset:
    try:
        return Preset.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise Sim2RealError(f"invalid {source}: {where}: {first['msg']}") from None
