"""The `piper` backend: the real piper_sdk over python-can, against a Piper controller peer.

No CAN exists in this kernel (vcan cannot be created), so the SDK runs on python-can's
`virtual` interface (in-process buses sharing a channel name) and `PiperPeer` below is the
smallest honest controller at the frame level, written for these tests from the SDK's
protocol: it answers enable/disable (0x471), control mode (0x151), joint targets
(0x155-0x157), gripper commands (0x159), emergency stop (0x150) and the firmware query
(0x4AF), and sends what a Piper sends at 200 Hz: status (0x2A1), joint feedback
(0x2A5-0x2A7), gripper feedback (0x2A8) and per-motor driver state (0x261-0x266, whose bit 6
says the motor is enabled). Its joints move toward their targets only while enabled and in
CAN control mode. `silence()` makes it stop answering while the SDK keeps its last values.
"""

from __future__ import annotations

import math
import struct
import threading
import time
import uuid

import can
import numpy as np
import pytest

from sim2real.core.contract import HOME_ACTION
from sim2real.core.environment import StationStop
from sim2real.robot.backends.piper import PiperRobot
from sim2real.robot.config import make_robot_config
from sim2real.robot.robot import ConnectionLost, RobotError

FEEDBACK_HZ = 200
STEP_MILLIDEGREES = 1000  # per feedback period: 200 degrees/s
STEP_MICROMETRES = 1000  # 0.2 m/s of finger travel
FIRMWARE = b"S-V1.6-3"


class PiperPeer:
    """One Piper arm's controller on a virtual CAN channel (a thread; stopped and joined)."""

    def __init__(self, channel: str, joints: list[int], gripper: int = 0, enables: bool = True) -> None:
        self.bus = can.Bus(channel=channel, interface="virtual")
        self.joints, self.targets = list(joints), list(joints)
        self.gripper = self.gripper_target = gripper
        self.enables = enables  # False: a controller whose drivers refuse to enable
        self.enabled = [False] * 6
        self.ctrl_mode = 0x00  # standby until the host asks for CAN control
        self.arm_status = 0x00
        self.received: list[tuple[int, bytes]] = []
        self.answering = threading.Event()
        self.answering.set()
        self._firmware_due = False
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"piper-peer-{channel}", daemon=True)
        self._thread.start()

    def silence(self) -> None:
        self.answering.clear()

    def close(self) -> None:
        self._closing.set()
        self._thread.join(timeout=2)
        self.bus.shutdown()

    def frames(self, arbitration_id: int) -> list[bytes]:
        return [data for cid, data in list(self.received) if cid == arbitration_id]

    def _run(self) -> None:
        period = 1.0 / FEEDBACK_HZ
        next_tick = time.monotonic()
        while not self._closing.is_set():
            while (message := self.bus.recv(timeout=0)) is not None:
                self._handle(message.arbitration_id, bytes(message.data))
            self._move()
            if self.answering.is_set():
                self._answer()
            next_tick += period
            self._closing.wait(max(0.0, next_tick - time.monotonic()))

    def _handle(self, cid: int, data: bytes) -> None:
        self.received.append((cid, data))
        if cid == 0x471:
            motors = range(6) if data[0] in (7, 0xFF) else [data[0] - 1]
            for motor in motors:
                self.enabled[motor] = self.enables and data[1] == 0x02
        elif cid == 0x151:
            self.ctrl_mode = data[0]
        elif cid == 0x150 and data[0] == 0x01:
            self.arm_status = 0x01
        elif cid in (0x155, 0x156, 0x157) and self.ctrl_mode == 0x01:
            first = 2 * (cid - 0x155)
            self.targets[first:first + 2] = struct.unpack(">ii", data)
        elif cid == 0x159 and self.ctrl_mode == 0x01:
            self.gripper_target = struct.unpack(">i", data[:4])[0]
        elif cid == 0x4AF:
            self._firmware_due = True  # answered on the next tick, after the SDK cleared its buffer

    def _move(self) -> None:
        if not (all(self.enabled) and self.ctrl_mode == 0x01):
            return
        for i, target in enumerate(self.targets):
            self.joints[i] += int(np.clip(target - self.joints[i], -STEP_MILLIDEGREES, STEP_MILLIDEGREES))
        self.gripper += int(np.clip(self.gripper_target - self.gripper, -STEP_MICROMETRES, STEP_MICROMETRES))

    def _answer(self) -> None:
        send = lambda cid, data: self.bus.send(can.Message(arbitration_id=cid, data=data, is_extended_id=False))
        send(0x2A1, bytes([self.ctrl_mode, self.arm_status, 0x01, 0, 0, 0, 0, 0]))
        for k, cid in enumerate((0x2A5, 0x2A6, 0x2A7)):
            send(cid, struct.pack(">ii", *self.joints[2 * k: 2 * k + 2]))
        send(0x2A8, struct.pack(">ihBB", self.gripper, 500, 0x40, 0))
        for motor in range(6):  # voltage, driver temperature, motor temperature, status, current
            status = 0x40 if self.enabled[motor] else 0x00
            send(0x261 + motor, struct.pack(">HhbBH", 240, 30, 30, status, 100))
        if self._firmware_due:
            send(0x4AF, FIRMWARE)
            self._firmware_due = False


