"""stack_bowls_two: each bowl is grasped at its rim by the arm on its side; the first is set down
near the table centre, the second is set into the first.

Placement as RoboTwin 2.0 (table-centre frame): both bowls at x in [-0.3, 0.3] with |x| >= 0.09,
y in [-0.15, 0.15], at least 0.13 apart. Success: centres within 4 cm (xy), the upper bowl's
bottom resting inside the lower (above its bottom, below its rim), both grippers open.
"""

from __future__ import annotations

from collections.abc import Iterator

import mujoco
import numpy as np

from sim2real.embodiment.dual_arm import ARM_SIDES, ArmSide
from sim2real.expert.motion import ArmMotion, LineTo
from sim2real.expert.primitives import CLOSED, OPEN
from sim2real.scene.library import instance
from sim2real.scene.library.bowl import Bowl
from sim2real.scene.objects import set_free_pose
from sim2real.scene.station import StationLayout
from sim2real.tasks.base import Episode, InstructionSet, Phase, SimView, Task
from sim2real.tasks.registry import register

BOWLS = ("bowl_a", "bowl_b")
X_RANGE = (-0.3, 0.3)
MIN_ABS_X = 0.09
Y_RANGE = (-0.15, 0.15)
MIN_APART = 0.13
CENTRE_CANDIDATES = tuple((0.0, y) for y in (-0.05, 0.0, -0.1, 0.05, 0.1, -0.15))
CLEAR_OF_OTHER = 0.18  # first bowl's target at least this far from the other bowl
SUCCESS_XY = 0.04
GRIPPER_OPEN_ABOVE = 0.5
RIM_DEPTH = 0.035  # fingertips this far below the rim
CARRY_HEIGHT = 0.14  # bowl bottom over the table while carried
RELEASE_GAP = 0.012
CARRY_SPEED = 0.2
LIFT_TOWARDS = 0.3  # share of the way to the target covered while lifting
NEAR_BASE = 0.2  # a rim point nearer the arm's base than this is out of lifting reach
RIM_PITCH = ([0.15, 0.5], [0.9, 0.9])  # approach pitch (rad) against base distance (m)

INSTRUCTIONS = InstructionSet(
    seen=(
        "Stack {object}.",
        "Put one of {object} into the other.",
        "Stack {object} on top of each other.",
        "Place {object} one inside the other.",
        "Nest {object}.",
        "Move {object} to the middle and stack them.",
        "Use both arms to stack {object}.",
        "Pick up {object} and stack them.",
        "Stack {object} in the centre of the table.",
        "Put {object} together in one stack.",
        "Set one of {object} into the other.",
        "Grab {object} by the rim and stack them.",
        "Make a stack of {object}.",
        "Place {object} in the middle, one on the other.",
        "Lift {object} and stack them up.",
        "Stack up {object} at the table centre.",
        "Put {object} on top of one another.",
        "Nest {object} in the centre.",
        "Combine {object} into a stack.",
        "Stack {object} using the gripper.",
    ),
    unseen=(
        "Could you pile {object}?",
        "Tuck one of {object} into its twin.",
        "Heap {object} together.",
        "Assemble {object} into a tower.",
        "Drop one of {object} into the other one.",
    ),
)


def rim_grasp_rotation(
    heading: float, outward: np.ndarray, flare: float, pitch: float
) -> np.ndarray:
    """Gripper frame (approach, fingers, third) for pinching a wall flared by `flare` from
    vertical: fingers along the wall's normal, approach down the wall's slant, leaning along
    the arm's heading, `pitch` below the horizontal."""
    up = np.array([0.0, 0.0, 1.0])
    slant = np.sin(flare) * outward + np.cos(flare) * up  # up the wall
    normal = np.cos(flare) * outward - np.sin(flare) * up
    along = np.array([np.cos(heading), np.sin(heading), 0.0])
    approach = np.cos(pitch) * along - np.sin(pitch) * slant
    # The gripper is symmetric: keep the finger axis pointing to the heading's left, as the
    # arm's wrist holds it without a half turn.
    if normal @ [-along[1], along[0], 0.0] < 0:
        normal = -normal
    return np.column_stack([approach, normal, np.cross(approach, normal)])


