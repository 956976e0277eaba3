"""The procedural texture library: sizes, disjoint seen/unseen sets, determinism, disk cache."""

import numpy as np

from sim2real.randomize.textures import (
    SEEN_STYLES,
    UNSEEN_STYLES,
    TextureLibrary,
    generate,
    recipe,
    texture_count,
)


def test_library_sizes():
    assert texture_count("seen") >= 1000
    assert texture_count("unseen") >= 200


def test_seen_and_unseen_are_disjoint_by_construction():
    assert not set(SEEN_STYLES) & set(UNSEEN_STYLES)
    seen = {recipe("seen", i).style for i in range(texture_count("seen"))}
    unseen = {recipe("unseen", i).style for i in range(texture_count("unseen"))}
    assert seen == set(SEEN_STYLES) and unseen == set(UNSEEN_STYLES)
    assert not seen & unseen


def test_generation_is_deterministic_and_varied():
    a = generate(recipe("seen", 5), 32)
    b = generate(recipe("seen", 5), 32)
    np.testing.assert_array_equal(a, b)
    assert a.shape == (32, 32, 3) and a.dtype == np.uint8
    assert not np.array_equal(a, generate(recipe("seen", 6), 32))


def test_textures_are_cached_on_disk(tmp_path):
    library = TextureLibrary(tmp_path, size=32)
    first = library.pixels("unseen", 3)
    cached = tmp_path / "textures" / "v1_32" / "unseen" / "0003.npy"
    assert cached.is_file()
    np.testing.assert_array_equal(np.load(cached), first)
    np.testing.assert_array_equal(TextureLibrary(tmp_path, size=32).pixels("unseen", 3), first)
