"""The proxy-real world: held-out textures and distractors no other split draws, the camera
beyond the Sim-OOD range with other intrinsics, sensor noise and motion blur after rendering,
actuation latency and joint-tracking noise; fixed, versioned, and a pure function of the seed."""

from __future__ import annotations

import numpy as np
import pytest

import sim2real
from sim2real.evaluate.proxy_real import PROXY_REAL_V1, VERSION
from sim2real.evaluate.suites import SuiteRun, apply_overrides, suite_runs

BASE = sim2real.make_settings(cameras=("head",), image_size=(48, 48), render={"shadows": False, "msaa": 0})


def proxy_settings(task: str = "click_bell", **changes):
    (run,) = suite_runs("proxy-real", task)
    assert run.name == f"proxy-real-{VERSION}"
    # the rasterizer here, to keep the test cheap; the suite itself path traces (medium)
    return apply_overrides(BASE, SuiteRun(run.name, {**run.overrides, "fidelity": "low", **changes}))


def test_the_suite_is_its_fixed_definition():
    (run,) = suite_runs("proxy-real", "click_bell")
    assert run.overrides == PROXY_REAL_V1 and run.overrides["fidelity"] == "medium"
    settings = apply_overrides(BASE, run)
    assert settings.split == "heldout" and settings.randomize == "BG+TD+CP+OBJ"
    assert settings.randomization.camera_radius == 0.1  # ood: 10-20 cm; Sim-OOD goes to 10 cm
    assert settings.randomization.table_offset == BASE.randomization.table_offset  # merged, not replaced
    (cup,) = suite_runs("proxy-real", "place_empty_cup")  # cup and coaster: OBJ cannot swap both
    assert cup.overrides["randomize"] == "BG+TD+CP"


def test_held_out_sets_are_disjoint_from_train_and_ood():
    from sim2real.randomize.textures import SATURATION, STYLES, recipe, texture_count
    from sim2real.scene.library import categories

    assert not set(STYLES["heldout"]) & (set(STYLES["seen"]) | set(STYLES["unseen"]))
    styles = {recipe("heldout", i).style for i in range(texture_count("heldout"))}
    assert styles == set(STYLES["heldout"]) and texture_count("heldout") == 100
    low, high = SATURATION["heldout"]
    assert SATURATION["seen"][1] <= low and high <= SATURATION["unseen"][0]
    for category in categories("distractor"):
        held_out = category.split("heldout")
        others = category.split("seen") + category.split("unseen")
        assert held_out and not {i.size_name for i in held_out} & {i.size_name for i in others}
        assert not {i.colour_name for i in held_out} & {i.colour_name for i in others}


def test_a_proxy_real_episode_draws_only_held_out_things_and_is_reproducible():
    env = sim2real.make("click_bell", proxy_settings())
    try:
        first, info = env.reset(seed=4)
        record = info["randomization"]
        assert all(t.startswith("heldout/") for t in record["BG"].values())
        assert record["TD"]["objects"] and all("/heldout/" in o["instance"] for o in record["TD"]["objects"])
        assert "/unseen/" in record["OBJ"]["instance"]
        assert 0.1 < np.linalg.norm(record["CP"]["offset"]) <= 0.2
        assert env.model.cam_fovy[env.model.camera("head").id] == pytest.approx(45.0)
        again, _ = env.reset(seed=4)
        np.testing.assert_array_equal(first["images/head"], again["images/head"])  # noise from the seed
    finally:
        env.close()
    clean = sim2real.make("click_bell", proxy_settings(sensor={"head_fovy": 45.0, "noise_std": 0.0, "motion_blur": 0.0}))
    try:
        noiseless, _ = clean.reset(seed=4)
    finally:
        clean.close()
    difference = first["images/head"].astype(float) - noiseless["images/head"].astype(float)
    assert 2 < difference.std() < 10  # 2% of full scale is 5.1 levels (less where it clips)


def test_latency_delays_commands_by_whole_control_steps_and_noise_spares_the_grippers():
    delayed = sim2real.make("click_bell", proxy_settings(
        randomize="clean", actuation={"latency_steps": (2, 2), "tracking_noise": 0.0}))
    try:
        delayed.reset(seed=0)
        home = delayed.robot.action_to_ctrl(delayed.home_action)
        command = delayed.home_action.copy()
        command[1] += 0.1
        for step in range(4):
            delayed.step(command)
            expected = home if step < 2 else delayed.robot.action_to_ctrl(command)
            np.testing.assert_allclose(delayed.data.ctrl[delayed.robot.ctrl_index], expected)
    finally:
        delayed.close()
    noisy = sim2real.make("click_bell", proxy_settings(
        randomize="clean", actuation={"latency_steps": (0, 0), "tracking_noise": 0.01}))
    try:
        noisy.reset(seed=0)
        noisy.step(noisy.home_action)
        executed = noisy.data.ctrl[noisy.robot.ctrl_index]
        commanded = noisy.robot.action_to_ctrl(noisy.home_action)
        from sim2real.core.contract import GRIPPER_SLOTS

        arm = [i for i in range(len(commanded)) if i not in GRIPPER_SLOTS]
        assert np.all(np.abs(executed[arm] - commanded[arm]) > 0)
        np.testing.assert_allclose(executed[list(GRIPPER_SLOTS)], commanded[list(GRIPPER_SLOTS)])
    finally:
        noisy.close()


def test_motion_blur_blends_the_previous_render_and_noise_has_its_std():
    from sim2real.render.sensor import SensorModel, SensorSettings

    sensor = SensorModel(SensorSettings(motion_blur=0.25))
    sensor.reset(np.random.default_rng(0))
    dark, bright = np.full((4, 4, 3), 40, np.uint8), np.full((4, 4, 3), 200, np.uint8)
    np.testing.assert_array_equal(sensor("head", dark), dark)  # nothing before the first frame
    np.testing.assert_array_equal(sensor("head", bright), np.full((4, 4, 3), 160, np.uint8))
    np.testing.assert_array_equal(sensor("head", bright), bright)  # the render, not the blur, carries over
    noisy = SensorModel(SensorSettings(noise_std=0.1))
    noisy.reset(np.random.default_rng(1))
    grey = noisy("head", np.full((200, 200, 3), 128, np.uint8)).astype(float)
    assert grey.std() == pytest.approx(25.5, rel=0.05)
