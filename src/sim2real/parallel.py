"""Run a function over chunks of work in-process, in K local processes, or on a Ray cluster.

Generation (`sim2real.data`) and evaluation (`sim2real.evaluate`) both fan seeds out this way;
GRPO's rollouts (`sim2real.train.grpo.workers`) keep the pool open across steps.
"""

from __future__ import annotations

import concurrent.futures as futures
import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence


class Pool:
    """Run functions over chunks of seeds in-process, in K local processes, or on Ray."""

    def __init__(self, workers: int = 1, ray_address: str | None = None) -> None:
        self.workers = max(1, workers)
        self.ray_address = ray_address
        self._kept: futures.ProcessPoolExecutor | None = None
        self._keep = False

    def __enter__(self) -> Pool:
        """Inside the block the local worker processes live from one `map` to the next, and so
        does what a worker caches in its module (environments, a model), as Ray's reused
        workers do; every call goes to them, a single one too."""
        self._keep = True
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._keep = False
        if self._kept is not None:
            self._kept.shutdown(cancel_futures=True)
            self._kept = None

    def _executor(self) -> futures.ProcessPoolExecutor:
        # spawn, not fork: each worker needs its own fresh OpenGL/EGL context and MuJoCo state
        context = multiprocessing.get_context("spawn")
        return futures.ProcessPoolExecutor(self.workers, mp_context=context, initializer=share_cores,
                                           initargs=(self.workers,))

    def map(self, fn: Callable, args: Sequence[tuple]) -> Iterator:
        """fn(*a) for each a, yielded in the order of `args` (each as soon as it and all before
        it are done, so callers can show progress)."""
        if self.ray_address:
            import ray

            ray.init(address=self.ray_address, ignore_reinit_error=True, log_to_driver=False)
            remote = ray.remote(fn)
            for handle in [remote.remote(*a) for a in args]:
                yield ray.get(handle)
            return
        if self._keep and self.workers > 1:
            if self._kept is None:
                self._kept = self._executor()
            yield from self._kept.map(fn, *zip(*args, strict=True))
            return
        if self.workers == 1 or len(args) == 1:
            for a in args:
                yield fn(*a)
            return
        with self._executor() as pool:
            yield from pool.map(fn, *zip(*args, strict=True))


def share_cores(workers: int) -> None:
    """In a worker process, before its first GL context: Mesa's software rasterizer (llvmpipe)
    otherwise starts a rendering thread per core in every process, and K workers on N cores
    would fight over them (measured on 2 cores: 2 workers were slower than 1). A user's own
    LP_NUM_THREADS wins."""
    os.environ.setdefault("LP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // workers)))


def split(seeds: Sequence[int], parts: int) -> list[list[int]]:
    """Interleaved chunks, so slow and fast seeds spread over the workers."""
    return [list(seeds[i::parts]) for i in range(parts) if seeds[i::parts]]
