import json
import os
import subprocess
import sys

import mujoco
import numpy as np
import pytest
from PIL import Image

import sim2real
from sim2real import Sim2RealError
from sim2real.render.agreement import iou
from sim2real.render.fidelity import make_camera_rig, parse_fidelity_list
from sim2real.render.mitsuba_variant import select_variant
from sim2real.render.presets import DEFAULT_PRESETS
from tests.test_cli import run_cli

TINY = (64, 48)


def move_left_arm(env, offset: float) -> None:
    action = env.home_action.copy()
    action[:6] += offset * np.array([0.4, 0.3, -0.3, 0.2, 0.3, 0.5])
    env._set_robot(action)
    mujoco.mj_forward(env.model, env.data)


@pytest.fixture(scope="module")
def scene():
    """click_bell at reset, with the left arm moved off its home pose."""
    env = sim2real.make("click_bell", cameras=())
    env.reset(seed=3)
    move_left_arm(env, 1.0)
    yield env
    env.close()


def rig_for(model, settings, fidelity):
    return make_camera_rig(model, settings.cameras, settings.image_size, settings.render, fidelity)


def tiny_settings(env, cameras=("head",), size=TINY, **path_tracer):
    render = env.settings.render.model_dump()
    render["path_tracer"] = {**render["path_tracer"], **path_tracer}
    return sim2real.make_settings(
        **{**env.settings.model_dump(), "cameras": cameras, "image_size": size, "render": render}
    )


def high_frequency_energy(image: np.ndarray) -> float:
    """Mean absolute difference between horizontal neighbours: grain shows up here."""
    grey = image.astype(np.float64).mean(axis=2)
    return float(np.abs(np.diff(grey, axis=1)).mean())


def test_each_preset_renders_an_image(scene):
    settings = tiny_settings(scene)
    for fidelity in ("low", "medium", "high"):
        rig = rig_for(scene.model, settings, fidelity)
        try:
            assert rig.cameras == ("head",)
            images = rig.render_all(scene.data)
        finally:
            rig.close()
        image = images["head"]
        assert image.shape == (TINY[1], TINY[0], 3) and image.dtype == np.uint8
        assert image.std() > 5, f"{fidelity}: flat image, nothing rendered"


def test_presets_are_configured_as_the_paper():
    settings = sim2real.make_settings()
    assert settings.fidelity == "low"
    medium, high = settings.render.path_tracer.medium, settings.render.path_tracer.high
    assert (medium.spp, medium.max_depth, medium.denoise) == (4, 4, False)
    assert (high.spp, high.max_depth, high.denoise) == (32, 8, True)


def test_presets_differ_as_configured(scene):
    settings = tiny_settings(scene, size=(96, 72))
    images, rigs = {}, {}
    for fidelity in ("medium", "high"):
        rigs[fidelity] = rig_for(scene.model, settings, fidelity)
        images[fidelity] = rigs[fidelity].render(scene.data, "head")
    integrators = {f: rig.mirror.scene.integrator() for f, rig in rigs.items()}
    linear = {f: rig.render_linear(scene.data, "head") for f, rig in rigs.items()}
    for rig in rigs.values():
        rig.close()
    assert rigs["medium"].preset == DEFAULT_PRESETS["medium"]
    assert rigs["high"].preset == DEFAULT_PRESETS["high"]
    assert "max_depth = 4" in str(integrators["medium"]) and "max_depth = 8" in str(
        integrators["high"]
    )
    assert linear["medium"].shape[-1] == 3  # colour only
    assert linear["high"].shape[-1] == 9  # colour, albedo and normal for the denoiser
    # 4 noisy samples vs 32 denoised ones: medium is far grainier
    assert high_frequency_energy(images["medium"]) > 2 * high_frequency_energy(images["high"])


