"""The console's live head view without a browser: the placement markers land where MuJoCo's
head camera really sees a table position, the runtime hands every head frame of a sim run to
its watcher, and the preview worker renders a trial's scene between runs and lets go of the
station when a run takes it. (The page itself, polling and showing the frames in chromium, is
tested in test_protocol_sim_campaign.py.)"""

import time
from pathlib import Path

import numpy as np
import pytest

from sim2real.protocol.console.live import LiveView, Preview
from sim2real.protocol.console.overlay import MARKER_COLOURS, draw_placements, project
from sim2real.protocol.plan import make_plan
from sim2real.protocol.preset import load_preset

SIM_ROBOT = Path(__file__).resolve().parents[1] / "configs" / "robots" / "sim.yaml"


def test_markers_project_where_mujoco_renders_a_table_point():
    import sim2real.render.gl  # noqa: F401  (headless GL before mujoco)
    import mujoco
    from scipy import ndimage

    from sim2real.scene.station import StationLayout, build_station_spec

    layout = StationLayout()
    points = [(-20.0, 10.0), (15.0, -5.0), (30.0, 20.0), (-5.0, 25.0)]
    radius_cm = 1.2
    spec = build_station_spec()
    for k, (x, y) in enumerate(points):
        spec.worldbody.add_geom(name=f"marker{k}", type=mujoco.mjtGeom.mjGEOM_SPHERE, size=[radius_cm / 100, 0, 0],
                                pos=[x / 100, y / 100, layout.table_top + radius_cm / 100], rgba=[1, 0, 0, 1],
                                contype=0, conaffinity=0)
    model = spec.compile()
    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    width, height = 200, 150
    with mujoco.Renderer(model, height, width) as renderer:
        renderer.update_scene(data, camera="head")
        image = renderer.render()
    red = (image[..., 0] > 180) & (image[..., 1] < 70) & (image[..., 2] < 70)
    labels, count = ndimage.label(red)
    assert count == len(points)
    rendered = np.array([(col + 0.5, row + 0.5) for row, col in ndimage.center_of_mass(red, labels, range(1, count + 1))])
    projected = project(points, width, height, layout, height_cm=radius_cm)
    for u, v in projected:  # every projected point has its rendered sphere within 1.5 px
        assert np.min(np.hypot(rendered[:, 0] - u, rendered[:, 1] - v)) < 1.5, (projected, rendered)


def test_draw_placements_marks_the_projected_position():
    plan = make_plan(load_preset("smoke"), "click_bell", seed=0)
    image = np.full((240, 320, 3), 255, np.uint8)
    marked = draw_placements(image, plan, 2)
    (u, v), = project([plan.trials[2].placements["bell_xy"]], 320, 240)
    row = marked[round(v)]  # the cross's horizontal bar through the marker's centre
    hits = np.where(np.all(row == MARKER_COLOURS[0], axis=1))[0]
    assert len(hits) and abs(np.median(hits) - u) < 2
    assert np.all(image == 255)  # the frame itself is left as it was


@pytest.mark.skipif(not SIM_ROBOT.exists(), reason="configs/robots/sim.yaml (the robot runtime) is missing")
def test_runtime_hands_every_head_frame_of_a_run_to_its_watcher():
    from sim2real.robot.runtime import run_episodes

    frames = []
    records = run_episodes(SIM_ROBOT, "zero", "click_bell", max_seconds=0.4, seed=3, watch={"head": frames.append})
    assert len(records) == 1
    steps = records[0].steps
    # one frame per read: the reset's and one per step (more if the arms first went home)
    assert len(frames) >= steps + 1 and steps == 10
    assert all(f.image.dtype == np.uint8 and f.image.ndim == 3 for f in frames)
    assert [f.index for f in frames] == sorted({f.index for f in frames})  # new frames, in order
    assert frames[0].image.std() > 5  # a rendered scene, not a blank buffer


@pytest.mark.skipif(not SIM_ROBOT.exists(), reason="configs/robots/sim.yaml (the robot runtime) is missing")
def test_preview_renders_the_trials_scene_between_runs_and_yields_to_a_run():
    from sim2real.robot.config import load_robot_config

    plan = make_plan(load_preset("smoke"), "click_bell", seed=0)
    view = LiveView()
    preview = Preview(view, load_robot_config(SIM_ROBOT), "click_bell", {t.index: t.seed for t in plan.trials})
    try:
        first = _wait_for(view, lambda s: s.trial == 0, lambda: preview.want(0))
        assert first.source == "preview" and first.image.shape == (240, 320, 3)
        second = _wait_for(view, lambda s: s.trial == 1, lambda: preview.want(1))
        assert not np.array_equal(first.image, second.image)  # another seed, another scene
        preview.pause()
        preview.want(2)
        time.sleep(0.5)
        assert view.latest().trial == 1  # paused: nothing renders while a run has the station
        preview.resume()
        assert _wait_for(view, lambda s: s.trial == 2, lambda: preview.want(2)).source == "preview"
    finally:
        preview.close()


def _wait_for(view, condition, ask, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ask()
        snapshot = view.latest()
        if snapshot is not None and condition(snapshot):
            return snapshot
        time.sleep(0.1)
    raise TimeoutError(f"no such frame after {timeout} s; latest: {view.latest()}")
