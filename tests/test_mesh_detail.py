"""Policy mesh detail: same physics as full detail, silhouettes that agree with it."""

import mujoco
import numpy as np
import pytest

from sim2real.env import make
from sim2real.experts.runner import ScriptedExpert
from sim2real.render.agreement import SILHOUETTES, detail_agreement, silhouette_geoms
from sim2real.render.cameras import CameraRig

FLAGS = {"shadows": False, "msaa": 0}


def _expert_qpos(detail: str) -> np.ndarray:
    env = make("click_bell", cameras=("head",), image_size=(32, 32), render={**FLAGS, "mesh_detail": detail})
    states = []
    ScriptedExpert(env).run(0, lambda _o, _a, _i: states.append(env.data.qpos.copy()))
    env.close()
    return np.array(states)


@pytest.fixture(scope="module")
def policy_states() -> np.ndarray:
    return _expert_qpos("policy")


def test_expert_trajectory_identical_with_either_detail(policy_states):
    full = _expert_qpos("full")
    assert full.shape == policy_states.shape
    assert np.array_equal(full, policy_states)


@pytest.mark.parametrize("task", ["click_bell", "place_empty_cup"])
def test_policy_silhouettes_agree_with_full_detail(task, policy_states):
    """Robot and task-object silhouettes at 96, 128 and 224 px: click_bell mid-episode (the
    right arm reaching for the bell), place_empty_cup at its reset (cup and coaster on the
    table, arms home, out of the head view). The RGB difference is reported, not bounded."""
    must_see = {("head", "objects"), ("right_wrist", "robot"), ("right_wrist", "objects")}
    if task == "click_bell":
        must_see.add(("head", "robot"))
    for size in (96, 128, 224):
        env = make(task, cameras=("head", "right_wrist"), image_size=(size, size),
                   render={**FLAGS, "mesh_detail": "policy"})  # fmt: skip
        full = CameraRig(env.model, env.settings.cameras, (size, size), env.settings.render, "full")
        env.reset(seed=0)
        data = env.data
        if task == "click_bell":
            data = mujoco.MjData(env.model)
            data.qpos[:] = policy_states[50]
            mujoco.mj_forward(env.model, data)
        geoms = silhouette_geoms(env.model, env.robot.arm_geoms["left"] | env.robot.arm_geoms["right"])
        try:
            agreement = detail_agreement(env.cameras, full, data, geoms)
        finally:
            full.close()
            env.close()
        for camera, row in agreement.items():
            print(f"{task} {size}px {camera}: " + ", ".join(f"{k} {v:.3f}" for k, v in row.items()))
        seen = {(c, label) for c, row in agreement.items() for label in SILHOUETTES
                if row[f"{label}_pixels"] > 20}  # fmt: skip
        assert must_see <= seen, (size, must_see - seen)
        for camera, label in seen:
            assert agreement[camera][f"{label}_iou"] >= 0.97, (size, camera, label, agreement)


def test_detail_comparison_png(tmp_path):
    """`sim2real render --mesh-detail-compare`'s picture: 2x2 tiles of 224 px (full, policy)."""
    from PIL import Image

    from sim2real.env import make
    from sim2real.render.agreement import write_detail_comparison

    env = make("click_bell", cameras=("head",), image_size=(224, 224), render={"mesh_detail": "policy"})
    try:
        env.reset(seed=0)
        path = write_detail_comparison(env, tmp_path / "detail.png")
    finally:
        env.close()
    assert Image.open(path).size == (448, 448)
