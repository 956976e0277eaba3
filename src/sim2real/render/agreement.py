"""How closely policy mesh detail agrees with full detail, for the same physics state.

Two measures per camera: the segmentation silhouettes of the robot and of the task objects
(IoU of the pixels each covers at either detail; issue 15 asks for >= 0.97 at 96-224 px), and
the mean absolute RGB difference of the two colour frames, in 8-bit levels. Task objects are
drawn identically at both details (only the arms and the floor have policy copies), so their
IoU tests what the policy arms hide of them and whether the copies leak into other geoms.
`tests/test_mesh_detail.py` asserts the bound; `bench env` reports the numbers.
"""

from __future__ import annotations

import mujoco
import numpy as np

from sim2real.render.cameras import CameraRig

SILHOUETTES = ("robot", "objects")


def silhouette_geoms(model: mujoco.MjModel, robot_geoms: set[int]) -> dict[str, np.ndarray]:
    """Per silhouette, a boolean over geom ids (one extra False at the end for 'no geom', -1).
    Objects: geoms of root bodies that are neither the world, the table nor an arm, that is the
    task's objects (and distractors, when a randomization factor adds them)."""
    robot = np.zeros(model.ngeom + 1, bool)
    robot[list(robot_geoms)] = True
    roots = model.body_rootid[model.geom_bodyid]
    station = {0, model.body("table").id} | {int(roots[g]) for g in robot_geoms}
    objects = np.zeros(model.ngeom + 1, bool)
    objects[: model.ngeom] = ~np.isin(roots, list(station)) & ~robot[: model.ngeom]
    return {"robot": robot, "objects": objects}


def iou(a: np.ndarray, b: np.ndarray) -> float:
    union = (a | b).sum()
    return float((a & b).sum() / union) if union else 1.0


def detail_agreement(
    policy: CameraRig, full: CameraRig, data: mujoco.MjData, geoms: dict[str, np.ndarray]
) -> dict[str, dict[str, float]]:
    """Per camera of the rigs: each silhouette's IoU, its pixel count at full detail, and the
    mean absolute RGB difference (8-bit levels) of the two frames of `data`."""
    result: dict[str, dict[str, float]] = {}
    for camera in policy.cameras:
        ours, theirs = policy.segment(data, camera), full.segment(data, camera)
        row: dict[str, float] = {}
        for label, members in geoms.items():
            a, b = members[ours], members[theirs]  # -1 (no geom) picks the trailing False
            row[f"{label}_iou"] = iou(a, b)
            row[f"{label}_pixels"] = int(b.sum())
        difference = policy.render(data, camera).astype(np.int16) - full.render(data, camera)
        row["rgb_mean_abs_diff"] = float(np.abs(difference).mean())
        result[camera] = row
    return result


COMPARE_SIZES = (96, 224)  # policy resolutions shown side by side (issue 15)


def write_detail_comparison(env, path, camera: str = "head"):
    """One PNG of `camera`'s view of `env`'s current state: full vs policy mesh detail
    (columns) at 96 and 224 px (rows; 96 px frames enlarged with nearest pixels, so what the
    policy sees stays visible). `env` is a made and reset env whose model holds the policy
    copies (`render.mesh_detail: policy`); the caller builds it, since env sits above render."""
    from PIL import Image

    from sim2real.media import contact_sheet, save_png

    largest = max(COMPARE_SIZES)
    images, labels = [], []
    for size in COMPARE_SIZES:
        for detail in ("full", "policy"):
            rig = CameraRig(env.model, (camera,), (size, size), env.settings.render, detail)
            try:
                image = rig.render(env.data, camera)
            finally:
                rig.close()
            if size != largest:
                enlarged = Image.fromarray(image).resize((largest, largest), Image.NEAREST)
                image = np.asarray(enlarged)
            images.append(image)
            labels.append(f"{detail} {size}px")
    return save_png(path, contact_sheet(images, labels, columns=2))