def test_partial_override_keeps_the_other_preset_values():
    settings = sim2real.make_settings(fidelity="high", render={"path_tracer": {"high": {"spp": 2}}})
    assert settings.render.path_tracer.high.model_dump() == {
        "spp": 2,
        "max_depth": 8,
        "denoise": True,
    }


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"fidelity": "ultra"}, "invalid fidelity: 'ultra'"),
        (
            {"render": {"path_tracer": {"high": {"spp": 0}}}},
            "invalid render.path_tracer.high.spp: 0",
        ),
        ({"render": {"path_tracer": {"low": {"spp": 2}}}}, "low is the rasterizer"),
        (
            {"render": {"path_tracer": {"medium": {"samples": 2}}}},
            "allowed: spp, max_depth, denoise",
        ),
        ({"render": {"path_tracer": {"variant": "optix"}}}, "invalid render.path_tracer.variant"),
    ],
)
def test_bad_fidelity_settings_are_clear_errors(overrides, message):
    with pytest.raises(Sim2RealError, match=message.replace(".", r"\.").replace("(", r"\(")):
        sim2real.make_settings(**overrides)


def test_fidelity_list_parsing():
    assert parse_fidelity_list("low, medium,high") == ("low", "medium", "high")
    with pytest.raises(Sim2RealError, match="invalid fidelity: 'ultra'"):
        parse_fidelity_list("low,ultra")


def rasterized_segmentation(model, data, camera_id: int, size) -> np.ndarray:
    renderer = mujoco.Renderer(model, height=size[1], width=size[0])
    renderer.enable_segmentation_rendering()
    renderer.update_scene(data, camera=camera_id)
    seg = renderer.render()
    renderer.close()
    return np.where(seg[..., 1] == mujoco.mjtObj.mjOBJ_GEOM, seg[..., 0], -1)


@pytest.mark.parametrize(
    ("camera", "model_camera", "labels"),
    [("head", "head", ("robot", "bell")), ("left_wrist", "left/cam", ("robot",))],  # moving camera
)
def test_path_traced_and_rasterized_silhouettes_agree(scene, camera, model_camera, labels):
    model, data = scene.model, scene.data
    size = (160, 120)
    settings = tiny_settings(scene, cameras=(camera,), size=size, medium={"spp": 1})
    rig = rig_for(model, settings, "medium")
    move_left_arm(scene, -0.5)
    rig.render(data, camera)  # a first frame elsewhere: the next must move what moved
    move_left_arm(scene, 1.0)
    traced = rig.segment(data, camera)
    rig.close()
    raster = rasterized_segmentation(model, data, model.camera(model_camera).id, size)
    body_of = np.append(model.geom_bodyid, -1)  # index -1 (no geom) -> -1
    names = [model.body(b).name for b in range(model.nbody)]
    robot = np.array([n.startswith(("left/", "right/")) for n in names] + [False])
    task = np.array([n.startswith("bell") for n in names] + [False])
    for label in labels:
        wanted = {"robot": robot, "bell": task}[label]
        traced_mask, raster_mask = wanted[body_of[traced]], wanted[body_of[raster]]
        assert raster_mask.sum() > 20, (
            f"{label} barely visible from {camera}; test is not meaningful"
        )
        overlap = iou(traced_mask, raster_mask)
        assert overlap >= 0.95, f"{label} silhouettes differ from {camera}: IoU {overlap:.3f}"
    # collision geoms (group 3) never show in the path-traced image
    assert np.all(model.geom_group[traced[traced >= 0]] <= 2)


