"""Roll a Policy out in the env: action chunks, the step limit, failures recorded with reasons."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from sim2real.env import Sim2RealEnv
from sim2real.errors import Sim2RealError
from sim2real.policy.protocol import Policy, PolicyError, check_chunk

FrameCallback = Callable[[dict[str, Any]], None]


@dataclass
class EpisodeRecord:
    seed: int
    success: bool
    steps: int
    seconds: float
    failure: str | None = None
    inferences: int = 0
    settings: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    instruction: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def run_episode(
    env: Sim2RealEnv,
    policy: Policy,
    seed: int,
    execute: int | None = None,
    on_frame: FrameCallback | None = None,
) -> EpisodeRecord:
    """One episode: infer a chunk, execute all (or the first `execute`) of its actions, repeat
    until success (checked at every physics step by the env) or the task's step limit.
    A policy that breaks (wrong shape, NaN, an out-of-range action, a lost connection) ends
    the episode as a failure whose reason is recorded."""
    started = time.perf_counter()
    observation, info = env.reset(seed=seed)
    if on_frame is not None:
        on_frame(observation)
    record = EpisodeRecord(
        seed=seed, success=False, steps=0, seconds=0.0,
        settings=info["episode"]["settings"], params=info["episode"]["params"],
        instruction=info["episode"]["instruction"],
    )
    try:
        _ask(policy.reset, info["episode"])
        done = False
        while not done:
            chunk = _ask(lambda o: check_chunk(policy.infer(o)), observation)
            record.inferences += 1
            for action in chunk[:execute]:
                observation, _, terminated, truncated, _ = env.step(action)
                if on_frame is not None:
                    on_frame(observation)
                if terminated or truncated:
                    done = True
                    break
        if not env.success:
            record.failure = "step limit reached"
    except (PolicyError, Sim2RealError) as error:
        record.failure = f"policy error: {error}"
    record.success = env.success
    record.steps = env.steps
    record.seconds = time.perf_counter() - started
    return record


def _ask(call: Callable[[Any], Any], argument: Any) -> Any:
    """A call into the policy: whatever it raises (a torch error, a ragged chunk, a bug in the
    policy's own code) is the policy's failure, recorded with the episode, never the end of
    the whole evaluation."""
    try:
        return call(argument)
    except PolicyError:
        raise
    except Exception as error:
        raise PolicyError(f"{type(error).__name__}: {error}") from error


def expert_solves(env: Sim2RealEnv, seed: int) -> bool:
    """As RoboTwin 2.0: an evaluation seed counts only if the scripted expert can solve it."""
    from sim2real.expert.runner import ScriptedExpert

    return ScriptedExpert(env).run(seed).success
