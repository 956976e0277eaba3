"""stack_bowls_two: one bowl set into the other near the table centre (its expert:
`sim2real.experts.stack_bowls_two`).

Placement as RoboTwin 2.0 (table-centre frame): both bowls at x in [-0.3, 0.3] with |x| >= 0.09,
y in [-0.15, 0.15], at least 0.13 apart. Success: centres within 4 cm (xy), the upper bowl's
bottom resting inside the lower (above its bottom, below its rim), both grippers open.
"""

from __future__ import annotations

import mujoco
import numpy as np

from sim2real.core.contract import ARM_SIDES
from sim2real.scene.library import instance
from sim2real.scene.library.bowl import Bowl
from sim2real.scene.objects import set_free_pose
from sim2real.scene.station import StationLayout
from sim2real.tasks.base import InitialState, InstructionSet, SimView, Task
from sim2real.tasks.registry import register

BOWLS = ("bowl_a", "bowl_b")
X_RANGE = (-0.3, 0.3)
MIN_ABS_X = 0.09
Y_RANGE = (-0.15, 0.15)
MIN_APART = 0.13
SUCCESS_XY = 0.04
GRIPPER_OPEN_ABOVE = 0.5

INSTRUCTIONS = InstructionSet(
    seen=(
        "Stack {object}.",
        "Put one of {object} into the other.",
        "Stack {object} on top of each other.",
        "Place {object} one inside the other.",
        "Nest {object}.",
        "Move {object} to the middle and stack them.",
        "Use both arms to stack {object}.",
        "Pick up {object} and stack them.",
        "Stack {object} in the centre of the table.",
        "Put {object} together in one stack.",
        "Set one of {object} into the other.",
        "Grab {object} by the rim and stack them.",
        "Make a stack of {object}.",
        "Place {object} in the middle, one on the other.",
        "Lift {object} and stack them up.",
        "Stack up {object} at the table centre.",
        "Put {object} on top of one another.",
        "Nest {object} in the centre.",
        "Combine {object} into a stack.",
        "Stack {object} using the gripper.",
    ),
    unseen=(
        "Could you pile {object}?",
        "Tuck one of {object} into its twin.",
        "Heap {object} together.",
        "Assemble {object} into a tower.",
        "Drop one of {object} into the other one.",
    ),
)


@register
class StackBowlsTwo(Task):
    name = "stack_bowls_two"
    description = "Stack the two bowls at the table centre, one inside the other."
    paper_average_steps = 313
    # RoboTwin 2.0 allows 400 control calls; ours: about 2.5x the expert's mean episode.
    time_limit_s = 40.0
    instructions = INSTRUCTIONS
    object_slots = ("bowl",)

    def __init__(self, bowl: Bowl | None = None) -> None:
        # Both bowls are the same instance, so they nest as RoboTwin's stacked bowls do.
        self.bowl: Bowl = bowl or instance("bowl/seen/0")  # type: ignore[assignment]

    def build(self, spec: mujoco.MjSpec, layout: StationLayout) -> None:
        for name in BOWLS:
            self.bowl.add_to(spec, name)

    def bind(self, view: SimView) -> None:
        self.body_ids = [view.model.body(name).id for name in BOWLS]

    def sample(self, rng: np.random.Generator, seed: int) -> InitialState:
        def draw() -> np.ndarray:
            while True:
                x = rng.uniform(*X_RANGE)
                if abs(x) >= MIN_ABS_X:
                    return np.array([x, rng.uniform(*Y_RANGE)])

        first = draw()
        while True:
            second = draw()
            if np.linalg.norm(first - second) >= MIN_APART:
                break
        params = {f"{n}_xy": p.tolist() for n, p in zip(BOWLS, (first, second))}
        return InitialState(seed=seed, params=params)

    def apply(self, view: SimView, state: InitialState) -> None:
        for name in BOWLS:
            x, y = state.params[f"{name}_xy"]
            set_free_pose(view.model, view.data, f"{name}/free", np.array([x, y, view.table_top]))

    def object_phrase(self, state: InitialState) -> str:
        return f"the two {self.bowl.phrase.removeprefix('the ')}s"

    def bottom(self, view: SimView, index: int) -> np.ndarray:
        return view.data.xpos[self.body_ids[index]].copy()

    def success(self, view: SimView) -> bool:
        a, b = self.bottom(view, 0), self.bottom(view, 1)
        lower, upper = (a, b) if a[2] <= b[2] else (b, a)
        if np.hypot(*(upper[:2] - lower[:2])) > SUCCESS_XY:
            return False
        if not 0.003 <= upper[2] - lower[2] <= self.bowl.height * 0.6:
            return False
        return all(view.robot.gripper_opening(view.data, s) > GRIPPER_OPEN_ABOVE for s in ARM_SIDES)
