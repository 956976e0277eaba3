"""Two AgileX Piper arms through the real `piper_sdk` (its V2 interface) over python-can, one
CAN channel per arm (`robot.arms`), on the interface `robot.interface` (socketcan on a real
station; python-can's in-process `virtual` bus in the tests).

Units: the controller speaks integers, joints in 0.001 degree and the gripper's finger opening
in 0.001 mm. The contract's joints (radians, the simulated WidowX AI's zero pose and axis
directions) become Piper joints as `sign * q + offset` (config `joint_signs`, `joint_offsets`);
the gripper's [0, 1] is the fraction of `gripper_stroke_m`. `send_action` returns the targets
as the controller received them, after the integer rounding.

Feedback: Piper frames carry no sequence number, so each arm's feedback stamp is the receive
time of its newest joint-feedback frame (microseconds as the id). A controller that goes
silent leaves it frozen while the SDK keeps returning its last values; the runtime's watchdog
is what notices.

Stopping: `hold` commands the measured position; `idle` then puts the controller in standby
(0x151 control mode 0x00), where it ignores joint commands. The motors stay enabled: a Piper's
joints are not all braked, and disabling them (0x471) lets the arm fall, so disabling is left
to the operator (`piper_sdk`'s DisablePiper, with the arm supported).
"""

from __future__ import annotations

import math
import time
import warnings
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np

from sim2real.core.contract import ARM_SIDES
from sim2real.robot.cameras.base import Camera
from sim2real.robot.config import PiperRobotConfig
from sim2real.robot.robot import ConnectionLost, Robot, RobotError, both_arms, per_arm

MILLIDEGREES_PER_RAD = 180_000.0 / math.pi
MICROMETRES_PER_M = 1e6
CAN_MODE, STANDBY_MODE, MOVE_J = 0x01, 0x00, 0x01
GRIPPER_ENABLE = 0x01
ALL_MOTORS = 7
EMERGENCY_STOP = 0x01  # 0x2A1 arm_status
POLL_S = 0.01


