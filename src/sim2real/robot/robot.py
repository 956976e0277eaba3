"""The `Robot` interface every backend implements (LeRobot's conventions): `connect`,
`get_observation`, `send_action` returning what was actually sent, `disconnect`, and use as a
context manager. Everything is in the contract's units: 14 values, joints in radians, grippers
normalised to [0, 1] with 1 = open; each backend converts to its driver's units.

Safety is not here: the runtime (`robot.safety`, `robot.station`) decides what may be sent.
A backend only reports what the hardware says (positions, feedback header ids/timestamps) and
translates what it is told.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim2real.core.contract import ACTION_DIM, ARM_SIDES
from sim2real.errors import Sim2RealError
from sim2real.robot.cameras.base import Camera, Frame


class RobotError(Sim2RealError):
    """The hardware refused or failed (a fault, a version mismatch, a failed connection)."""


class ConnectionLost(RobotError):
    """The driver lost its controller (it raised, or a peer stopped answering)."""


@dataclass
class RobotReading:
    """One read of the station: measured joints, each arm's feedback stamp, camera frames."""

    state: np.ndarray  # 14 measured values in the contract's units
    # Per arm: (header id, controller timestamp in s). Fresh feedback advances them; a silent
    # peer leaves them unchanged while the driver keeps returning its last values.
    stamps: dict[str, tuple[int, float]]
    images: dict[str, Frame] = field(default_factory=dict)
    read_at: float = 0.0  # time.monotonic() when the joints were read
    success: bool | None = None  # the task's verdict where the station can judge it (sim)


class Robot(ABC):
    """A dual-arm station. Subclasses implement the `_arms_*` methods; cameras are shared."""

    kind: str = "robot"

    def __init__(self, cameras: dict[str, Camera] | None = None) -> None:
        self.cameras: dict[str, Camera] = dict(cameras or {})
        self._connected = False

    # -- what every backend provides -----------------------------------------------------------

    @property
    @abstractmethod
    def limits(self) -> tuple[np.ndarray, np.ndarray]:
        """(low, high): the 14 targets the hardware accepts, in the contract's units."""

    @abstractmethod
    def _arms_connect(self) -> None: ...

    @abstractmethod
    def _arms_read(self) -> tuple[np.ndarray, dict[str, tuple[int, float]]]:
        """Measured state (14) and the per-arm feedback stamps."""

    @abstractmethod
    def _arms_send(self, target: np.ndarray) -> np.ndarray:
        """Command position targets; returns them as the driver received them (its rounding)."""

    @abstractmethod
    def hold(self) -> None:
        """Stop moving: command the measured position (position mode stays on)."""

    @abstractmethod
    def idle(self) -> None:
        """Stop driving the joints (the driver's idle / brake / emergency-stop state)."""

    @abstractmethod
    def _arms_disconnect(self) -> None:
        """Release the driver (after `idle` where the connection still works)."""

    def versions(self) -> dict[str, Any]:
        """Driver and firmware versions, for `robot check` and records."""
        return {}

    def start_episode(self, seed: int) -> dict[str, Any]:
        """A real station's scene is set by the operator; the simulated one places its objects."""
        return {}

    # -- the interface ---------------------------------------------------------------------------

    @property
    def is_connected(self) -> bool:
        return self._connected

    def connect(self) -> None:
        if self._connected:
            return
        self._arms_connect()
        try:
            for camera in self.cameras.values():
                camera.connect()
        except BaseException:
            self._arms_disconnect()
            raise
        self._connected = True

    def get_observation(self) -> RobotReading:
        self._require_connection()
        state, stamps = self._arms_read()
        read_at = time.monotonic()
        images = {name: camera.read() for name, camera in self.cameras.items()}
        return RobotReading(np.asarray(state, dtype=np.float64), stamps, images, read_at)

    def read_joints(self) -> tuple[np.ndarray, dict[str, tuple[int, float]]]:
        """Measured state and feedback stamps only (no cameras): what the watchdog polls."""
        self._require_connection()
        state, stamps = self._arms_read()
        return np.asarray(state, dtype=np.float64), stamps

    def send_action(self, action: np.ndarray) -> np.ndarray:
        """Send 14 absolute targets; returns what was actually sent."""
        self._require_connection()
        action = np.asarray(action, dtype=np.float64)
        if action.shape != (ACTION_DIM,):
            raise RobotError(f"invalid action shape: {action.shape}; allowed: ({ACTION_DIM},)")
        return self._arms_send(action)

    def disconnect(self) -> None:
        """Idle the arms (where the connection still works), release drivers and cameras."""
        for camera in self.cameras.values():
            try:
                camera.disconnect()
            except Exception:  # noqa: BLE001 - the others must still be released
                pass
        try:
            self._arms_disconnect()
        finally:
            self._connected = False

    def __enter__(self) -> Robot:
        self.connect()
        return self

    def __exit__(self, *exc_info) -> None:
        self.disconnect()

    def _require_connection(self) -> None:
        if not self._connected:
            raise ConnectionLost(f"{self.kind} is not connected; call connect() first")


def per_arm(values: np.ndarray) -> dict[str, np.ndarray]:
    """14 values -> {'left': 7, 'right': 7} (6 joints then the gripper)."""
    return {side: values[7 * i: 7 * i + 7] for i, side in enumerate(ARM_SIDES)}


def both_arms(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    return np.concatenate([np.asarray(left, dtype=np.float64), np.asarray(right, dtype=np.float64)])
