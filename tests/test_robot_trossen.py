"""The trossen-wxai backend against real peers: the unmodified `trossen_arm` driver talks to
`trossen-arm-sim` controllers (the WidowX AI controller's TCP/UDP protocol, MuJoCo behind it),
one per arm, each on its own loopback address chosen free at run time. The processes are
stopped by pid and reaped; the frozen and killed controllers are real SIGSTOP and SIGKILL."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from sim2real.core.contract import HOME_ACTION
from sim2real.robot.config import make_robot_config

pytest.importorskip("trossen_arm")
pytest.importorskip("trossen_arm_sim")
# One worker runs the module (with --dist loadgroup): its controllers start once, not per worker.
pytestmark = pytest.mark.xdist_group("trossen")

ROOT = Path(__file__).resolve().parents[1]
SIM_BIN = Path(sys.executable).with_name("trossen-arm-sim")
TCP_PORT, UDP_PORT = 50001, 50000  # fixed by the controller's protocol: one address per arm
START_TIMEOUT_S = 60


def free_address(taken: set[str] = frozenset()) -> str:
    """A loopback address 127.0.0.N on which nothing holds the controller's ports."""
    for n in random.sample(range(2, 255), 253):
        host = f"127.0.0.{n}"
        if host in taken:
            continue
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp, \
                    socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                tcp.bind((host, TCP_PORT))
                udp.bind((host, UDP_PORT))
        except OSError:
            continue
        return host
    raise RuntimeError("no free loopback address for a simulated controller")


def free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


@dataclass
class Controller:
    """One `trossen-arm-sim` process: a WidowX AI controller on `host`."""

    host: str
    log: Path
    process: subprocess.Popen | None = None

    def start(self) -> Controller:
        self.log.write_text("")
        command = [str(SIM_BIN), "--host", self.host, "--ws-port", str(free_port(self.host))]
        with self.log.open("a") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        return self

    def wait_ready(self) -> Controller:
        deadline = time.monotonic() + START_TIMEOUT_S
        while "Listening on" not in self.log.read_text():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"trossen-arm-sim on {self.host} did not start:\n{self.log.read_text()[-2000:]}")
            time.sleep(0.05)
        return self

    def kill(self) -> None:
        """SIGKILL and reap (a SIGSTOPped one is killed too)."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
        if self.process is not None:
            self.process.wait(timeout=10)

    def freeze(self) -> None:
        os.kill(self.process.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        os.kill(self.process.pid, signal.SIGCONT)


@pytest.fixture(scope="module")
def controllers(tmp_path_factory):
    """Two simulated controllers, left and right, started in parallel."""
    logs = tmp_path_factory.mktemp("controllers")
    left = free_address()
    right = free_address({left})
    arms = {"left": Controller(left, logs / "left.log"), "right": Controller(right, logs / "right.log")}
    try:
        for controller in arms.values():
            controller.start()
        for controller in arms.values():
            controller.wait_ready()
        yield arms
    finally:
        for controller in arms.values():
            controller.kill()


def trossen_config(arms: dict[str, str], **safety):
    return make_robot_config(
        name="test-trossen", robot={"type": "trossen-wxai", "arms": arms, "connect_timeout_s": 2.0},
        safety={"home_speed": 3.0, "hold_s": 0.05, "policy_deadline_s": 2.0, **safety})


def addresses(controllers) -> dict[str, str]:
    return {side: controller.host for side, controller in controllers.items()}


def test_the_real_driver_connects_moves_both_arms_and_reads_back(controllers):
    from sim2real.embodiment.dual_arm import GRIPPER_TRAVEL_M, simulated_limits
    from sim2real.robot.backends import make_robot

    config = trossen_config(addresses(controllers))
    robot = make_robot(config, "click_bell", (), (32, 24))
    with robot:
        versions = robot.versions()
        assert versions["driver"] == versions["left_firmware"] == versions["right_firmware"]
        low, high = robot.limits  # read from the controllers, grippers mapped to [0, 1]
        np.testing.assert_allclose(low, simulated_limits()[0], atol=1e-5)
        np.testing.assert_allclose(high, simulated_limits()[1], atol=1e-5)
        state, first = robot.read_joints()
        np.testing.assert_allclose(state, 0.0, atol=2e-3)  # a fresh controller stands at zero
        target = HOME_ACTION.copy()
        target[[6, 13]] = (0.5, 0.25)
        path = np.linspace(state, target, 25)  # one second at 25 Hz, as the runtime sends
        for step in path:
            sent = robot.send_action(step)
            time.sleep(0.04)
        np.testing.assert_allclose(sent, target, atol=1e-6)  # float32 on the wire
        time.sleep(0.8)
        state, stamps = robot.read_joints()
        np.testing.assert_allclose(state, target, atol=0.02)
        # The fingers moved in metres by the simulator's mapping (the driver's own reading).
        fingers = [robot._drivers[side].get_gripper_position() for side in ("left", "right")]
        np.testing.assert_allclose(fingers, [0.5 * GRIPPER_TRAVEL_M, 0.25 * GRIPPER_TRAVEL_M], atol=1e-3)
        for side in ("left", "right"):  # fresh feedback advances each arm's header
            assert stamps[side][0] > first[side][0] and stamps[side][1] > first[side][1]
        robot.hold()
        robot.idle()
    assert not robot.is_connected
