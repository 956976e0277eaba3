"""The rollout engine: N environments stepped together, one batched policy call per chunk
boundary across every environment that needs actions, finished episodes replaced by the next
seed. Evaluation, GRPO's rollouts and a real station (N = 1) all run on it.

Every episode's outcome depends only on its seed and on the actions it is given, so the
per-seed results do not depend on N (a stateless policy answers each observation of a batch as
it would alone).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from sim2real.core.environment import Observation, StepInfo
from sim2real.core.policy import Policy, PolicyError, check_actions
from sim2real.core.records import EpisodeInfo, EpisodeRecord
from sim2real.evaluate.envs import ChunkResult, EnvSet


class Actor:
    """Turns observations of several slots into action chunks. The default asks a Policy;
    GRPO's actor samples and keeps the tokens. A failure raised for one slot fails that slot's
    episode only."""

    def start(self, slot: int, episode: EpisodeInfo) -> None:
        raise NotImplementedError

    def act(self, slots: Sequence[int], observations: Sequence[Observation]) -> dict[int, np.ndarray | PolicyError]:
        """K x 14 per slot, or the PolicyError that ends that slot's episode."""
        raise NotImplementedError

    def executed(self, slot: int, steps: int) -> None:
        """How many actions of the slot's last chunk were executed before it ended or moved on."""

    def finish(self, slot: int, record: EpisodeRecord) -> None:
        """The slot's episode ended as `record`."""


def ask(call: Callable[[], object]) -> object:
    """A call into policy code: whatever it raises (a torch error, a ragged chunk, a bug in the
    policy) is the policy's failure, recorded with the episode, never the end of the run."""
    try:
        return call()
    except PolicyError:
        raise
    except Exception as error:
        raise PolicyError(f"{type(error).__name__}: {error}") from error


class PolicyActor(Actor):
    """A Policy per slot when it is stateful; one shared instance, asked once per chunk boundary
    for all slots, when it is not."""

    def __init__(self, load: Callable[[], Policy], slots: int, first: Policy | None = None) -> None:
        self._load = load
        first = first or load()
        self.metadata = first.metadata
        self._policies: list[Policy | None] = [first] + [None] * (slots - 1)

    def policy(self, slot: int) -> Policy:
        if not self.metadata.stateful:
            return self._policies[0]
        if self._policies[slot] is None:
            self._policies[slot] = self._load()
        return self._policies[slot]

    def start(self, slot: int, episode: EpisodeInfo) -> None:
        policy = self.policy(slot)
        ask(lambda: policy.reset(episode))

    def act(self, slots, observations):
        if self.metadata.stateful:
            return {slot: self._one(self.policy(slot), obs) for slot, obs in zip(slots, observations, strict=True)}
        shared = self._policies[0]
        try:
            chunks = ask(lambda: check_actions(shared.infer(observations), len(observations)))
        except PolicyError:
            if len(observations) == 1:
                return {slots[0]: self._one(shared, observations[0])}
            # Ask again one by one, so that only the observations the policy fails on fail.
            return {slot: self._one(shared, obs) for slot, obs in zip(slots, observations, strict=True)}
        return dict(zip(slots, chunks, strict=True))

    @staticmethod
    def _one(policy: Policy, observation: Observation) -> np.ndarray | PolicyError:
        try:
            return ask(lambda: check_actions(policy.infer([observation]), 1))[0]
        except PolicyError as error:
            return error

    def close(self) -> None:
        for policy in self._policies:
            if policy is not None and hasattr(policy, "close"):
                policy.close()


@dataclass
class Timing:
    """Where a run's wall time went: policy calls here, env steps in the env set, the rest."""

    wall: float = 0.0
    policy: float = 0.0
    env: float = 0.0  # in env.step, summed over environments (workers overlap: can exceed wall)
    steps: int = 0
    inferences: int = 0  # batched calls
    observations: int = 0  # observations answered

    def as_dict(self) -> dict[str, float]:
        return dict(self.__dict__)


