"""Two WidowX AI arms attached to one scene, and the 14-number action/state layout.

Layout (as RoboTwin 2.0 and ALOHA): [left joint1..6, left gripper, right joint1..6, right gripper],
joints in radians (absolute targets), gripper normalised to [0, 1] with 1 = open.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import mujoco
import numpy as np

from sim2real.core.contract import ACTION_DIM, ARM_SIDES, GRIPPER_SLOTS, HOME_JOINTS, ArmSide
from sim2real.embodiment.assets import load_arm_spec

ARM_JOINTS = tuple(f"joint_{i}" for i in range(6))
GRIPPER_JOINT = "left_carriage_joint"  # the actuated finger; the other mirrors it by an equality
GRIPPER_ACTUATOR = "left_gripper"
GRIPPER_TRAVEL_M = 0.044  # finger travel from closed (0) to open
FINGER_BODIES = ("carriage_left", "carriage_right")
EE_SITE = "ee_site"
WRIST_CAMERA = "cam"
D405_FOVY_DEG = 58.0  # vertical field of view of the D405 colour stream at 640x480

# Position-servo gains. The asset's gains (kp 200/100/50) leave centimetres of lag under load;
# these track commanded targets within a few milliradians at the expert's speeds.
JOINT_GAINS = {  # joint -> (kp, kv)
    "joint_0": (600.0, 30.0),
    "joint_1": (800.0, 40.0),
    "joint_2": (700.0, 35.0),
    "joint_3": (300.0, 12.0),
    "joint_4": (200.0, 8.0),
    "joint_5": (150.0, 6.0),
}


def gripper_to_metres(normalised):
    """The simulator's gripper mapping: [0, 1] (1 = open) -> finger travel in metres."""
    return np.asarray(normalised, dtype=np.float64) * GRIPPER_TRAVEL_M


def metres_to_gripper(metres):
    """Finger travel in metres -> the normalised gripper value (inverse of gripper_to_metres)."""
    return np.asarray(metres, dtype=np.float64) / GRIPPER_TRAVEL_M


@functools.cache
def simulated_limits() -> tuple[np.ndarray, np.ndarray]:
    """The 14 action bounds of the simulated station (the arm asset's joint ranges, grippers
    [0, 1]): what every policy trained here was trained with. Cached; copies returned."""
    model = load_arm_spec().compile()
    low, high = [], []
    for name in ARM_JOINTS:
        joint_range = model.joint(name).range
        low.append(float(joint_range[0]))
        high.append(float(joint_range[1]))
    low, high = np.array([*low, 0.0] * 2), np.array([*high, 1.0] * 2)
    low.flags.writeable = high.flags.writeable = False
    return low, high


@dataclass(frozen=True)
class ArmMount:
    """Where an arm's base sits in the world (on the table top, facing +y)."""

    x: float
    y: float
    z: float
    yaw: float = np.pi / 2  # the arm's +x (its forward) along the world's +y

    @property
    def quat(self) -> np.ndarray:
        return np.array([np.cos(self.yaw / 2), 0.0, 0.0, np.sin(self.yaw / 2)])

    def rotation(self) -> np.ndarray:
        c, s = np.cos(self.yaw), np.sin(self.yaw)
        return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def attach_dual_arm(spec: mujoco.MjSpec, mounts: dict[ArmSide, ArmMount]) -> None:
    """Attach two prefixed copies ('left/', 'right/') of the arm to `spec`."""
    spec.option.integrator = mujoco.mjtIntegrator.mjINT_IMPLICITFAST
    for side in ARM_SIDES:
        mount = mounts[side]
        arm = load_arm_spec()
        camera = arm.camera(WRIST_CAMERA)
        camera.fovy = D405_FOVY_DEG
        # Torsional friction on the fingers: a pinched object (a hammer held by its handle)
        # otherwise pivots about the pinch axis as soon as the gripper tilts.
        for finger in FINGER_BODIES:
            for geom in arm.body(finger).geoms:
                geom.condim = 4
        for actuator in arm.actuators:
            gains = JOINT_GAINS.get(actuator.target)
            if gains is not None:
                kp, kv = gains
                actuator.gainprm[0] = kp
                actuator.biasprm[:3] = [0.0, -kp, -kv]
                actuator.forcerange = [-2 * actuator.forcerange[1], 2 * actuator.forcerange[1]]
        frame = spec.worldbody.add_frame(pos=[mount.x, mount.y, mount.z], quat=mount.quat)
        spec.attach(arm, frame=frame, prefix=f"{side}/")


