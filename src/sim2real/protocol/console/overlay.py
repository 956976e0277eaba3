"""Where a trial's objects go, drawn over a head-camera image: the table-frame positions of the
plan projected through the head camera as the simulator places it (position, forward axis,
vertical field of view), so the operator moves each object until it sits on its marker.

A real head camera must be mounted where the simulated one is for zero-shot transfer (`robot
check` compares its intrinsics); the markers then land where the plan means. The projection is
a pinhole with square pixels, as MuJoCo renders: any image size, the vertical field of view
fixed, the horizontal one following the aspect ratio."""

from __future__ import annotations

import io
import math

import numpy as np

from sim2real.protocol.plan import Plan
from sim2real.scene.station import StationLayout, camera_xyaxes

MARKER_COLOURS = ((31, 119, 180), (255, 127, 14), (44, 160, 44), (148, 103, 189))  # as the placement picture
DISTRACTOR_COLOUR = (90, 90, 90)


def project(points_cm: np.ndarray, width: int, height: int, layout: StationLayout = StationLayout(),
            height_cm: float = 0.0) -> np.ndarray:
    """Pixel (u, v) of each table-frame point (x, y in cm, `height_cm` above the table top);
    N x 2 in, N x 2 out (u to the right, v down, pixel centres at .5)."""
    points = np.atleast_2d(np.asarray(points_cm, dtype=np.float64)) / 100.0
    world = np.column_stack([points[:, 0], points[:, 1], np.full(len(points), layout.table_top + height_cm / 100)])
    axes = np.asarray(camera_xyaxes(np.array(layout.head_forward)), dtype=np.float64)
    right, up = axes[:3], axes[3:]
    forward = np.cross(up, right)  # MuJoCo looks along -z = -(right x up)
    offset = world - np.asarray(layout.head_pos)
    depth = offset @ forward
    focal = (height / 2) / math.tan(math.radians(layout.head_fovy) / 2)
    u = width / 2 + focal * (offset @ right) / depth
    v = height / 2 - focal * (offset @ up) / depth
    return np.column_stack([u, v])


def draw_placements(image: np.ndarray, plan: Plan, index: int) -> np.ndarray:
    """A copy of `image` (H x W x 3 uint8) with trial `index`'s object and distractor markers."""
    from PIL import Image, ImageDraw

    height, width = image.shape[:2]
    trial = plan.trials[index]
    picture = Image.fromarray(np.ascontiguousarray(image[..., :3]))
    draw = ImageDraw.Draw(picture)
    radius = max(3, round(width / 80))
    names = list(trial.placements)
    if names:
        for k, (u, v) in enumerate(project([trial.placements[n] for n in names], width, height)):
            colour = MARKER_COLOURS[k % len(MARKER_COLOURS)]
            draw.ellipse((u - radius, v - radius, u + radius, v + radius), outline=colour, width=max(1, radius // 2))
            draw.line((u - 2 * radius, v, u + 2 * radius, v), fill=colour, width=1)
            draw.line((u, v - 2 * radius, u, v + 2 * radius), fill=colour, width=1)
            draw.text((u + radius + 2, v - radius - 10), names[k].removesuffix("_xy"), fill=colour)
    if trial.setup.distractors:
        corners = project([d.xy_cm for d in trial.setup.distractors], width, height)
        for distractor, (u, v) in zip(trial.setup.distractors, corners):
            draw.rectangle((u - radius, v - radius, u + radius, v + radius), outline=DISTRACTOR_COLOUR, width=1)
            draw.text((u + radius + 2, v), distractor.name, fill=DISTRACTOR_COLOUR)
    return np.asarray(picture)


def jpeg(image: np.ndarray, quality: int = 80) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image[..., :3])).save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()
