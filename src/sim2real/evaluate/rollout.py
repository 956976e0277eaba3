"""One episode of a Policy in one Environment (the rollout engine at N = 1), and the check that
decides which evaluation seeds count."""

from __future__ import annotations

from sim2real.core.environment import Environment, Observation
from sim2real.core.policy import Policy
from sim2real.core.records import EpisodeRecord
from sim2real.env import Sim2RealEnv
from sim2real.evaluate.engine import PolicyActor, RolloutEngine
from sim2real.evaluate.envs import LocalEnvs


def run_episode(env: Environment, policy: Policy, seed: int, execute: int | None = None,
                observations: list[Observation] | None = None) -> EpisodeRecord:
    """Infer a chunk, execute all (or the first `execute`) of its actions, repeat until success
    or the step limit. A policy that breaks (wrong shape, NaN, an out-of-range action, a lost
    connection) ends the episode as a failure whose reason is recorded. `observations`, when
    given, receives every observation of the episode."""
    actor = PolicyActor(lambda: policy, 1, first=policy)
    engine = RolloutEngine(LocalEnvs([env]), actor, execute, record=lambda _: observations is not None)

    def keep(_record: EpisodeRecord, seen: list[Observation]) -> None:
        if observations is not None:
            observations.extend(seen)

    return engine.run([seed], keep)[0]


def expert_solves(env: Sim2RealEnv, seed: int) -> bool:
    """As RoboTwin 2.0: an evaluation seed counts only if the scripted expert can solve it."""
    from sim2real.experts.runner import ScriptedExpert

    return ScriptedExpert(env).run(seed).success
