"""beat_block_hammer: bring the hammer's head down on the block (its expert:
`sim2real.experts.beat_block_hammer`).

Placement as RoboTwin 2.0 (table-centre frame): the hammer at a fixed pose (lying on its side,
head towards the robot, handle pointing away, centred in x), the block at x in [-0.25, 0.25]
with |x| >= 0.05, y in [-0.05, 0.15], yaw within +-0.5 rad. Success: the hammer's head touches
the block with its centre within 2 cm (xy) of the block's centre; once true it stays true.
"""

from __future__ import annotations

import mujoco
import numpy as np

from sim2real.scene.library import category, instance
from sim2real.scene.library.block import Block
from sim2real.scene.library.hammer import Hammer
from sim2real.scene.objects import set_free_pose
from sim2real.scene.station import StationLayout
from sim2real.tasks.base import InitialState, InstructionSet, SimView, Task
from sim2real.tasks.contacts import ContactProbe
from sim2real.tasks.registry import register

HAMMER, BLOCK = "hammer", "block"
HAMMER_XY = (0.0, -0.01)  # the hammer's bottom centre; its head lies at about y = -0.11
X_RANGE = (-0.25, 0.25)
MIN_ABS_X = 0.05
Y_RANGE = (-0.05, 0.15)
YAW_RANGE = (-0.5, 0.5)
SUCCESS_XY = 0.02

INSTRUCTIONS = InstructionSet(
    seen=(
        "Pick up {object} and beat the block.",
        "Grab {object} and hit the block with it.",
        "Use {object} to strike the block.",
        "Hammer the block with {object}.",
        "Pick up {object} and bring its head down on the block.",
        "Take {object} and tap the block.",
        "Hit the block using {object}.",
        "Grasp {object} and beat the block on the table.",
        "Lift {object} and strike the block with its head.",
        "Use {object} to hammer the block.",
        "Hold {object} and hit the block once.",
        "Knock on the block with {object}.",
        "Grab {object} by the handle and beat the block.",
        "Pick up {object}, then hit the block.",
        "Strike the block with the head of {object}.",
        "Beat the block with {object}.",
        "Take {object} and bring it down onto the block.",
        "With one arm, use {object} to hit the block.",
        "Pound the block with {object}.",
        "Hit the block on the table with {object}.",
    ),
    unseen=(
        "Wield {object} and whack the cube.",
        "Smack the little cube using {object}.",
        "Could you bang the cube with {object}?",
        "Tap the cube sharply by swinging {object}.",
        "Drive {object}'s head onto the cube.",
    ),
)


def matching_block(hammer: Hammer) -> Block:
    """The block of an episode follows the hammer's split (and index, wrapping around)."""
    blocks = category("block").split(hammer.split)
    hammers = [h.instance_id for h in category("hammer").split(hammer.split)]
    index = hammers.index(hammer.instance_id) if hammer.instance_id in hammers else 0
    return blocks[index % len(blocks)]  # type: ignore[return-value]


@register
class BeatBlockHammer(Task):
    name = "beat_block_hammer"
    description = "Pick up the hammer and beat the block with it."
    paper_average_steps = 113
    # RoboTwin 2.0 allows 400 control calls; ours: about 2.5x the expert's mean episode (5.4 s).
    time_limit_s = 13.5
    instructions = INSTRUCTIONS
    object_slots = ("hammer",)  # the block follows the hammer's split

    def __init__(self, hammer: Hammer | None = None, block: Block | None = None) -> None:
        self.hammer = hammer or instance("hammer/seen/0")
        self.block = block or matching_block(self.hammer)
        self._hit = False

    def build(self, spec: mujoco.MjSpec, layout: StationLayout) -> None:
        self.hammer.add_to(spec, HAMMER)
        self.block.add_to(spec, BLOCK)

    def bind(self, view: SimView) -> None:
        model = view.model
        self.grip_site = model.site(f"{HAMMER}/grip").id
        self.head_site = model.site(f"{HAMMER}/head").id
        self.block_body = model.body(BLOCK).id
        self.block_top_site = model.site(f"{BLOCK}/top").id
        head = model.geom(f"{HAMMER}/head").id
        block_geoms = np.flatnonzero(model.geom_bodyid == self.block_body)
        self.head_on_block = ContactProbe(model, [head], block_geoms)

    def sample(self, rng: np.random.Generator, seed: int) -> InitialState:
        while True:
            x = rng.uniform(*X_RANGE)
            if abs(x) >= MIN_ABS_X:
                break
        y, yaw = rng.uniform(*Y_RANGE), rng.uniform(*YAW_RANGE)
        params = {"block_xy": [float(x), float(y)], "block_yaw": float(yaw)}
        return InitialState(seed=seed, params=params)

    def apply(self, view: SimView, state: InitialState) -> None:
        top = view.table_top
        set_free_pose(view.model, view.data, f"{HAMMER}/free", np.array([*HAMMER_XY, top]))
        x, y = state.params["block_xy"]
        yaw = state.params["block_yaw"]
        set_free_pose(view.model, view.data, f"{BLOCK}/free", np.array([x, y, top]), yaw)
        self._hit = False

    def object_phrase(self, state: InitialState) -> str:
        return self.hammer.phrase

    def head_centre(self, view: SimView) -> np.ndarray:
        return view.data.site_xpos[self.head_site].copy()

    def block_centre(self, view: SimView) -> np.ndarray:
        return view.data.xpos[self.block_body].copy()

    def success(self, view: SimView) -> bool:
        if self._hit:
            return True
        if not self.head_on_block.touching(view.data):
            return False
        offset = self.head_centre(view)[:2] - self.block_centre(view)[:2]
        self._hit = bool(np.hypot(*offset) <= SUCCESS_XY)
        return self._hit
