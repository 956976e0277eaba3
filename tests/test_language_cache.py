"""The instruction-embedding cache: a process whose instructions are cached reads them from the
machine's file (it never needs to import the language model), and additions merge into it."""

from __future__ import annotations

import numpy as np

from sim2real.policy.vla.language import InstructionEncoder, default_cache_file


def unit(seed: int) -> np.ndarray:
    vector = np.random.default_rng(seed).standard_normal(384).astype(np.float32)
    return vector / np.linalg.norm(vector)


def test_cached_instructions_come_from_the_file_and_additions_merge(tmp_path, monkeypatch):
    monkeypatch.setenv("SIM2REAL_CACHE", str(tmp_path))
    path = default_cache_file()
    assert path.parent == tmp_path / "language"
    path.parent.mkdir()
    np.savez(path, **{"click the bell": unit(0)})
    # Vectors no model would give: they can only have come from the file.
    assert np.array_equal(InstructionEncoder().encode(["click the bell"]), unit(0)[None])
    other = InstructionEncoder(path)
    other._save({"press the bell": unit(1)})  # what encode() does after computing new strings
    with np.load(path) as stored:
        assert sorted(stored.files) == ["click the bell", "press the bell"]
        assert np.array_equal(stored["press the bell"], unit(1))
    # Remembered vectors (a benchmark's fixed one) stay in the process.
    memory = InstructionEncoder(persist=False)
    memory.remember("a made-up instruction", unit(2))
    assert memory.cache_file is None and np.array_equal(memory.encode(["a made-up instruction"])[0], unit(2))