def test_texture_and_colour_changes_show_next_frame(scene):
    """A randomizer rewrites model.tex_data and rgba between frames: the mirror must follow."""
    model, data = scene.model, scene.data
    rig = rig_for(model, tiny_settings(scene, medium={"spp": 8}), "medium")
    floor_tex = model.mat_texid[model.geom_matid[model.geom("floor").id], 1]
    start, count = (
        model.tex_adr[floor_tex],
        model.tex_width[floor_tex] * model.tex_height[floor_tex] * 3,
    )
    saved_tex, saved_rgba = model.tex_data[start : start + count].copy(), model.geom_rgba.copy()
    try:
        before = rig.render(data, "head").astype(float)
        rig.frames = 0  # same sampler seed: only the scene differs
        model.tex_data[start : start + count] = np.tile([255, 0, 0], count // 3).astype(np.uint8)
        model.geom_rgba[model.geom("bell/dome").id] = [0.1, 0.9, 0.1, 1.0]
        after = rig.render(data, "head").astype(float)
    finally:
        model.tex_data[start : start + count] = saved_tex
        model.geom_rgba[:] = saved_rgba
        rig.close()
    floor_pixels = (after[..., 0] - after[..., 1] > 60) & (before[..., 0] - before[..., 1] < 60)
    assert floor_pixels.sum() > 20, "the floor did not turn red"
    greener = (after[..., 1] - after[..., 0]) - (before[..., 1] - before[..., 0]) > 60
    assert greener.sum() > 3, "the bell dome did not turn green"


def test_unknown_variant_is_a_clear_error():
    with pytest.raises(Sim2RealError, match="invalid render.path_tracer.variant: 'bogus_rgb'"):
        select_variant("bogus_rgb")


def test_missing_libllvm_says_how_to_install_it_and_auto_falls_back_to_scalar():
    """Dr.Jit reads the library path once per process: try a bogus one in a fresh process."""
    code = """
import warnings
import sim2real
from sim2real.render.mitsuba_variant import select_variant
try:
    select_variant('llvm_ad_rgb')
except Exception as error:
    print(type(error).__name__, error)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter('always')
    env = sim2real.make('click_bell', cameras=('head',), image_size=(32, 24), fidelity='medium',
                        render={'path_tracer': {'medium': {'spp': 1}}})
    observation, _ = env.reset(seed=0)
print('fallback', env.cameras.variant, observation['images/head'].std() > 5)
print('warning', caught[0].message if caught else None)
"""
    env = {**os.environ, "DRJIT_LIBLLVM_PATH": "/nonexistent/libLLVM.so"}
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    lines = result.stdout.splitlines()
    assert len(lines) == 3, result.stdout + result.stderr
    error, fallback, warning = lines
    assert error.startswith("Sim2RealError") and "/nonexistent/libLLVM.so" in error
    assert "sudo apt-get install libllvm19" in error
    assert fallback == "fallback scalar_rgb True"
    assert "scalar_rgb" in warning and "sudo apt-get install libllvm19" in warning


def test_env_renders_observations_path_traced():
    env = sim2real.make(
        "click_bell",
        cameras=("head",),
        image_size=TINY,
        fidelity="medium",
        render={"path_tracer": {"medium": {"spp": 1}}},
    )
    observation, info = env.reset(seed=0)
    assert observation["images/head"].shape == (TINY[1], TINY[0], 3)
    assert info["episode"].settings["fidelity"] == "medium"
    env.close()


def test_render_command_writes_the_presets_side_by_side(tmp_path):
    result = run_cli(
        "render", "--seed", "0", "--out", str(tmp_path), "--image-size", "48x36",
        "--fidelity", "low,medium,high", "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    sheet = np.asarray(Image.open(json.loads(result.stdout)["fidelity_comparison"]))
    assert sheet.shape == (36, 3 * 48, 3)
    low, medium, high = (sheet[20:, i * 48 : (i + 1) * 48].astype(float) for i in range(3))
    assert np.abs(low - medium).mean() > 3 and np.abs(medium - high).mean() > 3


def test_bad_fidelity_on_the_command_line_is_one_line():
    result = run_cli("render", "--fidelity", "low,ultra")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: invalid fidelity: 'ultra'; allowed: low, medium, high or a comma list of them"
    ]


def test_bench_render_reports_ratios_to_bare_renders():
    result = run_cli(
        "bench", "render", "--fidelity", "low,medium", "--frames", "1", "--image-size", "32x24",
        "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert [row["fidelity"] for row in report["presets"]] == ["low", "medium"]
    for row in report["presets"]:
        assert row["seconds_per_frame"] > 0 and row["bare_seconds_per_frame"] > 0
        assert row["overhead_ratio"] == pytest.approx(
            row["seconds_per_frame"] / row["bare_seconds_per_frame"]
        )
