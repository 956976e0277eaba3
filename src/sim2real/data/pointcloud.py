"""Coloured point clouds from a depth image, as RoboTwin 2.0 records them for DP3.

RoboTwin's (envs/camera/camera.py): the head camera's pixels as world points with their colour
in [0, 1] (x, y, z, r, g, b), cropped to the space above the table top, zero-padded to the
target count if fewer, and reduced to that count by farthest point sampling from the first
point. The same here, with one difference for speed on a CPU: farthest point sampling runs on
an evenly strided subset of at most MAX_CANDIDATES points (a 640 x 480 view above the table has
~10^5), which keeps the sampling's even coverage at a fraction of the cost.
"""

from __future__ import annotations

import numpy as np

from sim2real.data.replay import CameraFrame

TABLE_HALF_EXTENT = (0.6, 0.35)  # the crop's x, y half sizes (RoboTwin's; our table's too)
CROP_TOP = 2.0  # metres above the floor
ABOVE_TABLE = 1e-4  # the table's own surface is left out, as RoboTwin's crop does
MAX_CANDIDATES = 8192


def world_points(camera: CameraFrame) -> np.ndarray:
    """Every pixel with a finite depth as a world point (H*W x 3), in pixel order."""
    height, width = camera.depth.shape
    fx, fy = camera.intrinsic_cv[0, 0], camera.intrinsic_cv[1, 1]
    cx, cy = camera.intrinsic_cv[0, 2], camera.intrinsic_cv[1, 2]
    v, u = np.mgrid[0:height, 0:width] + 0.5  # pixel centres
    z = camera.depth
    gl = np.stack([(u - cx) / fx * z, -(v - cy) / fy * z, -z], axis=-1).reshape(-1, 3)
    return gl @ camera.cam2world_gl[:3, :3].T + camera.cam2world_gl[:3, 3]


def farthest_points(points: np.ndarray, count: int) -> np.ndarray:
    """Indices of `count` points, each the farthest from those already chosen, from index 0."""
    chosen = np.zeros(count, dtype=np.int64)
    distance = np.full(len(points), np.inf)
    for i in range(1, count):
        distance = np.minimum(distance, ((points - points[chosen[i - 1]]) ** 2).sum(axis=1))
        chosen[i] = int(np.argmax(distance))
    return chosen


def point_cloud(camera: CameraFrame, image: np.ndarray, table_top: float, count: int) -> np.ndarray:
    """`count` x 6 float32 (x, y, z, r, g, b) above the table, seen by `camera` in `image`."""
    points = world_points(camera)
    colours = image.reshape(-1, 3).astype(np.float32) / 255.0
    (half_x, half_y), (x, y, z) = TABLE_HALF_EXTENT, points.T
    inside = ((np.abs(x) <= half_x) & (np.abs(y) <= half_y) & (z >= table_top + ABOVE_TABLE)
              & (z <= CROP_TOP) & np.isfinite(z))
    cloud = np.concatenate([points[inside], colours[inside]], axis=1)
    if len(cloud) > MAX_CANDIDATES:
        cloud = cloud[np.linspace(0, len(cloud) - 1, MAX_CANDIDATES).round().astype(np.int64)]
    if len(cloud) < count:
        cloud = np.concatenate([cloud, np.zeros((count - len(cloud), 6))])
    return cloud[farthest_points(cloud[:, :3], count)].astype(np.float32)
