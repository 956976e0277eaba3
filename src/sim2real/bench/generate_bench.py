"""`sim2real bench generate`: generation speed against its floor.

The floor is what generation cannot avoid: the bare mj_step calls and bare mujoco.Renderer renders
of exactly the frames the dataset holds, timed in the same run. Everything above it (the seed
search, IK planning, encoding, parquet, bookkeeping) is our overhead.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any

import mujoco

from sim2real.data.generate import GenerateSpec, generate
from sim2real.data.reader import Dataset
from sim2real.render.detail import geom_groups, has_policy_detail
from sim2real.settings import make_settings


def _floor_seconds(root: Path, spec: GenerateSpec) -> float:
    from sim2real.env import make
    from sim2real.render.cameras import MODEL_CAMERA

    env = make(spec.task, **{**spec.settings, "cameras": ()})
    width, height = spec.settings["image_size"]
    renderer = mujoco.Renderer(env.model, height=height, width=width)
    renderer.scene.flags[mujoco.mjtRndFlag.mjRND_SHADOW] = spec.settings["render"]["shadows"]
    option = mujoco.MjvOption()  # the floor draws the same detail as the dataset's frames
    if has_policy_detail(env.model):
        option.geomgroup[:] = geom_groups(env.settings.mesh_detail)
    cameras = [env.model.camera(MODEL_CAMERA[c]).id for c in spec.settings["cameras"]]
    dataset = Dataset(root)
    total = 0.0
    for index in range(len(dataset)):
        episode = dataset.episode(index)
        env.reset(seed=episode.seed)  # the same initial state (set-up, not timed)
        ctrl = [env.robot.action_to_ctrl(a) for a in episode.actions]
        started = time.perf_counter()
        for action_ctrl in ctrl:
            for camera in cameras:  # the frame recorded with this action
                renderer.update_scene(env.data, camera=camera, scene_option=option)
                renderer.render()
            env.data.ctrl[env.robot.ctrl_index] = action_ctrl
            for _ in range(env.substeps):
                mujoco.mj_step(env.model, env.data)
        total += time.perf_counter() - started
    renderer.close()
    env.close()
    return total


RENDER_THREADS = 1  # llvmpipe threads per process: the figures are per core


def bench_generate(
    task: str, episodes: int, image_size: tuple[int, int], mesh_detail: str = "auto"
) -> dict[str, Any]:
    """Per core: every process renders with one llvmpipe thread (set before this process makes
    its first GL context), so one worker uses one core and two workers two; by default one
    process would spread its rendering over all cores and hide the per-core cost.
    `mesh_detail` (auto | full | policy) is render.mesh_detail: full against policy at a policy
    resolution is the level-of-detail meshes' before and after."""
    os.environ["LP_NUM_THREADS"] = str(RENDER_THREADS)
    made = make_settings(image_size=image_size, render={"mesh_detail": mesh_detail})
    settings = made.model_dump(mode="json")
    spec = GenerateSpec(task, settings, episodes, first_seed=0)
    with tempfile.TemporaryDirectory() as scratch:
        one, two = Path(scratch) / "one", Path(scratch) / "two"
        started = time.perf_counter()
        summary = generate(spec, one, workers=1)
        one_worker = time.perf_counter() - started
        floor = _floor_seconds(one, spec)
        started = time.perf_counter()
        generate(spec, two, workers=2)
        two_workers = time.perf_counter() - started
    return {
        "task": task,
        "episodes": episodes,
        "cameras": settings["cameras"],
        "image_size": list(image_size),
        "mesh_detail": made.mesh_detail,
        "seconds_one_worker": one_worker,
        "episodes_per_hour_per_core": 3600 * episodes / one_worker,
        "floor_seconds": floor,
        "ratio_to_floor": one_worker / floor,
        "ratio_target": 1.5,
        "seconds_two_workers": two_workers,
        "speedup_two_workers": one_worker / two_workers,
        "speedup_target": 1.7,
        "bytes_per_episode": summary["bytes"] / episodes,
        "render_threads_per_process": RENDER_THREADS,
        "frames": summary["frames"],
    }
