import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import sim2real
from sim2real import Sim2RealError
from tests.conftest import SMALL, rollout


def test_gymnasium_env_checker_passes(small_env):
    check_env(small_env, skip_render_check=True)


def test_observation_layout(small_env):
    observation, info = small_env.reset(seed=0)
    assert set(observation) == {
        "images/head",
        "images/left_wrist",
        "images/right_wrist",
        "state",
        "instruction",
    }
    for camera in ("head", "left_wrist", "right_wrist"):
        image = observation[f"images/{camera}"]
        assert image.dtype == np.uint8 and image.shape == (SMALL[1], SMALL[0], 3)
        assert image.std() > 5, f"{camera} image is flat: nothing rendered"
    assert observation["state"].shape == (14,)
    assert observation["state"][[6, 13]] == pytest.approx([1.0, 1.0], abs=1e-6)  # open at reset
    assert isinstance(observation["instruction"], str) and "bell" in observation["instruction"]
    assert info["success"] is False
    assert info["episode"].seed == 0 and info["episode"].task == "click_bell"
    assert info["episode"].settings["physics"]["friction"] == 0.5


def test_same_seed_same_trajectory_and_images():
    runs = []
    for _ in range(2):
        env = sim2real.make("click_bell", image_size=SMALL, cameras=("head", "right_wrist"))
        runs.append(rollout(env, seed=7))
        env.close()
    (actions_a, obs_a), (actions_b, obs_b) = runs
    assert len(actions_a) == len(actions_b) > 20
    np.testing.assert_array_equal(np.array(actions_a), np.array(actions_b))
    for a, b in zip(obs_a, obs_b, strict=True):
        np.testing.assert_array_equal(a["state"], b["state"])
        np.testing.assert_array_equal(a["images/head"], b["images/head"])
        np.testing.assert_array_equal(a["images/right_wrist"], b["images/right_wrist"])


def test_different_seeds_different_scenes(blind_env):
    _, first = blind_env.reset(seed=1)
    _, second = blind_env.reset(seed=2)
    assert first["episode"].params != second["episode"].params


def test_joints_track_commanded_targets(blind_env):
    actions, observations = rollout(blind_env, seed=3)
    commanded = np.array(actions[1:])
    measured = np.array([o["state"] for o in observations[1:]])
    joints = np.r_[0:6, 7:13]
    lag = np.abs(commanded[:, joints] - measured[:, joints]).max()
    assert lag < 0.05, f"joints lag their targets by up to {lag:.3f} rad"


def test_truncated_at_step_limit(blind_env):
    blind_env.reset(seed=0)
    hold = blind_env.home_action
    for step in range(blind_env.max_steps):
        _, reward, terminated, truncated, info = blind_env.step(hold)
        assert reward == 0.0 and not terminated
        assert truncated == (step == blind_env.max_steps - 1)
    assert blind_env.max_steps == 200  # 8 s at the default 25 Hz


def test_control_rate_is_configurable():
    env = sim2real.make("click_bell", cameras=(), control_hz=50)
    assert env.substeps == 5 and env.max_steps == 400
    env.close()


@pytest.mark.parametrize(
    ("action", "message"),
    [
        (np.zeros(13), "invalid action shape: (13,)"),
        (np.full(14, np.nan), "invalid action[0]: nan; allowed: finite numbers"),
        (np.r_[np.zeros(6), 1.5, np.zeros(7)], "invalid action[6] (left gripper): 1.5; allowed: [0, 1]"),
        (np.r_[np.zeros(8), 9.0, np.zeros(5)], "invalid action[8] (right joint2): 9; allowed: [0, 3.14159]"),
        (np.array(["a"] * 14), "invalid action dtype"),
    ],
)
def test_bad_actions_are_clear_errors(blind_env, action, message):
    blind_env.reset(seed=0)
    with pytest.raises(Sim2RealError) as error:
        blind_env.step(action)
    assert message in str(error.value)


def test_step_before_reset_is_an_error(blind_env):
    with pytest.raises(Sim2RealError, match="reset"):
        blind_env.step(blind_env.home_action)


def test_unknown_task_lists_known_ones():
    with pytest.raises(Sim2RealError, match=r"invalid task: 'click_bel'; allowed: .*click_bell"):
        sim2real.make("click_bel")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"cameras": ("head", "top")}, "invalid cameras: ('head', 'top'); unknown camera 'top'"),
        ({"image_size": (4, 4)}, "invalid image_size"),
        ({"control_hz": -1}, "invalid control_hz: -1"),
        ({"instructions": "other"}, "invalid instructions: 'other'; must be 'seen' or 'unseen'"),
        ({"fps": 3}, "invalid fps: 3; unknown setting"),
        ({"physics": {"friction": -1}}, "invalid physics.friction: -1"),
    ],
)
def test_bad_settings_name_field_value_and_allowed(overrides, message):
    with pytest.raises(Sim2RealError) as error:
        sim2real.make("click_bell", **overrides)
    assert message in str(error.value)


def test_env_is_a_gymnasium_env(blind_env):
    assert isinstance(blind_env, gym.Env)
    assert blind_env.action_space.shape == (14,)
