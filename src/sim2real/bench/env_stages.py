"""Where an env step's time goes at policy resolution, stage by stage (part of `bench env`).

For each mesh detail (`full`, then `policy`) and each camera set at policy resolution (the head
camera at 96x96, the three cameras at 224x224), the expert's own actions are replayed and each
step is split into

* physics: the action's servo targets and the control step's `mj_step`s (with success checks),
* scene update: `mjv_updateScene`, once per step for all cameras,
* draw: `mjr_render` per camera (on llvmpipe: state changes, vertex work, binning),
* readback: `mjr_readPixels` per camera (on llvmpipe this also finishes the rasterization),
* other: the rest of `env.step` (action checks, the observation's image copies, state, info),
  that is the whole `env.step` timed in the same round minus the four stages above.

A trivial scene (a plane and a box, one camera) rendered by a bare `mujoco.Renderer` with the
same flags and size is the yardstick of a camera's frame (issue 15: the head frame at 96x96
within 30x of it). Times are process CPU time with one llvmpipe thread, so the figures are per
core and other processes' load moves them less; trivial and station rounds alternate.

Each camera set also reports how policy detail agrees with full detail on the expert's states
(`render.agreement`): the robot's and the task objects' silhouette IoU (the worst over states
and cameras) and the mean absolute RGB difference in 8-bit levels.
"""

from __future__ import annotations

import os
import time
from typing import Any

import mujoco
import numpy as np
from rich.table import Table

from sim2real.bench.env_bench import time_env_steps
from sim2real.core.contract import CAMERA_NAMES
from sim2real.render.agreement import SILHOUETTES, detail_agreement, silhouette_geoms
from sim2real.render.cameras import CameraRig

STAGE_RENDER = {"shadows": False, "msaa": 0}  # the policy-rate setting the targets are set in
STAGE_SETUPS: dict[str, tuple[tuple[str, ...], tuple[int, int]]] = {
    "head96": (("head",), (96, 96)),  # the head camera at 96x96
    "3cam224": (CAMERA_NAMES, (224, 224)),  # head and both wrists at 224x224
}
DETAILS = ("full", "policy")
STAGES = ("physics", "scene_update", "draw", "readback", "other")
HEAD_OVER_TRIVIAL_TARGET = 30.0
HEAD_STEPS_PER_SECOND_TARGET = 250.0
THREE_CAMERA_SPEEDUP_TARGET = 2.0
IOU_TARGET = 0.97
clock = time.process_time


def one_render_thread() -> None:
    """llvmpipe rasterizes with one thread (read when the first GL context starts): per core."""
    os.environ.setdefault("LP_NUM_THREADS", "1")


def trivial_scene(size: int) -> tuple[mujoco.Renderer, mujoco.MjData]:
    """A plane and a box seen by one camera, with the station's frame flags (no shadows, no
    MSAA, no reflections): what a frame costs when the scene costs nothing."""
    spec = mujoco.MjSpec()
    spec.worldbody.add_geom(type=mujoco.mjtGeom.mjGEOM_PLANE, size=[1, 1, 0.1])
    box = spec.worldbody.add_body(pos=[0, 0, 0.2])
    box.add_geom(type=mujoco.mjtGeom.mjGEOM_BOX, size=[0.1, 0.1, 0.1])
    spec.worldbody.add_camera(name="view", pos=[0, -1, 1], xyaxes=[1, 0, 0, 0, 0.7, 0.7])
    spec.visual.quality.offsamples = STAGE_RENDER["msaa"]
    model = spec.compile()
    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    renderer = mujoco.Renderer(model, size, size)
    renderer.scene.flags[mujoco.mjtRndFlag.mjRND_SHADOW] = STAGE_RENDER["shadows"]
    return renderer, data


def _trivial_frame_seconds(renderer: mujoco.Renderer, data: mujoco.MjData, frames: int) -> float:
    started = clock()
    for _ in range(frames):
        renderer.update_scene(data, camera=0)
        renderer.render()
    return (clock() - started) / frames


def _step_seconds(env, actions: np.ndarray, steps: int) -> float:
    """CPU seconds per whole env.step (resets after an episode's end counted, as in rollouts)."""
    return time_env_steps(env, actions, steps, clock) / steps


