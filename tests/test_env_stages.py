"""`bench env`'s per-stage breakdown on a tiny setup: every stage measured, the trivial yardstick
drawn, and an unknown task refused before any work (the full benchmark is not a test)."""

import numpy as np

from sim2real.bench.env_bench import expert_actions
from sim2real.bench.env_stages import STAGES, agreement_with_full, bench_setup, trivial_scene
from sim2real.env import make
from tests.test_cli import run_cli


def test_stage_breakdown_of_a_tiny_setup():
    actions = expert_actions("click_bell")
    trivial = trivial_scene(32)
    renderer, data = trivial
    renderer.update_scene(data, camera=0)
    frame = renderer.render()
    assert frame.shape == (32, 32, 3) and frame.std() > 0  # the box and plane are drawn
    env = make("click_bell", cameras=("head",), image_size=(32, 32),
               render={"shadows": False, "msaa": 0, "mesh_detail": "policy"})  # fmt: skip
    try:
        row = bench_setup(env, actions, steps=4, trivial=trivial, rounds=1)
        agreement = agreement_with_full(env, actions, states=1)
    finally:
        env.close()
        trivial[0].close()
    assert set(row["stages_ms"]) == set(STAGES)
    assert all(row["stages_ms"][s] > 0 for s in ("physics", "draw", "readback"))
    measured = sum(row["stages_ms"].values())
    assert np.isclose(measured, row["step_ms"])  # "other" is the rest of the whole step
    assert row["camera_frame_over_trivial"] > 1  # the station costs more than a box
    assert 0 < row["triangles"] < 81_672  # policy detail draws fewer than full
    assert agreement["states"] == 1 and 0 <= agreement["rgb_mean_abs_diff"] < 5
    assert min(agreement["robot_iou_min"], agreement["objects_iou_min"]) >= 0.9


def test_unknown_task_is_one_line_before_any_work():
    result = run_cli("bench", "env", "--task", "click_bell,no_such_task")
    assert result.returncode == 2
    assert "invalid task: 'no_such_task'" in result.stderr and "Traceback" not in result.stderr
