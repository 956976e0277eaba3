"""The trossen-wxai backend against real peers: the unmodified `trossen_arm` driver talks to
`trossen-arm-sim` controllers (the WidowX AI controller's TCP/UDP protocol, MuJoCo behind it),
one per arm, each on its own loopback address chosen free at run time. The processes are
stopped by pid and reaped; the frozen and killed controllers are real SIGSTOP and SIGKILL."""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
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


@pytest.fixture(scope="module")
def arm_sim():
    """One simulated arm in this process, for controllers the test drives itself (a fault, an
    older firmware); each test puts its own protocol server in front of it."""
    from trossen_arm_sim.sim import WidowXSim

    sim = WidowXSim()
    sim.start()
    yield sim
    sim.stop()


@contextmanager
def inprocess_controller(sim, **options):
    """A controller server (the protocol of trossen-arm-sim) on a free loopback address."""
    from trossen_arm_sim.server import TrossenArmSimServer

    server = TrossenArmSimServer(sim, host=free_address(), **options)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def trossen_config(arms: dict[str, str], connect_timeout_s: float = 2.0, **safety):
    return make_robot_config(
        name="test-trossen",
        robot={"type": "trossen-wxai", "arms": arms, "connect_timeout_s": connect_timeout_s},
        safety={"home_speed": 3.0, "hold_s": 0.05, "policy_deadline_s": 2.0, **safety})


def trajectory(steps: int = 40) -> np.ndarray:
    """Both arms weave around home and the grippers half close: within every limit and below
    the per-step cap (0.04 rad per step at most)."""
    t = np.arange(steps) / 25.0
    actions = np.repeat(HOME_ACTION[None], steps, axis=0)
    actions[:, 0] += 0.3 * np.sin(np.pi * t)  # left joint1
    actions[:, 8] -= 0.2 * np.sin(np.pi * t)  # right joint2
    actions[:, 6] = 1.0 - 0.5 * t / t[-1]  # left gripper
    actions[:, 13] = 1.0 - 0.3 * t / t[-1]  # right gripper
    return actions


def replay_file(tmp_path, actions) -> str:
    path = tmp_path / "actions.npy"
    np.save(path, np.asarray(actions, dtype=np.float64))
    return f"replay:{path}"


def station_yaml(tmp_path, arms: dict[str, str]) -> Path:
    """The shipped example config, pointed at the test's controllers, without cameras."""
    import yaml

    data = yaml.safe_load((ROOT / "configs" / "robots" / "trossen-wxai.yaml").read_text())
    data["robot"]["arms"] = arms
    data["robot"]["connect_timeout_s"] = 2.0
    data.pop("cameras")
    data["safety"]["home_speed"] = 3.0
    path = tmp_path / "trossen.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


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


def test_a_firmware_the_driver_refuses_is_one_line_and_so_is_no_controller(controllers, arm_sim):
    from importlib.metadata import version

    from sim2real.robot.backends import make_robot
    from sim2real.robot.robot import RobotError

    right = controllers["right"].host
    with inprocess_controller(arm_sim, driver_version="1.10") as older:
        robot = make_robot(trossen_config({"left": older.host, "right": right}), "click_bell", (), (32, 24))
        with pytest.raises(RobotError) as error:
            robot.connect()
    assert str(error.value) == (
        f"the left arm's controller at {older.host} runs firmware 1.10.0, the driver is "
        f"trossen-arm {version('trossen-arm')}: major.minor must match (install "
        "trossen-arm==1.10.* or update the controller's firmware)")
    nobody = free_address()
    robot = make_robot(trossen_config({"left": right, "right": nobody}, connect_timeout_s=0.3),
                       "click_bell", (), (32, 24))
    with pytest.raises(RobotError, match=f"^could not connect to the right arm's controller at "
                                         f"{nobody} \\(within 0.3 s\\): Failed to connect") as error:
        robot.connect()
    assert "\n" not in str(error.value) and not robot.is_connected


def test_out_of_range_and_nan_actions_are_refused_before_the_controller(controllers, arm_sim):
    from sim2real.core.environment import StationStop
    from sim2real.robot.backends import make_robot
    from sim2real.robot.station import RobotStation

    with inprocess_controller(arm_sim) as left:
        config = trossen_config({"left": left.host, "right": controllers["right"].host})
        robot = make_robot(config, "click_bell", (), (32, 24))
        robot.connect()
        station = RobotStation(robot, config, "click_bell", None, (), (32, 24), max_steps=20)
        station.reset(seed=0)
        beyond = HOME_ACTION.copy()
        beyond[2] = 5.0  # left joint3, beyond its 2.356 rad
        for _ in range(3):
            *_, info = station.step(beyond)
        assert info["metrics"]["safety"]["clamped_by_joint"] == {"left joint3": 3}
        assert station._target[2] == pytest.approx(HOME_ACTION[2] + 3 * 0.2, abs=1e-6)  # capped on the way
        poisoned = HOME_ACTION.copy()
        poisoned[3] = np.nan  # left joint4
        with pytest.raises(StationStop, match=r"refused a non-finite action: action\[3\]"):
            station.step(poisoned)
        assert station.guard.tripped
        # The controller never saw it: its targets and joints are finite, it reports no error.
        assert np.all(np.isfinite(arm_sim.data.ctrl)) and np.all(np.isfinite(arm_sim.data.qpos))
        assert left.error_state == 0
        station.close()
    assert not robot.is_connected


