"""Trial plans: every trial of a campaign for one task, with its setup, grid cell, jittered
positions and place in a counterbalanced order. A plan is a pure function of (preset, task,
seed) and is saved as one JSON file whose digest identifies it in the trial database.

Order: the trials of each condition (the base setup, or one level of one factor) are cut into
blocks of `block_size`; a round holds one block of every condition, and the rounds follow the
rows of a Williams Latin square, so each condition visits every position within a round as the
campaign goes on. Every condition is thus spread evenly over the whole campaign (morning and
evening, a full and a flat battery) while the operator changes the setup only between blocks.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from sim2real.core.contract import SEED_LIMIT
from sim2real.errors import Sim2RealError, invalid
from sim2real.protocol.preset import FACTORS, Preset

PLAN_FORMAT = "sim2real-protocol-plan/1"
# Independent random streams per purpose: changing the distractor set leaves positions unchanged.
STREAM_ORDER, STREAM_CELLS, STREAM_JITTER, STREAM_DISTRACTORS, STREAM_SEEDS, STREAM_PAIRS = range(6)


class Distractor(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    xy_cm: tuple[float, float]


class Setup(BaseModel):
    """What the operator lays out before a trial (the same for every trial of a condition)."""

    model_config = ConfigDict(frozen=True)

    background: str
    lighting: str
    instance: str
    distractors: list[Distractor] = Field(default_factory=list)


class Trial(BaseModel):
    """One trial of the plan."""

    model_config = ConfigDict(frozen=True)

    index: int  # position in the plan's order, from 0
    round: int
    block: int
    factor: str  # one of FACTORS
    level: str  # 'base', a texture or lighting name, a distractor count, an object instance
    cell: int
    cell_label: str  # 'B3': column letter, row number from the robot's side
    placements: dict[str, tuple[float, float]]  # task parameter -> jittered (x, y) cm
    cell_centres: dict[str, tuple[float, float]]
    setup: Setup
    seed: int  # an episode seed for a simulated station

    @property
    def condition(self) -> str:
        return "base" if self.factor == "base" else f"{self.factor}={self.level}"


class Plan(BaseModel):
    """A whole campaign for one task."""

    model_config = ConfigDict(frozen=True)

    format: str = PLAN_FORMAT
    task: str
    preset: Preset
    seed: int
    trials: list[Trial]
    digest: str = ""

    @property
    def name(self) -> str:
        return f"{self.task}/{self.preset.name}/seed{self.seed}"

    def conditions(self) -> dict[str, dict[str, int]]:
        """Trials per factor and level."""
        counts = {f: {level: 0 for level in self.preset.levels(f, self.task)} for f in FACTORS}
        for trial in self.trials:
            counts[trial.factor][trial.level] += 1
        return counts

    def policy_order(self, trial: int, policies: int) -> list[int]:
        """The order in which `policies` policies run trial `trial` (interleaved pairs): a
        per-trial random permutation, so neither policy always goes first after a reset."""
        rng = np.random.default_rng(np.random.SeedSequence([self.seed, STREAM_PAIRS, trial]))
        return [int(i) for i in rng.permutation(policies)]

    def save(self, path: Path) -> Path:
        from sim2real.media import atomic_path

        with atomic_path(path, ".json") as tmp:
            tmp.write_text(self.model_dump_json(indent=1))
        return path


def plan_digest(plan: Plan) -> str:
    body = plan.model_dump(mode="json", exclude={"digest"})
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:16]


def load_plan(path: Path) -> Plan:
    if not Path(path).is_file():
        raise Sim2RealError(f"no plan at {path} (write one with `sim2real protocol plan`)")
    try:
        plan = Plan.model_validate_json(Path(path).read_text())
    except ValueError as error:
        raise Sim2RealError(f"{path} is not a protocol plan: {str(error).splitlines()[0]}") from None
    if plan.format != PLAN_FORMAT:
        raise Sim2RealError(f"{path}: plan format {plan.format!r}; this version reads {PLAN_FORMAT!r}")
    if plan.digest != plan_digest(plan):
        raise Sim2RealError(f"{path} was edited after it was planned (digest mismatch); plan again")
    return plan


def williams_order(n: int, row: int) -> list[int]:
    """Row `row` of a Williams design for n conditions: rows 0..n-1 (and their reversals for odd
    n) put every condition in every position once, and each condition follows every other
    equally often."""
    first = [0]
    low, high = 1, n - 1
    while len(first) < n:
        first.append(low)
        low += 1
        if len(first) < n:
            first.append(high)
            high -= 1
    order = [(c + row) % n for c in first]
    if n % 2 and (row // n) % 2:
        order.reverse()
    return order


def make_plan(preset: Preset, task: str, seed: int) -> Plan:
    if not 0 <= seed < SEED_LIMIT:  # the database keeps it as a 32-bit integer
        raise invalid("seed", seed, f"0 <= seed < 2^31 ({SEED_LIMIT})")
    protocol = preset.task(task)
    conditions = [(factor, level) for factor in FACTORS for level in preset.levels(factor, task)]
    per_condition, block = protocol.trials_per_condition, preset.block_size
    rounds = per_condition // block
    rng = lambda stream, *more: np.random.default_rng(np.random.SeedSequence([seed, stream, *more]))  # noqa: E731
    # which condition takes which index in the Williams rows, and where in the square we start
    order_rng = rng(STREAM_ORDER)
    shuffled = [int(i) for i in order_rng.permutation(len(conditions))]
    start = int(order_rng.integers(len(conditions)))
    trial_seeds = rng(STREAM_SEEDS).integers(0, 2**31 - 1, size=per_condition * len(conditions))

    trials: list[Trial] = []
    for round_index in range(rounds):
        # rows start + 0..n-1 (mod n) form a Latin square; later rounds go on reversed
        row = (start + round_index) % len(conditions) + len(conditions) * (round_index // len(conditions))
        for slot in williams_order(len(conditions), row):
            condition = shuffled[slot]
            factor, level = conditions[condition]
            cells = _cells(protocol.cells, per_condition, rng(STREAM_CELLS, condition))
            for k in range(round_index * block, (round_index + 1) * block):
                index = len(trials)
                trials.append(_trial(preset, task, factor, level, condition, k, cells[k], index,
                                     round_index, index // block, int(trial_seeds[index]), seed))
    plan = Plan(task=task, preset=preset, seed=seed, trials=trials)
    return plan.model_copy(update={"digest": plan_digest(plan)})


def _cells(cells: int, trials: int, rng: np.random.Generator) -> list[int]:
    """Every cell equally often, in a random order per condition."""
    return [int(c) for c in rng.permutation(np.tile(np.arange(cells), trials // cells))]


def _trial(preset: Preset, task: str, factor: str, level: str, condition: int, k: int, cell: int,
           index: int, round_index: int, block: int, trial_seed: int, seed: int) -> Trial:
    protocol = preset.task(task)
    jitter_rng = np.random.default_rng(np.random.SeedSequence([seed, STREAM_JITTER, condition, k]))
    centres, placements = {}, {}
    for name, grid in protocol.objects.items():
        x, y = grid.centre(cell)
        jitter = preset.jitter_cm if grid.jitter_cm is None else grid.jitter_cm
        dx, dy = jitter_rng.uniform(-jitter, jitter, size=2) if jitter else (0.0, 0.0)
        centres[name] = (x, y)
        placements[name] = (round(x + float(dx), 1), round(y + float(dy), 1))
    distractors: list[Distractor] = []
    if factor == "distractors":
        distractor_rng = np.random.default_rng(np.random.SeedSequence([seed, STREAM_DISTRACTORS, condition, k]))
        distractors = _distractors(preset, int(level), list(placements.values()), distractor_rng)
    setup = Setup(
        background=level if factor == "background" else "base",
        lighting=level if factor == "lighting" else "base",
        instance=level if factor == "object" else protocol.instance,
        distractors=distractors,
    )
    primary = protocol.objects[protocol.primary()]
    row, column = divmod(cell % primary.cells, len(primary.x_cm))
    return Trial(index=index, round=round_index, block=block, factor=factor, level=level, cell=cell,
                 cell_label=f"{chr(ord('A') + column)}{row + 1}", placements=placements,
                 cell_centres=centres, setup=setup, seed=trial_seed)


def _distractors(preset: Preset, count: int, occupied: list[tuple[float, float]],
                 rng: np.random.Generator) -> list[Distractor]:
    """`count` distinct distractor objects at spots clear of the task objects and each other."""
    names = [preset.distractor_objects[i] for i in rng.permutation(len(preset.distractor_objects))[:count]]
    x_min, x_max, y_min, y_max = preset.distractor_area_cm
    taken = [np.array(p) for p in occupied]
    chosen: list[Distractor] = []
    for name in names:
        for _ in range(1000):
            spot = np.array([rng.uniform(x_min, x_max), rng.uniform(y_min, y_max)])
            if all(np.linalg.norm(spot - other) >= preset.distractor_clearance_cm for other in taken):
                break
        else:
            raise Sim2RealError(f"no room for {count} distractors {preset.distractor_clearance_cm} cm "
                                "apart in distractor_area_cm; enlarge the area or lower the clearance")
        taken.append(spot)
        chosen.append(Distractor(name=name, xy_cm=(round(float(spot[0]), 1), round(float(spot[1]), 1))))
    return chosen


def describe(plan: Plan, trial: Trial) -> dict[str, Any]:
    """What the operator must do for a trial, in words (the console and the sheet show it)."""
    preset = plan.preset
    background = preset.base["background"] if trial.setup.background == "base" else preset.backgrounds[trial.setup.background]
    lighting = preset.base["lighting"] if trial.setup.lighting == "base" else preset.lightings[trial.setup.lighting]
    return {
        "background": background,
        "lighting": lighting,
        "instance": trial.setup.instance,
        "placements": {name.removesuffix("_xy"): xy for name, xy in trial.placements.items()},
        "distractors": [(d.name, d.xy_cm) for d in trial.setup.distractors],
    }
