"""Run the scripted expert of a task in the environment, one episode per seed."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from sim2real.core.environment import Observation, StepInfo
from sim2real.env import Sim2RealEnv
from sim2real.experts.motion import MotionPlanner, PlanningError

# Called with each observation, the action that led to it (home for the first) and its info.
StepCallback = Callable[[Observation, np.ndarray, StepInfo], None]


@dataclass
class ExpertEpisode:
    seed: int
    success: bool
    steps: int
    seconds: float
    failure: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class ScriptedExpert:
    """Plays a task's expert plan phase by phase; each phase is planned when it starts."""

    def __init__(self, env: Sim2RealEnv) -> None:
        self.env = env
        self.planner = MotionPlanner(env.robot, env.settings.control_dt)

    def actions(self) -> Iterator[np.ndarray]:
        """The expert's actions for the env's current episode, one per control step.

        Lazy: a phase is planned only when the previous one has been executed, so the caller
        must step the env with each action before asking for the next. Raises PlanningError.
        """
        env = self.env
        command = env.home_action.copy()
        for phase in env.task.expert(env.view, env.episode):
            actions = self.planner.plan(command, phase.motions, phase.min_duration)
            if phase.settle > 0:
                actions = np.vstack([actions, self.planner.hold(actions[-1], phase.settle)])
            for action in actions:
                command = action
                yield action

    def run(self, seed: int, on_step: StepCallback | None = None) -> ExpertEpisode:
        env = self.env
        started = time.perf_counter()
        observation, info = env.reset(seed=seed)
        if on_step is not None:
            on_step(observation, env.home_action, info)
        failure = None
        try:
            for action in self.actions():
                observation, _, terminated, truncated, info = env.step(action)
                if on_step is not None:
                    on_step(observation, action, info)
                if terminated or truncated:
                    break
            else:
                failure = "plan finished without success"
            if failure is None and not info["success"]:
                failure = "step limit reached"
        except PlanningError as error:
            failure = f"planning failed: {error}"
        return ExpertEpisode(
            seed=seed,
            success=info["success"],
            steps=info["step"],
            seconds=time.perf_counter() - started,
            failure=None if info["success"] else failure,
        )
