"""Policy mesh detail: same physics as full detail, silhouettes that agree with it."""

import mujoco
import numpy as np

from sim2real.env import make
from sim2real.experts.runner import ScriptedExpert
from sim2real.render.cameras import CameraRig

FLAGS = {"shadows": False, "msaa": 0}


def _expert_qpos(detail: str) -> np.ndarray:
    env = make("click_bell", cameras=("head",), image_size=(32, 32), render={**FLAGS, "mesh_detail": detail})
    states = []
    ScriptedExpert(env).run(0, lambda _o, _a, _i: states.append(env.data.qpos.copy()))
    env.close()
    return np.array(states)


def test_expert_trajectory_identical_with_either_detail():
    full, policy = _expert_qpos("full"), _expert_qpos("policy")
    assert full.shape == policy.shape
    assert np.array_equal(full, policy)


def test_policy_silhouettes_agree_with_full_detail():
    for size in (96, 128, 224):
        env = make("click_bell", cameras=("head", "left_wrist"), image_size=(size, size),
                   render={**FLAGS, "mesh_detail": "policy"})
        model = env.model
        full = CameraRig(model, env.settings.cameras, (size, size), env.settings.render, "full")
        robot = np.zeros(model.ngeom, bool)
        robot[list(env.robot.arm_geoms["left"] | env.robot.arm_geoms["right"])] = True
        states = []  # the expert's own states: the arm reaching for the bell, in view
        ScriptedExpert(env).run(0, lambda _o, _a, _i: states.append(env.data.qpos.copy()))
        data = mujoco.MjData(model)
        data.qpos[:] = states[50]
        mujoco.mj_forward(model, data)
        for camera in env.settings.cameras:
            ours, theirs = env.cameras.segment(data, camera), full.segment(data, camera)
            a = (ours >= 0) & robot[np.maximum(ours, 0)]
            b = (theirs >= 0) & robot[np.maximum(theirs, 0)]
            assert b.sum() > 20, (size, camera)
            assert (a & b).sum() / (a | b).sum() >= 0.97, (size, camera)
        full.close()
        env.close()
