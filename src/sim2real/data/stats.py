"""Dataset statistics as LeRobot's meta/stats.json: mean, std, min, max, q01, q99 (and count)
per numeric feature, and per channel for images (shape [3, 1, 1])."""

from __future__ import annotations

from typing import Any

import numpy as np

QUANTILES = {"q01": 0.01, "q99": 0.99}
IMAGE_SAMPLE_STRIDE = 4  # every 4th pixel of every frame: plenty for channel statistics


def numeric_stats(values: np.ndarray) -> dict[str, list]:
    values = np.asarray(values, dtype=np.float64)
    out = {
        "mean": values.mean(axis=0),
        "std": values.std(axis=0),
        "min": values.min(axis=0),
        "max": values.max(axis=0),
        "count": np.array([len(values)]),
    }
    out.update({name: np.quantile(values, q, axis=0) for name, q in QUANTILES.items()})
    return {k: v.tolist() for k, v in out.items()}


def image_histograms(frames: np.ndarray) -> np.ndarray:
    """Per-channel 256-bin histograms of a subsample of pixels of uint8 frames (N x H x W x 3)."""
    sample = frames[:, ::IMAGE_SAMPLE_STRIDE, ::IMAGE_SAMPLE_STRIDE].reshape(-1, 3)
    return np.stack([np.bincount(sample[:, c], minlength=256) for c in range(3)])


def image_stats(histograms: np.ndarray, frames: int) -> dict[str, list]:
    """Channel stats (values in [0, 1], as LeRobot) from summed histograms (3 x 256)."""
    levels = np.arange(256) / 255.0
    counts = histograms.astype(np.float64)
    total = counts.sum(axis=1)
    mean = counts @ levels / total
    std = np.sqrt(np.maximum(counts @ levels**2 / total - mean**2, 0.0))
    cumulative = np.cumsum(counts, axis=1) / total[:, None]
    nonzero = counts > 0

    def per_channel(values) -> list:
        return np.asarray(values, dtype=np.float64).reshape(3, 1, 1).tolist()

    out = {
        "mean": per_channel(mean),
        "std": per_channel(std),
        "min": per_channel([levels[np.argmax(row)] for row in nonzero]),
        "max": per_channel([levels[255 - np.argmax(row[::-1])] for row in nonzero]),
        "count": [frames],
    }
    for name, q in QUANTILES.items():
        out[name] = per_channel([levels[np.searchsorted(row, q)] for row in cumulative])
    return out


def stats_match(expected: dict[str, Any], actual: dict[str, Any], tolerance: float = 1e-4) -> list[str]:
    """Names of statistics in `expected` that `actual` contradicts (for dataset validation)."""
    problems = []
    for name, values in expected.items():
        if name == "count":
            continue
        if name not in actual or not np.allclose(values, actual[name], atol=tolerance, rtol=1e-4):
            problems.append(name)
    return problems
