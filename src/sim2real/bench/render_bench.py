"""`sim2real bench render`: seconds per head frame at each fidelity, and our cost over the bare
renderer underneath (MuJoCo's Renderer for low; mi.render, plus OIDN when denoising, for
medium and high) on the same, already loaded scene.

Between our frames the robot follows the expert's actions, so each frame pays for syncing the
poses that really moved; the bare renders redraw the loaded scene as it stands.
"""

from __future__ import annotations

import platform
import time
from collections.abc import Callable, Sequence
from typing import Any

import mujoco
import numpy as np
from rich.table import Table

from sim2real.bench.env_bench import _expert_actions
from sim2real.env import make
from sim2real.render.fidelity import fidelity_label

OVERHEAD_TARGET = 1.3  # our seconds per frame / bare seconds per frame


def _bare_frame(rig, data: mujoco.MjData, camera: str) -> Callable[[], Any]:
    """One frame of the raw library on the rig's scene, with no syncing and no conversion."""
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

    scene, sensor, preset = rig.mirror.scene, rig.mirror.sensors[camera], rig.preset

    def traced() -> Any:
        image = np.array(mi.render(scene, sensor=sensor, spp=preset.spp, seed=0))
        return (
            denoise(image[..., :3], image[..., 3:6], image[..., 6:9]) if preset.denoise else image
        )

    return traced


def bench_render(
    task: str,
    fidelities: Sequence[str],
    frames: int,
    image_size: tuple[int, int],
    advance: Callable[[str], None] = lambda _: None,
) -> dict[str, Any]:
    actions = _expert_actions(task)
    results = []
    for fidelity in fidelities:
        env = make(task, cameras=("head",), image_size=image_size, fidelity=fidelity)
        count = frames * 10 if fidelity == "low" else frames  # the rasterizer is ~100x faster
        env.reset(seed=0)
        env.cameras.render(env.data, "head")  # warm-up: compiles Mitsuba's kernels once
        ours = 0.0
        for i in range(count):
            for _ in range(3):  # a few control steps, so the arms really move between frames
                env.step(actions[(3 * i) % len(actions)])
            started = time.perf_counter()
            env.cameras.render(env.data, "head")
            ours += time.perf_counter() - started
            advance(fidelity)
        bare_frame = _bare_frame(env.cameras, env.data, "head")
        bare_frame()
        started = time.perf_counter()
        for _ in range(count):
            bare_frame()
            advance(fidelity)
        bare = time.perf_counter() - started
        results.append(
            {
                "fidelity": fidelity,
                "label": fidelity_label(env.settings.render, fidelity),
                "frames": count,
                "seconds_per_frame": ours / count,
                "bare_seconds_per_frame": bare / count,
                "overhead_ratio": ours / bare,
                "variant": getattr(env.cameras, "variant", "mujoco rasterizer"),
            }
        )
        env.close()
    return {
        "task": task,
        "machine": f"{platform.processor() or platform.machine()}, {platform.system()}",
        "image_size": list(image_size),
        "overhead_target": OVERHEAD_TARGET,
        "presets": results,
    }


def frames_to_render(fidelities: Sequence[str], frames: int) -> int:
    """Frames the benchmark renders in all (ours and bare), for the progress bar."""
    return sum(2 * (frames * 10 if fidelity == "low" else frames) for fidelity in fidelities)


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
