"""pick_dual_bottles' expert: both arms at once grasp a bottle each from the side, lift it
straight off the table, then hold it up in front."""

from __future__ import annotations

from collections.abc import Iterator

from sim2real.core.contract import ARM_SIDES
from sim2real.experts.motion import ArmMotion, LineTo, Phase
from sim2real.experts.primitives import GraspMotions, in_step, side_grasp_rotation
from sim2real.experts.registry import register_plan
from sim2real.tasks.base import InitialState, SimView
from sim2real.tasks.pick_dual_bottles import PickDualBottles

CLEAR_TABLE = 0.05  # straight lift before moving to the hold target
PAST_AXIS = 0.012  # fingertips this far past the bottle's axis, so they close on its widest part


@register_plan(PickDualBottles.name)
def plan(task: PickDualBottles, view: SimView, state: InitialState) -> Iterator[Phase]:
    grasps = {}
    for side in ARM_SIDES:
        point = view.data.site_xpos[task.grasp_sites[side]].copy()
        rotation = side_grasp_rotation(view.robot.mounts[side], point)
        grasps[side] = GraspMotions(point + PAST_AXIS * rotation[:, 0], rotation)
    yield from in_step({side: g.motions() for side, g in grasps.items()}, settle=(0, 0, 0.12))
    # Straight up off the table first, so the bottles leave it without being dragged.
    yield Phase({
        side: ArmMotion(LineTo(g.position + [0.0, 0.0, CLEAR_TABLE], g.rotation, speed=0.25))
        for side, g in grasps.items()
    })
    # Then to the hold targets, by where each bottle really is now (it may have shifted in
    # the fingers).
    lifts = {}
    for side in ARM_SIDES:
        shift = task.hold_target(view, side) - task.bottom(view, side)
        tip, _ = view.robot.ee_pose(view.data, side)
        lifts[side] = ArmMotion(LineTo(tip + shift, grasps[side].rotation, joint_space=True))
    yield Phase(lifts, settle=0.2)
