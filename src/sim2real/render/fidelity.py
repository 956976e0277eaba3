"""Fidelity presets -> cameras: `make_camera_rig` gives the env one interface for all three."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import mujoco
import numpy as np

from sim2real.render.cameras import CameraRig
from sim2real.render.detail import has_policy_detail, resolve_mesh_detail
from sim2real.render.presets import FIDELITY_LEVELS, RenderSettings


def make_camera_rig(
    model: mujoco.MjModel,
    cameras: Sequence[str],
    image_size: tuple[int, int],
    render: RenderSettings,
    fidelity: str = "low",
):
    """The `cameras` at `image_size` (width, height), rendered at `fidelity`.

    low: MuJoCo's rasterizer; medium and high: the Mitsuba path tracer with the preset's values.
    Every rig has `cameras`, `render(data, camera)`, `render_all(data)` and `close()`.
    """
    if fidelity not in FIDELITY_LEVELS:
        from sim2real.errors import invalid

        raise invalid("fidelity", fidelity, ", ".join(FIDELITY_LEVELS))
    if fidelity == "low":
        detail = resolve_mesh_detail(render.mesh_detail, fidelity, image_size)
        if render.mesh_detail == "auto" and not has_policy_detail(model):
            # auto asks for the cheapest detail the model has; a model built without the
            # policy copies (e.g. sim2real.make(cameras=()) then a rig added later) has full only.
            detail = "full"
        return CameraRig(model, tuple(cameras), image_size, render, detail)
    from sim2real.render.pathtrace import PathTracedCameraRig

    path_tracer = render.path_tracer
    return PathTracedCameraRig(
        model,
        tuple(cameras),
        image_size,
        path_tracer.preset(fidelity),
        path_tracer.variant,
    )


def configure_offscreen(
    spec: mujoco.MjSpec, image_size: tuple[int, int], render: RenderSettings
) -> None:
    """The rasterizer's offscreen buffer in the station's spec: big enough for the images (and
    never under MuJoCo's 640x480), multisampled as `render.msaa` says."""
    width, height = image_size
    spec.visual.global_.offwidth = max(width, 640)
    spec.visual.global_.offheight = max(height, 480)
    spec.visual.quality.offsamples = render.msaa


def parse_fidelity_list(text: str) -> tuple[str, ...]:
    """'low,medium,high' -> ('low', 'medium', 'high'), or a clear error naming the bad level."""
    levels = tuple(part.strip() for part in text.split(",") if part.strip())
    bad = [level for level in levels if level not in FIDELITY_LEVELS]
    if bad or not levels:
        from sim2real.errors import invalid

        raise invalid(
            "fidelity", bad[0] if bad else text, "low, medium, high or a comma list of them"
        )
    return levels


def render_fidelities(
    model: mujoco.MjModel,
    data: mujoco.MjData,
    image_size: tuple[int, int],
    render: RenderSettings,
    camera: str,
    fidelities: Sequence[str],
) -> list[np.ndarray]:
    """The same state seen by `camera` at each fidelity (for side-by-side comparisons)."""
    images = []
    for fidelity in fidelities:
        rig = make_camera_rig(model, (camera,), image_size, render, fidelity)
        try:
            images.append(rig.render(data, camera))
        finally:
            rig.close()
    return images


def fidelity_label(render: RenderSettings, fidelity: str) -> str:
    if fidelity == "low":
        return "low: rasterized"
    preset = render.path_tracer.preset(fidelity)
    denoised = ", denoised" if preset.denoise else ""
    return f"{fidelity}: {preset.spp} spp, depth {preset.max_depth}{denoised}"


def write_fidelity_comparison(
    env, fidelities: Sequence[str], path: Path, camera: str = "head"
) -> Path:
    """One PNG with `camera`'s view of the env's current state at each fidelity, side by side."""
    from sim2real.media import contact_sheet, save_png

    settings = env.settings
    images = render_fidelities(
        env.model, env.data, settings.image_size, settings.render, camera, fidelities
    )
    labels = [fidelity_label(settings.render, fidelity) for fidelity in fidelities]
    return save_png(path, contact_sheet(images, labels))
