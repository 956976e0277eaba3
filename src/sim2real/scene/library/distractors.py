"""Distractor categories for the TD factor: fruit, boxes, cans, tools, toys and more.

Each category is a function of (scale, colour) returning primitive parts; instances differ in
size, proportions and colour. Seen and unseen instances are disjoint by construction: unseen
instances use colourways from a palette the seen ones never use, and sizes outside the seen ones.
Held-out instances (the proxy-real world's) have a palette and sizes of their own again.
"""

from __future__ import annotations

from collections.abc import Callable

from sim2real.scene.library.base import RGBA, Category
from sim2real.scene.library.compound import Compound, Part

SEEN_COLOURS: dict[str, RGBA] = {
    "red": (0.78, 0.12, 0.1, 1.0),
    "green": (0.2, 0.6, 0.2, 1.0),
    "yellow": (0.92, 0.8, 0.15, 1.0),
    "blue": (0.15, 0.3, 0.75, 1.0),
    "orange": (0.95, 0.5, 0.1, 1.0),
    "white": (0.9, 0.9, 0.88, 1.0),
}
UNSEEN_COLOURS: dict[str, RGBA] = {
    "purple": (0.5, 0.2, 0.6, 1.0),
    "teal": (0.1, 0.55, 0.55, 1.0),
    "pink": (0.95, 0.55, 0.7, 1.0),
    "brown": (0.45, 0.3, 0.18, 1.0),
}
HELDOUT_COLOURS: dict[str, RGBA] = {
    "olive": (0.45, 0.5, 0.15, 1.0),
    "navy": (0.1, 0.12, 0.35, 1.0),
    "grey": (0.5, 0.5, 0.52, 1.0),
}
DARK: RGBA = (0.15, 0.15, 0.16, 1.0)
METAL: RGBA = (0.7, 0.7, 0.72, 1.0)
SEEN_SCALES = {"small": 0.85, "": 1.0, "large": 1.15}
UNSEEN_SCALES = {"tiny": 0.72, "big": 1.3}
HELDOUT_SCALES = {"mini": 0.62, "huge": 1.42}

PartsFn = Callable[[float, RGBA], tuple[Part, ...]]


def apple(s: float, c: RGBA) -> tuple[Part, ...]:
    r = 0.035 * s
    return (Part("sphere", (r,), (0, 0, r), c, density=800),
            Part("cylinder", (0.003, 0.008 * s), (0, 0, 2 * r + 0.004 * s), (0.35, 0.22, 0.1, 1)))


def orange_fruit(s: float, c: RGBA) -> tuple[Part, ...]:
    return (Part("ellipsoid", (0.038 * s, 0.038 * s, 0.034 * s), (0, 0, 0.034 * s), c, density=800),)


def banana(s: float, c: RGBA) -> tuple[Part, ...]:
    r, half = 0.017 * s, 0.05 * s
    return (Part("capsule", (r, half), (0, 0, r), c, tilt_x=1.5708, density=700),
            Part("capsule", (r * 0.8, half * 0.5), (0.0, 0.055 * s, r + 0.01 * s), c, tilt_x=1.2,
                 density=700))


def box(s: float, c: RGBA) -> tuple[Part, ...]:
    return (Part("box", (0.05 * s, 0.035 * s, 0.03 * s), (0, 0, 0.03 * s), c, density=300),)


def can(s: float, c: RGBA) -> tuple[Part, ...]:
    r, half = 0.033 * s, 0.06 * s
    return (Part("cylinder", (r, half), (0, 0, half), c, density=400),
            Part("cylinder", (r * 0.92, 0.002), (0, 0, 2 * half + 0.002), METAL))


def mug(s: float, c: RGBA) -> tuple[Part, ...]:
    r, half = 0.04 * s, 0.045 * s
    return (Part("cylinder", (r, half), (0, 0, half), c, density=500),
            Part("capsule", (0.007 * s, 0.025 * s), (r + 0.012 * s, 0, half), c))


def book(s: float, c: RGBA) -> tuple[Part, ...]:
    return (Part("box", (0.075 * s, 0.055 * s, 0.012 * s), (0, 0, 0.012 * s), c, density=700),
            Part("box", (0.072 * s, 0.056 * s, 0.009 * s), (0.004 * s, 0, 0.012 * s), (0.95, 0.94, 0.9, 1)))


def toy_block(s: float, c: RGBA) -> tuple[Part, ...]:
    h = 0.022 * s
    return (Part("box", (h, h, h), (0, 0, h), c, density=600),)


