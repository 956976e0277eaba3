"""pick_dual_bottles: both bottles lifted and held up in front, one per arm (its expert:
`sim2real.experts.pick_dual_bottles`).

Placement as RoboTwin 2.0 (table-centre frame): the left bottle at x in [-0.25, -0.05], the right
one at x in [0.05, 0.25], both at y in [0.03, 0.23]. Success: each bottle's bottom is more than
15 cm over the table and within 6 cm (xy) of its hold target in front of the robot.
"""

from __future__ import annotations

import mujoco
import numpy as np

from sim2real.core.contract import ARM_SIDES, ArmSide
from sim2real.scene.library import category, instance
from sim2real.scene.library.bottle import Bottle
from sim2real.scene.objects import set_free_pose
from sim2real.scene.station import StationLayout
from sim2real.tasks.base import InitialState, InstructionSet, SimView, Task
from sim2real.tasks.registry import register

X_RANGES: dict[ArmSide, tuple[float, float]] = {"left": (-0.25, -0.05), "right": (0.05, 0.25)}
Y_RANGE = (0.03, 0.23)
HOLD_TARGETS: dict[ArmSide, tuple[float, float]] = {"left": (-0.12, -0.08), "right": (0.12, -0.08)}
HOLD_HEIGHT = 0.2  # bottom over the table while held
LIFTED_ABOVE = 0.15  # success: bottom this far over the table
NEAR_TARGET_XY = 0.06

INSTRUCTIONS = InstructionSet(
    seen=(
        "Pick up {object} with both arms.",
        "Lift {object} at the same time.",
        "Grab {object}, one in each gripper, and hold them up.",
        "Use both arms to pick up {object}.",
        "Pick up {object} and raise them in front of you.",
        "Hold {object} up, one per arm.",
        "Grasp {object} simultaneously and lift them.",
        "Take {object} off the table with both grippers.",
        "Lift {object} from the table together.",
        "Pick {object} up and hold them in the air.",
        "Each arm picks up one of {object}.",
        "Raise {object} off the table.",
        "Grab {object} and lift them up.",
        "Pick up {object}, left with the left arm and right with the right arm.",
        "Hold up {object} in front of the robot.",
        "Grasp {object} and hold them above the table.",
        "Lift both of {object} at once.",
        "Pick up {object} and keep them raised.",
        "Use two hands to lift {object}.",
        "Grab {object} with the two arms and lift.",
    ),
    unseen=(
        "Could you hoist {object} together?",
        "Elevate {object}, one in each claw.",
        "Snatch {object} up in unison.",
        "Get {object} up off the surface simultaneously.",
        "Bring {object} up high with both manipulators.",
    ),
)


def partner(bottle: Bottle) -> Bottle:
    """The other bottle of an episode: the next instance of the same split (a different one)."""
    same_split = category("bottle").split(bottle.split)
    index = [b.instance_id for b in same_split].index(bottle.instance_id)
    return same_split[(index + 1) % len(same_split)]  # type: ignore[return-value]


@register
class PickDualBottles(Task):
    name = "pick_dual_bottles"
    description = "Pick up the two bottles with both arms at once and hold them up."
    paper_average_steps = 127
    # RoboTwin 2.0 allows 900 control calls; ours: about 2.5x the expert's mean episode (5.1 s).
    time_limit_s = 13.0
    instructions = INSTRUCTIONS
    object_slots = ("bottle",)  # the left bottle; the right one is its partner

    def __init__(self, bottle: Bottle | None = None) -> None:
        self.bottle = bottle or instance("bottle/seen/0")
        self.bottles: dict[ArmSide, Bottle] = {"left": self.bottle, "right": partner(self.bottle)}

    def build(self, spec: mujoco.MjSpec, layout: StationLayout) -> None:
        for side in ARM_SIDES:
            self.bottles[side].add_to(spec, f"bottle_{side}")

    def bind(self, view: SimView) -> None:
        self.body_ids = {side: view.model.body(f"bottle_{side}").id for side in ARM_SIDES}
        self.grasp_sites = {side: view.model.site(f"bottle_{side}/grasp").id for side in ARM_SIDES}

    def sample(self, rng: np.random.Generator, seed: int) -> InitialState:
        params = {
            f"{side}_xy": [float(rng.uniform(*X_RANGES[side])), float(rng.uniform(*Y_RANGE))]
            for side in ARM_SIDES
        }
        return InitialState(seed=seed, params=params)

    def apply(self, view: SimView, state: InitialState) -> None:
        for side in ARM_SIDES:
            x, y = state.params[f"{side}_xy"]
            position = np.array([x, y, view.table_top])
            set_free_pose(view.model, view.data, f"bottle_{side}/free", position)

    def object_phrase(self, state: InitialState) -> str:
        left, right = self.bottles["left"], self.bottles["right"]
        return f"{left.phrase} and {right.phrase}"

    def bottom(self, view: SimView, side: ArmSide) -> np.ndarray:
        """World position of a bottle's bottom centre (its body origin)."""
        return view.data.xpos[self.body_ids[side]].copy()

    def hold_target(self, view: SimView, side: ArmSide) -> np.ndarray:
        x, y = HOLD_TARGETS[side]
        return np.array([x, y, view.table_top + HOLD_HEIGHT])

    def success(self, view: SimView) -> bool:
        for side in ARM_SIDES:
            bottom = self.bottom(view, side)
            target = self.hold_target(view, side)
            if bottom[2] - view.table_top < LIFTED_ABOVE:
                return False
            if np.hypot(*(bottom[:2] - target[:2])) > NEAR_TARGET_XY:
                return False
        return True
