"""stack_bowls_two's expert: each bowl is grasped at its rim by the arm on its side; the first
is set down near the table centre, the second is set into the first.

The expert pinches a rim point clear of the other bowl, carries the bowl on straight lines and,
as a rim pinch lets it hang tilted, levels it over its target before lowering it. With one bowl
on each side both arms grasp at once and the first arm goes home while the second carries its
bowl; with both on one side that arm moves them one after the other. The first bowl's spot is
kept clear of the other bowl, of the hand holding it and of loose objects (distractors).
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from dataclasses import dataclass

import mujoco
import numpy as np

from sim2real.core.contract import HOME_JOINTS, ArmSide
from sim2real.experts.motion import ArmMotion, JointsTo, LineTo, Phase
from sim2real.experts.primitives import CLOSED, OPEN, arm_on_side, together
from sim2real.experts.registry import register_plan
from sim2real.experts.rotations import yaw_matrix
from sim2real.scene.objects import footprint_radius
from sim2real.tasks.base import InitialState, SimView
from sim2real.tasks.stack_bowls_two import StackBowlsTwo

# Spots for the first bowl, preferred first: on the centre line, then a little to either side.
CENTRE_CANDIDATES = tuple(
    (x, y) for x in (0.0, -0.06, 0.06) for y in (-0.05, 0.0, -0.1, 0.05, 0.1, -0.15)
)
CLEAR_OF_OTHER = 0.18  # first bowl's target at least this far from the other bowl
OBJECT_GAP = 0.02  # and its footprint this far from any other object's
HAND_SPAN = 0.09  # the gripper's rail reaches this far out past the pinched rim
RIM_DEPTH = 0.035  # fingertips this far below the rim
CARRY_HEIGHT = 0.14  # bowl bottom over the table while carried
TABLE_GAP = 0.002  # the first bowl's bottom this far above the table when let go
RELEASE_GAP = 0.012  # the upper bowl's bottom this far above its nested height when let go
APPROACH_HEIGHT = 0.1  # pre-grasp this far up the wall's slant from the rim point
RETREAT_HEIGHT = 0.06  # open fingers lifted this far out of a released bowl
FINGER_CLEARANCE = 0.02  # rim point at least this far outside the other bowl's footprint
WRIST_BACK = 0.05  # the wrist, at rim height this far back from the fingertips, kept clear too
HELD_ABOVE = 0.06  # a bowl lifted less than this above the table slipped out of the fingers
GRASP_ATTEMPTS = 2
SETTLE_TIME = 0.3  # s
CARRY_SPEED = 0.2
LIFT_SPEED = 0.25  # straight up, with a bowl or out of one
FREE_SPEED = 0.4  # empty gripper, clear of everything
DESCEND_SPEED = 0.2  # open gripper down onto the rim
LOWER_SPEED = 0.1  # the held bowl's last few centimetres down
HOVER_GAP = 0.03  # carried bowl's bottom this far above what it is lowered onto/into
LIFT_TOWARDS = 0.3  # share of the way to the target covered while lifting
NEAR_BASE = 0.2  # a rim point nearer the arm's base than this is out of lifting reach
RIM_PITCH = ([0.15, 0.5], [0.9, 0.9])  # approach pitch (rad) against base distance (m)



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


def levelling(rotation: np.ndarray) -> np.ndarray:
    """The smallest rotation turning the z axis of `rotation` (a tilted body) upright."""
    z = rotation[:, 2]
    axis = np.cross(z, [0.0, 0.0, 1.0])
    sin, cos = np.linalg.norm(axis), z[2]
    if sin < 1e-9:
        return np.eye(3)
    k = axis / sin
    cross = np.array([[0.0, -k[2], k[1]], [k[2], 0.0, -k[0]], [-k[1], k[0], 0.0]])
    return np.eye(3) + sin * cross + (1 - cos) * cross @ cross


def loose_objects(view: SimView, exclude: list[int]) -> list[tuple[np.ndarray, float]]:
    """(xy, footprint radius) of every free body over the table top other than `exclude`
    (distractors, for instance; bodies parked elsewhere are ignored)."""
    model, data = view.model, view.data
    table_half = np.asarray(view.layout.table_size) / 2
    found = []
    for joint in np.flatnonzero(model.jnt_type == mujoco.mjtJoint.mjJNT_FREE):
        body = int(model.jnt_bodyid[joint])
        xy, z = data.xpos[body, :2], data.xpos[body, 2]
        on_table = (np.abs(xy) <= table_half).all() and abs(z - view.table_top) < 0.3
        if body in exclude or not on_table:
            continue
        found.append((xy.copy(), footprint_radius(model, body)))
    return found


@dataclass(frozen=True)
class RimGrasp:
    """How an arm pinches a bowl's rim: tip pose, and the heading the wrist is turned to."""

    side: ArmSide
    heading: float  # world yaw from the arm's base to the bowl at the grasp
    outward: np.ndarray  # horizontal unit vector from the bowl's centre to the pinched rim
    position: np.ndarray
    rotation: np.ndarray

    def yaw_to(self, view: SimView, xy: np.ndarray) -> float:
        """How far the wrist turns (about the vertical) to hold the bowl at `xy` as it was
        held at the grasp: by the change of its arm's heading."""
        mount = view.robot.mounts[self.side]
        return float(np.arctan2(xy[1] - mount.y, xy[0] - mount.x)) - self.heading


