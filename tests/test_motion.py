import numpy as np

from sim2real.embodiment.ik import downward_rotation
from sim2real.experts.motion import ArmMotion, LineTo, MotionLimits, MotionPlanner
from tests.conftest import rollout


def test_expert_motion_is_smooth(blind_env):
    actions, _ = rollout(blind_env, seed=11)
    steps = np.abs(np.diff(np.array(actions), axis=0))
    limit = MotionLimits().joint_speed * blind_env.settings.control_dt
    assert steps[:, np.r_[0:6, 7:13]].max() <= limit * 1.05
    assert steps[:, [6, 13]].max() <= 0.5  # gripper strokes take several steps


def test_cartesian_moves_are_straight_lines(blind_env):
    blind_env.reset(seed=0)
    planner = MotionPlanner(blind_env.robot, blind_env.settings.control_dt)
    start = blind_env.home_action.copy()
    begin, _ = planner.tip_pose(start, "right")
    goal = np.array([0.15, -0.1, 0.86])
    actions = planner.plan(start, {"right": ArmMotion(LineTo(goal, downward_rotation(np.pi)))})
    tips = np.array([planner.tip_pose(a, "right")[0] for a in actions])
    direction = (goal - begin) / np.linalg.norm(goal - begin)
    offsets = tips - begin
    off_line = offsets - np.outer(offsets @ direction, direction)
    assert np.linalg.norm(off_line, axis=1).max() < 0.003
    assert np.linalg.norm(tips[-1] - goal) < 0.002


def test_both_arms_move_at_once(blind_env):
    blind_env.reset(seed=0)
    planner = MotionPlanner(blind_env.robot, blind_env.settings.control_dt)
    start = blind_env.home_action.copy()
    down = downward_rotation(np.pi)
    actions = planner.plan(
        start,
        {
            "left": ArmMotion(LineTo(np.array([-0.2, -0.05, 0.85]), down), gripper=0.0),
            "right": ArmMotion(LineTo(np.array([0.2, -0.05, 0.85]), down), gripper=0.0),
        },
    )
    moving = np.abs(np.diff(actions, axis=0)) > 1e-6
    assert moving[:, 0:6].any(axis=1).sum() > len(actions) // 2
    assert moving[:, 7:13].any(axis=1).sum() > len(actions) // 2
    assert actions[-1, 6] == 0.0 and actions[-1, 13] == 0.0
