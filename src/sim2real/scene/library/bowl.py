"""Bowls: a flat base disc and a flared wall made of a ring of thin tilted boxes (really hollow).

Body frame: origin at the bottom centre, the bowl upright along +z. The wall is a frustum from
`base_radius` (bottom) to `rim_radius` (top); because it flares, an equal or smaller bowl nests
inside it. Boxes rather than one mesh: MuJoCo collides convex pieces only, and a ring of boxes
keeps the inside free (a convex hull of a bowl would fill it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import mujoco

from sim2real.scene.library.base import RGBA, Category, ObjectInstance
from sim2real.scene.library.compound import Compound, Part

WALL_SEGMENTS = 16
BOWL_DENSITY = 300.0


def vessel_parts(
    base_radius: float, rim_radius: float, height: float, wall: float, base: float, rgba: RGBA,
    density: float = 600.0, segments: int = WALL_SEGMENTS,
) -> tuple[Part, ...]:
    """A base disc plus a ring of boxes forming a (possibly flared) open wall up to `height`."""
    rise = height - base
    flare = math.atan2(rim_radius - base_radius, rise)  # tilt of the wall from vertical
    slant_half = math.hypot(rise, rim_radius - base_radius) / 2
    mid_radius = (base_radius + rim_radius) / 2
    # Segments overlap a little so the ring has no gaps at the wider (top) end.
    tangential_half = rim_radius * math.tan(math.pi / segments) * 1.08
    parts = [Part("cylinder", (base_radius + wall / 2, base / 2), (0.0, 0.0, base / 2), rgba,
                  density=density)]
    for k in range(segments):
        phi = 2 * math.pi * k / segments
        parts.append(Part(
            "box", (tangential_half, wall / 2, slant_half),
            (mid_radius * math.cos(phi), mid_radius * math.sin(phi), base + rise / 2),
            rgba, tilt_x=-flare, yaw=phi - math.pi / 2, density=density,
        ))
    return tuple(parts)


def build_parts(parts: tuple[Part, ...], body: mujoco.MjsBody, prefix: str) -> None:
    """Add parts as geoms, exactly as a Compound would (one implementation of the mapping)."""
    Compound("_", "seen", "", "", parts=parts).build(body, prefix)


@dataclass(frozen=True)
class Bowl(ObjectInstance):
    base_radius: float = 0.04
    rim_radius: float = 0.075
    bowl_height: float = 0.055
    wall: float = 0.005
    base: float = 0.006
    rgba: RGBA = (0.2, 0.4, 0.8, 1.0)

    category: ClassVar[str] = "bowl"
    noun: ClassVar[str] = "bowl"

    @property
    def parts(self) -> tuple[Part, ...]:
        # Light, as thin ceramic or plastic bowls are: the expert holds them by a rim pinch.
        return vessel_parts(self.base_radius, self.rim_radius, self.bowl_height, self.wall,
                            self.base, self.rgba, density=BOWL_DENSITY)

    @property
    def flare(self) -> float:
        """Tilt of the wall from vertical (radians)."""
        return math.atan2(self.rim_radius - self.base_radius, self.bowl_height - self.base)

    def wall_radius(self, z: float) -> float:
        """Radius of the wall's mid-surface at height `z` over the bottom."""
        return self.base_radius + (z - self.base) * math.tan(self.flare)

    @property
    def nest_height(self) -> float:
        """Height of an equal bowl's bottom over this one's when set into it. Raising a wall
        flared by `flare` moves it in by tan(flare) per metre, so the upper wall's outside
        meets the lower's inside (wall / cos(flare) apart horizontally) at wall / sin(flare);
        the ring's box corners, which stick out of the frustum, add about one wall thickness
        (measured: 13.6 mm for the default bowl)."""
        return self.wall / math.sin(self.flare) + self.wall

    @property
    def footprint_radius(self) -> float:
        return self.rim_radius + self.wall

    @property
    def height(self) -> float:
        return self.bowl_height

    def build(self, body: mujoco.MjsBody, prefix: str) -> None:
        build_parts(self.parts, body, prefix)
        body.add_site(name=f"{prefix}top", pos=[0, 0, self.bowl_height], size=[0.004, 0, 0])


def _bowl(index: str, colour: str, size: str, rgba: RGBA, **shape: float) -> Bowl:
    split = index.split("/")[0]
    return Bowl(f"bowl/{index}", split, colour, size, rgba=rgba, **shape)  # type: ignore


CATEGORIES = (
    Category(
        name="bowl",
        kind="task",
        instances=(
            _bowl("seen/0", "blue", "", (0.2, 0.4, 0.8, 1.0)),
            _bowl("seen/1", "white", "wide", (0.92, 0.92, 0.9, 1.0), rim_radius=0.082,
                  bowl_height=0.05),
            _bowl("seen/2", "red", "deep", (0.8, 0.2, 0.15, 1.0), base_radius=0.038,
                  rim_radius=0.07, bowl_height=0.065),
            _bowl("seen/3", "yellow", "small", (0.95, 0.8, 0.2, 1.0), base_radius=0.036,
                  rim_radius=0.066, bowl_height=0.048),
            _bowl("unseen/0", "green", "", (0.25, 0.65, 0.3, 1.0), base_radius=0.042,
                  rim_radius=0.078, bowl_height=0.058),
            _bowl("unseen/1", "black", "shallow", (0.12, 0.12, 0.12, 1.0), base_radius=0.045,
                  rim_radius=0.08, bowl_height=0.045),
            _bowl("unseen/2", "pink", "", (0.95, 0.55, 0.7, 1.0), base_radius=0.039,
                  rim_radius=0.073, bowl_height=0.06, wall=0.006),
        ),
    ),
)