def _stage_seconds(env, actions: np.ndarray, steps: int) -> dict[str, float]:
    """CPU seconds per step in physics, scene update, draw and readback, the env's own calls
    in env.step's order (episode resets not timed)."""
    rig, data = env.cameras, env.data
    total = dict.fromkeys(STAGES[:-1], 0.0)
    env.reset(seed=0)
    for i in range(steps):
        t0 = clock()
        env.apply_action(actions[i % len(actions)])
        env.advance(env.substeps)
        t1 = clock()
        rig.update(data)
        t2 = clock()
        total["physics"] += t1 - t0
        total["scene_update"] += t2 - t1
        for camera in rig.cameras:
            t3 = clock()
            rig.draw(data, camera)
            t4 = clock()
            rig.read(camera)
            total["draw"] += t4 - t3
            total["readback"] += clock() - t4
        env.steps += 1
        if env.success or env.steps >= env.max_steps:
            env.reset(seed=0)
    return {stage: value / steps for stage, value in total.items()}


def _median(values: list[float]) -> float:
    return float(np.median(values))


def bench_setup(
    env,
    actions: np.ndarray,
    steps: int,
    trivial: tuple[mujoco.Renderer, mujoco.MjData],
    rounds: int,
) -> dict[str, Any]:
    """One env (one detail, one camera set): stages, whole steps and frames, `rounds` times
    alternating with the trivial frame; medians."""
    runs: dict[str, list[float]] = {key: [] for key in (*STAGES[:-1], "step", "frame", "trivial")}
    rig = env.cameras
    _step_seconds(env, actions, 3)  # warm up: textures, caches
    for _ in range(rounds):
        runs["trivial"].append(_trivial_frame_seconds(*trivial, frames=4 * steps))
        for stage, seconds in _stage_seconds(env, actions, steps).items():
            runs[stage].append(seconds)
        runs["step"].append(_step_seconds(env, actions, steps))
        started = clock()
        for _ in range(steps):
            rig.render_all(env.data)
        runs["frame"].append((clock() - started) / steps)
    ms = {key: 1000 * _median(values) for key, values in runs.items()}
    per_camera_ms = ms["frame"] / len(rig.cameras)
    stage_ms = {stage: ms[stage] for stage in STAGES[:-1]}
    stage_ms["other"] = ms["step"] - sum(stage_ms.values())
    return {
        "stages_ms": stage_ms,
        "step_ms": ms["step"],
        "env_steps_per_second": 1000 / ms["step"],
        "frame_ms": ms["frame"],  # all cameras of one step: update, draws, readbacks
        "trivial_frame_ms": ms["trivial"],  # at the same size
        "camera_frame_over_trivial": per_camera_ms / ms["trivial"],
        "triangles": _triangles(env),
    }


