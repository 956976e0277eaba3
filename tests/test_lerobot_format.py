"""Our datasets as LeRobot v3 (0.4.x) writes its own, checked against LeRobot's documented format
(its `compute_episode_stats` / `aggregate_stats` contract and its video encoder settings). The
tests cannot depend on lerobot itself (it pins its own torch); docs/pipeline.md records the run
of the real LeRobot 0.4.4 on one of these datasets."""

import json

import av
import numpy as np
import pyarrow.parquet as pq
import pytest

from sim2real.data.reader import Dataset
from sim2real.data.stats import QUANTILES, aggregate, normalization_bounds

LEROBOT_QUANTILES = ["q01", "q10", "q50", "q90", "q99"]


@pytest.fixture(scope="module")
def demos(click_bell_demos):
    return click_bell_demos


def _episodes(root):
    return pq.read_table(root / "meta/episodes/chunk-000/file-000.parquet").to_pylist()


def test_info_fps_is_an_integer(demos):
    info = json.loads((demos / "meta/info.json").read_text())
    assert type(info["fps"]) is int and info["fps"] == 25
    assert type(info["features"]["observation.images.head"]["info"]["video.fps"]) is int


def test_episode_stats_have_lerobots_keys_and_shapes(demos):
    """LeRobot validates that every image statistic is (3, 1, 1) and every count (1,)."""
    for row in _episodes(demos):
        for stat in ["mean", "std", "min", "max", *LEROBOT_QUANTILES]:
            assert np.array(row[f"stats/observation.images.head/{stat}"]).shape == (3, 1, 1), stat
            assert np.array(row[f"stats/action/{stat}"]).shape == (14,), stat
            assert np.array(row[f"stats/timestamp/{stat}"]).shape == (1,), stat
        assert np.array(row["stats/observation.images.head/count"]).shape == (1,)
        assert row["stats/action/count"] == [row["length"]]
    stats = json.loads((demos / "meta/stats.json").read_text())
    for feature in ("action", "observation.state", "observation.images.head"):
        assert set(LEROBOT_QUANTILES) <= set(stats[feature])
    assert list(QUANTILES) == LEROBOT_QUANTILES


def test_global_quantiles_are_the_frame_weighted_mean_of_episode_quantiles(demos):
    """meta/stats.json's q.. as LeRobot's aggregate_stats computes them, from the data by brute
    force; the true quantiles over all frames as pooled_q.. (what our trainer uses)."""
    data = Dataset(demos)
    actions = [data.episode(i).actions.astype(np.float64) for i in range(len(data))]
    lengths = np.array([len(a) for a in actions], dtype=np.float64)
    stats = json.loads((demos / "meta/stats.json").read_text())["action"]
    everything = np.concatenate(actions)
    for name, q in zip(LEROBOT_QUANTILES, (0.01, 0.10, 0.50, 0.90, 0.99), strict=True):
        per_episode = np.array([np.quantile(a, q, axis=0) for a in actions])
        np.testing.assert_allclose(stats[name], lengths @ per_episode / lengths.sum(), atol=1e-6)
        np.testing.assert_allclose(stats[f"pooled_{name}"], np.quantile(everything, q, axis=0), atol=1e-6)
    np.testing.assert_allclose(stats["mean"], everything.mean(axis=0), atol=1e-6)
    np.testing.assert_allclose(stats["std"], everything.std(axis=0), atol=1e-6)
    low, high = normalization_bounds(stats)
    np.testing.assert_allclose(low, np.quantile(everything, 0.01, axis=0), atol=1e-6)
    np.testing.assert_allclose(high, np.quantile(everything, 0.99, axis=0), atol=1e-6)


def test_aggregate_of_aggregates_is_the_aggregate():
    """Merging datasets (LeRobot's aggregate_datasets) aggregates their stats again: merging
    two parts must give the statistics of the whole."""
    rng = np.random.default_rng(0)
    episodes = []
    for length in (5, 9, 14, 3):
        values = rng.normal(rng.normal(), 1 + rng.random(), (length, 2))
        episodes.append({"mean": values.mean(0), "std": values.std(0), "min": values.min(0),
                         "max": values.max(0), "count": [length],
                         **{k: np.quantile(values, q, axis=0) for k, q in QUANTILES.items()}})
    whole = aggregate(episodes)
    merged = aggregate([aggregate(episodes[:2]), aggregate(episodes[2:])])
    for key in whole:
        np.testing.assert_allclose(merged[key], whole[key], atol=1e-12)


def test_videos_have_a_keyframe_every_two_frames(demos):
    """As LeRobot's encoder (g=2): seeking to any frame decodes from at most one frame back."""
    path = demos / "videos/observation.images.head/chunk-000/file-000.mp4"
    with av.open(str(path)) as container:
        packets = sorted((p for p in container.demux(video=0) if p.size), key=lambda p: p.pts)
    keyframes = [i for i, packet in enumerate(packets) if packet.is_keyframe]
    assert keyframes == list(range(0, len(packets), 2)), keyframes[:10]
