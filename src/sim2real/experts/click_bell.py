"""click_bell's expert: the arm on the bell's side closes its gripper over the bell, presses
its top about 4.5 cm down and lifts."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from sim2real.embodiment.ik import downward_rotation
from sim2real.experts.motion import ArmMotion, LineTo, Phase
from sim2real.experts.primitives import arm_on_side
from sim2real.experts.registry import register_plan
from sim2real.tasks.base import InitialState, SimView
from sim2real.tasks.click_bell import ClickBell

HOVER_ABOVE_TOP = 0.035
PRESS_DEPTH = 0.045


@register_plan(ClickBell.name)
def plan(task: ClickBell, view: SimView, state: InitialState) -> Iterator[Phase]:
    side = arm_on_side(state.params["bell_xy"][0])
    top = task.top_centre(view)
    mount = view.robot.mounts[side]
    heading = np.arctan2(top[1] - mount.y, top[0] - mount.x)
    down = downward_rotation(heading + np.pi / 2)
    hover = top + [0.0, 0.0, HOVER_ABOVE_TOP]
    press = hover - [0.0, 0.0, PRESS_DEPTH]
    # Straight from home to the hover point, with no higher waypoint over the bell: home
    # is higher than any hover point, so the line only descends and the closed fingers
    # stay above the hover height near the bell. A waypoint 5 cm higher was out of a
    # downward gripper's reach over far or near bells once the table (TH) is raised
    # (it failed to plan in 3 % of episodes with the table 1.5-3 cm up, 39 % at 3-6 cm).
    yield Phase({side: ArmMotion(LineTo(hover, down), gripper=0.0)})
    yield Phase({side: ArmMotion(LineTo(press, down, speed=0.1))}, settle=0.16)
    yield Phase({side: ArmMotion(LineTo(hover + [0, 0, 0.03], down, speed=0.2))})
