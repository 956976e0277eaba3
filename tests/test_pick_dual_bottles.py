"""pick_dual_bottles: expert, initial states, success predicate (incl. near misses), words."""

import mujoco
import numpy as np
import pytest

import sim2real
from sim2real.experts.runner import ScriptedExpert
from sim2real.scene.library import instance
from sim2real.scene.objects import set_free_pose
from sim2real.tasks.pick_dual_bottles import INSTRUCTIONS, PickDualBottles, partner


@pytest.fixture(scope="module")
def env():
    env = sim2real.make("pick_dual_bottles", cameras=())
    yield env
    env.close()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_expert_succeeds(env, seed):
    result = ScriptedExpert(env).run(seed)
    assert result.success, result.failure
    assert 60 <= result.steps <= env.max_steps


def test_initial_state_distribution(env):
    params = [env.task.sample(np.random.default_rng(seed), seed).params for seed in range(300)]
    left = np.array([p["left_xy"] for p in params])
    right = np.array([p["right_xy"] for p in params])
    assert ((left[:, 0] >= -0.25) & (left[:, 0] <= -0.05)).all()
    assert ((right[:, 0] >= 0.05) & (right[:, 0] <= 0.25)).all()
    for xy in (left, right):
        assert ((xy[:, 1] >= 0.03) & (xy[:, 1] <= 0.23)).all()
        assert xy.std(axis=0).min() > 0.04  # spread over the ranges, not one spot


def _hold(env, heights, offsets=((0.0, 0.0), (0.0, 0.0))) -> bool:
    """Place both bottles (upright) at their hold targets + offsets, bottoms at `heights` over
    the table, and judge."""
    for side, height, offset in zip(("left", "right"), heights, offsets):
        target = env.task.hold_target(env.view, side)
        position = np.array([*(target[:2] + offset), env.view.table_top + height])
        set_free_pose(env.model, env.data, f"bottle_{side}/free", position)
    mujoco.mj_forward(env.model, env.data)
    return env.task.success(env.view)


def test_success_needs_both_bottles_up_at_their_targets(env):
    env.reset(seed=0)
    assert not env.task.success(env.view)  # on the table
    assert _hold(env, (0.2, 0.2))
    assert not _hold(env, (0.1, 0.2))  # the left one lifted too little
    assert not _hold(env, (0.2, 0.0))  # the right one still on the table
    assert not _hold(env, (0.2, 0.2), ((0.0, 0.0), (0.0, 0.1)))  # the right one far off its target


def test_instructions_and_instances():
    assert len(INSTRUCTIONS.seen) >= 20 and len(INSTRUCTIONS.unseen) >= 5
    task = PickDualBottles()
    episode = task.sample(np.random.default_rng(0), 0)
    assert task.object_phrase(episode) == "the green bottle and the blue bottle"
    unseen = PickDualBottles(instance("bottle/unseen/1"))
    assert {b.split for b in unseen.bottles.values()} == {"unseen"}
    assert "orange" in unseen.object_phrase(episode)
    for bottle in (instance("bottle/seen/3"), instance("bottle/unseen/2")):
        other = partner(bottle)
        assert other.split == bottle.split and other.instance_id != bottle.instance_id


def test_joint_space_moves_reach_the_pose_sooner_than_the_straight_line(env):
    """The expert's free-space moves (home to pre-grasp) go through joint space."""
    from sim2real.experts.motion import ArmMotion, LineTo, MotionPlanner
    from sim2real.experts.primitives import side_grasp_rotation

    env.reset(seed=0)
    planner = MotionPlanner(env.robot, env.settings.control_dt)
    target = np.array([-0.1, 0.08, env.view.table_top + 0.08])
    rotation = side_grasp_rotation(env.robot.mounts["left"], target)
    plans = {
        joint_space: planner.plan(
            env.home_action, {"left": ArmMotion(LineTo(target, rotation, joint_space=joint_space))}
        )
        for joint_space in (False, True)
    }
    for actions in plans.values():
        position, reached = planner.tip_pose(actions[-1], "left")
        np.testing.assert_allclose(position, target, atol=2e-3)
        assert np.allclose(reached, rotation, atol=2e-2)
    assert len(plans[True]) < 0.8 * len(plans[False])
