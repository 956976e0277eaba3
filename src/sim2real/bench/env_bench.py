"""`sim2real bench env`: how much the env costs over bare MuJoCo.

Physics: env.step() without cameras vs bare mj_step() doing the same substeps on the same model.
Rendering: env.step() with the head camera vs a bare mujoco.Renderer at the same settings.
Randomization (with --randomize): env.step() with the head camera under the given factors and
granularity vs the same env clean, in the same run (target: at most 1.3 x the clean step time).
Stages (with stage_steps): where a step's time goes at policy resolution, full vs policy mesh
detail, against a trivial scene's frame (`env_stages`).
All replay the expert's own actions, so contacts and motions are those of real episodes.
"""

from __future__ import annotations

import platform
import time
from typing import Any

import mujoco
import numpy as np
from rich.table import Table

from sim2real.env import make
from sim2real.experts.runner import ScriptedExpert


def expert_actions(task: str) -> np.ndarray:
    """The expert's actions of seed 0's episode, replayed by every measurement."""
    env = make(task, cameras=())
    actions: list[np.ndarray] = []
    ScriptedExpert(env).run(0, lambda _obs, action, _info: actions.append(action))
    env.close()
    return np.array(actions[1:])  # the first callback is the reset, not a step


def time_env_steps(env, actions: np.ndarray, count: int, clock=time.perf_counter) -> float:
    """Seconds for `count` env.step()s replaying `actions` from seed 0's reset."""
    env.reset(seed=0)
    started = clock()
    for i in range(count):
        _, _, terminated, truncated, _ = env.step(actions[i % len(actions)])
        if terminated or truncated:
            env.reset(seed=0)  # counted: resets are part of running episodes
    return clock() - started


def bench_randomized_steps(
    task: str,
    actions: np.ndarray,
    frames: int,
    image_size: tuple[int, int],
    randomize: str,
    granularity: str,
) -> dict[str, Any]:
    """Seconds per env step with the head camera: randomized vs clean, interleaved in rounds so
    that load from other processes falls on both alike."""
    envs = {
        spec: make(
            task, cameras=("head",), image_size=image_size, randomize=spec, granularity=granularity
        )
        for spec in ("clean", randomize)
    }
    seconds = dict.fromkeys(envs, 0.0)
    rounds = 3
    try:
        for env in envs.values():
            time_env_steps(env, actions, 3)  # warm up: GL context, texture cache
        for _ in range(rounds):
            for spec, env in envs.items():
                seconds[spec] += time_env_steps(env, actions, frames)
    finally:
        for env in envs.values():
            env.close()
    per_step = {spec: value / (rounds * frames) for spec, value in seconds.items()}
    return {
        "randomize": envs[randomize].settings.randomize,
        "granularity": granularity,
        "randomized_step_ms": 1000 * per_step[randomize],
        "clean_step_ms": 1000 * per_step["clean"],
        "randomization_ratio": per_step[randomize] / per_step["clean"],
        "randomization_target": 1.3,
    }


def bench_env(
    task: str,
    steps: int,
    frames: int,
    image_size: tuple[int, int],
    randomize: str = "clean",
    granularity: str = "episode",
    stage_steps: int = 0,
) -> dict[str, Any]:
    """The env against bare MuJoCo; with `stage_steps`, also the per-stage breakdown at policy
    resolution (`env_stages.bench_stages`) over that many steps per measurement."""
    from sim2real.bench.env_stages import bench_stages, one_render_thread

    if stage_steps:
        one_render_thread()  # before this process's first GL context
    actions = expert_actions(task)

    env = make(task, cameras=())
    env_seconds = time_env_steps(env, actions, steps)
    # Bare mj_step from the env's own reset state (objects placed, robot at home), restarted
    # there when the expert's episode ends, as the env restarts: the same contacts and motions.
    env.reset(seed=0)
    model, start = env.model, env.data
    data = mujoco.MjData(model)
    mujoco.mj_copyData(data, model, start)
    ctrl = [env.robot.action_to_ctrl(a) for a in actions]
    started = time.perf_counter()
    for i in range(steps):
        if i and i % len(ctrl) == 0:
            mujoco.mj_copyData(data, model, start)
        data.ctrl[env.robot.ctrl_index] = ctrl[i % len(ctrl)]
        for _ in range(env.substeps):
            mujoco.mj_step(model, data)
    bare_seconds = time.perf_counter() - started
    substeps = env.substeps
    env.close()

    render_env = make(task, cameras=("head",), image_size=image_size)
    render_seconds = time_env_steps(render_env, actions, frames)
    settings = render_env.settings.render
    model = render_env.model
    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    renderer = mujoco.Renderer(model, height=image_size[1], width=image_size[0])
    renderer.scene.flags[mujoco.mjtRndFlag.mjRND_SHADOW] = settings.shadows
    started = time.perf_counter()
    for _ in range(frames):
        renderer.update_scene(data, camera="head")
        renderer.render()
    bare_render_seconds = time.perf_counter() - started
    renderer.close()
    render_env.close()

    env_sps = steps / env_seconds
    bare_sps = steps / bare_seconds
    env_fps = frames / render_seconds
    bare_fps = frames / bare_render_seconds
    randomized = (
        bench_randomized_steps(task, actions, frames, image_size, randomize, granularity)
        if randomize != "clean"
        else {}
    )
    stages = (
        {"stages": {"task": task} | bench_stages(task, actions, stage_steps)} if stage_steps else {}
    )
    return randomized | stages | {
        "task": task,
        "machine": f"{platform.processor() or platform.machine()}, {platform.system()}",
        "substeps_per_step": substeps,
        "env_steps_per_second": env_sps,
        "bare_mj_step_equivalent_per_second": bare_sps,
        "physics_ratio": env_sps / bare_sps,
        "physics_target": 0.5,
        "image_size": list(image_size),
        "shadows": settings.shadows,
        "msaa": settings.msaa,
        "env_frames_per_second": env_fps,
        "bare_renderer_frames_per_second": bare_fps,
        "render_ratio": env_fps / bare_fps,
        "render_target": 0.8,
    }


def format_env_bench(report: dict[str, Any]) -> Table:
    table = Table(
        "measure", "env", "bare MuJoCo", "ratio", "target", title=f"bench env: {report['task']}"
    )
    table.add_row(
        f"control steps/s ({report['substeps_per_step']} physics steps each, no rendering)",
        f"{report['env_steps_per_second']:.1f}",
        f"{report['bare_mj_step_equivalent_per_second']:.1f}",
        f"{report['physics_ratio']:.2f}",
        f">= {report['physics_target']}",
    )
    w, h = report["image_size"]
    table.add_row(
        f"head frames/s ({w}x{h}, shadows={report['shadows']}, msaa={report['msaa']})",
        f"{report['env_frames_per_second']:.2f}",
        f"{report['bare_renderer_frames_per_second']:.2f}",
        f"{report['render_ratio']:.2f}",
        f">= {report['render_target']}",
    )
    if "randomization_ratio" in report:
        table.add_row(
            f"head step ms, {report['randomize']} {report['granularity']}-wise vs clean",
            f"{report['randomized_step_ms']:.1f}",
            f"{report['clean_step_ms']:.1f} (clean env)",
            f"{report['randomization_ratio']:.2f}",
            f"<= {report['randomization_target']}",
        )
    return table
