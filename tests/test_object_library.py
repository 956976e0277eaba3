"""The procedural object library: categories, seen/unseen splits, and stability at rest."""

import mujoco
import numpy as np
import pytest

from sim2real import Sim2RealError
from sim2real.scene.library import categories, category, instance
from sim2real.scene.library.distractors import SEEN_COLOURS, UNSEEN_COLOURS
from sim2real.scene.station import build_station_spec, finalize_physics
from sim2real.settings import make_settings

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
    settings = make_settings(cameras=())
    spec = build_station_spec(settings)
    inst.add_to(spec, "obj")
    finalize_physics(spec, settings)
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
