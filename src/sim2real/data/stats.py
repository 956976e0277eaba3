"""Dataset statistics as LeRobot v3 writes them, plus the pooled quantiles our trainer uses.

Per episode (`stats/<feature>/<stat>` in meta/episodes): mean, std, min, max, count and the
quantiles q01, q10, q50, q90, q99, per dimension for numeric features and per channel, shaped
(3, 1, 1) with values in [0, 1], for images.

Dataset-wide (meta/stats.json): the per-episode statistics aggregated the way LeRobot's own
writer does (its `aggregate_stats`): means weighted by frames, the variance by the parallel
algorithm, min of mins, max of maxes, and each quantile as the frame-weighted mean of the
episodes' quantiles. That keeps a LeRobot-trained policy normalising our data as it would data
LeRobot recorded. Such an average of quantiles is not a quantile of the data: an arm that is
still in most episodes and moves far in a few gets a q01..q99 band that most of its moves fall
outside. So the true quantiles over all frames are stored too, as `pooled_q01` .. `pooled_q99`
(names LeRobot's aggregation ignores), and our trainer normalises with `pooled_q01`/`pooled_q99`
(`normalization_bounds`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

QUANTILES = {"q01": 0.01, "q10": 0.10, "q50": 0.50, "q90": 0.90, "q99": 0.99}  # LeRobot's
POOLED_PREFIX = "pooled_"
IMAGE_SAMPLE_STRIDE = 4  # every 4th pixel of every frame: plenty for channel statistics


def numeric_stats(values: np.ndarray) -> dict[str, list]:
    """One episode's statistics of a numeric feature (frames x dimensions)."""
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


def pooled_quantiles(values: np.ndarray) -> dict[str, list]:
    """The quantiles over every frame of the dataset (frames x dimensions)."""
    values = np.asarray(values, dtype=np.float64)
    return {POOLED_PREFIX + name: np.quantile(values, q, axis=0).tolist() for name, q in QUANTILES.items()}


def image_histograms(frames: np.ndarray) -> np.ndarray:
    """Per-channel 256-bin histograms of a subsample of pixels of uint8 frames (N x H x W x 3)."""
    sample = frames[:, ::IMAGE_SAMPLE_STRIDE, ::IMAGE_SAMPLE_STRIDE].reshape(-1, 3)
    return np.stack([np.bincount(sample[:, c], minlength=256) for c in range(3)])


def _per_channel(values) -> list:
    return np.asarray(values, dtype=np.float64).reshape(3, 1, 1).tolist()


def _histogram_quantiles(histograms: np.ndarray, prefix: str = "") -> dict[str, list]:
    levels = np.arange(256) / 255.0
    cumulative = np.cumsum(histograms, axis=1) / histograms.sum(axis=1, keepdims=True)
    return {prefix + name: _per_channel([levels[np.searchsorted(row, q)] for row in cumulative])
            for name, q in QUANTILES.items()}


def image_stats(histograms: np.ndarray, frames: int) -> dict[str, list]:
    """Channel stats (values in [0, 1], shaped (3, 1, 1), as LeRobot) from histograms (3 x 256)."""
    levels = np.arange(256) / 255.0
    counts = histograms.astype(np.float64)
    total = counts.sum(axis=1)
    mean = counts @ levels / total
    std = np.sqrt(np.maximum(counts @ levels**2 / total - mean**2, 0.0))
    nonzero = counts > 0
    out = {
        "mean": _per_channel(mean),
        "std": _per_channel(std),
        "min": _per_channel([levels[np.argmax(row)] for row in nonzero]),
        "max": _per_channel([levels[255 - np.argmax(row[::-1])] for row in nonzero]),
        "count": [frames],
    }
    out.update(_histogram_quantiles(counts))
    return out


def pooled_image_quantiles(histograms: np.ndarray) -> dict[str, list]:
    """The channel quantiles over every frame, from the dataset's summed histograms."""
    return _histogram_quantiles(histograms.astype(np.float64), POOLED_PREFIX)


def aggregate(episodes: Sequence[Mapping[str, Any]]) -> dict[str, list]:
    """One feature's dataset-wide statistics from its per-episode ones, by LeRobot's rules
    (frame-weighted means and quantiles, parallel-algorithm variance, extreme min and max)."""
    count = np.array([e["count"] for e in episodes], dtype=np.float64).reshape(len(episodes))
    weights = count / count.sum()

    def stacked(stat: str) -> np.ndarray:
        return np.array([e[stat] for e in episodes], dtype=np.float64)

    def weighted(values: np.ndarray) -> np.ndarray:
        return np.tensordot(weights, values, axes=1)

    means = stacked("mean")
    mean = weighted(means)
    variance = weighted(stacked("std") ** 2 + (means - mean) ** 2)
    out = {
        "mean": mean.tolist(),
        "std": np.sqrt(variance).tolist(),
        "min": stacked("min").min(axis=0).tolist(),
        "max": stacked("max").max(axis=0).tolist(),
        "count": [int(count.sum())],
    }
    out.update({name: weighted(stacked(name)).tolist() for name in QUANTILES})
    return out


def normalization_bounds(feature: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """(low, high) to normalise a feature to [-1, 1]: the pooled 1% and 99% quantiles where the
    dataset has them (ours), else LeRobot's q01/q99 (a dataset another tool wrote)."""
    low = feature.get(f"{POOLED_PREFIX}q01", feature["q01"])
    high = feature.get(f"{POOLED_PREFIX}q99", feature["q99"])
    return np.asarray(low, dtype=np.float32), np.asarray(high, dtype=np.float32)


def stats_match(expected: dict[str, Any], actual: dict[str, Any], tolerance: float = 1e-4) -> list[str]:
    """Names of statistics in `expected` that `actual` contradicts (for dataset validation)."""
    problems = []
    for name, values in expected.items():
        if name == "count":
            continue
        if name not in actual or not np.allclose(values, actual[name], atol=tolerance, rtol=1e-4):
            problems.append(name)
    return problems