@register
class StackBowlsTwo(Task):
    name = "stack_bowls_two"
    description = "Stack the two bowls at the table centre, one inside the other."
    paper_average_steps = 313
    # RoboTwin 2.0 allows 400 control calls; ours: about 2.5x the expert's mean episode.
    time_limit_s = 40.0
    instructions = INSTRUCTIONS

    def __init__(self, bowl: Bowl | None = None) -> None:
        # Both bowls are the same instance, so they nest as RoboTwin's stacked bowls do.
        self.bowl: Bowl = bowl or instance("bowl/seen/0")  # type: ignore[assignment]

    def build(self, spec: mujoco.MjSpec, layout: StationLayout) -> None:
        for name in BOWLS:
            self.bowl.add_to(spec, name)

    def bind(self, view: SimView) -> None:
        self.body_ids = [view.model.body(name).id for name in BOWLS]

    def sample(self, rng: np.random.Generator, seed: int) -> Episode:
        def draw() -> np.ndarray:
            while True:
                x = rng.uniform(*X_RANGE)
                if abs(x) >= MIN_ABS_X:
                    return np.array([x, rng.uniform(*Y_RANGE)])

        first = draw()
        while True:
            second = draw()
            if np.linalg.norm(first - second) >= MIN_APART:
                break
        return Episode(seed=seed, params={f"{n}_xy": p.tolist() for n, p in zip(BOWLS, (first, second))})

    def apply(self, view: SimView, episode: Episode) -> None:
        for name in BOWLS:
            x, y = episode.params[f"{name}_xy"]
            set_free_pose(view.model, view.data, f"{name}/free", np.array([x, y, view.table_top]))

    def object_phrase(self, episode: Episode) -> str:
        return f"the two {self.bowl.phrase.removeprefix('the ')}s"

    @staticmethod
    def arm_for(x: float) -> ArmSide:
        return "right" if x > 0 else "left"

    def bottom(self, view: SimView, index: int) -> np.ndarray:
        return view.data.xpos[self.body_ids[index]].copy()

    def first_target(self, other: np.ndarray) -> np.ndarray:
        """Near the centre, clear of the bowl still on the table."""
        clear = [c for c in CENTRE_CANDIDATES if np.hypot(*(np.array(c) - other[:2])) >= CLEAR_OF_OTHER]
        if clear:
            return np.array(clear[0])
        return np.array(max(CENTRE_CANDIDATES, key=lambda c: np.hypot(*(np.array(c) - other[:2]))))

    def _move_bowl(self, view: SimView, index: int, target_xy: np.ndarray, release_z: float):
        """Grasp bowl `index` at its rim on its arm's side, carry it over `target_xy`, lower its
        bottom to `release_z`, open and lift the gripper away."""
        centre = self.bottom(view, index)
        side = self.arm_for(centre[0])
        # The gripper comes in along its arm's heading, steeply down; the rim is taken where the
        # heading is tangential, and the gripper is tilted along the wall's slant so that both
        # finger pads lie flat on the flared wall (edge contacts on a slanted wall slip).
        mount = view.robot.mounts[side]
        heading = np.arctan2(centre[1] - mount.y, centre[0] - mount.x)
        outward = np.array([-np.sin(heading), np.cos(heading), 0.0])
        # Of the two rim points where the heading is tangential, take the outer one (away from
        # the centre, where the bowl is carried) unless it is so near the arm's base that the
        # arm cannot lift straight up from it.
        base_xy = np.array([mount.x, mount.y])
        if outward[0] * centre[0] < 0:
            outward = -outward
        if np.linalg.norm(centre[:2] + self.bowl.rim_radius * outward[:2] - base_xy) < NEAR_BASE:
            outward = -outward
        # Steeper near the base, where a level wrist would fold the arm onto itself.
        reach = float(np.linalg.norm(centre[:2] - base_xy))
        pitch = float(np.interp(reach, *RIM_PITCH))
        rotation = rim_grasp_rotation(heading, outward, self.bowl.flare, pitch)
        z = self.bowl.height - RIM_DEPTH
        grip = centre + self.bowl.wall_radius(z) * outward + [0.0, 0.0, z]
        yield Phase({side: ArmMotion(LineTo(grip + [0, 0, 0.07], rotation, joint_space=True),
                                     gripper=OPEN)})
        yield Phase({side: ArmMotion(LineTo(grip, rotation, speed=0.2))})
        yield Phase({side: ArmMotion(gripper=CLOSED)}, settle=0.12)
        tip, _ = view.robot.ee_pose(view.data, side)
        lift_z = view.table_top + CARRY_HEIGHT
        offset = tip - self.bottom(view, index)  # where the bowl really hangs from the fingers
        # Up and already a little towards the target: bowls near an arm's base are out of
        # reach straight above.
        towards = LIFT_TOWARDS * np.append(np.asarray(target_xy) - centre[:2], 0.0)
        rise = [0.0, 0.0, lift_z - self.bottom(view, index)[2]]
        yield Phase({side: ArmMotion(LineTo(tip + rise + towards,
                                             rotation, speed=0.25))})
        carry = np.array([target_xy[0], target_xy[1], lift_z]) + offset
        # A straight, unhurried carry: a rim pinch holds the bowl against gravity but not
        # against the swings of a joint-space move.
        yield Phase({side: ArmMotion(LineTo(carry, rotation, speed=CARRY_SPEED))})
        tip, _ = view.robot.ee_pose(view.data, side)
        down = release_z - self.bottom(view, index)[2]
        yield Phase({side: ArmMotion(LineTo(tip + [0, 0, down], rotation, speed=0.12))})
        yield Phase({side: ArmMotion(gripper=OPEN)}, settle=0.1)
        yield Phase({side: ArmMotion(LineTo(tip + [0, 0, down + 0.06], rotation, speed=0.25))})

    def expert(self, view: SimView, episode: Episode) -> Iterator[Phase]:
        # The bowl nearer the centre goes first (shorter carry), unless that blocks the other.
        order = sorted(range(2), key=lambda i: abs(self.bottom(view, i)[0]))
        first, second = order
        target = self.first_target(self.bottom(view, second))
        yield from self._move_bowl(view, first, target, view.table_top + 0.002)
        lower = self.bottom(view, first)
        yield from self._move_bowl(view, second, lower[:2], lower[2] + 0.012 + RELEASE_GAP)

    def success(self, view: SimView) -> bool:
        a, b = self.bottom(view, 0), self.bottom(view, 1)
        lower, upper = (a, b) if a[2] <= b[2] else (b, a)
        if np.hypot(*(upper[:2] - lower[:2])) > SUCCESS_XY:
            return False
        if not 0.003 <= upper[2] - lower[2] <= self.bowl.height * 0.6:
            return False
        return all(view.robot.gripper_opening(view.data, s) > GRIPPER_OPEN_ABOVE for s in ARM_SIDES)
