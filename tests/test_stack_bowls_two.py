"""stack_bowls_two: expert, initial states, success predicate (incl. near misses), words."""

import mujoco
import numpy as np
import pytest

import sim2real
from sim2real.expert.runner import ScriptedExpert
from sim2real.scene.objects import set_free_pose
from sim2real.tasks.stack_bowls_two import INSTRUCTIONS, StackBowlsTwo


@pytest.fixture(scope="module")
def env():
    env = sim2real.make("stack_bowls_two", cameras=())
    yield env
    env.close()


@pytest.mark.parametrize("seed", [2, 3])
def test_expert_succeeds(env, seed):
    result = ScriptedExpert(env).run(seed)
    assert result.success, result.failure


def test_initial_state_distribution():
    task = StackBowlsTwo()
    params = [task.sample(np.random.default_rng(s), s).params for s in range(300)]
    a = np.array([p["bowl_a_xy"] for p in params])
    b = np.array([p["bowl_b_xy"] for p in params])
    for xy in (a, b):
        assert ((np.abs(xy[:, 0]) >= 0.09) & (np.abs(xy[:, 0]) <= 0.3)).all()
        assert ((xy[:, 1] >= -0.15) & (xy[:, 1] <= 0.15)).all()
    assert (np.linalg.norm(a - b, axis=1) >= 0.13).all()


def _place(env, upper_xy, upper_z):
    top = env.view.table_top
    set_free_pose(env.model, env.data, "bowl_a/free", np.array([0.0, 0.0, top]))
    set_free_pose(env.model, env.data, "bowl_b/free", np.array([*upper_xy, top + upper_z]))
    mujoco.mj_forward(env.model, env.data)
    return env.task.success(env.view)


def test_success_rejects_near_misses(env):
    env.reset(seed=0)
    assert not env.task.success(env.view)
    assert _place(env, (0.01, 0.0), 0.012)  # nested
    assert not _place(env, (0.16, 0.0), 0.0)  # side by side
    assert not _place(env, (0.0, 0.0), 0.1)  # held above, not resting in it
    env.data.qpos[env.robot.gripper_qpos["left"]] = 0.0  # a gripper still closed
    assert not _place(env, (0.01, 0.0), 0.012)


def test_instructions_change_with_instances():
    from sim2real.scene.library import instance

    assert len(INSTRUCTIONS.seen) >= 20 and len(INSTRUCTIONS.unseen) >= 5
    episode = StackBowlsTwo().sample(np.random.default_rng(0), 0)
    assert StackBowlsTwo().object_phrase(episode) == "the two blue bowls"
    assert "black" in StackBowlsTwo(instance("bowl/unseen/1")).object_phrase(episode)
