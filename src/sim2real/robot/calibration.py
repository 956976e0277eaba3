"""Where the real head camera is, against the simulated one, from one view of a checkerboard
lying flat on the table at a known place (OpenCV's corner detection and PnP).

The board frame: origin at the board's first inner corner, its rows along the world's +x, its
columns along +y, flat on the table (world frame: x to the robot's right, y away from it, z
up). The detected pose gives the camera's position and viewing direction in the world; the
difference to the simulator's head camera (`scene.station.StationLayout`) is what to correct
on the mount.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim2real.errors import Sim2RealError
from sim2real.robot.cameras.base import Intrinsics


@dataclass(frozen=True)
class Board:
    columns: int  # inner corners along the world's x
    rows: int  # inner corners along the world's y
    square_m: float
    origin: tuple[float, float, float]  # world position of the first inner corner (m)

    def corners_world(self) -> np.ndarray:
        """The inner corners in the world, row by row (x fastest), as OpenCV lists them."""
        j, i = np.mgrid[0:self.rows, 0:self.columns]
        points = np.stack([i.ravel(), j.ravel(), np.zeros(i.size)], axis=1) * self.square_m
        return points + np.asarray(self.origin, dtype=np.float64)


def simulated_head_pose() -> tuple[np.ndarray, np.ndarray]:
    """(position, camera-from-world rotation in OpenCV's convention: x right, y down, z ahead)."""
    from sim2real.scene.station import StationLayout, camera_xyaxes

    layout = StationLayout()
    axes = np.asarray(camera_xyaxes(np.array(layout.head_forward, dtype=np.float64)))
    right, up = axes[:3], axes[3:]
    forward = np.cross(up, right)  # MuJoCo cameras look along -z = up x right
    return np.asarray(layout.head_pos, dtype=np.float64), np.stack([right, -up, forward])


def camera_matrix(intrinsics: Intrinsics) -> np.ndarray:
    return np.array([[intrinsics.fx, 0, intrinsics.cx], [0, intrinsics.fy, intrinsics.cy],
                     [0, 0, 1]], dtype=np.float64)


def head_pose_difference(image: np.ndarray, intrinsics: Intrinsics, board: Board) -> dict[str, Any]:
    """The real camera's pose from `image` (RGB) of `board`, and its difference to the
    simulated head camera's: position (m), the angles between the viewing directions and
    between the image x axes (degrees), the downward tilts."""
    import cv2

    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    found, corners = cv2.findChessboardCorners(gray, (board.columns, board.rows))
    if not found:
        raise Sim2RealError(f"no {board.columns}x{board.rows} checkerboard (inner corners) in "
                            "the head camera's image: is all of it in view, flat and lit?")
    corners = cv2.cornerSubPix(gray, corners, (5, 5), (-1, -1),
                               (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 50, 1e-3))
    world, matrix = board.corners_world(), camera_matrix(intrinsics)
    sim_position, sim_rotation = simulated_head_pose()
    grid = corners.reshape(board.rows, board.columns, 1, 2)
    readings = []
    # OpenCV may list the corners from any corner of the board: solve each order; the wrong
    # (mirrored) ones do not fit, and of the two that do (the board turned half a turn) the
    # camera that stands nearer the simulated one is the reading.
    for ordered in (grid, grid[::-1], grid[:, ::-1], grid[::-1, ::-1]):
        ordered = np.ascontiguousarray(ordered.reshape(-1, 1, 2))
        ok, rvec, tvec = cv2.solvePnP(world, ordered, matrix, None, flags=cv2.SOLVEPNP_ITERATIVE)
        if not ok:
            continue
        rotation = cv2.Rodrigues(rvec)[0]
        position = -rotation.T @ tvec.ravel()
        projected = cv2.projectPoints(world, rvec, tvec, matrix, None)[0]
        residual = float(np.sqrt(np.mean(np.sum((projected - ordered) ** 2, axis=-1))))
        readings.append((residual, float(np.linalg.norm(position - sim_position)), position, rotation))
    if not readings:
        raise Sim2RealError("the checkerboard was found but its pose could not be solved")
    fitting = min(r[0] for r in readings) + 2.0
    best = min((r for r in readings if r[0] <= fitting), key=lambda r: r[1])
    residual, _, position, rotation = best
    delta = position - sim_position
    return {
        "position_m": [round(float(v), 4) for v in position],
        "simulated_position_m": [round(float(v), 4) for v in sim_position],
        "position_difference_m": [round(float(v), 4) for v in delta],
        "distance_m": round(float(np.linalg.norm(delta)), 4),
        "view_angle_deg": round(_angle(rotation[2], sim_rotation[2]), 3),
        "right_axis_angle_deg": round(_angle(rotation[0], sim_rotation[0]), 3),
        "pitch_down_deg": round(math.degrees(math.asin(-rotation[2][2])), 3),
        "simulated_pitch_down_deg": round(math.degrees(math.asin(-sim_rotation[2][2])), 3),
        "reprojection_px": round(residual, 3),
    }


def _angle(a: np.ndarray, b: np.ndarray) -> float:
    cosine = float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))
    return math.degrees(math.acos(max(-1.0, min(1.0, cosine))))
