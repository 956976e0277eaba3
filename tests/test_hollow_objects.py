"""Bowls, cups and coasters: at rest they stay at rest; bowls nest; a cup holds things inside."""

import mujoco
import numpy as np
import pytest

from sim2real.scene.library import category, instance


def _world(objects, sphere=None):
    """A floor plus objects ({name: (instance, (x, y, z))}); optionally a small free sphere."""
    spec = mujoco.MjSpec()
    spec.option.timestep = 0.004
    spec.worldbody.add_geom(type=mujoco.mjtGeom.mjGEOM_PLANE, size=[1, 1, 0.1])
    for name, (inst, _) in objects.items():
        inst.add_to(spec, name)
    if sphere is not None:
        ball = spec.worldbody.add_body(name="ball", pos=list(sphere))
        ball.add_freejoint()
        ball.add_geom(type=mujoco.mjtGeom.mjGEOM_SPHERE, size=[0.01, 0, 0], density=1000)
    model = spec.compile()
    data = mujoco.MjData(model)
    for name, (_, pos) in objects.items():
        adr = model.joint(f"{name}/free").qposadr[0]
        data.qpos[adr : adr + 3] = pos
    mujoco.mj_forward(model, data)
    return model, data


def _settle(model, data, seconds):
    for _ in range(round(seconds / model.opt.timestep)):
        mujoco.mj_step(model, data)


@pytest.mark.parametrize("name", ["bowl", "cup", "coaster"])
def test_objects_at_rest_stay_at_rest(name):
    objects = {f"o{k}": (inst, (0.3 * k, 0.0, 0.0)) for k, inst in enumerate(category(name).instances)}
    model, data = _world(objects)
    _settle(model, data, 0.2)  # contacts take hold
    before = {o: data.body(o).xpos.copy() for o in objects}
    _settle(model, data, 2.0)
    for o in objects:
        assert np.linalg.norm(data.body(o).xpos - before[o]) < 1e-3, o


def test_a_bowl_nests_in_another():
    bowl = instance("bowl/seen/0")
    model, data = _world({"lower": (bowl, (0, 0, 0)), "upper": (bowl, (0.005, 0, 0.03))})
    _settle(model, data, 1.5)
    lower, upper = data.body("lower").xpos, data.body("upper").xpos
    assert np.hypot(*(upper[:2] - lower[:2])) < 0.02
    assert 0.003 < upper[2] - lower[2] < bowl.height / 2  # sunk in, not sitting on the rim


def test_a_cup_holds_a_small_sphere():
    cup = instance("cup/seen/0")
    model, data = _world({"cup": (cup, (0, 0, 0))}, sphere=(0.0, 0.0, cup.height + 0.02))
    _settle(model, data, 1.5)
    ball = data.body("ball").xpos
    assert np.hypot(ball[0], ball[1]) < cup.top_radius  # inside the wall
    assert ball[2] < cup.height / 2  # down at the bottom, not on a lid
