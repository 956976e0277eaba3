"""Where sim2real keeps what it derives once per machine (textures, decimated meshes)."""

from __future__ import annotations

import os
from pathlib import Path


def cache_root() -> Path:
    """`$SIM2REAL_CACHE`, else ~/.cache/sim2real: a user folder, never inside the repository."""
    return Path(os.environ.get("SIM2REAL_CACHE", Path.home() / ".cache" / "sim2real"))
