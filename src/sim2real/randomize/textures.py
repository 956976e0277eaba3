"""The procedural texture library of the BG factor: 1000 seen, 200 unseen and 100 held-out
textures.

A texture is a pure function of (split, index): its recipe (style, colourway, scale) is drawn
from a random stream seeded by both. The sets are disjoint by construction, not only by seed:
unseen textures use styles (marble, dots, waves) and saturated colourways that seen textures
never use; held-out ones (the proxy-real world's) use styles of their own (tiles, plaid, rings)
and the band of saturation between the two. Pixels are generated lazily and cached on disk as
.npy files.
"""

from __future__ import annotations

import colorsys
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image

from sim2real.cache import cache_root

SEEN_COUNT = 1000
UNSEEN_COUNT = 200
HELDOUT_COUNT = 100
STYLES = {
    "seen": ("wood", "fabric", "grid", "stripes", "noise", "checker", "speckle", "solid"),
    "unseen": ("marble", "dots", "waves"),
    "heldout": ("tiles", "plaid", "rings"),
}
SEEN_STYLES, UNSEEN_STYLES = STYLES["seen"], STYLES["unseen"]
# Colourways: seen textures are muted, lab-like colours; unseen ones are saturated; held-out
# ones lie between.
SATURATION = {"seen": (0.0, 0.45), "unseen": (0.6, 1.0), "heldout": (0.45, 0.6)}
SEEN_SATURATION, UNSEEN_SATURATION = SATURATION["seen"], SATURATION["unseen"]
COUNTS = {"seen": SEEN_COUNT, "unseen": UNSEEN_COUNT, "heldout": HELDOUT_COUNT}
_SPLIT_STREAM = {"seen": 1, "unseen": 2, "heldout": 3}


@dataclass(frozen=True)
class TextureRecipe:
    split: str
    index: int
    style: str
    colours: tuple[tuple[float, float, float], tuple[float, float, float]]
    scale: float  # pattern repeats across the texture


def texture_count(split: str) -> int:
    return COUNTS[split]


def recipe(split: str, index: int) -> TextureRecipe:
    if split not in _SPLIT_STREAM or not 0 <= index < texture_count(split):
        raise ValueError(f"no texture {split}/{index}")
    rng = _rng(split, index, 0)
    styles = STYLES[split]
    style = styles[index % len(styles)]  # every style equally often
    low, high = SATURATION[split]
    hue = rng.uniform()
    if style == "wood":  # wood is brown in any colourway of its own
        hue = 0.04 + 0.08 * hue
    first = colorsys.hsv_to_rgb(hue, rng.uniform(low, high), rng.uniform(0.35, 0.92))
    # The second colour is a nearby shade: patterns read as one material, not a clash.
    second = colorsys.hsv_to_rgb(
        (hue + rng.uniform(-0.08, 0.08)) % 1.0, rng.uniform(low, high), rng.uniform(0.2, 0.8)
    )
    return TextureRecipe(split, index, style, (first, second), float(rng.uniform(3, 14)))


def generate(spec: TextureRecipe, size: int) -> np.ndarray:
    """The texture's pixels, uint8 size x size x 3."""
    rng = _rng(spec.split, spec.index, 1)
    v, u = np.mgrid[0:size, 0:size] / size
    mix = _PATTERNS[spec.style](u, v, spec.scale, rng, size)
    first, second = (np.array(c) for c in spec.colours)
    image = first * (1 - mix[..., None]) + second * mix[..., None]
    image *= 1 + 0.04 * _value_noise(rng, size, 64)[..., None]  # a little grain everywhere
    return (np.clip(image, 0, 1) * 255).astype(np.uint8)


class TextureLibrary:
    """Textures by split and index, generated once and cached on disk (and in memory)."""

    def __init__(self, cache_dir: Path | None = None, size: int = 256) -> None:
        self.folder = Path(cache_dir or cache_root()) / "textures" / f"v1_{size}"
        self.size = size
        self._load = lru_cache(maxsize=64)(self._load_uncached)

    def pixels(self, split: str, index: int) -> np.ndarray:
        return self._load(split, index)

    def _load_uncached(self, split: str, index: int) -> np.ndarray:
        path = self.folder / split / f"{index:04d}.npy"
        if path.is_file():
            return np.load(path)
        image = generate(recipe(split, index), self.size)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp.npy")
        np.save(tmp, image)
        os.replace(tmp, path)  # atomic: concurrent workers never read half a file
        return image


