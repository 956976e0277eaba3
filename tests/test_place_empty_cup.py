"""place_empty_cup: expert, initial states, success predicate (incl. near misses), words."""

import mujoco
import numpy as np
import pytest

import sim2real
from sim2real.experts.runner import ScriptedExpert
from sim2real.scene.objects import set_free_pose
from sim2real.tasks.place_empty_cup import INSTRUCTIONS, PlaceEmptyCup


@pytest.fixture(scope="module")
def env():
    env = sim2real.make("place_empty_cup", cameras=())
    yield env
    env.close()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_expert_succeeds(env, seed):
    result = ScriptedExpert(env).run(seed)
    assert result.success, result.failure


def test_initial_state_distribution():
    task = PlaceEmptyCup()
    params = [task.sample(np.random.default_rng(s), s).params for s in range(300)]
    cup = np.array([p["cup_xy"] for p in params])
    coaster = np.array([p["coaster_xy"] for p in params])
    assert ((np.abs(cup[:, 0]) >= 0.15) & (np.abs(cup[:, 0]) <= 0.3)).all()
    assert (cup[:, 0] > 0).any() and (cup[:, 0] < 0).any()
    assert ((coaster[:, 0] >= -0.1) & (coaster[:, 0] <= 0.1)).all()
    assert ((coaster[:, 1] >= -0.2) & (coaster[:, 1] <= 0.05)).all()
    assert (np.linalg.norm(cup - coaster, axis=1) >= 0.1).all()


def _cup_at(env, offset_xy, height) -> bool:
    top = env.task.coaster_top(env.view)
    set_free_pose(env.model, env.data, "cup/free", np.array([*(top[:2] + offset_xy), top[2] + height]))
    mujoco.mj_forward(env.model, env.data)
    return env.task.success(env.view)


def test_success_rejects_near_misses(env):
    env.reset(seed=0)
    assert not env.task.success(env.view)
    assert _cup_at(env, (0.01, 0.0), 0.0)
    assert not _cup_at(env, (0.07, 0.0), 0.0)  # next to the coaster
    assert not _cup_at(env, (0.0, 0.0), 0.05)  # still held above it
    slot = env.robot.gripper_qpos["right"]
    env.data.qpos[slot] = 0.0  # a gripper still closed
    assert not _cup_at(env, (0.0, 0.0), 0.0)


def test_instructions_change_with_instances():
    assert len(INSTRUCTIONS.seen) >= 20 and len(INSTRUCTIONS.unseen) >= 5
    task = PlaceEmptyCup()
    episode = task.sample(np.random.default_rng(0), 0)
    assert "white cup" in task.object_phrase(episode)
    assert "brown coaster" in task.object_phrase(episode)