def channels() -> dict[str, str]:
    """Fresh channel names: the SDK keeps one interface per name for the whole process."""
    tag = uuid.uuid4().hex[:8]
    return {"left": f"piper-{tag}-left", "right": f"piper-{tag}-right"}


def piper_config(arms: dict[str, str], **robot):
    return make_robot_config(
        name="test-piper", robot={"type": "piper", "arms": arms, "interface": "virtual",
                                  "enable_timeout_s": 1.0, **robot},
        safety={"policy_deadline_s": 1.0, "hold_s": 0.05, "stale_after_s": 0.15})


@pytest.fixture
def station():
    """Two peers at the simulator's home pose (in Piper units) and a config for them."""
    arms = channels()
    home = PiperRobot(piper_config(arms).robot).to_controller(HOME_ACTION[:7])
    peers = {side: PiperPeer(channel, *home) for side, channel in arms.items()}
    yield piper_config(arms), peers
    for peer in peers.values():
        peer.close()


def wait_until(condition, timeout: float = 2.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_the_example_config_loads():
    from pathlib import Path

    from sim2real.robot.config import load_robot_config

    config = load_robot_config(Path(__file__).resolve().parents[1] / "configs/robots/piper.yaml")
    assert config.kind == "piper" and config.robot.arms == {"left": "can_left", "right": "can_right"}
    assert config.cameras["head"].type == "realsense" and config.cameras["left_wrist"].device == 0


def test_units_convert_both_ways():
    robot = PiperRobot(piper_config(channels()).robot)
    arm = np.array([0.5, -0.25, 1.0, math.pi / 2, 0.0, -1.0, 0.5])
    millidegrees, micrometres = robot.to_controller(arm)
    # 0.001 degree per unit; joint 3 turns the other way on a Piper (joint_signs[2] = -1).
    assert millidegrees == [28648, -14324, -57296, 90000, 0, -57296]
    assert micrometres == 35000  # half of the 70 mm stroke, in 0.001 mm
    back = robot.from_controller(millidegrees, micrometres)
    assert np.allclose(back, arm, atol=0.5e-3 / 180 * math.pi)  # within the integer rounding
    shifted = PiperRobot(piper_config(channels(), joint_offsets=[0.1, 0, 0, 0, 0, 0],
                                      gripper_stroke_m=0.05).robot)
    assert shifted.to_controller(arm)[0][0] == round(math.degrees(0.6) * 1000)
    assert shifted.to_controller(arm)[1] == 25000
    low, high = robot.limits  # the SDK's ranges in the contract's joint space (j3 flipped)
    assert low[2] == 0.0 and high[2] == pytest.approx(2.967) and high[6] == 1.0


def test_connect_enables_and_actions_reach_the_controller_in_its_units(station):
    config, peers = station
    robot = PiperRobot(config.robot)
    with robot:
        for peer in peers.values():
            assert all(peer.enabled) and peer.ctrl_mode == 0x01
            assert any(data[:2] == bytes([7, 0x02]) for data in peer.frames(0x471))  # all motors on
        state, stamps = robot.read_joints()
        assert np.allclose(state, HOME_ACTION, atol=1e-4)
        target = HOME_ACTION.copy()
        target[[0, 2, 6, 7, 13]] = [0.3, 1.0, 0.4, -0.2, 0.8]
        sent = robot.send_action(target)
        assert np.allclose(sent, target, atol=1e-5)
        left, right = peers["left"], peers["right"]
        assert wait_until(lambda: right.gripper_target == 56000)  # the peer's next tick
        assert left.targets[0] == 17189 and left.targets[2] == -57296 and left.gripper_target == 28000
        assert right.targets[0] == -11459 and right.gripper_target == 56000
        assert wait_until(lambda: np.allclose(robot.read_joints()[0], sent, atol=1e-4))
        # The stamps advance with every feedback frame (the watchdog's evidence of life).
        assert robot.read_joints()[1]["left"][0] > stamps["left"][0]
        versions = robot.versions()
        assert versions["left"]["firmware"] == FIRMWARE.decode() and versions["left"]["arm_status"] == 0
    # Disconnecting leaves the controller in standby, motors enabled (a Piper falls otherwise).
    time.sleep(0.05)  # the peers' next tick
    assert all(p.ctrl_mode == 0x00 and all(p.enabled) for p in peers.values())


def test_idle_is_standby_and_the_next_episode_drives_again(station):
    config, peers = station
    with PiperRobot(config.robot) as robot:
        robot.idle()
        assert wait_until(lambda: all(p.ctrl_mode == 0x00 for p in peers.values()))
        with pytest.raises(RobotError, match="standby"):
            robot.send_action(HOME_ACTION)
        before = list(peers["left"].targets)
        robot.start_episode(1)
        assert wait_until(lambda: peers["left"].ctrl_mode == 0x01)
        moved = HOME_ACTION.copy()
        moved[0] = 0.2
        robot.send_action(moved)
        assert wait_until(lambda: peers["left"].targets[0] == 11459 != before[0])


def test_motors_that_do_not_enable_and_a_silent_channel_are_one_line():
    arms = channels()
    peers = {side: PiperPeer(ch, [0, 0, 0, 0, 0, 0], enables=side == "right") for side, ch in arms.items()}
    try:
        with pytest.raises(RobotError, match=r"^Piper motors not enabled within 1 s: left \(piper-.*-left\): "
                                             r"joints \[1, 2, 3, 4, 5, 6\]$"):
            PiperRobot(piper_config(arms, enable_timeout_s=1.0).robot).connect()
    finally:
        for peer in peers.values():
            peer.close()
    with pytest.raises(ConnectionLost, match=r"^left arm on CAN channel 'piper-.*-left': no feedback within 0.2 s"):
        PiperRobot(piper_config(channels(), enable_timeout_s=0.2).robot).connect()
    with pytest.raises(RobotError, match=r"^invalid robot.arms.left: 'can_nowhere'; allowed: a CAN interface"):
        PiperRobot(make_robot_config(robot={"type": "piper", "arms": {"left": "can_nowhere",
                                                                      "right": "can_x"}}).robot).connect()


def test_a_silent_controller_stops_the_arms_through_the_watchdog(station):
    from sim2real.robot.station import RobotStation

    config, peers = station
    robot = PiperRobot(config.robot)
    robot.connect()
    env = RobotStation(robot, config, "click_bell", "ring it", (), (32, 24), max_steps=50)
    try:
        env.reset(seed=0)
        action = HOME_ACTION.copy()
        for _ in range(3):
            action[0] += 0.02
            env.step(action)
        peers["left"].silence()
        silenced = time.monotonic()
        with pytest.raises(StationStop, match=r"left arm feedback stale for .* s \(header id \d+ not advancing"):
            for _ in range(50):
                action[0] += 0.02
                env.step(action)
        stopped_after = time.monotonic() - silenced
        # Held where it was, then standby: the peer (still listening) got both.
        time.sleep(0.05)
        assert all(p.ctrl_mode == 0x00 for p in peers.values())
        assert peers["right"].targets == peers["right"].joints
        assert stopped_after < config.safety.stale_after_s + 0.5
        assert "stale" in env.metrics()["stop"]["reason"]
    finally:
        env.close()


def test_robot_check_reports_the_piper_station(station, tmp_path):
    from camera_peers import record_realsense
    from sim2real.robot.check import check_station

    config, peers = station
    recording = record_realsense(tmp_path / "head.db3", 64, 48, fovy_deg=58.0, frames=6)
    config = config.model_copy(update={"cameras": make_robot_config(
        robot=config.robot.model_dump(), cameras={"head": {"type": "realsense", "file": str(recording)}}).cameras})
    report = check_station(config)
    assert report["kind"] == "piper" and report["versions"]["right"]["firmware"] == "S-V1.6-3"
    assert all(j["inside"] for j in report["joints"])
    assert report["joints"][1]["position"] == pytest.approx(HOME_ACTION[1], abs=1e-4)
    assert report["feedback_hz"]["left"] > 20  # new joint frames between the 25 Hz reads
    assert report["cameras"]["head"]["intrinsics"]["fovy_deg"] == pytest.approx(58.0, abs=0.01)
    assert report["warnings"] == ["head camera differs from the simulator's: vertical field of "
                                  "view 58.0 degrees (simulated: 42)"]
