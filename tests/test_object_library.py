"""The procedural object library: categories, seen/unseen splits, and stability at rest."""

import mujoco
import numpy as np
import pytest

from sim2real import Sim2RealError
from sim2real.scene.library import categories, category, instance
from sim2real.scene.library.distractors import SEEN_COLOURS, UNSEEN_COLOURS
from sim2real.scene.physics import PhysicsSettings, finalize_physics
from sim2real.scene.station import build_station_spec

ALL_INSTANCES = [inst for cat in categories() for inst in cat.instances]


def test_at_least_twelve_distractor_categories_with_both_splits():
    distractors = categories("distractor")
    assert len(distractors) >= 12
    for cat in distractors:
        assert len(cat.split("seen")) >= 2 and len(cat.split("unseen")) >= 1
        sizes = {round(i.height, 4) for i in cat.instances}
        assert len(sizes) == len(cat.instances), f"{cat.name} instances must differ in size"


def test_unseen_instances_use_colourways_the_seen_ones_never_have():
    assert not set(SEEN_COLOURS) & set(UNSEEN_COLOURS)
    for cat in categories("distractor"):
        seen = {i.colour_name for i in cat.split("seen")}
        unseen = {i.colour_name for i in cat.split("unseen")}
        assert seen <= set(SEEN_COLOURS) and unseen <= set(UNSEEN_COLOURS)


def test_lookups_and_errors():
    assert category("bell").kind == "task"
    assert instance("mug/seen/0").category == "mug"
    assert "mug" in instance("mug/seen/0").phrase
    with pytest.raises(Sim2RealError, match="invalid object category: 'unicorn'; allowed: "):
        category("unicorn")


@pytest.mark.parametrize("inst", ALL_INSTANCES, ids=lambda i: i.instance_id)
def test_objects_at_rest_stay_at_rest(inst):
    """Placed alone on the table, settled for 0.5 s, an object drifts < 1 mm over 2 s."""
    physics = PhysicsSettings()
    spec = build_station_spec(physics)
    inst.add_to(spec, "obj")
    finalize_physics(spec, physics)
    model = spec.compile()
    data = mujoco.MjData(model)
    address = model.joint("obj/free").qposadr[0]
    data.qpos[address : address + 7] = [0.0, 0.1, 0.74, 1.0, 0.0, 0.0, 0.0]
    mujoco.mj_forward(model, data)
    for _ in range(int(0.5 / model.opt.timestep)):
        mujoco.mj_step(model, data)
    settled = data.qpos[address : address + 3].copy()
    assert abs(settled[2] - 0.74) < 0.003, "the object sank into or floats above the table"
    for _ in range(int(2.0 / model.opt.timestep)):
        mujoco.mj_step(model, data)
    drift = np.linalg.norm(data.qpos[address : address + 3] - settled)
    assert drift < 1e-3, f"{inst.instance_id} drifted {drift * 1000:.2f} mm at rest"
    top = data.xpos[model.body("obj").id][2] + inst.height
    assert inst.height > 0.005 and top < 0.74 + 0.25


@pytest.mark.parametrize("name", ["hammer", "block", "bottle"])
def test_task_categories_vary_in_shape_and_colour(name):
    cat = category(name)
    assert cat.kind == "task"
    assert len(cat.split("seen")) >= 2 and len(cat.split("unseen")) >= 2
    for split in ("seen", "unseen"):
        phrases = [i.phrase for i in cat.split(split)]
        assert len(set(phrases)) == len(phrases), f"{name} {split} instances must be told apart"
    words = ("instance_id", "split", "colour_name", "size_name")
    shapes = {
        tuple(v for k, v in vars(i).items() if k not in words and "rgba" not in k)
        for i in cat.instances
    }
    assert len(shapes) >= 4, f"{name} instances must differ in shape, not only in colour"


def _compiled(inst):
    spec = build_station_spec()
    inst.add_to(spec, "obj")
    model = spec.compile()
    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    return model, data


@pytest.mark.parametrize("inst", category("hammer").instances, ids=lambda i: i.instance_id)
def test_hammer_grip_is_at_its_centre_of_mass(inst):
    """The expert holds a hammer at its grip; elsewhere it would twist in the fingers."""
    model, data = _compiled(inst)
    body = model.body("obj").id
    grip = data.site_xpos[model.site("obj/grip").id]
    centre = data.xipos[body]
    assert abs(grip[0] - centre[0]) < 1e-6
    assert abs(grip[1] - centre[1]) < 1e-4
    head = data.site_xpos[model.site("obj/head").id]
    assert grip[1] - head[1] >= inst.head_width / 2 + 0.015  # the fingers fit between


@pytest.mark.parametrize("inst", category("bottle").instances, ids=lambda i: i.instance_id)
def test_bottle_grasp_height_is_on_the_body_and_the_cap_is_on_top(inst):
    model, data = _compiled(inst)
    grasp = data.site_xpos[model.site("obj/grasp").id]
    assert 0.04 < grasp[2] - data.xpos[model.body("obj").id][2] < inst.body_height - 0.02
    cap = model.geom("obj/cap")
    top = data.geom_xpos[cap.id][2] + cap.size[1] - data.xpos[model.body("obj").id][2]
    assert top == pytest.approx(inst.height, abs=1e-6)
