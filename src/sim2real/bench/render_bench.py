"""`sim2real bench render`: seconds per head frame at each fidelity, and our cost over the bare
renderer underneath, measured frame by frame in the same run.

Each frame follows one control step of the expert, as every frame of a generated dataset does
(for the path tracer the env has no cameras, so its scene is synced only in the timed frame). Ours is
the rig's whole frame: syncing what moved, rendering, converting to 8-bit sRGB (denoising for
high). Bare is the raw library doing the same scene's frame right after it: MuJoCo's Renderer
(update_scene + render) for low; for the path tracer, Mitsuba's own update of the very
parameters our sync wrote (`params.update()`, which rebuilds Mitsuba's acceleration structure:
a moving scene pays it whoever drives Mitsuba), mi.render and the readback (and OIDN for high).
The difference is what our code adds. Frames alternate ours / bare after a warm-up, so a
machine's load drifts onto both alike.
"""

from __future__ import annotations

import platform
import time
from collections.abc import Callable, Sequence
from typing import Any

import mujoco
import numpy as np
from rich.table import Table

from sim2real.bench.env_bench import expert_actions
from sim2real.env import make
from sim2real.render.fidelity import fidelity_label, make_camera_rig

OVERHEAD_TARGET = 1.3  # our seconds per frame / bare seconds per frame


WARMUP_FRAMES = 2  # compile Mitsuba's kernels and fill caches before timing


def _bare_frame(rig, data: mujoco.MjData, camera: str) -> Callable[[], Any]:
    """One frame of the raw library on the rig's scene, with no conversion of ours."""
    if not hasattr(rig, "mirror"):  # the rasterizer
        # A bare mujoco.Renderer on the same model, flags and visible geom groups.
        renderer = mujoco.Renderer(rig.model, height=rig.rect.height, width=rig.rect.width)
        renderer.scene.flags[:] = rig.scene.flags

        def raster() -> Any:
            renderer.update_scene(data, camera=rig.camera_ids[camera], scene_option=rig.option)
            return renderer.render()

        return raster
    import mitsuba as mi

    from sim2real.render.denoise import denoise

    mirror, preset = rig.mirror, rig.preset
    scene, sensor, params = mirror.scene, mirror.sensors[camera], mirror.params

    def traced() -> Any:
        for key in mirror.last_changes:  # what our sync changed, for Mitsuba to take in again
            params.set_dirty(key)
        params.update()
        image = np.array(mi.render(scene, sensor=sensor, spp=preset.spp, seed=0))
        return (
            denoise(image[..., :3], image[..., 3:6], image[..., 6:9]) if preset.denoise else image
        )

    return traced


def _env_and_rig(task: str, fidelity: str, image_size: tuple[int, int]):
    """The env that steps the physics and the rig whose frames are timed. The path tracer keeps
    the scene between frames, so its env renders nothing itself (each timed frame then syncs
    all that one control step moved). The rasterizer rebuilds its scene every frame, so the
    env's own rig serves (its model carries the mesh detail the rig renders)."""
    if fidelity == "low":
        env = make(task, cameras=("head",), image_size=image_size, fidelity=fidelity)
        return env, env.cameras
    env = make(task, cameras=(), image_size=image_size, fidelity=fidelity)
    return env, make_camera_rig(env.model, ("head",), image_size, env.settings.render, fidelity)


def _frames(fidelity: str, frames: int) -> int:
    return frames * 10 if fidelity == "low" else frames  # the rasterizer is ~100x faster


def bench_render(
    task: str,
    fidelities: Sequence[str],
    frames: int,
    image_size: tuple[int, int],
    advance: Callable[[str], None] = lambda _: None,
) -> dict[str, Any]:
    actions = expert_actions(task)
    results = []
    for fidelity in fidelities:
        env, rig = _env_and_rig(task, fidelity, image_size)
        bare_frame = _bare_frame(rig, env.data, "head")
        count = _frames(fidelity, frames)
        env.reset(seed=0)
        ours = bare = 0.0
        for i in range(WARMUP_FRAMES + count):
            _, _, terminated, truncated, _ = env.step(actions[i % len(actions)])
            if terminated or truncated:
                env.reset(seed=0)
            started = time.perf_counter()
            rig.render(env.data, "head")
            middle = time.perf_counter()
            bare_frame()
            if i >= WARMUP_FRAMES:
                ours, bare = ours + middle - started, bare + time.perf_counter() - middle
            advance(fidelity)
        results.append(
            {
                "fidelity": fidelity,
                "label": fidelity_label(env.settings.render, fidelity),
                "frames": count,
                "seconds_per_frame": ours / count,
                "bare_seconds_per_frame": bare / count,
                "overhead_ratio": ours / bare,
                "variant": getattr(rig, "variant", "mujoco rasterizer"),
            }
        )
        if rig is not env.cameras:
            rig.close()
        env.close()
    return {
        "task": task,
        "machine": f"{platform.processor() or platform.machine()}, {platform.system()}",
        "image_size": list(image_size),
        "overhead_target": OVERHEAD_TARGET,
        "presets": results,
    }


def frames_to_render(fidelities: Sequence[str], frames: int) -> int:
    """Frame pairs (ours and bare) the benchmark renders in all, for the progress bar."""
    return sum(WARMUP_FRAMES + _frames(fidelity, frames) for fidelity in fidelities)


def format_render_bench(report: dict[str, Any]) -> Table:
    w, h = report["image_size"]
    table = Table(
        "preset",
        "renderer",
        "s / head frame",
        "bare s / frame",
        "ratio",
        "target",
        title=f"bench render: {report['task']}, {w}x{h} head camera",
    )
    for row in report["presets"]:
        table.add_row(
            row["label"],
            row["variant"],
            f"{row['seconds_per_frame']:.3f}",
            f"{row['bare_seconds_per_frame']:.3f}",
            f"{row['overhead_ratio']:.2f}",
            f"<= {report['overhead_target']}",
        )
    return table
