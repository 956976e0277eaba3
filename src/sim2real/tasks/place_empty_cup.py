"""place_empty_cup: the cup set down on the coaster and let go (its expert:
`sim2real.experts.place_empty_cup`).

Placement as RoboTwin 2.0 (table-centre frame): the cup at |x| in [0.15, 0.3] on a random side,
y in [-0.2, 0.05]; the coaster at x in [-0.1, 0.1], y in [-0.2, 0.05]; at least 0.1 apart.
Success: the cup's centre within 3.5 cm (xy) of the coaster's, its bottom resting on the coaster
(within 1 cm over its top), and the gripper that carried it open.
"""

from __future__ import annotations

import mujoco
import numpy as np

from sim2real.core.contract import ARM_SIDES
from sim2real.scene.library import instance
from sim2real.scene.library.coaster import Coaster
from sim2real.scene.library.cup import Cup
from sim2real.scene.objects import set_free_pose
from sim2real.scene.station import StationLayout
from sim2real.tasks.base import InitialState, InstructionSet, SimView, Task
from sim2real.tasks.registry import register

CUP_ABS_X = (0.15, 0.3)
CUP_Y = (-0.2, 0.05)
COASTER_X = (-0.1, 0.1)
COASTER_Y = (-0.2, 0.05)
MIN_APART = 0.1
SUCCESS_XY = 0.035
RESTING_WITHIN = 0.01  # cup bottom at most this far over the coaster's top
GRIPPER_OPEN_ABOVE = 0.5

INSTRUCTIONS = InstructionSet(
    seen=(
        "Place {object}.",
        "Put {object}.",
        "Move {object}.",
        "Set {object}.",
        "Pick up {object}.",
        "Grab {object}.",
        "Take {object}.",
        "Lift {object}.",
        "Carry {object}.",
        "Transfer {object}.",
        "Use one arm to put {object}.",
        "Pick {object} up and set it down.",
        "Grasp {object} and place it.",
        "Bring {object}.",
        "Relocate {object}.",
        "Pick up and place {object}.",
        "Lift and put down {object}.",
        "Get {object} placed.",
        "Move over {object}.",
        "Reposition {object}.",
    ),
    unseen=(
        "Could you rest {object}?",
        "Kindly deposit {object}.",
        "Shift {object}, please.",
        "Park {object}.",
        "Let {object} sit.",
    ),
)


@register
class PlaceEmptyCup(Task):
    name = "place_empty_cup"
    description = "Pick up the empty cup and place it on the coaster."
    paper_average_steps = 174
    # RoboTwin 2.0 allows 500 control calls; ours: about 2.5x the expert's mean episode.
    time_limit_s = 17.0
    instructions = INSTRUCTIONS
    object_slots = ("cup", "coaster")

    def __init__(self, cup: Cup | None = None, coaster: Coaster | None = None) -> None:
        self.cup: Cup = cup or instance("cup/seen/0")  # type: ignore[assignment]
        self.coaster: Coaster = coaster or instance("coaster/seen/0")  # type: ignore[assignment]

    def build(self, spec: mujoco.MjSpec, layout: StationLayout) -> None:
        self.cup.add_to(spec, "cup")
        self.coaster.add_to(spec, "coaster")

    def bind(self, view: SimView) -> None:
        self.cup_body = view.model.body("cup").id
        self.coaster_body = view.model.body("coaster").id
        self.grasp_site = view.model.site("cup/grasp").id

    def sample(self, rng: np.random.Generator, seed: int) -> InitialState:
        side = float(rng.choice([-1.0, 1.0]))
        while True:
            cup = np.array([side * rng.uniform(*CUP_ABS_X), rng.uniform(*CUP_Y)])
            coaster = np.array([rng.uniform(*COASTER_X), rng.uniform(*COASTER_Y)])
            if np.linalg.norm(cup - coaster) >= MIN_APART:
                break
        params = {"cup_xy": cup.tolist(), "coaster_xy": coaster.tolist()}
        return InitialState(seed=seed, params=params)

    def apply(self, view: SimView, state: InitialState) -> None:
        for name in ("cup", "coaster"):
            x, y = state.params[f"{name}_xy"]
            set_free_pose(view.model, view.data, f"{name}/free", np.array([x, y, view.table_top]))

    def object_phrase(self, state: InitialState) -> str:
        return f"{self.cup.phrase} on {self.coaster.phrase}"

    def cup_bottom(self, view: SimView) -> np.ndarray:
        return view.data.xpos[self.cup_body].copy()

    def coaster_top(self, view: SimView) -> np.ndarray:
        return view.data.xpos[self.coaster_body] + [0.0, 0.0, self.coaster.height]

    def success(self, view: SimView) -> bool:
        bottom, top = self.cup_bottom(view), self.coaster_top(view)
        if np.hypot(*(bottom[:2] - top[:2])) > SUCCESS_XY:
            return False
        if not -0.005 <= bottom[2] - top[2] <= RESTING_WITHIN:
            return False
        # The cup must be let go: every gripper open (the idle one never closed).
        return all(view.robot.gripper_opening(view.data, s) > GRIPPER_OPEN_ABOVE for s in ARM_SIDES)