def test_a_fault_stops_the_episode_and_the_next_one_reconnects(controllers, arm_sim, tmp_path):
    from trossen_arm_sim.protocol import ErrorState

    from sim2real.robot.runtime import run_episodes

    events = []
    with inprocess_controller(arm_sim) as left:
        def listen(event):
            events.append(event)
            if event.kind == "episode_start" and event.episode == 0:
                threading.Timer(0.3, left.fault, args=(ErrorState.JOINT_OVERHEATED,
                                                       "joint 2 overheated (injected)")).start()

        arms = {"left": left.host, "right": controllers["right"].host}
        records = run_episodes(trossen_config(arms), replay_file(tmp_path, trajectory()), "click_bell",
                               episodes=2, max_seconds=0.6, on_event=listen)
    first, second = records
    assert first.failure.startswith("safety stop: lost connection to the robot: RuntimeError: "
                                    "Error occurred: Joint overheated")
    assert first.steps < 15
    kinds = [e.kind for e in events]
    assert kinds.index("safety_stop") < kinds.index("reconnect") < len(kinds) - 1 - kinds[::-1].index("episode_start")
    assert second.steps == 15 and "lost connection" not in (second.failure or "")


def test_a_killed_controller_stops_the_arms_and_the_runtime_reconnects(controllers, tmp_path):
    from sim2real.robot.runtime import run_episodes

    right = controllers["right"]
    events = []

    def restart():
        right.kill()  # SIGKILL: the driver raises at its next call
        right.start()  # a fresh controller on the same address, for the reconnection

    def listen(event):
        events.append(event)
        if event.kind == "episode_start" and event.episode == 0:
            threading.Timer(0.3, restart).start()

    config = trossen_config(addresses(controllers), connect_timeout_s=15.0)
    records = run_episodes(config, replay_file(tmp_path, trajectory()), "click_bell", episodes=2,
                           max_seconds=0.6, on_event=listen)
    first, second = records
    assert first.failure.startswith("safety stop: lost connection to the robot")
    assert first.steps < 15
    assert any(e.kind == "reconnect" for e in events)
    assert second.steps == 15 and "lost connection" not in (second.failure or "")


def test_a_frozen_controller_is_caught_by_the_staleness_watchdog(controllers, tmp_path):
    from sim2real.robot.runtime import run_episodes

    left = controllers["left"]
    times = {}

    def freeze():
        times["frozen"] = time.monotonic()
        left.freeze()  # SIGSTOP: the driver keeps returning the last values, raising nothing

    def listen(event):
        if event.kind == "episode_start":
            threading.Timer(0.3, freeze).start()
        elif event.kind == "safety_stop":
            times["stopped"] = time.monotonic()

    config = trossen_config(addresses(controllers), connect_timeout_s=0.5, stale_after_s=0.25)
    try:
        records = run_episodes(config, replay_file(tmp_path, trajectory()), "click_bell",
                               max_seconds=3, on_event=listen)
    finally:
        left.thaw()
    assert records[0].failure.startswith("safety stop: left arm feedback stale for")
    assert records[0].steps < 40
    # Caught within the staleness limit plus a control period and a poll of the guard (and
    # scheduling slack: two shared cores).
    assert 0.25 <= times["stopped"] - times["frozen"] < 0.25 + 0.04 + 0.02 + 0.4


def test_robot_check_json_reports_joints_limits_versions_and_latencies(controllers, tmp_path):
    from typer.testing import CliRunner

    from sim2real.cli.main import app

    config = station_yaml(tmp_path, addresses(controllers))
    result = CliRunner().invoke(app, ["robot", "check", "--robot", str(config), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["kind"] == "trossen-wxai" and len(report["joints"]) == 14
    joint3 = report["joints"][2]
    assert joint3["name"] == "left_joint3" and (joint3["low"], joint3["high"]) == (0.0, 2.3562)
    assert report["joints"][6]["high"] == 1.0  # the gripper, mapped from 0.044 m
    assert report["versions"]["driver"] == report["versions"]["left_firmware"]
    # The driver's cached output, no round trip: well inside a control period even on a busy
    # machine (6.5 ms seen with two test workers and four controllers beside it).
    assert 0 < report["read_ms_mean"] < 20
    assert all(hz > 100 for hz in report["feedback_hz"].values())  # the controllers' cycle


def test_robot_run_replays_a_trajectory_on_the_controllers_within_tolerance(controllers, tmp_path):
    import pyarrow.parquet as pq

    config = station_yaml(tmp_path, addresses(controllers))
    actions = trajectory(40)
    out = tmp_path / "real"
    process = subprocess.run(
        [sys.executable, "-m", "sim2real", "robot", "run", "--robot", str(config), "--policy",
         replay_file(tmp_path, actions), "--task", "click_bell", "--max-seconds", "1.6",
         "--record", str(out), "--json", "--no-keys"],
        capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert process.returncode == 0, process.stderr[-3000:]
    payload = json.loads(process.stdout)
    assert payload["episodes"] == 1 and payload["stopped"] is None
    assert payload["clamped"] == 0 and payload["capped"] == 0, payload["records"][0]["metrics"]["safety"]
    data = pq.read_table(out / "data/chunk-000/file-000.parquet")
    sent = np.array(data["action"].to_pylist())
    measured = np.array(data["observation.state"].to_pylist())
    np.testing.assert_allclose(sent, actions, atol=1e-6)  # what was commanded, as sent
    # Frame t's state is read just before action t is sent, so action t shows in frame t + 1
    # at the earliest; the driver interpolates over one period and the servos lag about one
    # more: the arms follow the commanded trajectory three frames behind (measured: 0.021 rad
    # worst, on left joint1 at 0.94 rad/s; 0.05 one frame either side of it).
    lag = 3
    error = np.abs(measured[1 + lag:] - sent[1:-lag])
    assert error.max() < 0.04, np.round(error.max(axis=0), 4)
