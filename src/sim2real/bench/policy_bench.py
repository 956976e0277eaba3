"""`sim2real bench policy`: latency of one action chunk from the reference VLA, and what the
policy wrapper adds to the bare network.

For each model (a preset with random weights, or a checkpoint) the same observation (its
cameras at the size `eval` renders them for it, plus state and instruction) goes
through `VLAPolicy.infer` (resize, centre crop, normalisation, device transfers, the forward pass,
de-normalisation) and, interleaved call by call so a shared machine's load hits both alike,
through the bare `model(images, language, state)` on inputs prepared once, with the intra-op
threads `infer` uses (`inference_threads` in the report; `torch_threads` is torch's own). The
ratio of the two medians is the policy's preprocessing overhead. For the pretrained encoder the package's own
EfficientNet-Lite0 (`efficientnet_lite_pytorch`, with its classifier, one image per camera) is
timed in the same loop too: `ratio_over_raw_library` is the bare forward over it, the figure a
speed claim should quote on a shared machine, where absolute times move with the load.

The instruction embedding is seeded with a fixed vector: the policy encodes an instruction once
per episode and caches it, so steady-state chunks never run the language model, and loading it
would only slow the benchmark down.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from sim2real.policy.transforms import Normalisation
from sim2real.policy.vla.config import LANGUAGE_DIM, preset
from sim2real.policy.vla.model import ReferenceVLA
from sim2real.policy.vla.policy import VLAPolicy

INSTRUCTION = "Click the silver bell."
CAMERAS = ("head",)  # the reference VLA's default, the paper's head camera


def _random_policy(size: str, device: torch.device, overrides: dict[str, Any]) -> VLAPolicy:
    """A preset with random weights (a pretrained encoder's published ones) and unit bounds:
    latency does not depend on the values."""
    from pydantic import ValidationError

    from sim2real.errors import Sim2RealError, describe_validation_error
    from sim2real.policy.vla.config import VLAConfig

    torch.manual_seed(0)
    try:
        config = preset(size, **{"cameras": CAMERAS, **overrides})
    except ValidationError as error:
        raise Sim2RealError(describe_validation_error(error, VLAConfig)) from None
    return VLAPolicy(ReferenceVLA(config), Normalisation.unit(), device)


def _observation(policy: VLAPolicy, rng: np.random.Generator) -> dict[str, Any]:
    width, height = policy.config.render_size  # as `eval` renders them for this model
    images = {f"images/{c}": rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
              for c in policy.config.cameras}
    return {**images, "state": rng.uniform(-0.5, 0.5, 14), "instruction": INSTRUCTION}


def _bare_forward(policy: VLAPolicy, embedding: np.ndarray, rng: np.random.Generator) -> Callable[[], None]:
    """The network alone, on inputs already on the device in the model's layout."""
    size, device = policy.config.image_size, policy.device
    images = {c: torch.rand(1, 3, size, size, generator=torch.Generator().manual_seed(i)).to(device)
              for i, c in enumerate(policy.config.cameras)}
    language = torch.as_tensor(embedding[None], device=device)
    state = torch.as_tensor(rng.uniform(-1, 1, (1, policy.config.state_dim)), dtype=torch.float32, device=device)
    return _as_infer_runs(policy, lambda: policy.model(images, language, state))


def _as_infer_runs(policy: VLAPolicy, run: Callable[[], Any]) -> Callable[[], None]:
    """`run` timed the way `infer` runs: without autograd, under the policy's intra-op threads
    (so the ratios compare like with like), finished on the device before the clock stops."""

    @torch.no_grad()
    def timed() -> None:
        with policy.inference_threads():
            run()
        if policy.device.type == "cuda":  # kernels are asynchronous; infer() syncs by copying to the host
            torch.cuda.synchronize(policy.device)

    return timed


def _raw_library(policy: VLAPolicy) -> Callable[[], None] | None:
    """The pretrained encoder's library network alone at the same input (None for the others)."""
    if policy.config.encoder != "efficientnet-lite0":
        return None
    from sim2real.policy.vla.efficientnet import imagenet_network

    size, device = policy.config.image_size, policy.device
    network = imagenet_network(size).to(device)  # ImageNet weights, as the encoder starts from
    generator = torch.Generator().manual_seed(0)
    images = torch.rand(len(policy.config.cameras), 3, size, size, generator=generator).to(device)
    return _as_infer_runs(policy, lambda: [network(image[None]) for image in images])


def _time_ms(fn: Callable[[], Any]) -> float:
    started = time.perf_counter()
    fn()
    return 1000 * (time.perf_counter() - started)


def _summary(times_ms: list[float]) -> dict[str, float]:
    return {"median_ms": float(np.median(times_ms)), "p90_ms": float(np.percentile(times_ms, 90))}


def bench_one(policy: VLAPolicy, iterations: int, warmup: int) -> dict[str, Any]:
    """Median and p90 latency per chunk of `policy.infer` and of the bare forward pass."""
    rng = np.random.default_rng(0)
    embedding = rng.standard_normal(LANGUAGE_DIM).astype(np.float32)
    embedding /= np.linalg.norm(embedding)
    policy.language.remember(INSTRUCTION, embedding)
    policy.reset()
    observation = _observation(policy, rng)
    forward = _bare_forward(policy, embedding, rng)
    raw = _raw_library(policy)
    infer = lambda: policy.infer([observation])  # noqa: E731
    for _ in range(warmup):  # first calls allocate, pick kernels and fill the instruction cache
        infer()
        forward()
        if raw is not None:
            raw()
    policy_ms, forward_ms, raw_ms = [], [], []
    for _ in range(iterations):
        policy_ms.append(_time_ms(infer))
        forward_ms.append(_time_ms(forward))
        if raw is not None:
            raw_ms.append(_time_ms(raw))
    config = policy.config
    policy_stats, forward_stats = _summary(policy_ms), _summary(forward_ms)
    raw_row = {}
    if raw_ms:
        raw_median = _summary(raw_ms)["median_ms"]
        raw_row = {"raw_library_median_ms": raw_median,
                   "ratio_over_raw_library": forward_stats["median_ms"] / raw_median}
    return {
        "size": config.size,
        "encoder": config.encoder,
        "parameters": sum(p.numel() for p in policy.model.parameters()),
        "cameras": list(config.cameras),
        "image_size": config.image_size,
        "chunk_size": config.chunk_size,
        "policy_median_ms": policy_stats["median_ms"],
        "policy_p90_ms": policy_stats["p90_ms"],
        "forward_median_ms": forward_stats["median_ms"],
        "forward_p90_ms": forward_stats["p90_ms"],
        "ratio_over_forward": policy_stats["median_ms"] / forward_stats["median_ms"],
        "inference_threads": policy.cpu_threads if policy.device.type == "cpu" else None,
        **raw_row,
    }


def bench_policy(sizes: Sequence[str] = ("tiny", "base"), checkpoint: Path | None = None,
                 iterations: int = 20, warmup: int = 3, device: str | None = None,
                 overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """One entry per model: presets (with `overrides` of their config) with random weights, or
    the checkpoint when one is given."""
    device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    if checkpoint is not None:
        policies = {str(checkpoint): lambda: VLAPolicy.load(checkpoint, str(device))}
    else:
        policies = {size: (lambda size=size: _random_policy(size, device, overrides or {})) for size in sizes}
    models = {name: bench_one(build(), iterations, warmup) for name, build in policies.items()}
    return {
        "device": str(device),
        "torch_threads": torch.get_num_threads(),
        "iterations": iterations,
        "warmup": warmup,
        "models": models,
    }
