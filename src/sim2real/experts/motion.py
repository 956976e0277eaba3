"""Time-parameterised motions for both arms: Cartesian straight lines, joint moves, grippers.

A phase gives each arm a motion; both arms start and finish together. Cartesian lines are
sampled densely, solved by IK (warm-started, so the joint path is continuous) and then timed with
a minimum-jerk profile whose duration keeps every joint below its speed limit. The result is a
smooth array of 14-number actions, one per control step, with a bounded change per step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sim2real.core.contract import ArmSide
from sim2real.embodiment.dual_arm import DualArm
from sim2real.embodiment.ik import ArmIK, world_to_base
from sim2real.experts.rotations import matrix_to_quat, quat_to_matrix, rotation_angle, slerp

ARM_SLOTS: dict[ArmSide, slice] = {"left": slice(0, 6), "right": slice(7, 13)}
GRIPPER_SLOT: dict[ArmSide, int] = {"left": 6, "right": 13}
MIN_JERK_PEAK = 1.875  # peak speed of a minimum-jerk profile, in units of mean speed


class PlanningError(RuntimeError):
    """The expert cannot reach a target (IK failed); the episode counts as an expert failure."""


@dataclass(frozen=True)
class LineTo:
    """Move the gripper tip along a straight line to a world pose."""

    position: np.ndarray
    rotation: np.ndarray
    speed: float | None = None  # peak linear speed in m/s; None = the planner's default
    # Free-space moves may leave the straight line: a joint-space minimum-jerk move to the goal
    # (often a much shorter joint path than the Cartesian line's).
    joint_space: bool = False


@dataclass(frozen=True)
class JointsTo:
    """Move the arm's six joints to given values (joint-space minimum jerk)."""

    joints: np.ndarray


@dataclass(frozen=True)
class ArmMotion:
    """What one arm does during a phase: a motion (or none) and a gripper target (or none)."""

    move: LineTo | JointsTo | None = None
    gripper: float | None = None  # normalised target, 1 = open


@dataclass(frozen=True)
class Phase:
    """One stage of an expert plan: per-arm motions started together, then an optional pause."""

    motions: dict[ArmSide, ArmMotion]
    min_duration: float = 0.0
    settle: float = 0.0  # seconds to hold still after the motion


@dataclass(frozen=True)
class MotionLimits:
    linear_speed: float = 0.18  # m/s, peak
    angular_speed: float = 1.2  # rad/s, peak, of the gripper orientation
    joint_speed: float = 1.2  # rad/s, peak, of any joint
    gripper_time: float = 0.32  # s for a full open/close stroke


def min_jerk(fraction: np.ndarray) -> np.ndarray:
    return fraction**3 * (10 - 15 * fraction + 6 * fraction**2)


class MotionPlanner:
    """Turns phases into per-control-step actions for the dual arm."""

    def __init__(self, robot: DualArm, control_dt: float, limits: MotionLimits = MotionLimits()):
        self.robot = robot
        self.control_dt = control_dt
        self.limits = limits
        self.ik = ArmIK()

    def tip_pose(self, action: np.ndarray, side: ArmSide) -> tuple[np.ndarray, np.ndarray]:
        """World pose of the gripper tip if the arm were at the commanded joints."""
        position, rotation = self.ik.forward(action[ARM_SLOTS[side]])
        mount = self.robot.mounts[side]
        base = mount.rotation()
        return base @ position + np.array([mount.x, mount.y, mount.z]), base @ rotation

    def solve(self, side: ArmSide, position: np.ndarray, rotation: np.ndarray, q_init: np.ndarray):
        """Joint values placing `side`'s tip at a world pose; raises PlanningError if unreachable."""
        base_position, base_rotation = world_to_base(self.robot.mounts[side], position, rotation)
        q, converged = self.ik.solve(base_position, base_rotation, q_init)
        if not converged:
            raise PlanningError(f"{side} arm cannot reach {np.round(position, 3).tolist()}")
        return q

    def plan(
        self, start: np.ndarray, motions: dict[ArmSide, ArmMotion], min_duration: float = 0.0
    ) -> np.ndarray:
        """Actions (steps x 14) taking the robot from the commanded `start` through one phase."""
        paths: dict[ArmSide, tuple[np.ndarray, np.ndarray]] = {}
        duration = min_duration
        for side, motion in motions.items():
            if motion.move is None:
                continue
            fractions, joints, needed = self._arm_path(start, side, motion.move)
            paths[side] = (fractions, joints)
            duration = max(duration, needed)
        for side, motion in motions.items():
            if motion.gripper is not None:
                stroke = abs(motion.gripper - start[GRIPPER_SLOT[side]])
                duration = max(duration, stroke * self.limits.gripper_time)
        steps = max(1, math.ceil(duration / self.control_dt - 1e-9))
        progress = min_jerk(np.arange(1, steps + 1) / steps)
        actions = np.repeat(start[None, :], steps, axis=0)
        for side, (fractions, joints) in paths.items():
            for j in range(6):
                actions[:, ARM_SLOTS[side].start + j] = np.interp(progress, fractions, joints[:, j])
        linear = np.arange(1, steps + 1) / steps
        for side, motion in motions.items():
            if motion.gripper is not None:
                slot = GRIPPER_SLOT[side]
                actions[:, slot] = start[slot] + (motion.gripper - start[slot]) * linear
        return actions

    def hold(self, start: np.ndarray, seconds: float) -> np.ndarray:
        steps = max(1, round(seconds / self.control_dt))
        return np.repeat(start[None, :], steps, axis=0)

    def _arm_path(
        self, start: np.ndarray, side: ArmSide, move: LineTo | JointsTo
    ) -> tuple[np.ndarray, np.ndarray, float]:
        """Path fractions, joint samples along them, and the duration the limits require."""
        q_start = start[ARM_SLOTS[side]]
        if isinstance(move, JointsTo):
            joints = np.stack([q_start, np.asarray(move.joints, dtype=np.float64)])
            fractions = np.array([0.0, 1.0])
            cartesian_time = 0.0
        else:
            position0, rotation0 = self.tip_pose(start, side)
            distance = float(np.linalg.norm(move.position - position0))
            angle = rotation_angle(rotation0, move.rotation)
            samples = max(2, math.ceil(distance / 0.004) + 1, math.ceil(angle / 0.04) + 1)
            fractions = np.linspace(0.0, 1.0, samples)
            quat0, quat1 = matrix_to_quat(rotation0), matrix_to_quat(move.rotation)
            joints = np.empty((samples, 6))
            joints[0] = q_start
            for k in range(1, samples):
                f = fractions[k]
                position = position0 + f * (move.position - position0)
                rotation = quat_to_matrix(slerp(quat0, quat1, f))
                joints[k] = self.solve(side, position, rotation, joints[k - 1])
            speed = move.speed or self.limits.linear_speed
            cartesian_time = MIN_JERK_PEAK * max(
                distance / speed, angle / self.limits.angular_speed
            )
            if move.joint_space:  # the line's IK chain found the goal's joints; go there direct
                joints, fractions, cartesian_time = joints[[0, -1]], fractions[[0, -1]], 0.0
        slopes = np.abs(np.diff(joints, axis=0)) / np.diff(fractions)[:, None]
        joint_time = MIN_JERK_PEAK * float(slopes.max(initial=0.0)) / self.limits.joint_speed
        return fractions, joints, max(cartesian_time, joint_time)

