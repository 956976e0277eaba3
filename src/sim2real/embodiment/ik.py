"""Inverse kinematics of one WidowX AI arm with mink, in the arm's base frame.

Both arms are the same machine, so one small single-arm model serves both: world targets are
moved into the base frame of the arm that should reach them.
"""

from __future__ import annotations

import mink
import mujoco
import numpy as np

from sim2real.embodiment.assets import load_arm_spec
from sim2real.embodiment.dual_arm import ARM_JOINTS, EE_SITE, ArmMount

_SOLVER = "daqp"


class ArmIK:
    """Differential IK iterated to convergence, warm-started from the previous solution."""

    def __init__(self, position_tolerance: float = 5e-4, rotation_tolerance: float = 5e-3) -> None:
        self.model = load_arm_spec().compile()
        self.configuration = mink.Configuration(self.model)
        self.arm_dofs = np.array([self.model.joint(name).qposadr[0] for name in ARM_JOINTS])
        self.ee_task = mink.FrameTask(
            frame_name=EE_SITE, frame_type="site", position_cost=1.0, orientation_cost=0.5
        )
        self.posture_task = mink.PostureTask(self.model, cost=1e-3)
        self.limits = [mink.ConfigurationLimit(self.model, gain=0.9)]
        self.lower = self.model.jnt_range[: len(ARM_JOINTS), 0]
        self.upper = self.model.jnt_range[: len(ARM_JOINTS), 1]
        self.position_tolerance = position_tolerance
        self.rotation_tolerance = rotation_tolerance

    def forward(self, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Gripper-tip position and rotation in the base frame for 6 joint values."""
        qpos = self.configuration.q.copy()
        qpos[self.arm_dofs] = q
        self.configuration.update(qpos)
        pose = self.configuration.get_transform_frame_to_world(EE_SITE, "site")
        return pose.translation(), pose.rotation().as_matrix()

    def solve(
        self,
        position: np.ndarray,
        rotation: np.ndarray,
        q_init: np.ndarray,
        max_iterations: int = 60,
    ) -> tuple[np.ndarray, bool]:
        """Joint values reaching (position, rotation) in the base frame; (q, converged)."""
        qpos = np.zeros(self.model.nq)
        qpos[self.arm_dofs] = np.clip(q_init, self.lower + 1e-6, self.upper - 1e-6)
        self.configuration.update(qpos)
        target = mink.SE3.from_rotation_and_translation(mink.SO3.from_matrix(rotation), position)
        self.ee_task.set_target(target)
        self.posture_task.set_target(qpos)
        tasks = [self.ee_task, self.posture_task]
        dt = 0.1
        converged = False
        for _ in range(max_iterations):
            velocity = mink.solve_ik(
                self.configuration, tasks, dt, _SOLVER, damping=1e-4, limits=self.limits
            )
            self.configuration.integrate_inplace(velocity, dt)
            error = self.ee_task.compute_error(self.configuration)
            if (
                np.linalg.norm(error[:3]) < self.position_tolerance
                and np.linalg.norm(error[3:]) < self.rotation_tolerance
            ):
                converged = True
                break
        return self.configuration.q[self.arm_dofs].copy(), converged


def world_to_base(
    mount: ArmMount, position: np.ndarray, rotation: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Express a world pose in an arm's base frame."""
    base_rotation = mount.rotation()
    offset = position - np.array([mount.x, mount.y, mount.z])
    return base_rotation.T @ offset, base_rotation.T @ rotation


def downward_rotation(yaw: float) -> np.ndarray:
    """Gripper pointing straight down; `yaw` turns the finger axis about the world z."""
    approach = np.array([0.0, 0.0, -1.0])
    fingers = np.array([np.cos(yaw), np.sin(yaw), 0.0])
    return np.column_stack([approach, fingers, np.cross(approach, fingers)])


def tilted_rotation(yaw: float, pitch: float) -> np.ndarray:
    """Gripper approaching along a direction `pitch` below horizontal, heading `yaw` (world)."""
    approach = np.array(
        [np.cos(pitch) * np.cos(yaw), np.cos(pitch) * np.sin(yaw), -np.sin(pitch)]
    )
    fingers = np.array([-np.sin(yaw), np.cos(yaw), 0.0])  # horizontal, across the approach
    return np.column_stack([approach, fingers, np.cross(approach, fingers)])
