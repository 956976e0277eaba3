"""Quadric decimation of visual meshes (fast-simplification), cached on disk by content.

Only over-tessellated meshes are reduced: a mesh with more than DECIMATE_ABOVE triangles keeps
KEEP of them. The arm's lean CAD links (600-2,800 triangles) collapse badly under quadric
decimation and stay as they are; the camera mount (13,464) and the fingers (~5,700) do not
(tests/test_mesh_detail.py checks silhouettes against full detail).

The result is a pure function of the source triangles and the recipe, so it is built once per
machine and kept under the user cache folder (`sim2real.cache.cache_root`), keyed by a hash of
the source vertices, faces, the recipe and the library's version. Writes are atomic (a
temporary file renamed into place): concurrent workers never read half a file, and at worst
build the same mesh twice.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from functools import lru_cache
from pathlib import Path

import numpy as np

from sim2real.cache import cache_root

DECIMATE_ABOVE = 4000  # triangles; leaner meshes are kept whole
KEEP = 0.3  # fraction of triangles a decimated mesh keeps
RECIPE = f"v1:{DECIMATE_ABOVE}:{KEEP}"  # part of the cache key


def decimate(
    vertices: np.ndarray, faces: np.ndarray, cache: Path | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The mesh at policy detail: (vertices float32 (N, 3), faces int32 (M, 3))."""
    vertices = np.ascontiguousarray(vertices, np.float32)
    faces = np.ascontiguousarray(faces, np.int32)
    if len(faces) <= DECIMATE_ABOVE:
        return vertices, faces
    return _decimate_cached(vertices.tobytes(), faces.tobytes(), str(cache or cache_root()))


def cache_path(vertices: np.ndarray, faces: np.ndarray, cache: Path) -> Path:
    """Where the decimated copy of this mesh is kept."""
    key = hashlib.sha256()
    for part in (
        np.ascontiguousarray(vertices, np.float32).tobytes(),
        np.ascontiguousarray(faces, np.int32).tobytes(),
        f"{RECIPE}:{_library_version()}".encode(),
    ):
        key.update(part)
    return Path(cache) / "meshes" / f"{key.hexdigest()}.npz"


@lru_cache(maxsize=256)
def _decimate_cached(
    vertex_bytes: bytes, face_bytes: bytes, cache: str
) -> tuple[np.ndarray, np.ndarray]:
    vertices = np.frombuffer(vertex_bytes, np.float32).reshape(-1, 3)
    faces = np.frombuffer(face_bytes, np.int32).reshape(-1, 3).copy()  # writable, as it wants
    path = cache_path(vertices, faces, Path(cache))
    if path.is_file():
        with np.load(path) as stored:
            return stored["vertices"], stored["faces"]
    result = _reduce(vertices, faces)
    _write_atomically(path, *result)
    return result


def _reduce(vertices: np.ndarray, faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    import fast_simplification

    # The library's error schedule works in squared length units: decimate in millimetres,
    # where its first passes collapse only edges that move the surface by microns.
    points, triangles = fast_simplification.simplify(
        vertices.astype(np.float64) * 1000.0, faces, target_count=round(KEEP * len(faces))
    )
    return (points / 1000.0).astype(np.float32), triangles.astype(np.int32)


def _write_atomically(path: Path, vertices: np.ndarray, faces: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".tmp.npz", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            np.savez(handle, vertices=vertices, faces=faces)
        os.replace(tmp, path)  # atomic on one file system: readers see all or nothing
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _library_version() -> str:
    from importlib.metadata import version

    return version("fast-simplification")