def _rng(split: str, index: int, purpose: int) -> np.random.Generator:
    return np.random.default_rng(
        np.random.SeedSequence([7919, _SPLIT_STREAM[split], index, purpose])
    )


def _value_noise(rng: np.random.Generator, size: int, cells: int) -> np.ndarray:
    """Smooth noise in [-1, 1]: random values on a coarse grid, bicubically upsampled."""
    coarse = rng.uniform(-1, 1, (cells, cells)).astype(np.float32)
    return np.asarray(Image.fromarray(coarse).resize((size, size), Image.Resampling.BICUBIC))


def _fbm(rng, size, base):
    return sum(_value_noise(rng, size, base * 2**octave) / 2**octave for octave in range(3)) / 1.75


def _wood(u, v, scale, rng, size):
    warp = _fbm(rng, size, 4)
    rings = np.sin(2 * np.pi * (scale * 0.8 * v + 0.6 * warp + 0.1 * u))  # grain along u
    return 0.5 + 0.5 * rings * (0.7 + 0.3 * _value_noise(rng, size, 96))


def _fabric(u, v, scale, rng, size):
    n = round(scale * 6)
    warp = np.sin(2 * np.pi * n * u) > 0
    weft = np.sin(2 * np.pi * n * v) > 0
    return 0.35 * (warp ^ weft) + 0.25 * (0.5 + 0.5 * _value_noise(rng, size, 128))


def _grid(u, v, scale, rng, size):
    n = round(scale)
    width = 0.04 + 0.06 * rng.uniform()
    lines = (np.mod(u * n, 1) < width) | (np.mod(v * n, 1) < width)
    return lines.astype(float)


def _stripes(u, v, scale, rng, size):
    angle = rng.choice([0, np.pi / 2, np.pi / 4])
    t = u * np.cos(angle) + v * np.sin(angle)
    return (np.mod(t * round(scale), 1) < rng.uniform(0.3, 0.7)).astype(float)


def _noise(u, v, scale, rng, size):
    return 0.5 + 0.5 * _fbm(rng, size, max(2, round(scale)))


def _checker(u, v, scale, rng, size):
    n = round(scale)
    return ((np.floor(u * n) + np.floor(v * n)) % 2).astype(float)


def _speckle(u, v, scale, rng, size):
    return (rng.uniform(size=u.shape) < 0.02 + 0.06 * rng.uniform()).astype(float)


def _solid(u, v, scale, rng, size):
    return 0.15 * (0.5 + 0.5 * _value_noise(rng, size, 8))


def _marble(u, v, scale, rng, size):
    veins = np.sin(2 * np.pi * (scale * 0.3 * (u + v) + 3.0 * _fbm(rng, size, 4)))
    return np.abs(veins) ** 0.3


def _dots(u, v, scale, rng, size):
    n = round(scale)
    du, dv = np.mod(u * n, 1) - 0.5, np.mod(v * n, 1) - 0.5
    return (np.hypot(du, dv) < rng.uniform(0.15, 0.4)).astype(float)


def _waves(u, v, scale, rng, size):
    return 0.5 + 0.5 * np.sin(2 * np.pi * (scale * u + 0.08 * scale * np.sin(2 * np.pi * 3 * v)))


def _tiles(u, v, scale, rng, size):
    n = round(scale)
    grout = 0.03 + 0.03 * rng.uniform()
    joints = (np.mod(u * n, 1) < grout) | (np.mod(v * n + 0.5 * (np.floor(u * n) % 2), 1) < grout)
    return np.where(joints, 1.0, 0.25 * (0.5 + 0.5 * _value_noise(rng, size, 16)))


def _plaid(u, v, scale, rng, size):
    n = round(scale)
    bands = 0.5 * (np.mod(u * n, 1) < 0.35) + 0.5 * (np.mod(v * n, 1) < 0.35)
    return bands * (0.85 + 0.15 * (np.sin(2 * np.pi * 8 * n * (u + v)) > 0))


def _rings(u, v, scale, rng, size):
    cu, cv = rng.uniform(0.2, 0.8, 2)
    return 0.5 + 0.5 * np.sin(2 * np.pi * scale * 1.5 * np.hypot(u - cu, v - cv))


_PATTERNS = {
    "wood": _wood, "fabric": _fabric, "grid": _grid, "stripes": _stripes, "noise": _noise,
    "checker": _checker, "speckle": _speckle, "solid": _solid,
    "marble": _marble, "dots": _dots, "waves": _waves,
    "tiles": _tiles, "plaid": _plaid, "rings": _rings,
}  # fmt: skip
