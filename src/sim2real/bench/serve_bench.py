"""`sim2real bench serve`: what serving a policy over websocket adds to each inference.

Three 224x224 images (head and both wrists) plus state and instruction go out; the median
round trip through our server (zero-motion policy, so inference is ~free) is compared with the
policy's own local inference time and with a bare websocket echo of the same bytes, all on
127.0.0.1, each server in its own process as in real use.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import statistics
import time
from typing import Any

import numpy as np

from sim2real.policy.msgpack_numpy import packb


def _observation(size: int = 224) -> dict[str, Any]:
    rng = np.random.default_rng(0)
    images = {f"images/{c}": rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
              for c in ("head", "left_wrist", "right_wrist")}
    return {**images, "state": np.zeros(14), "instruction": "Click the silver bell."}


def _serve(kind: str, ports: multiprocessing.Queue) -> None:
    if kind == "policy":
        from sim2real.policy.builtin import ZeroMotionPolicy
        from sim2real.policy.server import PolicyServer

        asyncio.run(PolicyServer(ZeroMotionPolicy, port=0).serve_forever(ports.put))
        return
    from websockets.asyncio.server import serve

    async def echo(connection) -> None:
        async for message in connection:
            await connection.send(message)

    async def main() -> None:
        async with serve(echo, "127.0.0.1", 0, max_size=None, compression=None) as server:
            ports.put(next(iter(server.sockets)).getsockname()[1])
            await server.serve_forever()

    asyncio.run(main())


def _median_ms(fn, rounds: int) -> float:
    for _ in range(5):  # warm-up: connection buffers, first allocations
        fn()
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return 1000 * statistics.median(times)


def bench_serve(rounds: int = 200) -> dict[str, Any]:
    from websockets.sync.client import connect

    from sim2real.policy.builtin import ZeroMotionPolicy
    from sim2real.policy.client import RemotePolicy

    observation = _observation()
    payload = packb(observation)
    context = multiprocessing.get_context("spawn")
    servers, urls = [], {}
    for kind in ("policy", "echo"):
        ports = context.Queue()
        process = context.Process(target=_serve, args=(kind, ports), daemon=True)
        process.start()
        servers.append(process)
        urls[kind] = f"ws://127.0.0.1:{ports.get(timeout=120)}"
    try:
        local = ZeroMotionPolicy()
        local.reset()
        local_ms = _median_ms(lambda: local.infer([observation]), rounds)
        remote = RemotePolicy(urls["policy"])
        remote.reset()
        remote_ms = _median_ms(lambda: remote.infer([observation]), rounds)
        remote.close()
        with connect(urls["echo"], max_size=None, compression=None) as echo:
            echo_ms = _median_ms(lambda: (echo.send(payload), echo.recv()), rounds)
    finally:
        for process in servers:
            process.terminate()
            process.join(timeout=10)
    return {
        "payload_bytes": len(payload),
        "rounds": rounds,
        "local_inference_ms": local_ms,
        "remote_round_trip_ms": remote_ms,
        "overhead_ms": remote_ms - local_ms,
        "overhead_target_ms": 2.0,
        "bare_echo_ms": echo_ms,
        "ratio_over_bare_echo": remote_ms / echo_ms,
    }