@dataclass
class _Slot:
    seed: int
    started: float
    info: StepInfo
    observation: Observation
    recorded: bool
    inferences: int = 0
    failure: str | None = None
    observations: list[Observation] = field(default_factory=list)


EpisodeCallback = Callable[[EpisodeRecord, list[Observation]], None]


class RolloutEngine:
    def __init__(self, envs: EnvSet, actor: Actor, execute: int | None = None,
                 record: Callable[[int], bool] | None = None) -> None:
        """`execute`: actions run per chunk (None: all); `record(seed)`: whether to keep every
        observation of that seed's episode (for videos and recordings)."""
        self.envs = envs
        self.actor = actor
        self.execute = execute
        self.record = record or (lambda seed: False)
        self.timing = Timing()

    def run(self, seeds: Iterable[int], on_episode: EpisodeCallback | None = None) -> list[EpisodeRecord]:
        """One episode per seed, `envs.size` at a time; records in seed order."""
        started = time.perf_counter()
        queue = deque(seeds)
        active: dict[int, _Slot] = {}
        records: list[EpisodeRecord] = []
        free = list(range(self.envs.size))
        while queue or active:
            self._start(free, queue, active)
            free = []
            finished = self._advance(active)
            for slot in finished:
                state = active.pop(slot)
                record = self._record(state)
                self.actor.finish(slot, record)
                records.append(record)
                if on_episode is not None:
                    on_episode(record, state.observations)
                free.append(slot)
        self.timing.wall += time.perf_counter() - started
        return sorted(records, key=lambda r: r.seed)

    def _start(self, free: list[int], queue: deque, active: dict[int, _Slot]) -> None:
        seeds = {slot: queue.popleft() for slot in free[: len(queue)]}
        if not seeds:
            return
        now = time.perf_counter()
        for slot, (observation, info) in self.envs.reset(seeds).items():
            state = _Slot(seeds[slot], now, info, observation, self.record(seeds[slot]))
            if state.recorded:
                state.observations.append(observation)
            try:
                self.actor.start(slot, info["episode"])
            except PolicyError as error:
                state.failure = f"policy error: {error}"
            active[slot] = state

    def _advance(self, active: dict[int, _Slot]) -> list[int]:
        """One chunk for every active slot; returns the slots whose episode ended."""
        ended = [slot for slot, s in active.items() if s.failure]
        asking = [slot for slot, s in active.items() if not s.failure]
        if not asking:
            return ended
        began = time.perf_counter()
        answers = self.actor.act(asking, [active[slot].observation for slot in asking])
        self.timing.policy += time.perf_counter() - began
        self.timing.inferences += 1
        self.timing.observations += len(asking)
        chunks = {}
        for slot in asking:
            answer = answers[slot]
            active[slot].inferences += 1
            if isinstance(answer, PolicyError):
                active[slot].failure = f"policy error: {answer}"
                ended.append(slot)
            else:
                chunks[slot] = answer[: self.execute]
        recorded = {slot for slot in chunks if active[slot].recorded}
        for slot, result in self.envs.run(chunks, recorded).items():
            self.actor.executed(slot, result.steps)
            self._absorb(active[slot], result)
            if result.done:
                ended.append(slot)
        return ended

    def _absorb(self, state: _Slot, result: ChunkResult) -> None:
        if result.steps:
            state.observation, state.info = result.observation, result.info
        state.observations.extend(result.observations)
        if result.error:
            state.failure = f"policy error: {result.error}"
        if result.stopped:
            state.failure = result.stopped
        timing = self.timing
        timing.env += result.seconds
        timing.steps += result.steps

    @staticmethod
    def _record(state: _Slot) -> EpisodeRecord:
        info, episode = state.info, state.info["episode"]
        success = bool(info.get("success"))
        failure = state.failure or (None if success else "step limit reached")
        return EpisodeRecord(
            seed=state.seed, success=success, steps=int(info.get("step", 0)),
            seconds=time.perf_counter() - state.started, failure=failure,
            inferences=state.inferences, settings=episode.settings, params=episode.params,
            instruction=episode.instruction, metrics=dict(info.get("metrics") or {}),
        )
