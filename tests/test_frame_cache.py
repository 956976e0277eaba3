"""The frame cache: the same batches as frames decoded in memory, built once, crash-safe."""

import errno
import json
import shutil

import numpy as np
import pytest
import torch

from sim2real.data.reader import Dataset
from sim2real.policy.transforms import resize_square
from sim2real.train import frame_cache
from sim2real.train.data import TrainingFrames

SIZE = 32


@pytest.fixture
def demos(click_bell_demos, tmp_path):
    """A private copy of the session's two demos (the caches are written into it)."""
    root = tmp_path / "click_bell"
    shutil.copytree(click_bell_demos, root, ignore=shutil.ignore_patterns("cache"))
    return root


def _count_decodes(monkeypatch) -> list[int]:
    calls = []
    real = Dataset.frames

    def counted(self, index, camera):
        calls.append(index)
        return real(self, index, camera)

    monkeypatch.setattr(Dataset, "frames", counted)
    return calls


def _cache_files(root):
    return sorted((root / "cache" / "frames").glob("*.npy"))


def test_batches_equal_frames_decoded_in_memory_and_the_cache_is_built_once(demos, monkeypatch):
    calls = _count_decodes(monkeypatch)
    frames = TrainingFrames.load([demos, demos], ("head",), SIZE)
    dataset = Dataset(demos)
    assert len(calls) == len(dataset)  # decoded once for both uses of the same dataset
    decoded = torch.cat([resize_square(dataset.frames(i, "head"), SIZE) for i in range(len(dataset))])
    in_memory = torch.cat([decoded, decoded])
    assert len(frames) == len(in_memory)
    a, b = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    for _ in range(3):
        batch = frames.sample(16, 5, a)
        expected = torch.randint(len(in_memory), (16,), generator=b)
        assert torch.equal(batch.frames, expected)
        assert batch.images["head"].dtype == torch.uint8
        assert torch.equal(batch.images["head"], in_memory[expected])
    (cache,) = _cache_files(demos)
    assert json.loads(cache.with_suffix(".json").read_text())["size"] == SIZE
    calls.clear()
    again = TrainingFrames.load([demos], ("head",), SIZE)
    assert calls == [] and torch.equal(again.images["head"][torch.arange(len(decoded))], decoded)


def test_a_killed_writer_is_ignored_and_a_truncated_cache_rebuilt(demos, monkeypatch):
    TrainingFrames.load([demos], ("head",), SIZE)
    (cache,) = _cache_files(demos)
    good = cache.read_bytes()
    leftover = cache.parent / f".tmp-{cache.name}.abc123.npy"  # a writer killed mid-way
    leftover.write_bytes(good[: len(good) // 2])
    calls = _count_decodes(monkeypatch)
    TrainingFrames.load([demos], ("head",), SIZE)
    assert calls == [] and leftover.exists()  # ignored; nothing rebuilt
    cache.write_bytes(good[:-100])  # truncated
    frames = TrainingFrames.load([demos], ("head",), SIZE)
    assert calls and cache.read_bytes() == good
    assert not leftover.exists()  # its writer is gone (no flock): swept by the rebuild
    assert frames.images["head"][torch.tensor([0])].shape == (1, SIZE, SIZE, 3)
    cache.write_bytes(b"not a numpy file at all")
    TrainingFrames.load([demos], ("head",), SIZE)
    assert cache.read_bytes() == good


def test_new_content_size_or_camera_is_a_new_key(demos):
    key = frame_cache.frames_key(demos, "head", SIZE)
    assert frame_cache.frames_key(demos, "head", SIZE + 16) != key
    assert frame_cache.frames_key(demos, "left_wrist", SIZE) != key
    stats = demos / "meta" / "stats.json"
    stats.write_text(stats.read_text() + " ")
    assert frame_cache.frames_key(demos, "head", SIZE)["dataset"] != key["dataset"]


def test_a_read_only_dataset_caches_in_the_user_cache(demos, tmp_path, monkeypatch):
    monkeypatch.setenv("SIM2REAL_CACHE", str(tmp_path / "user"))
    real = frame_cache._write

    def read_only(path, *args):
        if demos in path.parents:
            raise PermissionError(errno.EACCES, "read-only", str(path))
        return real(path, *args)

    monkeypatch.setattr(frame_cache, "_write", read_only)
    frames = TrainingFrames.load([demos], ("head",), SIZE)
    assert _cache_files(demos) == [] and len(list((tmp_path / "user" / "frames").glob("*.npy"))) == 1
    assert frames.images["head"][torch.tensor([1, 0])].shape == (2, SIZE, SIZE, 3)
    np.testing.assert_array_equal(frames.images["head"][torch.tensor([0])][0],
                                  resize_square(Dataset(demos).frames(0, "head"), SIZE)[0])
