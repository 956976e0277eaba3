import numpy as np
import pytest

import sim2real
from sim2real.embodiment.ik import downward_rotation
from sim2real.experts.motion import ArmMotion, LineTo, MotionPlanner
from sim2real.experts.runner import ScriptedExpert
from sim2real.experts.click_bell import HOVER_ABOVE_TOP
from sim2real.experts.click_bell import plan as click_bell_plan
from sim2real.experts.primitives import arm_on_side
from sim2real.tasks.click_bell import ClickBell


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_expert_succeeds(blind_env, seed):
    result = ScriptedExpert(blind_env).run(seed)
    assert result.success, result.failure
    assert 40 <= result.steps <= blind_env.max_steps


@pytest.fixture(scope="module")
def raised_table_env():
    """click_bell with the table 1.5-3 cm up or down: the ood draw of half the train offset is
    the outer half of the train range (TH)."""
    env = sim2real.make(
        "click_bell", cameras=(), randomize="TH", split="ood", randomization={"table_offset": 0.015}
    )
    yield env
    env.close()


# Bells at the far (47) and near (16) corners of the right arm's range, with the table
# 2.4-2.7 cm up: an approach waypoint high over the bell was out of a downward gripper's reach.
@pytest.mark.parametrize("seed", [16, 47])
def test_expert_reaches_bells_on_a_raised_table(raised_table_env, seed):
    _, info = raised_table_env.reset(seed=seed)
    assert info["randomization"]["TH"]["offset"] > 0.02
    result = ScriptedExpert(raised_table_env).run(seed)
    assert result.success, result.failure


@pytest.mark.parametrize("seed", [16, 47])
def test_approach_stays_above_the_hover_point_near_the_bell(raised_table_env, seed):
    """The approach goes straight from home to the hover point: near the bell the fingers
    never get lower than the hover height, nor touch the bell before the press."""
    env = raised_table_env
    env.reset(seed=seed)
    task: ClickBell = env.task
    side = arm_on_side(env.initial_state.params["bell_xy"][0])
    top = task.top_centre(env.view)
    approach = next(iter(click_bell_plan(task, env.view, env.initial_state)))
    planner = MotionPlanner(env.robot, env.settings.control_dt)
    for action in planner.plan(env.home_action.copy(), approach.motions):
        env.step(action)
        tip, _ = env.robot.ee_pose(env.data, side)
        if np.hypot(*(tip[:2] - top[:2])) < 0.06:
            assert tip[2] - top[2] >= HOVER_ABOVE_TOP - 0.003
        assert not task.probes[side].touching(env.data)


def test_initial_state_distribution(blind_env):
    xs, ys = [], []
    for seed in range(200):
        _, info = blind_env.reset(seed=seed)
        x, y = info["episode"].params["bell_xy"]
        xs.append(x)
        ys.append(y)
    xs, ys = np.array(xs), np.array(ys)
    assert (np.abs(xs) >= 0.05).all() and (np.abs(xs) <= 0.25).all()
    assert (ys >= -0.2).all() and (ys <= 0.0).all()
    assert (xs > 0).sum() > 60 and (xs < 0).sum() > 60  # both arms get work


def test_instruction_sets():
    from sim2real.tasks.click_bell import INSTRUCTIONS

    assert len(INSTRUCTIONS.seen) >= 20 and len(INSTRUCTIONS.unseen) >= 5
    env = sim2real.make("click_bell", cameras=(), instructions="unseen")
    observation, _ = env.reset(seed=0)
    unseen_texts = {t.format(object="the silver bell") for t in INSTRUCTIONS.unseen}
    assert observation["instruction"] in unseen_texts


def _press(env, seed: int, offset_xy, depth: float, gripper: float):
    """Close (or not) the gripper over the bell's top + offset and move down by `depth`."""
    env.reset(seed=seed)
    task: ClickBell = env.task
    side = arm_on_side(env.initial_state.params["bell_xy"][0])
    top = task.top_centre(env.view)
    target = top + np.array([*offset_xy, 0.03])
    down = downward_rotation(np.pi)
    planner = MotionPlanner(env.robot, env.settings.control_dt)
    command = env.home_action.copy()
    touched = False
    for motion in (
        ArmMotion(LineTo(target + [0, 0, 0.04], down), gripper=gripper),
        ArmMotion(LineTo(target, down)),
        ArmMotion(LineTo(target - [0, 0, depth], down, speed=0.1)),
    ):
        for action in planner.plan(command, {side: motion}):
            env.step(action)
            command = action
            touched |= task.probes[side].touching(env.data)
    for _ in range(5):
        env.step(command)
        touched |= task.probes[side].touching(env.data)
    return env.success, touched


def test_centred_press_succeeds(blind_env):
    success, touched = _press(blind_env, seed=4, offset_xy=(0.0, 0.0), depth=0.045, gripper=0.0)
    assert touched and success


def test_off_centre_press_is_rejected(blind_env):
    success, touched = _press(blind_env, seed=4, offset_xy=(0.036, 0.0), depth=0.06, gripper=0.0)
    assert touched, "the off-centre press must really touch the bell for this test to mean much"
    assert not success


def test_hover_without_contact_is_rejected(blind_env):
    success, touched = _press(blind_env, seed=4, offset_xy=(0.0, 0.0), depth=0.015, gripper=0.0)
    assert not touched and not success


def test_open_gripper_press_is_rejected(blind_env):
    success, touched = _press(blind_env, seed=4, offset_xy=(0.0, 0.0), depth=0.07, gripper=1.0)
    assert touched and not success


def test_success_stays_true_once_reached(blind_env):
    expert = ScriptedExpert(blind_env)
    assert expert.run(5).success
    # After the press the gripper lifts away, yet the episode stays successful.
    for _ in range(10):
        _, reward, terminated, _, info = blind_env.step(blind_env.home_action)
        assert info["success"] and reward == 1.0 and terminated
