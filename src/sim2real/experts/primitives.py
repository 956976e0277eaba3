"""Reusable building blocks of expert plans: grasp orientations, approach-grasp-lift motions.

Each helper returns per-arm `ArmMotion`s (one per phase); `in_step` runs several arms' motion
lists side by side as phases, so one-arm and two-arm plans share the same code; `together` does
the same for whole plans (phase generators that read the state as they go).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from sim2real.core.contract import ArmSide
from sim2real.embodiment.dual_arm import ArmMount
from sim2real.embodiment.ik import tilted_rotation
from sim2real.experts.motion import ArmMotion, LineTo, Phase

OPEN, CLOSED = 1.0, 0.0


def arm_on_side(x: float) -> ArmSide:
    """The arm on the side of the table where an object at `x` lies (x > 0: the right)."""
    return "right" if x > 0 else "left"


def heading(mount: ArmMount, point: np.ndarray) -> float:
    """World yaw of the direction from an arm's base to a point."""
    return float(np.arctan2(point[1] - mount.y, point[0] - mount.x))


def side_grasp_rotation(mount: ArmMount, point: np.ndarray, near=(0.3, 0.7), far=(0.55, 0.35)):
    """Gripper approaching `point` from its arm's base, tilted down more the nearer the point
    (near points are out of reach for a level gripper); fingers horizontal."""
    distance = float(np.hypot(point[0] - mount.x, point[1] - mount.y))
    pitch = float(np.interp(distance, [near[0], far[0]], [near[1], far[1]]))
    return tilted_rotation(heading(mount, point), pitch)


@dataclass(frozen=True)
class GraspMotions:
    """Open above/before the grasp, move in along the approach, close."""

    position: np.ndarray  # gripper tip at the grasp
    rotation: np.ndarray
    standoff: float = 0.06  # metres back along the approach for the pre-grasp
    approach_speed: float = 0.2

    def motions(self) -> list[ArmMotion]:
        approach = self.rotation[:, 0]  # the gripper's x axis points from palm to fingertips
        before = self.position - self.standoff * approach
        return [
            ArmMotion(LineTo(before, self.rotation, joint_space=True), gripper=OPEN),
            ArmMotion(LineTo(self.position, self.rotation, speed=self.approach_speed)),
            ArmMotion(gripper=CLOSED),
        ]


def in_step(
    per_arm: dict[ArmSide, Sequence[ArmMotion]], settle: Sequence[float] = ()
) -> Iterator[Phase]:
    """Phases running the arms' motion lists side by side (the k-th motions start together);
    `settle[k]` is the pause after the k-th phase."""
    count = max(len(motions) for motions in per_arm.values())
    for k in range(count):
        motions = {side: m[k] for side, m in per_arm.items() if k < len(m)}
        yield Phase(motions, settle=settle[k] if k < len(settle) else 0.0)


def together(*plans: Iterator[Phase]) -> Iterator[Phase]:
    """Run plans of different arms side by side: their k-th phases start together. Lazy, as
    plans are: each plan's next phase is drawn once the previous common phase has run."""
    running = list(plans)
    while running:
        phases = []
        for plan in list(running):
            phase = next(plan, None)
            if phase is None:
                running.remove(plan)
            else:
                phases.append(phase)
        if phases:
            yield Phase(
                {side: motion for p in phases for side, motion in p.motions.items()},
                min_duration=max(p.min_duration for p in phases),
                settle=max(p.settle for p in phases),
            )
