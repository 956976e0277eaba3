"""`robot check`: connect, read the joints and every camera for a moment, and report what a
person needs before running a policy: joint positions against the limits, versions, feedback
rate and read latency, camera intrinsics (checked against the simulator's), frame rate. The
arms move only with `home=True` (at the safety layer's home speed)."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from sim2real.core.contract import ACTION_NAMES
from sim2real.robot.config import RobotConfig

READS = 25  # joint reads measured (one control second at 25 Hz)


def check_station(config: RobotConfig, home: bool = False, task: str = "click_bell") -> dict[str, Any]:
    from sim2real.embodiment.dual_arm import simulated_limits
    from sim2real.robot.backends import make_robot
    from sim2real.robot.clock import RateClock
    from sim2real.robot.safety import FeedbackWatchdog, SafetyLayer, effective_limits
    from sim2real.robot.station import move_home

    robot = make_robot(config, task, (), config.image_size)
    with robot:
        low, high = effective_limits(robot.limits, simulated_limits(), config.safety.joint_limits)
        clock = RateClock(config.control_hz)
        latencies, stamps_seen = [], []
        first_stamps = None
        started = time.monotonic()
        for _ in range(READS):
            began = time.monotonic()
            state, stamps = robot.read_joints()
            latencies.append((time.monotonic() - began) * 1e3)
            first_stamps = first_stamps or stamps
            stamps_seen.append(stamps)
            clock.wait()
        elapsed = time.monotonic() - started
        report: dict[str, Any] = {
            "robot": config.name, "kind": config.kind, "versions": robot.versions(),
            "joints": [_joint(i, state[i], low[i], high[i]) for i in range(len(state))],
            "read_ms_mean": round(float(np.mean(latencies)), 3),
            "read_ms_max": round(float(np.max(latencies)), 3),
            "feedback_hz": {arm: round((stamps[arm][0] - first_stamps[arm][0]) / elapsed, 1)
                            for arm in stamps},
            "cameras": {name: _camera(camera) for name, camera in robot.cameras.items()},
        }
        if home:
            safety = SafetyLayer(low, high, config.safety.max_relative_target)
            move_home(robot.send_action, robot.read_joints, state, safety,
                      config.safety.home_speed, clock, FeedbackWatchdog(config.safety.stale_after_s))
            robot.hold()
            report["homed"] = True
            report["joints_after_home"] = [round(float(v), 4) for v in robot.read_joints()[0]]
        robot.idle()
    report["warnings"] = [w for c in report["cameras"].values() for w in c.get("warnings", [])]
    report["warnings"] += [f"{j['name']} is outside its limits" for j in report["joints"] if not j["inside"]]
    return report


def _joint(index: int, value: float, low: float, high: float) -> dict[str, Any]:
    return {"name": ACTION_NAMES[index], "position": round(float(value), 4),
            "low": round(float(low), 4), "high": round(float(high), 4),
            "inside": bool(low - 1e-3 <= value <= high + 1e-3)}


def _camera(camera) -> dict[str, Any]:
    frames, started = [], time.monotonic()
    for _ in range(10):
        frames.append(camera.read())
    elapsed = time.monotonic() - started
    intrinsics = camera.intrinsics
    warning = camera.check()
    return {
        "size": [int(frames[-1].image.shape[1]), int(frames[-1].image.shape[0])],
        "fps_measured": round((len(frames) - 1) / max(frames[-1].received_at - frames[0].received_at, 1e-6), 1),
        "read_ms_mean": round(elapsed / len(frames) * 1e3, 2),
        "intrinsics": intrinsics.as_dict() if intrinsics else None,
        "warnings": [warning] if warning else [],
    }