def ball(s: float, c: RGBA) -> tuple[Part, ...]:
    r = 0.032 * s
    return (Part("sphere", (r,), (0, 0, r), c, density=300),)


def marker(s: float, c: RGBA) -> tuple[Part, ...]:
    r, half = 0.009 * s, 0.055 * s
    return (Part("capsule", (r, half), (0, 0, r), (0.92, 0.92, 0.9, 1), tilt_x=1.5708),
            Part("capsule", (r * 1.05, half * 0.3), (0, half * 0.9, r), c, tilt_x=1.5708))


def screwdriver(s: float, c: RGBA) -> tuple[Part, ...]:
    return (Part("capsule", (0.013 * s, 0.035 * s), (0, -0.03 * s, 0.013 * s), c, tilt_x=1.5708),
            Part("cylinder", (0.003 * s, 0.04 * s), (0, 0.045 * s, 0.013 * s), METAL, tilt_x=1.5708))


def rubber_duck(s: float, c: RGBA) -> tuple[Part, ...]:
    # A flat disc under the round body keeps the duck from rocking on the table.
    return (Part("cylinder", (0.026 * s, 0.004 * s), (0, 0, 0.004 * s), c, density=300),
            Part("ellipsoid", (0.03 * s, 0.04 * s, 0.022 * s), (0, 0, 0.026 * s), c, density=300),
            Part("sphere", (0.018 * s,), (0, 0.022 * s, 0.054 * s), c, density=300),
            Part("ellipsoid", (0.008 * s, 0.012 * s, 0.004 * s), (0, 0.042 * s, 0.052 * s), (0.95, 0.5, 0.1, 1)))


def sponge(s: float, c: RGBA) -> tuple[Part, ...]:
    return (Part("box", (0.045 * s, 0.03 * s, 0.012 * s), (0, 0, 0.012 * s), c, density=100),
            Part("box", (0.045 * s, 0.03 * s, 0.004 * s), (0, 0, 0.028 * s), (0.2, 0.45, 0.2, 1), density=100))


def remote(s: float, c: RGBA) -> tuple[Part, ...]:
    return (Part("box", (0.022 * s, 0.07 * s, 0.01 * s), (0, 0, 0.01 * s), DARK, density=700),
            Part("cylinder", (0.006 * s, 0.002), (0, 0.045 * s, 0.021 * s), c))


def pear(s: float, c: RGBA) -> tuple[Part, ...]:
    return (Part("sphere", (0.034 * s,), (0, 0, 0.034 * s), c, density=800),
            Part("ellipsoid", (0.022 * s, 0.022 * s, 0.028 * s), (0, 0, 0.07 * s), c, density=800))


DISTRACTOR_SHAPES: dict[str, tuple[str, PartsFn]] = {
    # category: (noun, parts)
    "apple": ("apple", apple),
    "orange": ("orange", orange_fruit),
    "banana": ("banana", banana),
    "pear": ("pear", pear),
    "box": ("box", box),
    "can": ("can", can),
    "mug": ("mug", mug),
    "book": ("book", book),
    "toy_block": ("toy block", toy_block),
    "ball": ("ball", ball),
    "marker": ("marker", marker),
    "screwdriver": ("screwdriver", screwdriver),
    "rubber_duck": ("rubber duck", rubber_duck),
    "sponge": ("sponge", sponge),
    "remote": ("remote control", remote),
}


def _category(name: str, noun: str, parts: PartsFn, index: int) -> Category:
    """Three seen, two unseen and two held-out instances, colours rotated per category for
    variety."""
    instances = []
    for split, scales, colours, stride in (("seen", SEEN_SCALES, SEEN_COLOURS, 2),
                                           ("unseen", UNSEEN_SCALES, UNSEEN_COLOURS, 1),
                                           ("heldout", HELDOUT_SCALES, HELDOUT_COLOURS, 1)):
        names = list(colours)
        for k, (size_name, scale) in enumerate(scales.items()):
            colour = names[(index + stride * k) % len(names)]
            instances.append(Compound(f"{name}/{split}/{k}", split, colour, size_name,
                                      parts=parts(scale, colours[colour]),
                                      category_name=name, noun_name=noun))
    return Category(name=name, kind="distractor", instances=tuple(instances))


CATEGORIES = tuple(
    _category(name, noun, parts, index)
    for index, (name, (noun, parts)) in enumerate(DISTRACTOR_SHAPES.items())
)
