"""click_bell: press the bell's top button once (its expert: `sim2real.experts.click_bell`).

Placement as RoboTwin 2.0: x in [-0.25, 0.25] with |x| >= 0.05, y in [-0.2, 0] (table-centre
frame). Success: gripper closed and touching the bell within 2.5 cm (xy) and 3 cm (z) of the
top centre; once true it stays true for the rest of the episode.
"""

from __future__ import annotations

import mujoco
import numpy as np

from sim2real.scene.library import instance
from sim2real.scene.library.bell import Bell
from sim2real.scene.objects import set_free_pose
from sim2real.scene.station import StationLayout
from sim2real.tasks.base import InitialState, InstructionSet, SimView, Task
from sim2real.tasks.contacts import ContactProbe
from sim2real.tasks.registry import register

BELL = "bell"
X_RANGE = (-0.25, 0.25)
MIN_ABS_X = 0.05
Y_RANGE = (-0.2, 0.0)
SUCCESS_XY = 0.025
SUCCESS_Z = 0.03
GRIPPER_CLOSED_BELOW = 0.2  # normalised opening under which the gripper counts as closed

INSTRUCTIONS = InstructionSet(
    seen=(
        "Click {object}.",
        "Press {object}.",
        "Ring {object}.",
        "Tap the top of {object}.",
        "Press the button on top of {object}.",
        "Click the top center of {object}.",
        "Push down on {object} once.",
        "Use one arm to click {object}.",
        "Ring {object} on the table.",
        "Give {object} a single press.",
        "Press down on the top of {object}.",
        "Hit the button of {object}.",
        "Click {object} with the closed gripper.",
        "Reach over and press {object}.",
        "Ring {object} by pressing its top.",
        "Press the center of {object}.",
        "Tap {object} on the table once.",
        "Click the button on {object}.",
        "Push the top of {object} down.",
        "Make {object} ring.",
    ),
    unseen=(
        "Could you sound {object} by pushing its knob?",
        "Depress the plunger atop {object}.",
        "Activate {object} with a downward poke.",
        "Strike the crown of {object} from above.",
        "Signal by pressing {object}'s cap.",
    ),
)


@register
class ClickBell(Task):
    name = "click_bell"
    description = "Click the bell's top center on the table."
    paper_average_steps = 85
    time_limit_s = 8.0
    instructions = INSTRUCTIONS
    object_slots = ("bell",)

    def __init__(self, bell: Bell | None = None) -> None:
        self.bell = bell or instance("bell/seen/0")
        self._pressed = False

    def build(self, spec: mujoco.MjSpec, layout: StationLayout) -> None:
        self.bell.add_to(spec, BELL)

    def bind(self, view: SimView) -> None:
        model = view.model
        self.top_site = model.site(f"{BELL}/top").id
        bell_body = model.body(BELL).id
        bell_geoms = np.flatnonzero(model.geom_bodyid == bell_body)
        self.probes = {
            side: ContactProbe(model, geoms, bell_geoms)
            for side, geoms in view.robot.gripper_geoms.items()
        }

    def sample(self, rng: np.random.Generator, seed: int) -> InitialState:
        while True:
            x = rng.uniform(*X_RANGE)
            if abs(x) >= MIN_ABS_X:
                break
        y = rng.uniform(*Y_RANGE)
        return InitialState(seed=seed, params={"bell_xy": [float(x), float(y)]})

    def apply(self, view: SimView, state: InitialState) -> None:
        x, y = state.params["bell_xy"]
        set_free_pose(view.model, view.data, f"{BELL}/free", np.array([x, y, view.table_top]))
        self._pressed = False

    def object_phrase(self, state: InitialState) -> str:
        return self.bell.phrase

    def top_centre(self, view: SimView) -> np.ndarray:
        return view.data.site_xpos[self.top_site].copy()

    def success(self, view: SimView) -> bool:
        if self._pressed:
            return True
        if view.data.ncon == 0:
            return False
        for side, probe in self.probes.items():
            if view.robot.gripper_opening(view.data, side) >= GRIPPER_CLOSED_BELOW:
                continue
            points = probe.contact_points(view.data)
            if len(points) == 0:
                continue
            offsets = points - view.data.site_xpos[self.top_site]
            near = (np.hypot(offsets[:, 0], offsets[:, 1]) <= SUCCESS_XY) & (
                np.abs(offsets[:, 2]) <= SUCCESS_Z
            )
            if near.any():
                self._pressed = True
                return True
        return False
