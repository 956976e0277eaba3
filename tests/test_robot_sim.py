"""The robot runtime on the simulated station (the MuJoCo scene behind the Robot interface):
the contract, the safety layer, stops, recording and the commands, all without hardware."""

import json
import os
import pty
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from sim2real.core.contract import HOME_ACTION
from sim2real.core.environment import Environment
from sim2real.errors import Sim2RealError
from sim2real.robot.config import load_robot_config, make_robot_config
from sim2real.robot.operator import Operator
from sim2real.robot.runtime import run_episodes

ROOT = Path(__file__).resolve().parents[1]
SIM_YAML = ROOT / "configs" / "robots" / "sim.yaml"


def sim_config(**robot):
    """The sim station, blind (no shadow map or MSAA: cheap frames on CPU), fast stops."""
    return make_robot_config(name="test-sim", robot={"type": "sim", "shadows": False, "msaa": 0, **robot},
                             image_size=(32, 24),
                             safety={"policy_deadline_s": 0.4, "hold_s": 0.05, "stale_after_s": 0.5})


def replay_file(tmp_path, actions) -> str:
    path = tmp_path / "actions.npy"
    np.save(path, np.asarray(actions, dtype=np.float64))
    return f"replay:{path}"


def test_expert_succeeds_on_the_sim_robot_as_in_eval():
    events = []
    records = run_episodes(SIM_YAML, "expert", "click_bell", episodes=1, on_event=events.append)
    record = records[0]
    assert record.success and record.failure is None
    assert record.steps == 69  # what `sim2real expert --task click_bell --seed 0` takes
    loop = record.metrics["loop"]
    # Every step waited for one tick: met in time (jitter below one period by construction) or,
    # when a loaded machine held the loop up by more than a period, counted as an overrun.
    assert loop["ticks"] + loop["overruns"] == record.steps and loop["ticks"] > 0
    assert 0 <= loop["jitter_p99_ms"] < 40
    kinds = [e.kind for e in events]
    assert kinds[0] == "connected" and kinds[-1] == "disconnected"
    assert kinds.count("episode_start") == kinds.count("episode_end") == 1


def test_the_station_is_an_environment_and_send_action_returns_what_was_sent():
    from sim2real.robot.backends.sim import SimRobot
    from sim2real.robot.station import RobotStation

    config = sim_config()
    robot = SimRobot(config.robot, "click_bell", ("head",), (32, 24))
    robot.connect()
    station = RobotStation(robot, config, "click_bell", "ring it", ("head",), (32, 24), max_steps=3)
    assert isinstance(station, Environment)
    observation, info = station.reset(seed=0)
    assert set(observation) == {"images/head", "state", "instruction"}
    assert observation["images/head"].shape == (24, 32, 3) and observation["instruction"] == "ring it"
    np.testing.assert_allclose(observation["state"], HOME_ACTION, atol=1e-5)
    far = HOME_ACTION.copy()
    far[0] += 1.0  # one radian in one step: the per-step cap lets 0.2 through
    observation, _, terminated, truncated, info = station.step(far)
    sent = station._target
    assert sent[0] == pytest.approx(HOME_ACTION[0] + 0.2)
    assert info["metrics"]["safety"]["capped_by_joint"] == {"left joint1": 1}
    for _ in range(2):
        *_, truncated, info = station.step(far)
    assert truncated and info["step"] == 3
    station.close()
    assert not robot.is_connected


def test_latency_delays_the_response_and_noise_perturbs_the_state():
    from sim2real.robot.backends.sim import SimRobot

    def response(latency):
        config = sim_config(latency_s=latency)
        with SimRobot(config.robot, "click_bell") as robot:
            target = HOME_ACTION.copy()
            target[0] += 0.1
            moved = []
            for _ in range(5):
                robot.send_action(target)
                moved.append(robot.get_observation().state[0] - HOME_ACTION[0])
            return np.array(moved)

    assert response(0.0)[0] > 0.02  # the servo is on its way within one period
    delayed = response(0.1)  # 2.5 periods: nothing happens in the first two
    assert abs(delayed[0]) < 1e-3 and abs(delayed[1]) < 1e-3 and delayed[4] > 0.02
    config = sim_config(state_noise_std=0.01)
    with SimRobot(config.robot, "click_bell") as robot:
        states = np.array([robot.read_joints()[0] for _ in range(200)])
    assert 0.008 < (states - HOME_ACTION).std() < 0.012


