"""Level of detail of rasterized frames: `full` or `policy` (render.mesh_detail).

At policy resolutions (96-320 px) almost none of the arm meshes' 80,000 triangles reaches a
pixel, but every one of them costs vertex work, and every geom a draw call with its state
changes. Policy detail therefore draws, instead of the assets' own visual geoms:

* one merged mesh per body and material: all the body's visual geoms (meshes and primitives)
  in the body's frame, each source mesh quadric-decimated first (`render.decimate`, cached);
* planes with a coarse render grid (MuJoCo draws a plane as a grid of quads, the floor as
  14,400 of them) and no mirror pass (the floor's faint reflection is never in the head view).

Both sets live in one model, told apart by geom group: full-only geoms in FULL_GROUP (the
arm asset's visual class already is), policy-only copies in POLICY_GROUP; a camera picks one
with MjvOption.geomgroup. The copies never collide (contype = conaffinity = 0) and weigh
nothing, and they are appended after each body's own geoms, so contacts and dynamics are
those of the model without them (tests/test_mesh_detail.py checks the expert's trajectory).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Literal, get_args

import mujoco
import numpy as np

from sim2real.render.decimate import decimate
from sim2real.render.geometry import geom_local_mesh

MeshDetail = Literal["auto", "full", "policy"]
MESH_DETAILS: tuple[str, ...] = get_args(MeshDetail)
FULL_GROUP = 2  # drawn only at full detail (the arm asset's `visual` class is group 2)
POLICY_GROUP = 4  # drawn only at policy detail
POLICY_MAX_SIDE = 320  # auto: policy detail for rasterized frames up to this many pixels
PLANE_CELLS = 8  # render-grid cells along a policy plane's longer side
Geom = mujoco.mjtGeom


def resolve_mesh_detail(detail: str, fidelity: str, image_size: tuple[int, int]) -> str:
    """`auto` -> policy for rasterized frames up to POLICY_MAX_SIDE on the long side, else full.
    The path tracer (fidelity medium, high) always mirrors the full scene."""
    if detail != "auto":
        return detail
    return "policy" if fidelity == "low" and max(image_size) <= POLICY_MAX_SIDE else "full"


def geom_groups(detail: str) -> np.ndarray:
    """MjvOption.geomgroup for a detail: groups 0 and 1 always, then full's or policy's own."""
    groups = np.zeros(mujoco.mjNGROUP, np.uint8)
    groups[[0, 1, FULL_GROUP if detail == "full" else POLICY_GROUP]] = 1
    return groups


def has_policy_detail(model: mujoco.MjModel) -> bool:
    """Whether `model` can be drawn at policy detail (it has no full-only geoms, or their copies)."""
    groups = model.geom_group
    return not np.any(groups == FULL_GROUP) or bool(np.any(groups == POLICY_GROUP))


@dataclass(frozen=True)
class DetailSummary:
    """What policy detail replaced: triangles and geoms drawn at each detail."""

    full_faces: int
    policy_faces: int
    full_geoms: int
    policy_geoms: int


def add_policy_detail(spec: mujoco.MjSpec, model: mujoco.MjModel) -> DetailSummary:
    """Add policy-detail copies of `model`'s full-only geoms to `spec` (of which `model` is the
    compiled form); compile `spec` again to get a model that draws at either detail."""
    full_faces = policy_faces = policy_geoms = 0
    parts: dict[tuple[int, int, tuple], list[np.ndarray]] = defaultdict(list)
    full_only = np.flatnonzero(model.geom_group == FULL_GROUP)
    for geom in full_only:
        triangles, faces = _body_frame_triangles(model, int(geom))
        full_faces += faces
        body, material = int(model.geom_bodyid[geom]), int(model.geom_matid[geom])
        parts[(body, material, tuple(model.geom_rgba[geom]))].append(triangles)
    for (body, material, rgba), pieces in parts.items():
        vertices, faces = _join(pieces)
        spec_body = _spec_body(spec, model, body)
        name = f"policy_detail/{model.body(body).name}/{material}/{len(spec.meshes)}"
        spec.add_mesh(
            name=name,
            uservert=vertices.ravel().tolist(),
            userface=faces.ravel().tolist(),
            inertia=mujoco.mjtMeshInertia.mjMESH_INERTIA_SHELL,  # thin parts have no volume
        )
        copy = spec_body.add_geom(type=Geom.mjGEOM_MESH, meshname=name, rgba=list(rgba))
        _visual_only(copy, material_name(model, material))
        policy_faces += len(faces)
        policy_geoms += 1
    for geom in np.flatnonzero(model.geom_type == Geom.mjGEOM_PLANE):
        policy_geoms += _coarse_plane(spec, model, int(geom))
    return DetailSummary(full_faces, policy_faces, len(full_only), policy_geoms)


def material_name(model: mujoco.MjModel, material: int) -> str:
    return model.material(material).name if material >= 0 else ""


def _body_frame_triangles(model: mujoco.MjModel, geom: int) -> tuple[np.ndarray, int]:
    """(T, 3, 3) triangle corners of a full-only geom in its body's frame, decimated, and how
    many triangles the full geom has."""
    if model.geom_type[geom] == Geom.mjGEOM_MESH:
        mesh = int(model.geom_dataid[geom])
        start, count = model.mesh_vertadr[mesh], model.mesh_vertnum[mesh]
        first, faces = model.mesh_faceadr[mesh], model.mesh_facenum[mesh]
        vertices, triangles = decimate(
            model.mesh_vert[start : start + count], model.mesh_face[first : first + faces]
        )
        corners = vertices[triangles]
    else:
        local = geom_local_mesh(model, geom)
        corners, faces = local.positions[local.faces], len(local.faces)
    rotation = np.zeros(9)
    mujoco.mju_quat2Mat(rotation, model.geom_quat[geom])
    moved = corners.reshape(-1, 3) @ rotation.reshape(3, 3).T + model.geom_pos[geom]
    return moved.reshape(-1, 3, 3), int(faces)


def _join(pieces: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """One welded mesh from triangle soups: shared corners become one vertex again."""
    corners = np.concatenate(pieces).reshape(-1, 3)
    vertices, index = np.unique(np.round(corners, 7), axis=0, return_inverse=True)
    faces = index.reshape(-1, 3)
    keep = (faces[:, 0] != faces[:, 1]) & (faces[:, 1] != faces[:, 2]) & (faces[:, 0] != faces[:, 2])
    return vertices, faces[keep]


def _coarse_plane(spec: mujoco.MjSpec, model: mujoco.MjModel, geom: int) -> int:
    """A plane drawn as a fine grid gets a coarse, non-reflective copy; returns copies made."""
    size = model.geom_size[geom]
    half = max(size[0], size[1])
    name = model.geom(geom).name
    if model.geom_group[geom] > 1 or size[2] <= 0 or half / size[2] <= PLANE_CELLS / 2 or not name:
        return 0
    original = spec.geom(name)
    copy = _spec_body(spec, model, int(model.geom_bodyid[geom])).add_geom(
        type=Geom.mjGEOM_PLANE,
        size=[size[0], size[1], 2 * half / PLANE_CELLS],
        pos=list(original.pos),
        quat=list(original.quat),
        rgba=list(model.geom_rgba[geom]),
    )
    _visual_only(copy, _matte_copy(spec, model, int(model.geom_matid[geom])))
    original.group = FULL_GROUP
    return 1


def _matte_copy(spec: mujoco.MjSpec, model: mujoco.MjModel, material: int) -> str:
    """A copy of a material without reflectance (MuJoCo mirrors the whole scene for it)."""
    if material < 0:
        return ""
    source = spec.material(material_name(model, material))
    name = f"policy_detail/{source.name}"
    if spec.material(name) is None:
        matte = spec.add_material(name=name)
        for field in ("rgba", "emission", "specular", "shininess", "metallic", "roughness",
                      "texrepeat", "texuniform", "textures"):  # fmt: skip
            setattr(matte, field, getattr(source, field))
        matte.reflectance = 0.0
    return name


def _visual_only(geom, material: str) -> None:
    geom.group = POLICY_GROUP
    geom.contype = geom.conaffinity = 0
    geom.mass = 0.0
    if material:
        geom.material = material


def _spec_body(spec: mujoco.MjSpec, model: mujoco.MjModel, body: int):
    if body == 0:
        return spec.worldbody
    found = spec.body(model.body(body).name)
    if found is None:
        raise ValueError(f"policy detail needs named bodies; body {body} has no name")
    return found