@register_plan(StackBowlsTwo.name)
def plan(task: StackBowlsTwo, view: SimView, state: InitialState) -> Iterator[Phase]:
    return BowlStacking(task, view).phases()


class BowlStacking:
    """The plan's steps for one episode: where to pinch, where to set down, how to carry."""

    def __init__(self, task: StackBowlsTwo, view: SimView) -> None:
        self.task = task
        self.view = view
        self.bowl = task.bowl

    def _bottom(self, index: int) -> np.ndarray:
        return self.task.bottom(self.view, index)

    def first_target(self, grasp: RimGrasp, other: np.ndarray) -> np.ndarray:
        """Near the centre, clear of the bowl still on the table, also for the hand holding the
        first bowl (its gripper rail reaches out past the rim), and of any other loose object
        there (a distractor may stand on the centre)."""
        obstacles = loose_objects(self.view, exclude=self.task.body_ids)
        footprint = self.bowl.footprint_radius

        def clearance(spot: tuple[float, float]) -> float:
            xy = np.array(spot)
            turned = yaw_matrix(grasp.yaw_to(self.view, xy)) @ grasp.outward
            hand = xy + (self.bowl.rim_radius + HAND_SPAN) * turned[:2]
            gaps = [
                np.hypot(*(xy - other[:2])) - CLEAR_OF_OTHER,
                np.hypot(*(hand - other[:2])) - footprint - OBJECT_GAP,
            ]
            gaps += [np.hypot(*(xy - o)) - r - footprint - OBJECT_GAP for o, r in obstacles]
            return float(min(gaps))

        spot = next((c for c in CENTRE_CANDIDATES if clearance(c) >= 0), None)
        return np.array(spot if spot is not None else max(CENTRE_CANDIDATES, key=clearance))

    def rim_grasp(self, index: int, avoid: list[np.ndarray]) -> RimGrasp:
        """Where and how the arm on bowl `index`'s side pinches its rim, clear of the bowls
        (bottom centres) in `avoid`."""
        centre = self._bottom(index)
        side = arm_on_side(centre[0])
        # The gripper comes in along its arm's heading, steeply down; the rim is taken where the
        # heading is tangential, and the gripper is tilted along the wall's slant so that both
        # finger pads lie flat on the flared wall (edge contacts on a slanted wall slip).
        mount = self.view.robot.mounts[side]
        base_xy = np.array([mount.x, mount.y])
        heading = float(np.arctan2(centre[1] - mount.y, centre[0] - mount.x))
        across = np.array([-np.sin(heading), np.cos(heading), 0.0])
        outward = self._rim_side(centre, across, base_xy, avoid)
        # Steeper near the base, where a level wrist would fold the arm onto itself.
        pitch = float(np.interp(np.linalg.norm(centre[:2] - base_xy), *RIM_PITCH))
        z = self.bowl.height - RIM_DEPTH
        return RimGrasp(
            side=side,
            heading=heading,
            outward=outward,
            position=centre + self.bowl.wall_radius(z) * outward + [0.0, 0.0, z],
            rotation=rim_grasp_rotation(heading, outward, self.bowl.flare, pitch),
        )

    def _rim_side(
        self, centre: np.ndarray, across: np.ndarray, base_xy: np.ndarray, avoid: list[np.ndarray]
    ) -> np.ndarray:
        """Of the two rim points where the arm's heading is tangential (`+-across`), the one to
        pinch: never one where the fingers would land on or next to another bowl; then the
        outer one (away from the table centre, where the bowl is carried) unless it is so near
        the arm's base that the arm cannot lift straight up from it; then the one farther from
        the base."""
        outer = across if across[0] * centre[0] >= 0 else -across

        def rim(outward: np.ndarray) -> np.ndarray:
            return centre[:2] + self.bowl.rim_radius * outward[:2]

        def clearance(outward: np.ndarray) -> float:
            # The fingertips, the wrist rising from them back towards the arm's base, and where
            # the fingers come down from.
            back = base_xy - centre[:2]
            hand = (
                rim(outward),
                rim(outward) + WRIST_BACK * back / np.linalg.norm(back),
                rim(outward) + APPROACH_HEIGHT * self._slant(outward)[:2],
            )
            footprint = self.bowl.footprint_radius
            gaps = [np.linalg.norm(p - b[:2]) - footprint for b in avoid for p in hand]
            return float(min(gaps, default=np.inf))

        def reach(outward: np.ndarray) -> float:
            return float(np.linalg.norm(rim(outward) - base_xy))

        clear = [o for o in (outer, -outer) if clearance(o) >= FINGER_CLEARANCE]
        if not clear:
            return max((outer, -outer), key=clearance)
        liftable = [o for o in clear if reach(o) >= NEAR_BASE]
        return liftable[0] if liftable else max(clear, key=reach)

    def _slant(self, outward: np.ndarray) -> np.ndarray:
        """Unit vector up the wall on the side `outward` of the bowl."""
        return np.sin(self.bowl.flare) * outward + [0.0, 0.0, np.cos(self.bowl.flare)]

    def _grasp(self, grasp: RimGrasp) -> Iterator[Phase]:
        """Open on a straight line to high above the rim point (a joint-space move sags on its
        way and may sweep a bowl off), come down the wall onto it, close."""
        side = grasp.side
        # Down along the wall's slant, so neither finger meets the rim on a well-flared bowl.
        above = grasp.position + APPROACH_HEIGHT * self._slant(grasp.outward)
        yield Phase({side: ArmMotion(LineTo(above, grasp.rotation, speed=FREE_SPEED),
                                     gripper=OPEN)})
        yield Phase({side: ArmMotion(LineTo(grasp.position, grasp.rotation, speed=DESCEND_SPEED))})
        yield Phase({side: ArmMotion(gripper=CLOSED)}, settle=0.12)

    def _lift(
        self, index: int, grasp: RimGrasp, avoid: list[np.ndarray], target_xy: np.ndarray
    ) -> Generator[Phase, None, RimGrasp]:
        """Lift the grasped bowl `index`; if it slipped out of the fingers (it is still on the
        table), grasp it again where it now lies. Returns the grasp that holds it."""
        for attempt in range(GRASP_ATTEMPTS):
            if attempt:  # the empty gripper opens on its way to the new grasp
                grasp = self.rim_grasp(index, avoid)
                yield from self._grasp(grasp)
            tip, _ = self.view.robot.ee_pose(self.view.data, grasp.side)
            start = self._bottom(index)
            # Up and already a little towards the target: bowls near an arm's base are out of
            # reach straight above.
            towards = LIFT_TOWARDS * np.append(target_xy - start[:2], 0.0)
            rise = [0.0, 0.0, self.view.table_top + CARRY_HEIGHT - start[2]]
            lift = LineTo(tip + rise + towards, grasp.rotation, speed=LIFT_SPEED)
            yield Phase({grasp.side: ArmMotion(lift)})
            if self._bottom(index)[2] > self.view.table_top + HELD_ABOVE:
                break
        return grasp

    def _carry(
        self, index: int, grasp: RimGrasp, avoid: list[np.ndarray],
        release_z: float, hover_z: float, target_xy: np.ndarray,
    ) -> Iterator[Phase]:
        """Lift bowl `index` (grasped, clear of the bowls in `avoid`), bring it level over
        `target_xy` with its bottom at `hover_z`, then lower its bottom to `release_z`."""
        grasp = yield from self._lift(index, grasp, avoid, target_xy)
        side = grasp.side
        # The pinched bowl hangs tilted; turn the gripper about the bowl so that the bowl is
        # level over the target (it must go in flat), and yaw it with the arm's heading (the
        # bowl is round, and a wrist kept at the grasp's yaw is out of reach across the table).
        body = self.task.body_ids[index]
        tip, tip_rotation = self.view.robot.ee_pose(self.view.data, side)
        level = levelling(self.view.data.xmat[body].reshape(3, 3))
        turn = yaw_matrix(grasp.yaw_to(self.view, target_xy)) @ level
        hover = np.append(target_xy, hover_z) + turn @ (tip - self.view.data.xpos[body])
        # A straight, unhurried carry: a rim pinch holds the bowl against gravity but not
        # against the swings of a joint-space move.
        yield Phase({side: ArmMotion(LineTo(hover, turn @ tip_rotation, speed=CARRY_SPEED))})
        tip, rotation = self.view.robot.ee_pose(self.view.data, side)
        down = release_z - self._bottom(index)[2]
        yield Phase({side: ArmMotion(LineTo(tip + [0, 0, down], rotation, speed=LOWER_SPEED))})

    def _release(self, side: ArmSide) -> Iterator[Phase]:
        """Open, then lift the open fingers straight out of the bowl."""
        yield Phase({side: ArmMotion(gripper=OPEN)}, settle=0.1)
        tip, rotation = self.view.robot.ee_pose(self.view.data, side)
        up = tip + [0.0, 0.0, RETREAT_HEIGHT]
        yield Phase({side: ArmMotion(LineTo(up, rotation, speed=LIFT_SPEED))})

    def _place_first(self, index: int, grasp: RimGrasp, target: np.ndarray) -> Iterator[Phase]:
        """Carry the grasped bowl `index` onto the table at `target` (x, y) and let go."""
        release_z = self.view.table_top + TABLE_GAP
        other = self._bottom(1 - index)
        yield from self._carry(index, grasp, [other], release_z, release_z + HOVER_GAP, target)
        yield from self._release(grasp.side)

    def _nest_second(self, index: int, grasp: RimGrasp, lower: np.ndarray) -> Iterator[Phase]:
        """Carry the grasped bowl `index` into the bowl whose bottom centre is `lower`."""
        release_z = lower[2] + self.bowl.nest_height + RELEASE_GAP
        hover_z = lower[2] + self.bowl.height + HOVER_GAP  # clear of the lower bowl's rim
        yield from self._carry(index, grasp, [lower], release_z, hover_z, lower[:2])
        yield from self._release(grasp.side)

    def phases(self) -> Iterator[Phase]:
        """The whole plan; each phase is drawn once the previous one has been executed."""
        # The bowl nearer the centre goes first (shorter carry) to a free spot near the centre.
        first, second = sorted(range(2), key=lambda i: abs(self._bottom(i)[0]))
        gap = np.hypot(*(self._bottom(first) - self._bottom(second))[:2])
        if gap < 2 * self.bowl.footprint_radius:  # overlapping rims push the bowls apart at once:
            yield Phase({}, min_duration=SETTLE_TIME)  # plan from where they come to rest
        start_first, other = self._bottom(first), self._bottom(second)
        grasp = self.rim_grasp(first, [other])
        target = self.first_target(grasp, other)
        if arm_on_side(other[0]) == grasp.side:  # one arm does both, one after the other
            yield from self._grasp(grasp)
            yield from self._place_first(first, grasp, target)
            lower = self._bottom(first)
            second_grasp = self.rim_grasp(second, [lower])
            yield from self._grasp(second_grasp)
            yield from self._nest_second(second, second_grasp, lower)
            return
        # Two arms: the second grasps its bowl (clear of where the first is and goes) while the
        # first is taken, and lifts it while the first arm goes home, out of its way.
        target_bottom = np.append(target, start_first[2])
        second_grasp = self.rim_grasp(second, [start_first, target_bottom])
        yield from together(self._grasp(grasp), self._grasp(second_grasp))
        yield from self._place_first(first, grasp, target)
        home = Phase({grasp.side: ArmMotion(JointsTo(np.array(HOME_JOINTS)))})
        yield from together(iter([home]),
                            self._nest_second(second, second_grasp, self._bottom(first)))
