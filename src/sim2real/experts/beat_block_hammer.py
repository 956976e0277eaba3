"""beat_block_hammer's expert: the arm on the block's side grasps the hammer from above, lifts
it and strikes the block with its head."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from sim2real.core.contract import ArmSide
from sim2real.embodiment.ik import downward_rotation, tilted_rotation
from sim2real.experts.motion import ArmMotion, LineTo, Phase
from sim2real.experts.primitives import CLOSED, OPEN, arm_on_side, heading
from sim2real.experts.registry import register_plan
from sim2real.experts.rotations import rotation_angle
from sim2real.tasks.base import InitialState, SimView
from sim2real.tasks.beat_block_hammer import HAMMER, BeatBlockHammer

ABOVE_GRIP = 0.06  # pre-grasp height of the fingertips over the grip point
GRIP_BELOW_CENTRE = 0.008  # fingertips this far under the handle's mid-height
LIFT = 0.08
HOVER = 0.04  # the head's bottom over the block's top before the strike
STRIKE_DEPTH = 0.015  # the strike aims this far into the block, so it surely touches
STRIKE_PITCH = 1.0  # gripper approach below horizontal during the strike (rad)


@register_plan(BeatBlockHammer.name)
def plan(task: BeatBlockHammer, view: SimView, state: InitialState) -> Iterator[Phase]:
    side = arm_on_side(state.params["block_xy"][0])
    down = grasp_rotation(task, view, side)
    grasp = view.data.site_xpos[task.grip_site] - [0.0, 0.0, GRIP_BELOW_CENTRE]
    above = grasp + [0.0, 0.0, ABOVE_GRIP]
    yield Phase({side: ArmMotion(LineTo(above, down, joint_space=True), gripper=OPEN)})
    yield Phase({side: ArmMotion(LineTo(grasp, down, speed=0.2))})
    yield Phase({side: ArmMotion(gripper=CLOSED)}, settle=0.12)
    yield Phase({side: ArmMotion(LineTo(grasp + [0.0, 0.0, LIFT], down, speed=0.3))})
    # Where the head really hangs from the fingertips now decides where the tip must go.
    block_top = view.data.site_xpos[task.block_top_site].copy()
    rotation, head_offset, head_depth = strike_pose(task, view, side, block_top)
    over = block_top - head_offset + [0.0, 0.0, head_depth + HOVER]
    strike = over - [0.0, 0.0, HOVER + STRIKE_DEPTH]
    yield Phase({side: ArmMotion(LineTo(over, rotation, speed=0.3))})
    yield Phase({side: ArmMotion(LineTo(strike, rotation, speed=0.2))}, settle=0.2)


def grasp_rotation(task: BeatBlockHammer, view: SimView, side: ArmSide) -> np.ndarray:
    """Gripper pointing down, fingers closing across the handle; of the two such grips,
    the one nearer the arm's natural wrist angle (fingers across its reach direction)."""
    handle = view.data.xmat[view.model.body(HAMMER).id].reshape(3, 3)[:, 1]
    across = float(np.arctan2(handle[1], handle[0])) + np.pi / 2
    grip = view.data.site_xpos[task.grip_site]
    natural = heading(view.robot.mounts[side], grip) + np.pi / 2
    yaw = min((across, across + np.pi), key=lambda a: abs(np.angle(np.exp(1j * (a - natural)))))
    return downward_rotation(yaw)


def strike_pose(
    task: BeatBlockHammer, view: SimView, side: ArmSide, block_top: np.ndarray
) -> tuple[np.ndarray, np.ndarray, float]:
    """The gripper rotation for the strike, the head centre's offset from the fingertips
    under it, and how far the head's lowest corner then lies below the head's centre.

    Far blocks are out of reach for a vertical gripper, so it tilts towards its reach
    direction (fingers kept the nearer way round, so the hammer barely turns). The head
    lies towards the robot and the tilt leans forward, so the head swings below the
    fingers: it leads and the fingers stay clear of the block."""
    tip, now = view.robot.ee_pose(view.data, side)
    tilted = tilted_rotation(heading(view.robot.mounts[side], block_top), STRIKE_PITCH)
    flipped = tilted @ np.diag([1.0, -1.0, -1.0])
    chosen = min((tilted, flipped), key=lambda r: rotation_angle(now, r))
    turn = chosen @ now.T  # the hammer turns with the gripper
    offset = turn @ (task.head_centre(view) - tip)
    head_axes = turn @ view.data.xmat[view.model.body(HAMMER).id].reshape(3, 3)
    hammer = task.hammer
    half = np.array([hammer.head_length, hammer.head_width, hammer.thickness]) / 2
    depth = float(np.abs(head_axes[2]) @ half)  # the head box's lowest corner
    return chosen, offset, depth