def test_nan_actions_are_refused_and_out_of_range_ones_clamped_and_counted(tmp_path):
    actions = np.repeat(HOME_ACTION[None], 6, axis=0)
    actions[:, 2] = 5.0  # joint3 beyond its 2.356 rad limit
    records = run_episodes(sim_config(), replay_file(tmp_path, actions), "click_bell", max_seconds=0.2)
    safety = records[0].metrics["safety"]
    assert safety["clamped_by_joint"] == {"left joint3": 5} and safety["refused"] == 0
    actions[3, 9] = np.nan
    np.save(tmp_path / "actions.npy", actions)
    # The policy layer already refuses NaN from a policy: the station refuses anything else.
    from sim2real.robot.backends.sim import SimRobot
    from sim2real.robot.station import RobotStation

    config = sim_config()
    robot = SimRobot(config.robot, "click_bell")
    robot.connect()
    station = RobotStation(robot, config, "click_bell", None, (), (32, 24), max_steps=10)
    station.reset(seed=0)
    with pytest.raises(Exception, match="refused a non-finite action: action\\[9\\]"):
        station.step(actions[3])
    assert station.guard.tripped and station.robot._idle  # held, then idled
    station.close()


class SlowPolicy:
    """Answers the first call at once, then takes `seconds` (a policy slower than its deadline)."""

    def __init__(self, seconds):
        from sim2real.core.policy import PolicyMetadata

        self.metadata = PolicyMetadata(name="slow", chunk_size=2)
        self.seconds, self.calls = seconds, 0

    def reset(self, episode=None):
        self.calls = 0

    def infer(self, observations):
        self.calls += 1
        if self.calls > 1:
            time.sleep(self.seconds)
        return np.repeat(HOME_ACTION[None, None], 2, axis=1)


def test_a_policy_slower_than_its_deadline_stops_the_arms_in_bounded_time(monkeypatch):
    from sim2real.policy import spec

    slow = SlowPolicy(1.2)
    monkeypatch.setattr(spec, "load_policy", lambda _spec: slow)
    events = []
    records = run_episodes(sim_config(), "slow", "click_bell", max_seconds=2, on_event=events.append)
    stop = next(e for e in events if e.kind == "safety_stop")
    assert "the policy took" in stop.message and "deadline 0.4 s" in stop.message
    # Caught by the guard while the policy was still thinking, within one poll of the deadline.
    assert 0 <= stop.data["after_s"] < 0.05
    assert records[0].failure == stop.message and records[0].steps == 2


def test_an_emergency_stop_ends_the_run_and_no_further_episode_starts():
    operator = Operator()
    events = []
    threading.Timer(1.0, operator.emergency_stop, args=("test key",)).start()
    records = run_episodes(sim_config(), "zero", "click_bell", episodes=3, max_seconds=20,
                           on_event=events.append, operator=operator)
    assert len(records) == 1 and records[0].failure == "stopped by the operator: test key"
    assert [e.kind for e in events].count("episode_start") == 1
    assert any(e.kind == "stopped" for e in events)


def test_operator_marks_end_an_episode_with_its_outcome():
    operator = Operator()
    threading.Timer(0.8, operator.mark, args=("success",)).start()
    records = run_episodes(sim_config(), "zero", "click_bell", max_seconds=20, operator=operator)
    assert records[0].success and 10 < records[0].steps < 100


def test_terminal_keys_mark_outcomes_and_stop(tmp_path):
    from sim2real.robot.keys import TerminalKeys

    leader, follower = pty.openpty()
    operator = Operator()
    with TerminalKeys(operator, "q", fd=follower):
        os.write(leader, b"s")
        time.sleep(0.2)
        assert operator.outcome == "success"
        os.write(leader, b"Q")
        time.sleep(0.2)
        assert operator.stopped == "emergency-stop key 'q'"
    os.close(leader)
    os.close(follower)