class DualArm:
    """Index bookkeeping for the two arms in a compiled model: actions in, state out."""

    def __init__(self, model: mujoco.MjModel, mounts: dict[ArmSide, ArmMount]) -> None:
        self.mounts = mounts
        qpos_idx, ctrl_idx, low, high = [], [], [], []
        self.ee_site: dict[ArmSide, int] = {}
        self.arm_qpos: dict[ArmSide, np.ndarray] = {}
        self.gripper_qpos: dict[ArmSide, int] = {}
        for side in ARM_SIDES:
            joints = [model.joint(f"{side}/{name}") for name in ARM_JOINTS]
            gripper = model.joint(f"{side}/{GRIPPER_JOINT}")
            self.arm_qpos[side] = np.array([j.qposadr[0] for j in joints])
            self.gripper_qpos[side] = int(gripper.qposadr[0])
            qpos_idx += [*self.arm_qpos[side], self.gripper_qpos[side]]
            for name in (*ARM_JOINTS, GRIPPER_ACTUATOR):
                ctrl_idx.append(model.actuator(f"{side}/{name}").id)
            low += [float(j.range[0]) for j in joints] + [0.0]
            high += [float(j.range[1]) for j in joints] + [1.0]
            self.ee_site[side] = model.site(f"{side}/{EE_SITE}").id
        self.qpos_index = np.array(qpos_idx)
        self.ctrl_index = np.array(ctrl_idx)
        self.action_low = np.array(low)
        self.action_high = np.array(high)
        self.gripper_slots = np.array(GRIPPER_SLOTS)
        self.arm_geoms = {side: self._subtree_geoms(model, f"{side}/base_link") for side in ARM_SIDES}
        # The gripper: the last link (palm, camera mount) and both fingers.
        self.gripper_geoms = {
            side: self._subtree_geoms(model, f"{side}/link_6") for side in ARM_SIDES
        }

    @staticmethod
    def _subtree_geoms(model: mujoco.MjModel, root_body: str) -> frozenset[int]:
        root = model.body(root_body).id
        bodies = {root}
        for body in range(model.nbody):  # bodies are stored parents-first
            if model.body_parentid[body] in bodies:
                bodies.add(body)
        return frozenset(int(g) for g in np.flatnonzero(np.isin(model.geom_bodyid, list(bodies))))

    def action_to_ctrl(self, action: np.ndarray) -> np.ndarray:
        """Map a validated 14-vector to actuator controls (gripper [0,1] -> finger metres)."""
        ctrl = np.array(action, dtype=np.float64)
        ctrl[self.gripper_slots] = gripper_to_metres(ctrl[self.gripper_slots])
        return ctrl

    def state(self, data: mujoco.MjData) -> np.ndarray:
        """The 14 measured joint values in action layout (gripper normalised, 1 = open)."""
        state = data.qpos[self.qpos_index].copy()
        state[self.gripper_slots] = metres_to_gripper(state[self.gripper_slots])
        return state

    def gripper_opening(self, data: mujoco.MjData, side: ArmSide) -> float:
        """Measured gripper opening, normalised (0 closed, 1 open)."""
        return float(data.qpos[self.gripper_qpos[side]]) / GRIPPER_TRAVEL_M

    def ee_pose(self, data: mujoco.MjData, side: ArmSide) -> tuple[np.ndarray, np.ndarray]:
        """World position and rotation matrix of an arm's gripper tip."""
        site = self.ee_site[side]
        return data.site_xpos[site].copy(), data.site_xmat[site].reshape(3, 3).copy()
