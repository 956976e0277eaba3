"""The simulated station behind the `Robot` interface: the MuJoCo scene the policies were
trained in, driven like hardware (actions act after a settable latency, measured joints carry
settable noise), so the runtime, its safety layer and recording run without a robot.

Time: with `clock: step` the physics advances one control period for each action sent (the
episode is the one `eval` would run, and the privileged expert succeeds); with `clock: wall`
it advances by the wall time that passed between reads, as a real arm does while a policy
thinks.
"""

from __future__ import annotations

import time
from collections import deque
from typing import Any

import numpy as np

from sim2real.robot.cameras.base import Frame
from sim2real.robot.config import SimRobotConfig
from sim2real.robot.robot import Robot, RobotError, RobotReading

MAX_WALL_ADVANCE_S = 2.0  # a reader that stalls longer than this does not fast-forward further


class SimRobot(Robot):
    kind = "sim"

    def __init__(self, config: SimRobotConfig, task: str, cameras: tuple[str, ...] = (),
                 image_size: tuple[int, int] = (224, 224), control_hz: float = 25.0) -> None:
        super().__init__()
        from sim2real.settings import make_settings

        self.config = config
        self.task = task
        self.settings = make_settings(
            cameras=tuple(cameras), image_size=tuple(image_size), control_hz=control_hz,
            randomize=config.randomize, split=config.split, fidelity=config.fidelity,
            render={"shadows": config.shadows, "msaa": config.msaa},
        )
        self.env = None
        self._pending: deque[tuple[float, np.ndarray]] = deque()  # (act at sim time, target)
        self._advance_due = False
        self._last_read = 0.0
        self._reads = 0
        self._renders = 0
        self._idle = False
        self._rng = np.random.default_rng(0)

    @property
    def limits(self) -> tuple[np.ndarray, np.ndarray]:
        self._require_env()
        return self.env.robot.action_low.copy(), self.env.robot.action_high.copy()

    def versions(self) -> dict[str, Any]:
        import mujoco

        return {"simulator": f"MuJoCo {mujoco.__version__}", "task": self.task}

    def _arms_connect(self) -> None:
        from sim2real.env import Sim2RealEnv

        self.env = Sim2RealEnv(self.task, self.settings)
        self.start_episode(0)

    def start_episode(self, seed: int) -> dict[str, Any]:
        self._require_env()
        self.env.reset(seed=seed)
        self._pending.clear()
        self._advance_due = False
        self._idle = False
        self._last_read = time.monotonic()
        self._rng = np.random.default_rng(seed)
        return {"params": self.env.initial_state.params, "settings": self.settings.model_dump(mode="json"),
                "instruction": self.env.instruction}

    def _arms_send(self, target: np.ndarray) -> np.ndarray:
        if self._idle:
            raise RobotError("the simulated arms are idle; start an episode to drive them again")
        target = self.env.validate_action(target)
        self._pending.append((float(self.env.data.time) + self.config.latency_s, target))
        self._advance_due = True
        return target

    def _arms_read(self) -> tuple[np.ndarray, dict[str, tuple[int, float]]]:
        self._advance()
        self._reads += 1
        state = self.env.robot.state(self.env.data)
        if self.config.state_noise_std:
            state = state + self._rng.normal(0.0, self.config.state_noise_std, state.shape)
        stamp = (self._reads, float(self.env.data.time))
        return state, {"left": stamp, "right": stamp}

    def get_observation(self) -> RobotReading:
        reading = super().get_observation()
        if self.settings.cameras:
            observation = self.env.observe()
            self._renders += 1
            for camera in self.settings.cameras:
                reading.images[camera] = Frame(observation[f"images/{camera}"],
                                               float(self.env.data.time), self._renders,
                                               time.monotonic())
        reading.success = bool(self.env.success)
        return reading

    def hold(self) -> None:
        self._require_env()
        self._pending.clear()
        self.env.apply_action(self.env.robot.state(self.env.data).clip(*self.limits))

    def idle(self) -> None:
        """As the WidowX AI's idle mode: the joints brake where they are, commands are refused."""
        if self.env is not None:
            self.hold()
            self._idle = True

    def _arms_disconnect(self) -> None:
        if self.env is not None:
            self.env.close()
            self.env = None

    def _advance(self) -> None:
        env = self.env
        timestep = env.model.opt.timestep
        if self.config.clock == "step":
            steps = env.substeps if self._advance_due else 0
        else:
            now = time.monotonic()
            steps = int(min(now - self._last_read, MAX_WALL_ADVANCE_S) / timestep)
            self._last_read += steps * timestep
        self._advance_due = False
        for _ in range(steps):
            while self._pending and self._pending[0][0] <= env.data.time + 1e-9:
                env.apply_action(self._pending.popleft()[1])
            env.advance(1)

    def _require_env(self) -> None:
        if self.env is None:
            raise RobotError("the simulated station is not connected; call connect() first")
