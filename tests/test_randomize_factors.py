"""Each factor changes only what it owns; frame-wise changes every step; determinism; splits."""

import numpy as np
import pytest

import sim2real
from tests.conftest import SMALL, rollout

# Model fields each factor may change (everything else must stay as in the clean scene).
OWNED = {
    "BG": {"tex_data"},
    "LT": {"light_diffuse", "light_specular", "light_pos", "light_dir", "light_type"},
    "CP": {"cam_pos", "cam_quat"},
    "TH": {"body_pos", "geom_size", "geom_pos"},  # the table, and its legs stretched
    "PHY": {"geom_friction", "body_mass", "body_inertia", "dof_damping"},
}
WATCHED = sorted(set().union(*OWNED.values()))


def snapshot(env) -> dict[str, np.ndarray]:
    return {name: getattr(env.model, name).copy() for name in WATCHED}


@pytest.fixture(scope="module")
def clean_snapshot():
    env = sim2real.make("click_bell", cameras=("head",), image_size=SMALL)
    observation, info = env.reset(seed=3)
    yield snapshot(env), observation, info
    env.close()


@pytest.mark.parametrize("factor", sorted(OWNED))
def test_factor_changes_only_what_it_owns(factor, clean_snapshot):
    clean, clean_observation, clean_info = clean_snapshot
    env = sim2real.make("click_bell", cameras=("head",), image_size=SMALL, randomize=factor)
    try:
        observation, info = env.reset(seed=3)
        changed = {
            name for name, value in snapshot(env).items() if not np.array_equal(value, clean[name])
        }
    finally:
        env.close()
    assert changed and changed <= OWNED[factor], f"{factor} changed {changed}"
    assert set(info["randomization"]) == {"factors", "split", factor}
    # The task's layout and instruction come from their own streams: untouched by any factor.
    assert info["episode"].params == clean_info["episode"].params
    assert observation["instruction"] == clean_observation["instruction"]
    if factor != "PHY":  # physics parameters do not show in a still image
        assert not np.array_equal(observation["images/head"], clean_observation["images/head"])


def test_table_height_moves_table_and_objects_not_robot():
    env = sim2real.make("click_bell", cameras=(), randomize="TH")
    clean = sim2real.make("click_bell", cameras=())
    try:
        _, info = env.reset(seed=1)
        clean.reset(seed=1)
        offset = info["randomization"]["TH"]["offset"]
        assert abs(offset) <= 0.03 and offset != 0
        assert env.view.table_top == pytest.approx(clean.view.table_top + offset)
        bell, clean_bell = env.model.body("bell").id, clean.model.body("bell").id
        assert env.data.xpos[bell, 2] - clean.data.xpos[clean_bell, 2] == pytest.approx(
            offset, abs=1e-3
        )
        np.testing.assert_allclose(
            env.data.xpos[env.model.body("left/base_link").id],
            clean.data.xpos[clean.model.body("left/base_link").id],
        )
    finally:
        env.close()
        clean.close()


def test_frame_wise_changes_every_step():
    env = sim2real.make(
        "click_bell", cameras=("head",), image_size=SMALL, randomize="BG+LT+CP", granularity="frame"
    )
    try:
        observation, info = env.reset(seed=0)
        records, images = [info["randomization"]], [observation["images/head"]]
        for _ in range(3):
            observation, *_, info = env.step(env.home_action)
            records.append(info["randomization"])
            images.append(observation["images/head"])
    finally:
        env.close()
    for before, after, image_before, image_after in zip(records, records[1:], images, images[1:]):
        for factor in ("BG", "LT", "CP"):
            assert before[factor] != after[factor]
        assert not np.array_equal(image_before, image_after)


def test_episode_wise_holds_for_the_episode():
    env = sim2real.make("click_bell", cameras=(), randomize="BG+LT+CP+TH")
    try:
        _, first = env.reset(seed=0)
        *_, later = env.step(env.home_action)
        assert later["randomization"] == first["randomization"]
    finally:
        env.close()


def test_same_seed_same_parameters_and_independent_streams():
    records = []
    for spec in ("BG+LT+CP+TH+PHY", "BG+LT+CP+TH+PHY", "CP"):
        env = sim2real.make("click_bell", cameras=(), randomize=spec)
        records.append(env.reset(seed=11)[1]["randomization"])
        env.close()
    assert records[0] == records[1]
    assert records[2]["CP"] == records[0]["CP"]  # turning other factors on leaves CP's draws