class PiperRobot(Robot):
    kind = "piper"

    def __init__(self, config: PiperRobotConfig, cameras: dict[str, Camera] | None = None) -> None:
        super().__init__(cameras)
        self.config = config
        self.signs = np.asarray(config.joint_signs, dtype=np.float64)
        self.offsets = np.asarray(config.joint_offsets, dtype=np.float64)
        self._arms: dict[str, Any] = {}
        self._connected_after: dict[str, tuple[float, float]] = {}
        self._idle = False

    # -- unit conversions (one arm: 6 joints, then the gripper) ----------------------------------

    def to_controller(self, arm: np.ndarray) -> tuple[list[int], int]:
        """7 contract values -> (6 joints in 0.001 degree, gripper opening in 0.001 mm)."""
        arm = np.asarray(arm, dtype=np.float64)
        joints = self.signs * arm[:6] + self.offsets
        millidegrees = [int(round(v * MILLIDEGREES_PER_RAD)) for v in joints]
        micrometres = int(round(float(arm[6]) * self.config.gripper_stroke_m * MICROMETRES_PER_M))
        return millidegrees, micrometres

    def from_controller(self, millidegrees, micrometres: int) -> np.ndarray:
        """The controller's integers -> 7 contract values."""
        joints = np.asarray(millidegrees, dtype=np.float64) / MILLIDEGREES_PER_RAD
        contract = (joints - self.offsets) * self.signs
        gripper = micrometres / (self.config.gripper_stroke_m * MICROMETRES_PER_M)
        return np.append(contract, gripper)

    @property
    def limits(self) -> tuple[np.ndarray, np.ndarray]:
        """The SDK's Piper joint ranges, mapped into the contract's joint space; the gripper as
        far as both the stroke and the SDK's gripper range allow."""
        from piper_sdk.piper_param import C_PiperParamManager

        params = C_PiperParamManager()
        ranges = np.array([params.GetJointLimitParam(f"j{i}") for i in range(1, 7)], dtype=np.float64)
        ends = (ranges - self.offsets[:, None]) * self.signs[:, None]
        low, high = ends.min(axis=1), ends.max(axis=1)
        gripper_high = min(1.0, params.GetGripperRangeParam()[1] / self.config.gripper_stroke_m)
        arm_low, arm_high = np.append(low, 0.0), np.append(high, gripper_high)
        return both_arms(arm_low, arm_low), both_arms(arm_high, arm_high)

    def versions(self) -> dict[str, Any]:
        out: dict[str, Any] = {"driver": f"piper_sdk {version('piper_sdk')}",
                               "python-can": version("python-can")}
        for side, arm in self._arms.items():
            firmware = arm.GetPiperFirmwareVersion()
            status = arm.GetArmStatus().arm_status
            out[side] = {"channel": self.config.arms[side],
                         "firmware": firmware if isinstance(firmware, str) else "not reported",
                         "ctrl_mode": int(status.ctrl_mode), "arm_status": int(status.arm_status),
                         "err_code": int(status.err_code)}
        return out

    # -- the Robot interface ------------------------------------------------------------------------

    def _arms_connect(self) -> None:
        from piper_sdk import C_PiperInterface_V2

        for side in ARM_SIDES:
            channel = self.config.arms[side]
            if self.config.interface == "socketcan" and not Path(f"/sys/class/net/{channel}").exists():
                self._release()
                raise RobotError(f"invalid robot.arms.{side}: {channel!r}; allowed: a CAN interface "
                                 "that exists and is up at 1 Mbit/s (ip link; see docs/robot.md)")
            # The SDK keeps one interface per channel name; the bus is (re)created each connect.
            arm = C_PiperInterface_V2(channel, judge_flag=False, can_auto_init=False)
            # Feedback from an earlier connection stays in the SDK's interface: only frames
            # newer than it prove the controller answers now.
            self._connected_after[side] = (arm.GetArmJointMsgs().time_stamp,
                                           arm.GetArmLowSpdInfoMsgs().time_stamp)
            try:
                with warnings.catch_warnings():  # the SDK still passes python-can's old `bustype`
                    warnings.filterwarnings("ignore", "The 'bustype' argument", DeprecationWarning)
                    arm.CreateCanBus(channel, bustype=self.config.interface, judge_flag=False)
            except ConnectionError:
                self._release()
                raise RobotError(f"{side} arm: python-can could not open {self.config.interface} "
                                 f"channel {channel!r}") from None
            arm.ConnectPort()
            self._arms[side] = arm
        try:
            for side in ARM_SIDES:
                self._await_feedback(side)
                status = self._arms[side].GetArmStatus().arm_status
                if status.arm_status == EMERGENCY_STOP:
                    raise RobotError(f"{side} arm ({self.config.arms[side]}) is in emergency stop; "
                                     "clear it on the arm (teach pendant or piper_sdk) first")
            self._enable()
        except BaseException:
            self._release()
            raise

    def start_episode(self, seed: int) -> dict[str, Any]:
        """Back from idle (standby): CAN control mode again, motors enabled."""
        if self._idle:
            self._enable()
        return {}

    def _arms_read(self) -> tuple[np.ndarray, dict[str, tuple[int, float]]]:
        values, stamps = [], {}
        for side in ARM_SIDES:
            joints = self._arm(side).GetArmJointMsgs()
            gripper = self._arm(side).GetArmGripperMsgs().gripper_state.grippers_angle
            state = joints.joint_state
            values.append(self.from_controller(
                [state.joint_1, state.joint_2, state.joint_3, state.joint_4, state.joint_5,
                 state.joint_6], gripper))
            received = float(joints.time_stamp)
            stamps[side] = (int(round(received * 1e6)), received)
        return both_arms(*values), stamps

    def _arms_send(self, target: np.ndarray) -> np.ndarray:
        if self._idle:
            raise RobotError("the Piper arms are in standby; start an episode to drive them again")
        return self._command(target)

    def hold(self) -> None:
        state, _ = self._arms_read()
        self._command(state, mode=STANDBY_MODE if self._idle else CAN_MODE)

    def idle(self) -> None:
        """Hold, then standby: the controller ignores joint commands until the next episode."""
        if not self._arms:
            return
        self.hold()
        for side in ARM_SIDES:
            self._arm(side).MotionCtrl_2(STANDBY_MODE, MOVE_J, self.config.speed_percent, 0x00)
        self._idle = True

    def _arms_disconnect(self) -> None:
        if self._arms and not self._idle:
            try:
                self.idle()
            except Exception:  # noqa: BLE001 - the bus may be gone; release it regardless
                pass
        self._release()

    # -- helpers ------------------------------------------------------------------------------------

    def _command(self, target: np.ndarray, mode: int = CAN_MODE) -> np.ndarray:
        sent = []
        effort = int(round(self.config.gripper_effort * 1000))  # 0.001 N
        for side, values in per_arm(np.asarray(target, dtype=np.float64)).items():
            millidegrees, micrometres = self.to_controller(values)
            arm = self._arm(side)
            # The mode first, each time: a controller that fell back to standby (its own
            # protection, a pendant) would otherwise silently ignore the joint frames.
            arm.MotionCtrl_2(mode, MOVE_J, self.config.speed_percent, 0x00)
            arm.JointCtrl(*millidegrees)
            arm.GripperCtrl(max(0, micrometres), effort, GRIPPER_ENABLE, 0x00)
            sent.append(self.from_controller(millidegrees, micrometres))
        return both_arms(*sent)

    def _enable(self) -> None:
        """CAN control mode, all motors enabled (0x471), gripper enabled; waits until every
        motor's driver reports itself enabled."""
        deadline = time.monotonic() + self.config.enable_timeout_s
        while True:
            pending = {}
            for side in ARM_SIDES:
                arm = self._arm(side)
                flags = arm.GetArmEnableStatus()
                if not all(flags):
                    pending[side] = [i + 1 for i, on in enumerate(flags) if not on]
                    arm.MotionCtrl_2(CAN_MODE, MOVE_J, self.config.speed_percent, 0x00)
                    arm.EnableArm(ALL_MOTORS)
            if not pending:
                break
            if time.monotonic() > deadline:
                detail = "; ".join(f"{side} ({self.config.arms[side]}): joints {motors}"
                                   for side, motors in pending.items())
                raise RobotError(f"Piper motors not enabled within {self.config.enable_timeout_s:g} s: "
                                 f"{detail}")
            time.sleep(POLL_S)
        state, _ = self._arms_read()
        self._idle = False
        self._command(state)  # CAN mode, holding where the arms are, gripper enabled

    def _await_feedback(self, side: str) -> None:
        arm, deadline = self._arm(side), time.monotonic() + self.config.enable_timeout_s
        joints_before, drivers_before = self._connected_after.get(side, (0.0, 0.0))
        while (arm.GetArmJointMsgs().time_stamp <= joints_before
               or arm.GetArmLowSpdInfoMsgs().time_stamp <= drivers_before):
            if time.monotonic() > deadline:
                raise ConnectionLost(
                    f"{side} arm on CAN channel {self.config.arms[side]!r}: no feedback within "
                    f"{self.config.enable_timeout_s:g} s (arm powered? channel up at 1 Mbit/s?)")
            time.sleep(POLL_S)

    def _arm(self, side: str):
        arm = self._arms.get(side)
        if arm is None:
            raise ConnectionLost(f"the {side} Piper arm is not connected")
        return arm

    def _release(self) -> None:
        for arm in self._arms.values():
            try:
                arm.DisconnectPort()
            except Exception:  # noqa: BLE001 - one arm's cleanup must not keep the other's bus open
                pass
        self._arms = {}
