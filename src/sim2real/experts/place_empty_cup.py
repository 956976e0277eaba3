"""place_empty_cup's expert: the arm on the cup's side grasps the cup from the side, lifts it,
carries it over the coaster, lowers it onto it, lets go and backs off."""

from __future__ import annotations

from collections.abc import Iterator

from sim2real.experts.motion import ArmMotion, LineTo, Phase
from sim2real.experts.primitives import (
    OPEN,
    GraspMotions,
    arm_on_side,
    in_step,
    side_grasp_rotation,
)
from sim2real.experts.registry import register_plan
from sim2real.tasks.base import InitialState, SimView
from sim2real.tasks.place_empty_cup import PlaceEmptyCup

CARRY_CLEARANCE = 0.04  # cup bottom over the coaster top while carried across
RELEASE_GAP = 0.004
PAST_AXIS = 0.01


@register_plan(PlaceEmptyCup.name)
def plan(task: PlaceEmptyCup, view: SimView, state: InitialState) -> Iterator[Phase]:
    side = arm_on_side(state.params["cup_xy"][0])
    point = view.data.site_xpos[task.grasp_site].copy()
    rotation = side_grasp_rotation(view.robot.mounts[side], point, near=(0.15, 1.1))
    grasp = GraspMotions(point + PAST_AXIS * rotation[:, 0], rotation)
    yield from in_step({side: grasp.motions()}, settle=(0, 0, 0.12))
    lift = grasp.position + [0.0, 0.0, CARRY_CLEARANCE + task.coaster.height + 0.01]
    yield Phase({side: ArmMotion(LineTo(lift, rotation, speed=0.25))})
    # Over the coaster by where the cup really is in the fingers now.
    tip, _ = view.robot.ee_pose(view.data, side)
    above = task.coaster_top(view) + [0.0, 0.0, CARRY_CLEARANCE]
    tip_above = tip + above - task.cup_bottom(view)
    yield Phase({side: ArmMotion(LineTo(tip_above, rotation, joint_space=True))})
    tip, _ = view.robot.ee_pose(view.data, side)
    down = task.coaster_top(view)[2] + RELEASE_GAP - task.cup_bottom(view)[2]
    yield Phase({side: ArmMotion(LineTo(tip + [0.0, 0.0, down], rotation, speed=0.12))})
    yield Phase({side: ArmMotion(gripper=OPEN)}, settle=0.1)
    back = tip - 0.06 * rotation[:, 0] + [0.0, 0.0, down + 0.03]
    yield Phase({side: ArmMotion(LineTo(back, rotation, speed=0.25))})
