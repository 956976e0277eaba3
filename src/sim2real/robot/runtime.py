"""Run a policy on a station: `run_episodes` is the one entry point (the `robot run` command and
the operator console both call it). It validates everything before connecting, connects,
checks the cameras against the simulator's, then lets the rollout engine drive the station at
B = 1 exactly as `eval` drives the simulator, recording each episode if asked, and always
leaves the arms held, idle and disconnected (also after Ctrl-C, SIGTERM or an emergency stop).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sim2real.core.contract import CAMERA_NAMES
from sim2real.core.environment import StationStop
from sim2real.core.records import EpisodeRecord
from sim2real.errors import Sim2RealError, invalid
from sim2real.robot.cameras.base import Frame
from sim2real.robot.config import RobotConfig, load_robot_config
from sim2real.robot.operator import Operator, RobotEvent
from sim2real.robot.robot import RobotError

EventListener = Callable[[RobotEvent], None]


def run_episodes(robot: RobotConfig | Path | str, policy: str, task: str, instruction: str | None = None,
                 episodes: int = 1, max_seconds: float | None = None, record_dir: Path | None = None,
                 on_event: EventListener | None = None, *, operator: Operator | None = None,
                 execute: int | None = None, seed: int = 0,
                 watch: dict[str, Callable[[Frame], None]] | None = None) -> list[EpisodeRecord]:
    """Run `episodes` episodes of `policy` (a policy SPEC) on the station `robot` (a config or
    its YAML path). `on_event` hears every RobotEvent; `operator` ends episodes with outcomes
    and stops the run (default: one nobody drives, so episodes end at their time limit or the
    sim's success). `execute`: actions run per chunk (None: all, as eval); `seed`: the first
    episode's seed (the sim station places its objects from it); `watch`: camera -> a listener
    that hears each new frame of it (the station then delivers that camera too, e.g. the
    console's live head view).

    Returns one record per finished episode; a stopped run returns those finished before it
    (an emitted `stopped` event says why)."""
    from sim2real.evaluate.engine import PolicyActor, RolloutEngine
    from sim2real.evaluate.envs import LocalEnvs
    from sim2real.policy.spec import load_policy
    from sim2real.robot.backends import make_robot
    from sim2real.robot.station import RobotStation, RunStopped, step_limit
    from sim2real.tasks.registry import task_class

    config = robot if isinstance(robot, RobotConfig) else load_robot_config(robot)
    task_class(task)
    if episodes < 1:
        raise invalid("episodes", episodes, "1 or more")
    if max_seconds is not None and max_seconds <= 0:
        raise invalid("max_seconds", max_seconds, "a positive number of seconds")
    if execute is not None and execute < 1:
        raise invalid("execute", execute, "1 or more actions per chunk")
    emit = on_event or (lambda event: None)
    loaded = load_policy(policy)
    cameras, image_size = _cameras_for(config, loaded.metadata, policy, record_dir is not None, tuple(watch or ()))
    backend = make_robot(config, task, cameras, image_size)
    backend.connect()
    emit(RobotEvent("connected", None, config.name, {"versions": backend.versions()}))
    for camera in getattr(backend, "cameras", {}).values():
        warning = camera.check()
        if warning:
            emit(RobotEvent("warning", None, warning))
    operator = operator or Operator()
    records: list[EpisodeRecord] = []
    station = recorder = None
    actor = PolicyActor(lambda: loaded, 1, first=loaded)
    try:
        station = RobotStation(backend, config, task, instruction, cameras, image_size,
                               step_limit(task, config.control_hz, max_seconds), operator, emit,
                               record=record_dir is not None, watch=watch)
        if record_dir is not None:
            from sim2real.robot.recording import EpisodeRecorder

            recorder = EpisodeRecorder(Path(record_dir), config.name, config.kind, cameras,
                                       image_size, config.control_hz)

        def finished(record: EpisodeRecord, _observations) -> None:
            if recorder is not None:
                record.metrics["recorded_episode"] = recorder.write(station.frames, record, station._episode)
            records.append(record)
            emit(RobotEvent("episode_end", station.episode_index, record.failure or "success",
                            {"record": record.as_dict()}))

        engine = RolloutEngine(LocalEnvs([station]), actor, execute)
        with stop_on_signals(operator):
            engine.run(range(seed, seed + episodes), finished)
    except RunStopped as stop:
        emit(RobotEvent("stopped", len(records), f"stopped by the operator: {stop}"))
    except (StationStop, RobotError) as error:
        emit(RobotEvent("stopped", len(records), str(error)))
    finally:
        if station is not None:
            station.close()
        else:
            backend.disconnect()
        if recorder is not None:
            recorder.close()
        actor.close()
    return records


def _cameras_for(config: RobotConfig, metadata, policy: str, recording: bool, watched: tuple[str, ...] = ()):
    """The cameras the station must deliver and their size: what the policy looks at (a remote
    policy that does not say gets them all), plus every camera when recording."""
    available = CAMERA_NAMES if config.kind == "sim" else tuple(config.cameras)
    if metadata.privileged and config.kind != "sim":
        raise invalid("policy", policy, "a policy that sees only cameras and joints (the "
                      "expert reads the simulator's state: on the sim robot only)")
    wanted = set(metadata.cameras)
    if not wanted and policy.startswith(("ws://", "wss://")):
        wanted = set(available)
    missing = sorted(wanted - set(available))
    if missing:
        raise Sim2RealError(f"invalid cameras: policy {policy} looks at {', '.join(sorted(wanted))}; "
                            f"station {config.name} has: {', '.join(available) or 'none'} "
                            f"(missing: {', '.join(missing)})")
    if recording:
        wanted |= set(config.cameras) if config.kind != "sim" else {"head"}
    wanted |= set(watched) & set(available)  # a watched camera the station lacks is simply not shown
    ordered = tuple(name for name in CAMERA_NAMES if name in wanted)
    return ordered, tuple(metadata.image_size or config.image_size)


@contextmanager
def stop_on_signals(operator: Operator) -> Iterator[None]:
    """Ctrl-C and SIGTERM stop the arms (hold, then idle) and end the run; a second Ctrl-C
    interrupts at once. Only the main thread can install handlers; elsewhere this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(number: int, _frame) -> None:
        name = signal.Signals(number).name
        # The stop talks to the driver: not from inside a signal handler, which may interrupt
        # the control loop in the middle of a driver call.
        threading.Thread(target=operator.emergency_stop, args=(name,), daemon=True).start()
        if number == signal.SIGINT:
            signal.signal(signal.SIGINT, signal.default_int_handler)

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for number, old in previous.items():
            signal.signal(number, old)
