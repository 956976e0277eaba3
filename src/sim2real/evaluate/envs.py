"""Sets of environments the rollout engine steps together: in this process, or spread over worker
processes that each hold several. A set runs whole action chunks per call, so a worker costs
one message round trip per chunk, not per step.
"""

from __future__ import annotations

import multiprocessing
import os
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any, Protocol

import numpy as np

from sim2real.core.environment import Environment, Observation, StepInfo
from sim2real.errors import Sim2RealError

EnvFactory = Callable[[], Environment]  # picklable when the set uses worker processes


@dataclass
class ChunkResult:
    """What executing (part of) one action chunk in one environment gave."""

    observation: Observation  # the last one
    info: StepInfo
    done: bool  # terminated or truncated
    steps: int  # actions executed
    seconds: float  # wall time spent in env.step
    error: str | None = None  # the env refused an action (out of range): the episode's failure
    stopped: str | None = None  # the station stopped the episode (StationStop): its failure as is
    # Every observation after each executed action, when the slot is recorded (videos, data).
    observations: list[Observation] = field(default_factory=list)


def run_chunk(env: Environment, chunk: np.ndarray, record: bool) -> ChunkResult:
    """Execute the chunk's actions in order until the episode ends."""
    from sim2real.core.environment import StationStop
    from sim2real.core.policy import PolicyError

    started = time.perf_counter()
    result = ChunkResult(observation={}, info={}, done=False, steps=0, seconds=0.0)
    try:
        for action in chunk:
            result.observation, _, terminated, truncated, result.info = env.step(action)
            result.steps += 1
            if record:
                result.observations.append(result.observation)
            if terminated or truncated:
                result.done = True
                break
    except StationStop as error:
        result.done, result.stopped = True, str(error)
    except (Sim2RealError, PolicyError) as error:
        result.done, result.error = True, str(error)
    result.seconds = time.perf_counter() - started
    return result


class EnvSet(Protocol):
    """N environments addressed by slot 0..N-1."""

    size: int
    processes: int  # worker processes stepping them (0: this process)

    def reset(self, seeds: dict[int, int]) -> dict[int, tuple[Observation, StepInfo]]:
        """Reset each slot with its seed."""

    def run(self, chunks: dict[int, np.ndarray], record: set[int]) -> dict[int, ChunkResult]:
        """Execute one chunk in each named slot (all slots at once where they can)."""

    def close(self) -> None: ...


class LocalEnvs:
    """Environments in this process, stepped one after the other (and a real robot, B = 1)."""

    def __init__(self, envs: Sequence[Environment]) -> None:
        self.envs = list(envs)
        self.size = len(self.envs)
        self.processes = 0

    @classmethod
    def build(cls, factory: EnvFactory, size: int) -> LocalEnvs:
        return cls([factory() for _ in range(size)])

    def reset(self, seeds: dict[int, int]) -> dict[int, tuple[Observation, StepInfo]]:
        return {slot: self.envs[slot].reset(seed=seed) for slot, seed in seeds.items()}

    def run(self, chunks: dict[int, np.ndarray], record: set[int]) -> dict[int, ChunkResult]:
        return {slot: run_chunk(self.envs[slot], chunk, slot in record) for slot, chunk in chunks.items()}

    def close(self) -> None:
        for env in self.envs:
            env.close()


def _serve(connection: Connection, factory: EnvFactory, size: int, threads: int) -> None:
    """A worker process: builds its environments, then answers reset/run messages until close."""
    # Before the first GL context: Mesa's software rasterizer otherwise starts a thread per core
    # in every process, and the processes fight over the cores. A user's own setting wins.
    os.environ.setdefault("LP_NUM_THREADS", str(threads))
    os.environ.setdefault("OMP_NUM_THREADS", str(threads))
    try:
        local = LocalEnvs.build(factory, size)
        connection.send(("ready", None))
    except BaseException as error:  # noqa: BLE001 - reported to the parent, which raises it
        connection.send(("error", _describe(error)))
        return
    try:
        while True:
            command, argument = connection.recv()
            if command == "close":
                break
            try:
                if command == "reset":
                    reply = local.reset(argument)
                else:
                    reply = local.run(*argument)
                connection.send(("ok", reply))
            except BaseException as error:  # noqa: BLE001
                connection.send(("error", _describe(error)))
    except (EOFError, KeyboardInterrupt):
        pass  # the parent went away
    finally:
        local.close()


def _describe(error: BaseException) -> str:
    if isinstance(error, Sim2RealError):
        return str(error)
    return f"{type(error).__name__}: {error}\n{traceback.format_exc()}"


class ProcessEnvs:
    """Environments spread round-robin over worker processes (spawned: each needs its own GL
    context and MuJoCo state). Each call messages every worker first and then collects the
    answers, so the workers step their environments at the same time."""

    def __init__(self, factory: EnvFactory, size: int, processes: int | None = None) -> None:
        processes = max(1, min(size, processes or os.cpu_count() or 1))
        self.size = size
        self.processes = processes
        self._owner = [slot % processes for slot in range(size)]  # slot -> worker
        self._local = [sum(1 for s in range(slot) if self._owner[s] == self._owner[slot])
                       for slot in range(size)]  # slot -> index inside its worker
        context = multiprocessing.get_context("spawn")
        threads = max(1, (os.cpu_count() or 1) // processes)
        self._connections: list[Connection] = []
        self._processes = []
        for worker in range(processes):
            parent, child = context.Pipe()
            count = self._owner.count(worker)
            process = context.Process(target=_serve, args=(child, factory, count, threads),
                                      daemon=True)
            process.start()
            child.close()
            self._connections.append(parent)
            self._processes.append(process)
        try:
            for connection in self._connections:
                self._receive(connection)
        except BaseException:
            self.close()
            raise

    def _receive(self, connection: Connection) -> Any:
        try:
            status, payload = connection.recv()
        except EOFError:
            raise Sim2RealError("an environment worker process died") from None
        if status == "error":
            raise Sim2RealError(f"environment worker failed: {payload}")
        return payload

    def _scatter(self, command: str, per_slot: dict[int, Any], extra=None) -> dict[int, Any]:
        by_worker: dict[int, dict[int, Any]] = {}
        for slot, value in per_slot.items():
            by_worker.setdefault(self._owner[slot], {})[self._local[slot]] = value
        back = {}
        for worker, local in by_worker.items():
            payload = local if extra is None else (local, extra(worker))
            self._connections[worker].send((command, payload))
        for worker, local in by_worker.items():
            answers = self._receive(self._connections[worker])
            for slot in range(self.size):
                if self._owner[slot] == worker and self._local[slot] in answers:
                    back[slot] = answers[self._local[slot]]
        return back

    def reset(self, seeds: dict[int, int]) -> dict[int, tuple[Observation, StepInfo]]:
        return self._scatter("reset", seeds)

    def run(self, chunks: dict[int, np.ndarray], record: set[int]) -> dict[int, ChunkResult]:
        def recorded_in(worker: int) -> set[int]:
            return {self._local[s] for s in record if self._owner[s] == worker}

        return self._scatter("run", chunks, recorded_in)

    def close(self) -> None:
        for connection in self._connections:
            try:
                connection.send(("close", None))
            except (OSError, BrokenPipeError):
                pass
        for process in self._processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
                process.join()
        for connection in self._connections:
            connection.close()
        self._connections, self._processes = [], []


def make_env_set(factory: EnvFactory, size: int) -> EnvSet:
    """One environment in this process; more in worker processes, as many as there are cores."""
    return LocalEnvs.build(factory, 1) if size == 1 else ProcessEnvs(factory, size)
