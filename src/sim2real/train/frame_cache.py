"""Training frames decoded once to a memory-mapped cache at the model's resolution, on disk.

A cache file holds one dataset's frames for one camera at one size, uint8 N x S x S x 3 (the
frames of every episode in order, resized by `policy.transforms.resize_square`), under
`<dataset>/cache/frames/`, named by a digest of what the pixels depend on: the dataset's content
(its meta/info.json and meta/stats.json, as the feature cache keys it), the camera, the size and
the resize (method and torch version). When the dataset folder cannot be written (read-only),
the cache goes to the user cache (`sim2real.cache.cache_root() / "frames"`); the name is the same.

It is written to a temporary file (rows appended with plain writes, so building never holds more
than one episode) and renamed into place, so a crash never leaves half a cache and concurrent
runs each write their own temporary (the last rename wins; the contents are equal). A writer holds
an flock on its temporary: a later build of the same cache deletes only temporaries whose lock is
free (their writer died). A cache file whose header, shape or size is wrong (truncated, corrupt)
is rebuilt; bytes flipped inside the pixels are not detected (no checksum over gigabytes).
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np
import torch

from sim2real.data.reader import Dataset
from sim2real.media import TEMP_PREFIX, atomic_path

FORMAT = "sim2real-frames/1"
RESIZE = "bilinear, antialiased, aspect squashed (policy.transforms.resize_square)"


def dataset_digest(root: Path) -> str:
    """A dataset's content, as the caches key it: the digest of meta/info.json and meta/stats.json."""
    content = hashlib.sha256()
    for name in ("info.json", "stats.json"):
        content.update((Path(root) / "meta" / name).read_bytes())
    return content.hexdigest()


def frames_key(root: Path, camera: str, size: int) -> dict:
    """Everything the cached pixels depend on."""
    return {"format": FORMAT, "dataset": dataset_digest(root), "camera": camera, "size": size,
            "resize": RESIZE, "torch": torch.__version__.split("+")[0]}


def _name(key: dict) -> str:
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:20]
    return f"{key['camera']}-{key['size']}-{digest}.npy"


def cache_folders(root: Path) -> tuple[Path, Path]:
    """Where a dataset's frame caches go: its own folder, else (read-only) the user cache."""
    from sim2real.cache import cache_root

    return Path(root) / "cache" / "frames", cache_root() / "frames"


def _valid(path: Path, shape: tuple[int, ...]) -> np.ndarray | None:
    """The cache at `path` as a read-only memory map, or None when absent or not whole."""
    try:
        frames = np.load(path, mmap_mode="r")
    except FileNotFoundError:
        return None
    except (ValueError, OSError, EOFError):  # a corrupt header, or shorter than its header says
        return None
    if frames.shape != shape or frames.dtype != np.uint8:
        return None
    expected = frames.offset + int(np.prod(shape))
    return frames if path.stat().st_size == expected else None


def _sweep(folder: Path, name: str) -> None:
    """Delete temporaries of `name` whose writer died (their flock is free)."""
    for path in folder.glob(f"{TEMP_PREFIX}{name}.*"):
        try:
            with open(path, "rb") as handle:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                path.unlink(missing_ok=True)
        except (BlockingIOError, FileNotFoundError):
            continue


def _write(path: Path, shape: tuple[int, ...], episodes: Callable[[], Iterable[torch.Tensor]],
           key: dict) -> None:
    _sweep(path.parent, path.name)
    with atomic_path(path, ".npy") as tmp, open(tmp, "r+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        np.lib.format.write_array_header_1_0(
            handle, {"descr": np.dtype(np.uint8).str, "fortran_order": False, "shape": shape})
        written = 0
        for frames in episodes():
            handle.write(frames.numpy().tobytes())
            written += len(frames)
        if written != shape[0]:
            from sim2real.errors import Sim2RealError

            raise Sim2RealError(f"{key['camera']} has {written} frames, meta/info.json {shape[0]}")
        handle.flush()
        os.fsync(handle.fileno())
    with atomic_path(path.with_suffix(".json"), ".json") as tmp:
        tmp.write_text(json.dumps(key, indent=1))


def ensure_frames(root: Path, camera: str, size: int,
                  episodes: Callable[[], Iterable[torch.Tensor]],
                  folders: Sequence[Path] | None = None) -> np.ndarray:
    """The dataset's frames of `camera` at `size` (read-only memory map), built first from
    `episodes()` (each episode's resized frames, in order) where no whole cache exists: in the
    first folder that can be written (default: `cache_folders(root)`)."""
    key = frames_key(root, camera, size)
    shape = (int(Dataset(Path(root)).info["total_frames"]), size, size, 3)
    folders = list(folders or cache_folders(root))
    for folder in folders:
        found = _valid(folder / _name(key), shape)
        if found is not None:
            return found
    for index, folder in enumerate(folders):
        path = folder / _name(key)
        try:
            _write(path, shape, episodes, key)
        except OSError as error:  # a read-only dataset folder: the next one
            if error.errno not in (errno.EACCES, errno.EPERM, errno.EROFS) or index == len(folders) - 1:
                raise
            continue
        found = _valid(path, shape)
        if found is None:
            from sim2real.errors import Sim2RealError

            raise Sim2RealError(f"the frame cache {path} was not readable right after it was written")
        return found
    raise AssertionError("no cache folder")


class PooledFrames:
    """Several datasets' cached frames of one camera, indexed by the pooled frame index."""

    def __init__(self, parts: Sequence[np.ndarray]) -> None:
        self.parts = list(parts)
        self.starts = np.cumsum([0] + [len(p) for p in self.parts])

    def __len__(self) -> int:
        return int(self.starts[-1])

    def __getitem__(self, frames: torch.Tensor) -> torch.Tensor:
        """uint8 B x S x S x 3 of pooled frame indices: only these rows are read, in file order."""
        frames = np.asarray(frames)
        order = np.argsort(frames, kind="stable")
        wanted = frames[order]
        part = np.searchsorted(self.starts, wanted, side="right") - 1
        out = np.empty((len(frames), *self.parts[0].shape[1:]), dtype=np.uint8)
        for p in np.unique(part):
            rows = part == p
            out[order[rows]] = self.parts[p][wanted[rows] - self.starts[p]]
        return torch.from_numpy(out)
