"""TD: distractors from the object library, outside the task's working area, settled."""

import numpy as np
import pytest

import sim2real
from sim2real.randomize.distractors import BASE_KEEPOUT, WORK_MARGIN
from sim2real.scene.library import categories, instance

pytestmark = pytest.mark.skipif(
    not categories("distractor"), reason="no distractor categories in the object library yet"
)


@pytest.fixture(scope="module", params=["train", "ood"])
def td_env(request):
    env = sim2real.make("click_bell", cameras=(), randomize="TD", split=request.param)
    yield env
    env.close()


def test_distractors_are_placed_outside_the_working_area_and_settled(td_env):
    for seed in range(4):
        _, info = td_env.reset(seed=seed)
        objects = info["randomization"]["TD"]["objects"]
        low, high = td_env.settings.randomization.distractors
        assert len(objects) <= high and len(objects) >= min(low, 1)
        bell = td_env.data.xpos[td_env.model.body("bell").id, :2]
        placed = []
        for item in objects:
            inst = instance(item["instance"])
            assert inst.category != "bell" and inst.split == (
                "unseen" if td_env.settings.split == "ood" else "seen"
            )
            body = td_env.model.body(f"distractor/{item['slot']}").id
            xyz = td_env.data.xpos[body]
            # settled on the table, not fallen, near where it was placed
            assert xyz[2] == pytest.approx(td_env.view.table_top, abs=0.02)
            assert np.hypot(*(xyz[:2] - item["xy"])) < 0.03
            assert np.hypot(*(np.array(item["xy"]) - bell)) >= WORK_MARGIN + inst.footprint_radius
            for mount in td_env.robot.mounts.values():
                assert np.hypot(item["xy"][0] - mount.x, item["xy"][1] - mount.y) >= BASE_KEEPOUT
            placed.append((np.array(item["xy"]), inst.footprint_radius))
        for i, (a, ra) in enumerate(placed):
            for b, rb in placed[i + 1 :]:
                assert np.hypot(*(a - b)) >= ra + rb


def test_distractors_change_neither_view_factors_nor_layout():
    clean = sim2real.make("click_bell", cameras=())
    env = sim2real.make("click_bell", cameras=(), randomize="TD")
    try:
        _, clean_info = clean.reset(seed=2)
        _, info = env.reset(seed=2)
        assert info["episode"].params == clean_info["episode"].params
        for field in ("tex_data", "light_pos", "light_diffuse", "cam_pos", "cam_quat"):
            np.testing.assert_array_equal(getattr(env.model, field), getattr(clean.model, field))
    finally:
        env.close()
        clean.close()


def test_expert_succeeds_among_distractors():
    from sim2real.experts.runner import ScriptedExpert

    env = sim2real.make("click_bell", cameras=(), randomize="TD")
    try:
        expert = ScriptedExpert(env)
        assert sum(expert.run(seed).success for seed in range(5)) >= 4
    finally:
        env.close()
