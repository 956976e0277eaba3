"""Independent random streams of an episode: one per purpose, each a function of the seed."""

from __future__ import annotations

import numpy as np


def episode_rng(seed: int, stream: int) -> np.random.Generator:
    """A random stream that depends only on the episode seed and the stream's purpose."""
    return np.random.default_rng(np.random.SeedSequence([seed, stream]))