def test_ood_varies_only_the_named_factor_beyond_train_ranges():
    env = sim2real.make("click_bell", cameras=(), randomize="CP", split="ood")
    try:
        offsets = []
        for seed in range(20):
            _, info = env.reset(seed=seed)
            assert set(info["randomization"]) == {"factors", "split", "CP"}
            offsets.append(np.linalg.norm(info["randomization"]["CP"]["offset"]))
        assert min(offsets) > 0.05 and max(offsets) <= 0.1
    finally:
        env.close()


def test_train_and_ood_draws_are_disjoint():
    draws = {}
    for split in ("train", "ood"):
        env = sim2real.make("click_bell", cameras=(), randomize="BG+LT+TH", split=split)
        draws[split] = [env.reset(seed=seed)[1]["randomization"] for seed in range(15)]
        env.close()
    train_textures = {r["BG"][s] for r in draws["train"] for s in ("wall", "table")}
    ood_textures = {r["BG"][s] for r in draws["ood"] for s in ("wall", "table")}
    assert all(t.startswith("seen/") for t in train_textures)
    assert all(t.startswith("unseen/") for t in ood_textures)
    assert max(abs(r["TH"]["offset"]) for r in draws["train"]) <= 0.03
    assert min(abs(r["TH"]["offset"]) for r in draws["ood"]) > 0.03
    sun = lambda r: r["LT"]["sun"]["intensity"]
    assert all(0.4 <= sun(r) <= 0.75 for r in draws["train"])
    assert not any(0.4 <= sun(r) <= 0.75 for r in draws["ood"])


def test_expert_trajectory_is_the_same_episode_or_frame_wise():
    states = {}
    for granularity in ("episode", "frame"):
        env = sim2real.make(
            "click_bell",
            cameras=("head",),
            image_size=SMALL,
            randomize="BG+LT+CP+TH",
            granularity=granularity,
        )
        actions, observations = rollout(env, seed=4)
        states[granularity] = (
            np.array(actions),
            np.array([o["state"] for o in observations]),
            env.success,
        )
        env.close()
    np.testing.assert_array_equal(states["episode"][0], states["frame"][0])
    np.testing.assert_array_equal(states["episode"][1], states["frame"][1])
    assert states["episode"][2] and states["frame"][2]


def test_object_instances_come_from_the_split():
    seen = {}
    for split in ("train", "ood"):
        env = sim2real.make("click_bell", cameras=(), randomize="OBJ", split=split)
        seen[split] = set()
        for seed in range(6):
            _, info = env.reset(seed=seed)
            instance = info["randomization"]["OBJ"]["instance"]
            assert env.task.bell.instance_id == instance  # the env rebuilt around it
            seen[split].add(instance)
        env.close()
    assert all("/seen/" in i for i in seen["train"]) and all("/unseen/" in i for i in seen["ood"])
    assert len(seen["train"]) > 1


@pytest.mark.parametrize("name", ["click_bell", "beat_block_hammer", "pick_dual_bottles",
                                  "place_empty_cup", "stack_bowls_two"])
def test_tasks_declare_their_object_slots_and_rebuild_with_other_instances(name):
    from sim2real.scene.library import category
    from sim2real.tasks import task_class

    task = task_class(name)()
    assert task.object_slots and set(task.objects()) == set(task.object_slots)
    assert task.object_categories() == {i.category for i in task.objects().values()}
    slot, *others = task.object_slots
    held = task.objects()[slot]
    other = next(i for i in category(held.category).split("unseen") if i != held)
    rebuilt = task.with_objects(**{slot: other})
    assert type(rebuilt) is type(task) and rebuilt is not task
    assert rebuilt.objects()[slot] is other and task.objects()[slot] is held  # task unchanged
    assert all(rebuilt.objects()[s] is task.objects()[s] for s in others)
    with pytest.raises(ValueError, match=f"{name} has no object slot 'unicorn'; slots: "):
        task.with_objects(unicorn=other)


def test_derived_objects_follow_the_slot():
    from sim2real.scene.library import instance
    from sim2real.tasks import task_class

    hammer = task_class("beat_block_hammer")().with_objects(hammer=instance("hammer/unseen/1"))
    assert hammer.block.split == "unseen"  # the block matches the hammer's split
    bottles = task_class("pick_dual_bottles")().with_objects(bottle=instance("bottle/unseen/0"))
    assert {b.split for b in bottles.bottles.values()} == {"unseen"}


def test_obj_needs_a_task_with_one_object_slot():
    with pytest.raises(sim2real.Sim2RealError, match=(
        r"randomize OBJ needs a task with one object slot; place_empty_cup has 2 \(cup, coaster\)"
    )):
        sim2real.make("place_empty_cup", cameras=(), randomize="OBJ")