def agreement_with_full(env, actions: np.ndarray, states: int = 3) -> dict[str, float]:
    """Policy vs full detail on `states` expert states spread over seed 0's episode (`env`
    draws at policy detail; a full-detail rig on the same model draws the same states): the
    worst silhouette IoU per label over states and cameras where it covers pixels, and the mean
    absolute RGB difference over all frames."""
    full = CameraRig(env.model, env.cameras.cameras, env.settings.image_size, env.settings.render)
    arms = env.robot.arm_geoms
    geoms = silhouette_geoms(env.model, arms["left"] | arms["right"])
    worst = dict.fromkeys(SILHOUETTES, 1.0)
    differences: list[float] = []
    marks = {len(actions) * (k + 1) // (states + 1) for k in range(states)}
    try:
        env.reset(seed=0)
        for i, action in enumerate(actions):
            if i in marks:
                for row in detail_agreement(env.cameras, full, env.data, geoms).values():
                    differences.append(row["rgb_mean_abs_diff"])
                    for label in SILHOUETTES:
                        if row[f"{label}_pixels"] > 20:
                            worst[label] = min(worst[label], row[f"{label}_iou"])
            env.apply_action(action)
            env.advance(env.substeps)
    finally:
        full.close()
    return {f"{label}_iou_min": value for label, value in worst.items()} | {
        "rgb_mean_abs_diff": float(np.mean(differences)),
        "states": len(marks),
    }


def _triangles(env) -> int:
    """Mesh triangles the rig draws per camera (its geom groups), over all mesh geoms."""
    model, groups = env.model, env.cameras.option.geomgroup
    meshes = (model.geom_type == mujoco.mjtGeom.mjGEOM_MESH) & (groups[model.geom_group] > 0)
    return int(model.mesh_facenum[model.geom_dataid[meshes]].sum())


def bench_stages(task: str, actions: np.ndarray, steps: int, rounds: int = 3) -> dict[str, Any]:
    """Every detail x camera set of `task`, with the issue-15 ratios (all from this one run)."""
    from sim2real.env import make

    one_render_thread()
    results: dict[str, dict[str, Any]] = {}
    agreement: dict[str, dict[str, float]] = {}
    for setup, (cameras, size) in STAGE_SETUPS.items():
        trivial = trivial_scene(size[0])
        try:
            for detail in DETAILS:
                env = make(
                    task,
                    cameras=cameras,
                    image_size=size,
                    render={**STAGE_RENDER, "mesh_detail": detail},
                )
                try:
                    results[f"{setup} {detail}"] = bench_setup(env, actions, steps, trivial, rounds)
                    if detail == "policy":
                        agreement[setup] = agreement_with_full(env, actions)
                finally:
                    env.close()
        finally:
            trivial[0].close()
    head, three = STAGE_SETUPS
    return {
        "render": STAGE_RENDER,
        "render_threads": os.environ["LP_NUM_THREADS"],
        "clock": "process CPU time",
        "steps_per_measurement": steps,
        "rounds": rounds,
        "setups": results,
        "policy_vs_full": agreement,
        "iou_target": IOU_TARGET,
        "head96_over_trivial": results[f"{head} policy"]["camera_frame_over_trivial"],
        "head96_over_trivial_target": HEAD_OVER_TRIVIAL_TARGET,
        "head96_env_steps_per_second": results[f"{head} policy"]["env_steps_per_second"],
        "head96_env_steps_per_second_target": HEAD_STEPS_PER_SECOND_TARGET,
        "three224_policy_speedup_over_full": (
            results[f"{three} full"]["frame_ms"] / results[f"{three} policy"]["frame_ms"]
        ),
        "three224_speedup_target": THREE_CAMERA_SPEEDUP_TARGET,
    }


def format_stages(report: dict[str, Any]) -> Table:
    """One row per camera set and detail: ms per step in each stage, steps/s, frame x trivial."""
    table = Table(
        "setup", "tris", "phys", "scene", "draw", "read", "other", "step", "steps/s",
        "x triv",
        title=f"bench env stages: {report['task']}, CPU ms per step (1 core, no shadows, MSAA 0)",
    )  # fmt: skip
    for name, row in report["setups"].items():
        stages = row["stages_ms"]
        table.add_row(
            name, f"{row['triangles'] // 1000}k",
            *(f"{stages[s]:.2f}" for s in STAGES), f"{row['step_ms']:.2f}",
            f"{row['env_steps_per_second']:.0f}", f"{row['camera_frame_over_trivial']:.1f}",
        )  # fmt: skip
    table.caption = (
        f"x triv: one camera's frame over a trivial scene's at the same size. Head 96 (policy) "
        f"{report['head96_over_trivial']:.1f}x (target <= "
        f"{report['head96_over_trivial_target']:.0f}), {report['head96_env_steps_per_second']:.0f}"
        f" steps/s (target >= {report['head96_env_steps_per_second_target']:.0f}); 3 cameras 224:"
        f" policy {report['three224_policy_speedup_over_full']:.2f}x faster than full"
    )
    for setup, row in report["policy_vs_full"].items():
        table.caption += (
            f"\n{setup} policy vs full ({row['states']} expert states): silhouette IoU min robot "
            f"{row['robot_iou_min']:.3f}, objects {row['objects_iou_min']:.3f} (target >= "
            f"{report['iou_target']}); mean |RGB diff| {row['rgb_mean_abs_diff']:.3f} of 255"
        )
    return table