def test_recording_is_a_valid_lerobot_dataset_of_what_was_sent(tmp_path):
    from sim2real.data.reader import Dataset
    from sim2real.data.validate import validate

    actions = np.repeat(HOME_ACTION[None], 8, axis=0)
    actions[:, 0] = np.linspace(0.25, 1.6, 8)  # faster than the cap at first: capped steps
    out = tmp_path / "real"
    policy = replay_file(tmp_path, actions)
    run_episodes(sim_config(), policy, "click_bell", "ring the bell", max_seconds=0.2, record_dir=out)
    run_episodes(sim_config(), policy, "click_bell", "ring the bell", max_seconds=0.2, record_dir=out)
    assert validate(out) == []
    dataset = Dataset(out)
    assert dataset.info["total_episodes"] == 2 and dataset.info["robot_type"] == "sim"
    import pyarrow.parquet as pq

    data = pq.read_table(out / "data/chunk-000/file-000.parquet")
    sent = np.array(data["action"].to_pylist())
    assert len(sent) == 5 and np.all(np.diff(sent[:, 0]) <= 0.2 + 1e-6)  # the capped targets
    episodes = pq.read_table(out / "meta/episodes/chunk-000/file-000.parquet").to_pylist()
    episode = json.loads(episodes[1]["episode"])
    assert episode["outcome"] == "failure" and episode["instruction"] == "ring the bell"
    assert episode["metrics"]["safety"]["capped"] >= 1
    frame = json.loads(pq.read_table(out / "randomization/chunk-000/file-000.parquet")["randomization"][0].as_py())
    assert set(frame) >= {"t", "late_ms", "camera_timestamps", "stamps"} and "head" in frame["camera_frames"]


def test_a_second_recording_run_into_the_same_folder_is_refused(tmp_path):
    from sim2real.robot.recording import EpisodeRecorder

    first = EpisodeRecorder(tmp_path, "a", "sim", ("head",), (32, 24), 25.0)
    with pytest.raises(Sim2RealError, match="is locked by another run: pid"):
        EpisodeRecorder(tmp_path, "b", "sim", ("head",), (32, 24), 25.0)
    first.close()


def test_config_mistakes_are_one_line_naming_the_field(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("robot:\n  type: trossen-wxai\n  arms: {left: 10.0.0.1}\n")
    with pytest.raises(Sim2RealError, match=r"^invalid robot\.trossen-wxai\.arms: .*missing: right$"):
        load_robot_config(bad)
    bad.write_text("safety:\n  max_relative_targte: 0.1\n")
    with pytest.raises(Sim2RealError, match="invalid safety.max_relative_targte: 0.1; unknown setting; "
                                            "known: estop_key, hold_s"):
        load_robot_config(bad)
    trossen = make_robot_config(robot={"type": "trossen-wxai", "arms": {"left": "127.0.0.2", "right": "127.0.0.3"}})
    with pytest.raises(Sim2RealError, match="invalid policy: 'expert'.*sim robot only"):
        run_episodes(trossen, "expert", "click_bell")  # refused before anything connects


def test_robot_run_json_prints_success_rate_as_eval_does():
    from typer.testing import CliRunner

    from sim2real.cli.main import app

    result = CliRunner().invoke(app, ["robot", "run", "--robot", str(SIM_YAML), "--policy", "expert",
                                      "--task", "click_bell", "--episodes", "1", "--json", "--no-keys"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout.strip().splitlines()[-1])
    assert payload["success_rate"] == 1.0 and payload["episodes"] == 1, payload["records"]
    assert payload["ci95"][1] == 1.0 and payload["stopped"] is None


def test_robot_check_reads_without_moving_and_names_bad_configs(tmp_path):
    from typer.testing import CliRunner

    from sim2real.cli.main import app

    result = CliRunner().invoke(app, ["robot", "check", "--robot", str(SIM_YAML), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert [j["position"] for j in report["joints"]] == pytest.approx(HOME_ACTION, abs=1e-4)
    assert all(j["inside"] for j in report["joints"]) and report["warnings"] == []
    bad = tmp_path / "bad.yaml"
    bad.write_text("control_hz: -3\n")
    process = subprocess.run([sys.executable, "-m", "sim2real", "robot", "check", "--robot", str(bad)],
                             capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert process.returncode == 2 and "Traceback" not in process.stderr
    assert "invalid control_hz: -3; Input should be greater than 0" in " ".join(process.stderr.split())


def test_sigterm_stops_the_run_cleanly(tmp_path):
    process = subprocess.Popen(
        [sys.executable, "-m", "sim2real", "robot", "run", "--robot", str(SIM_YAML), "--policy",
         "zero", "--episodes", "3", "--max-seconds", "30", "--json", "--no-keys"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    time.sleep(6)  # imports, connection, the first steps
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    payload = json.loads(out)
    assert payload["stopped"] == "stopped by the operator: SIGTERM"
    assert payload["episodes"] == 1 and payload["records"][0]["failure"] == "stopped by the operator: SIGTERM"
