"""The station contract: what a simulated and a real dual-arm station agree on.

Actions (as RoboTwin 2.0 and ALOHA): 14 absolute joint targets, `[left joint1..6, left gripper,
right joint1..6, right gripper]`, joints in radians, grippers normalised to [0, 1] with 1 = open.
Observations: `images/<camera>` (uint8 H x W x 3), `state` (the 14 measured values in the action
layout) and `instruction` (str). The policy runs at `CONTROL_HZ`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

ArmSide = Literal["left", "right"]
ARM_SIDES: tuple[ArmSide, ArmSide] = ("left", "right")
JOINTS_PER_ARM = 6
ACTION_DIM = 2 * (JOINTS_PER_ARM + 1)
GRIPPER_SLOTS = (JOINTS_PER_ARM, 2 * JOINTS_PER_ARM + 1)  # (6, 13)
GRIPPER_OPEN, GRIPPER_CLOSED = 1.0, 0.0

ACTION_NAMES: tuple[str, ...] = tuple(
    f"{side}_{name}"
    for side in ARM_SIDES
    for name in (*(f"joint{i}" for i in range(1, JOINTS_PER_ARM + 1)), "gripper")
)
ACTION_UNITS: tuple[str, ...] = tuple(
    "normalised (0 closed, 1 open)" if i in GRIPPER_SLOTS else "rad" for i in range(ACTION_DIM)
)
ACTION_SPACE = "absolute joint targets [left joint1..6, left gripper, right joint1..6, right gripper]"

# The rest pose of each arm: tip 0.25 m ahead of and 0.25 m above the base, pointing 45 degrees
# down. Both the simulator and a real station start (and `robot check --home` goes) here.
HOME_JOINTS = (0.0, 0.875, 1.142, -1.052, 0.0, 0.0)
HOME_ACTION = np.array([*HOME_JOINTS, GRIPPER_OPEN, *HOME_JOINTS, GRIPPER_OPEN])

CONTROL_HZ = 25.0

# Episode seeds are 0 <= seed < 2^31: a signed 32-bit integer, which every store of them
# (parquet int64 columns, JSON readers, other tools' int32 seeds) holds exactly.
SEED_LIMIT = 2**31

IMAGE_PREFIX = "images/"
STATE_KEY = "state"
INSTRUCTION_KEY = "instruction"


@dataclass(frozen=True)
class CameraSpec:
    """A camera of the station: its native colour stream and its vertical field of view."""

    name: str
    width: int
    height: int
    fovy_deg: float
    model: str


CAMERAS: dict[str, CameraSpec] = {
    "head": CameraSpec("head", 640, 480, 42.0, "RealSense D435"),
    "left_wrist": CameraSpec("left_wrist", 640, 480, 58.0, "RealSense D405"),
    "right_wrist": CameraSpec("right_wrist", 640, 480, 58.0, "RealSense D405"),
}
CAMERA_NAMES: tuple[str, ...] = tuple(CAMERAS)


def image_key(camera: str) -> str:
    """The observation key of a camera's image: 'head' -> 'images/head'."""
    return IMAGE_PREFIX + camera


def action_label(index: int) -> str:
    """A human name of an action slot: 5 -> 'left joint6', 13 -> 'right gripper'."""
    return ACTION_NAMES[index].replace("_", " ")
