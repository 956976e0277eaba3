"""Rendering-path numbers of issue 15 for any checkout (process CPU time, LP_NUM_THREADS=1, shadows off, MSAA 0).

Run on an old checkout for the before column: PYTHONPATH=OLD/src python benchmarks/render_stages.py TASK...
"""
import os, sys, time, json
os.environ["LP_NUM_THREADS"] = "1"
import sim2real, mujoco, numpy as np
from sim2real.env import make
from sim2real.experts.runner import ScriptedExpert
FLAGS = {"shadows": False, "msaa": 0}
clock = time.process_time
def expert_actions(task):
    env = make(task, cameras=())
    acts = []
    ScriptedExpert(env).run(0, lambda o, a, i: acts.append(a))
    env.close(); return np.array(acts[1:])
def steps(env, actions, n):
    env.reset(seed=0); s = clock()
    for i in range(n):
        _, _, te, tr, _ = env.step(actions[i % len(actions)])
        if te or tr: env.reset(seed=0)
    return (clock() - s) / n
def trivial(size):
    spec = mujoco.MjSpec(); spec.worldbody.add_geom(type=mujoco.mjtGeom.mjGEOM_PLANE, size=[1,1,0.1])
    spec.worldbody.add_body(pos=[0,0,0.2]).add_geom(type=mujoco.mjtGeom.mjGEOM_BOX, size=[.1,.1,.1])
    spec.worldbody.add_camera(name="c", pos=[0,-1,1], xyaxes=[1,0,0,0,0.7,0.7]); spec.visual.quality.offsamples = 0
    m = spec.compile(); d = mujoco.MjData(m); mujoco.mj_forward(m, d)
    r = mujoco.Renderer(m, size, size); r.scene.flags[mujoco.mjtRndFlag.mjRND_SHADOW] = 0
    return r, d
def frames(env, n):
    env.cameras.render_all(env.data); s = clock()
    for _ in range(n): env.cameras.render_all(env.data)
    return (clock() - s) / n
def stages(env, n):
    rig = env.cameras
    if not hasattr(rig, "renderer"):
        out = {"update": 0.0, "draw": 0.0, "read": 0.0}
        for _ in range(n):
            t0 = clock(); rig.update(env.data)
            for cam in rig.cameras:
                t1 = clock(); rig.draw(env.data, cam); t2 = clock(); rig.read(cam); t3 = clock()
                out["draw"] += t2 - t1; out["read"] += t3 - t2
            out["update"] += t1 - t0 if len(rig.cameras) == 1 else 0
        return {k: 1000*v/n for k, v in out.items()}
    r = rig.renderer; out = {"update": 0.0, "draw": 0.0, "read": 0.0}
    buf = np.empty((r.height, r.width, 3), np.uint8)
    for _ in range(n):
        for cam in rig.cameras:
            t0 = clock(); r.update_scene(env.data, camera=rig.camera_ids[cam], scene_option=rig.option)
            t1 = clock(); mujoco.mjr_render(r._rect, r.scene, r._mjr_context)
            t2 = clock(); mujoco.mjr_readPixels(buf, None, r._rect, r._mjr_context); img = np.flipud(buf).copy()
            t3 = clock(); out["update"] += t1-t0; out["draw"] += t2-t1; out["read"] += t3-t2
    return {k: 1000*v/n for k, v in out.items()}
res = {}
for task in sys.argv[1:]:
    acts = expert_actions(task)
    phys = make(task, cameras=(), render=FLAGS)
    env_phys = min(steps(phys, acts, 200) for _ in range(3))
    head = make(task, cameras=("head",), image_size=(96, 96), render=FLAGS)
    three = make(task, cameras=("head","left_wrist","right_wrist"), image_size=(224, 224), render=FLAGS)
    tr, td = trivial(96)
    rows = {"triv": [], "head": [], "headstep": [], "three": [], "threestep": []}
    for _ in range(3):
        tr.update_scene(td, camera=0); tr.render(); s = clock()
        for _ in range(200): tr.update_scene(td, camera=0); tr.render()
        rows["triv"].append((clock()-s)/200)
        head.reset(seed=0); rows["head"].append(frames(head, 60))
        rows["headstep"].append(steps(head, acts, 60))
        three.reset(seed=0); rows["three"].append(frames(three, 15))
        rows["threestep"].append(steps(three, acts, 15))
    med = {k: float(np.median(v)) for k, v in rows.items()}
    head.reset(seed=0); three.reset(seed=0)
    r = {"physics_step_ms": 1000*env_phys, "trivial_ms": 1000*med["triv"], "head96_frame_ms": 1000*med["head"],
         "head96_over_trivial": med["head"]/med["triv"], "head96_env_steps_per_s": 1/med["headstep"],
         "three224_frames_ms": 1000*med["three"], "three224_env_steps_per_s": 1/med["threestep"],
         "stages_head96_ms": stages(head, 60), "stages_three224_ms": stages(three, 15)}
    res[task] = r; print(task, json.dumps(r), flush=True)
    for e in (phys, head, three): e.close()
json.dump(res, open(sys.argv[0].replace(".py", "_out.json"), "w"), indent=1)
