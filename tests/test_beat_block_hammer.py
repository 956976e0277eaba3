"""beat_block_hammer: expert, initial states, success predicate (incl. near misses), words."""

import mujoco
import numpy as np
import pytest

import sim2real
from sim2real.experts.runner import ScriptedExpert
from sim2real.scene.library import instance
from sim2real.scene.objects import set_free_pose
from sim2real.tasks.beat_block_hammer import INSTRUCTIONS, BeatBlockHammer, matching_block


@pytest.fixture(scope="module")
def env():
    env = sim2real.make("beat_block_hammer", cameras=())
    yield env
    env.close()


@pytest.mark.parametrize("seed", [0, 3, 16])  # blocks on both sides of the hammer
def test_expert_succeeds(env, seed):
    result = ScriptedExpert(env).run(seed)
    assert result.success, result.failure
    assert 60 <= result.steps <= env.max_steps


def test_initial_state_distribution(env):
    blocks = [env.task.sample(np.random.default_rng(seed), seed).params for seed in range(300)]
    xs = np.array([p["block_xy"][0] for p in blocks])
    ys = np.array([p["block_xy"][1] for p in blocks])
    yaws = np.array([p["block_yaw"] for p in blocks])
    assert ((np.abs(xs) >= 0.05) & (np.abs(xs) <= 0.25)).all()
    assert ((ys >= -0.05) & (ys <= 0.15)).all()
    assert (np.abs(yaws) <= 0.5).all() and yaws.std() > 0.2
    assert (xs > 0).sum() > 100 and (xs < 0).sum() > 100  # both arms get work
    env.reset(seed=5)
    hammer = env.data.xpos[env.model.body("hammer").id]
    np.testing.assert_allclose(hammer[:2], [0.0, -0.01], atol=1e-3)  # the fixed pose
    assert env.task.block.half_size == pytest.approx(0.025)


def _put_hammer_head_at(env, head_xy, head_bottom_z):
    """Pose the hammer (as laid out, unrotated) so its head's bottom centre is at the given spot."""
    task: BeatBlockHammer = env.task
    origin = np.array([head_xy[0], head_xy[1] - task.hammer.head_y, head_bottom_z])
    set_free_pose(env.model, env.data, "hammer/free", origin)
    mujoco.mj_forward(env.model, env.data)


def _judge(env) -> bool:
    env.task._hit = False
    return env.task.success(env.view)


def test_success_needs_the_head_on_the_block(env):
    env.reset(seed=1)
    block = env.task.block_centre(env.view)
    top = env.view.data.site_xpos[env.task.block_top_site][2]
    assert not _judge(env)  # the start: hammer lying at its place
    _put_hammer_head_at(env, block[:2], top - 5e-4)
    assert _judge(env)  # the head resting centred on the block
    # Near misses: the head on the table right beside the block; the head touching the
    # block's edge 3 cm off its centre; the head centred but hovering 5 mm above it.
    _put_hammer_head_at(env, block[:2] + [0.0, -0.06], env.view.table_top - 5e-4)
    assert not _judge(env)
    _put_hammer_head_at(env, block[:2] + [0.03, 0.0], top - 5e-4)
    assert env.task.head_on_block.touching(env.data) and not _judge(env)
    _put_hammer_head_at(env, block[:2], top + 0.005)
    assert not _judge(env)


def test_instructions_name_the_instance():
    assert len(INSTRUCTIONS.seen) >= 20 and len(INSTRUCTIONS.unseen) >= 5
    default, other = BeatBlockHammer(), BeatBlockHammer(instance("hammer/unseen/1"))
    episode = default.sample(np.random.default_rng(0), 0)
    assert default.object_phrase(episode) == "the brown hammer"
    assert other.object_phrase(episode) == "the slim blue hammer"
    assert other.block.split == "unseen" and default.block.split == "seen"
    assert matching_block(instance("hammer/seen/1")).instance_id == "block/seen/1"
    env = sim2real.make("beat_block_hammer", cameras=(), instructions="unseen")
    observation, _ = env.reset(seed=0)
    allowed = {t.format(object="the brown hammer") for t in INSTRUCTIONS.unseen}
    assert observation["instruction"] in allowed
    env.close()
