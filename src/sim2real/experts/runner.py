"""Run the scripted expert of a task in the environment, one episode per seed.

The expert is privileged (an upper bound, not a policy): it plans from the simulation's true
state, so it needs more of the environment than the core contract gives a policy."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import Any, Protocol

import numpy as np

from sim2real.core.environment import Environment, Observation, StepInfo
from sim2real.experts.motion import MotionPlanner, PlanningError
from sim2real.experts.registry import plan_for
from sim2real.tasks.base import InitialState, SimView, Task

# Called with each observation, the action that led to it (home for the first) and its info.
StepCallback = Callable[[Observation, np.ndarray, StepInfo], None]


class SimulatedEnvironment(Environment, Protocol):
    """An `Environment` the expert can plan in (`sim2real.env.Sim2RealEnv` is one)."""

    task: Task  # may be a new object after reset (OBJ rebuilds the task around an instance)
    view: SimView
    initial_state: InitialState | None  # the task's sampled state of the current episode
    home_action: np.ndarray
    control_dt: float  # seconds per control step


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

    def __init__(self, env: SimulatedEnvironment) -> None:
        self.env = env
        self.planner = MotionPlanner(env.view.robot, env.control_dt)

    def actions(self) -> Iterator[np.ndarray]:
        """The expert's actions for the env's current episode, one per control step.

        Lazy: a phase is planned only when the previous one has been executed, so the caller
        must step the env with each action before asking for the next. Raises PlanningError.
        """
        env = self.env
        command = env.home_action.copy()
        plan = plan_for(env.task)
        for phase in plan(env.task, env.view, env.initial_state):
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
