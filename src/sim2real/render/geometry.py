"""Triangle meshes of MuJoCo geoms in their own (geom) frame, for the path tracer.

Primitives are tessellated finely enough that their silhouettes match the rasterizer's (which
tessellates them too); meshes come from the compiled model (`mesh_vert` is already scaled by
the mesh asset's `scale`). Vertices are unwelded (one per face corner) so per-corner normals
and texture coordinates need no index juggling.
"""

from __future__ import annotations

from dataclasses import dataclass

import mujoco
import numpy as np

SEGMENTS = 48  # around a circle; MuJoCo's own quality.numslices is 28
INFINITE_PLANE_HALF_SIZE = 50.0  # a plane of size 0 is infinite in MuJoCo
Geom = mujoco.mjtGeom


@dataclass(frozen=True)
class LocalMesh:
    """Triangles of one geom in its own frame: positions, normals, uv (or None), faces."""

    positions: np.ndarray  # (N, 3) float32
    normals: np.ndarray  # (N, 3) float32
    texcoords: np.ndarray | None  # (N, 2) float32
    faces: np.ndarray  # (M, 3) uint32

    def world(self, position: np.ndarray, rotation: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Positions and normals moved to a world pose (rotation: 3x3, geom to world)."""
        rot = rotation.astype(np.float32)
        return self.positions @ rot.T + position.astype(np.float32), self.normals @ rot.T


def geom_local_mesh(model: mujoco.MjModel, geom: int) -> LocalMesh:
    """The triangles of geom `geom` (any primitive or mesh type) in the geom's frame."""
    kind, size = int(model.geom_type[geom]), model.geom_size[geom]
    if kind == Geom.mjGEOM_MESH:
        return _mesh(model, int(model.geom_dataid[geom]))
    if kind == Geom.mjGEOM_PLANE:
        half = [s if s > 0 else INFINITE_PLANE_HALF_SIZE for s in size[:2]]
        mesh = _box_faces(np.array([half[0], half[1], 0.0]), only_top=True)
    elif kind == Geom.mjGEOM_BOX:
        mesh = _box_faces(size)
    elif kind == Geom.mjGEOM_SPHERE:
        mesh = _round(np.full(3, size[0]), 0.0)
    elif kind == Geom.mjGEOM_ELLIPSOID:
        mesh = _round(size[:3], 0.0)
    elif kind == Geom.mjGEOM_CAPSULE:
        mesh = _round(np.full(3, size[0]), size[1])
    elif kind == Geom.mjGEOM_CYLINDER:
        mesh = _cylinder(size[0], size[1])
    else:
        raise ValueError(f"geom {geom} has type {kind}, which the path tracer does not draw")
    return mesh


def object_linear_texcoords(
    positions: np.ndarray, size: np.ndarray, texrepeat: np.ndarray, texuniform: bool
) -> np.ndarray:
    """MuJoCo maps 2D textures on primitives from the geom-frame x and y (OpenGL object-linear
    texgen): `texrepeat` repeats per metre when `texuniform`, else across the geom's extent."""
    scale = np.asarray(texrepeat, np.float32)
    if not texuniform:
        extent = np.where(size[:2] > 0, 2 * size[:2], 2 * INFINITE_PLANE_HALF_SIZE)
        scale = scale / extent.astype(np.float32)
    return (positions[:, :2] * scale).astype(np.float32)


def _mesh(model: mujoco.MjModel, mesh: int) -> LocalMesh:
    vert = model.mesh_vert[
        model.mesh_vertadr[mesh] : model.mesh_vertadr[mesh] + model.mesh_vertnum[mesh]
    ]
    first, count = model.mesh_faceadr[mesh], model.mesh_facenum[mesh]
    faces = model.mesh_face[first : first + count]
    normal_adr = model.mesh_normaladr[mesh]
    normals = model.mesh_normal[normal_adr : normal_adr + model.mesh_normalnum[mesh]]
    corner_normals = normals[model.mesh_facenormal[first : first + count]].reshape(-1, 3)
    texcoords = None
    if model.mesh_texcoordadr[mesh] >= 0:
        uv_adr = model.mesh_texcoordadr[mesh]
        uv = model.mesh_texcoord[uv_adr : uv_adr + model.mesh_texcoordnum[mesh]]
        texcoords = (
            uv[model.mesh_facetexcoord[first : first + count]].reshape(-1, 2).astype(np.float32)
        )
    return _unwelded(vert[faces].reshape(-1, 3), corner_normals, texcoords)


def _unwelded(
    positions: np.ndarray, normals: np.ndarray, texcoords: np.ndarray | None
) -> LocalMesh:
    corners = np.arange(len(positions), dtype=np.uint32).reshape(-1, 3)
    return LocalMesh(positions.astype(np.float32), normals.astype(np.float32), texcoords, corners)


def _box_faces(half: np.ndarray, only_top: bool = False) -> LocalMesh:
    """Four corners per face with the face's normal (flat shading, as a box should look)."""
    positions, normals, faces = [], [], []
    for axis in range(3):
        for sign in (1.0,) if only_top else (1.0, -1.0):
            if only_top and axis != 2:
                continue
            u, v = (axis + 1) % 3, (axis + 2) % 3
            normal = np.zeros(3)
            normal[axis] = sign
            base = len(positions)
            for du, dv in ((-1, -1), (1, -1), (1, 1), (-1, 1)):
                corner = np.zeros(3)
                corner[axis], corner[u], corner[v] = sign * half[axis], du * half[u], dv * half[v]
                positions.append(corner)
                normals.append(normal)
            # counter-clockwise seen from outside
            quad = [(0, 1, 2), (0, 2, 3)] if sign > 0 else [(0, 2, 1), (0, 3, 2)]
            faces.extend([(base + a, base + b, base + c) for a, b, c in quad])
    return LocalMesh(
        np.array(positions, np.float32),
        np.array(normals, np.float32),
        None,
        np.array(faces, np.uint32),
    )


def _grid_faces(rings: int, columns: int) -> np.ndarray:
    """Two triangles per cell of a (rings x columns) vertex grid, columns wrapping around."""
    faces = []
    for r in range(rings - 1):
        for c in range(columns):
            a, b = r * columns + c, r * columns + (c + 1) % columns
            below_a, below_b = a + columns, b + columns
            faces.extend([(a, below_a, below_b), (a, below_b, b)])
    return np.array(faces, np.uint32)


def _round(radii: np.ndarray, half_length: float) -> LocalMesh:
    """A sphere or ellipsoid (half_length 0), or a capsule: two hemispheres `half_length` apart
    along z (the equator ring is repeated, once per hemisphere, making the cylinder wall)."""
    half = SEGMENTS // 4
    polar = np.concatenate(
        [np.linspace(0, np.pi / 2, half + 1), np.linspace(np.pi / 2, np.pi, half + 1)]
    )
    shift = np.concatenate([np.full(half + 1, half_length), np.full(half + 1, -half_length)])
    azimuth = np.linspace(0, 2 * np.pi, SEGMENTS, endpoint=False)
    unit = np.stack(
        [
            np.outer(np.sin(polar), np.cos(azimuth)),
            np.outer(np.sin(polar), np.sin(azimuth)),
            np.outer(np.cos(polar), np.ones_like(azimuth)),
        ],
        axis=-1,
    ).reshape(-1, 3)
    positions = unit * radii
    positions[:, 2] += np.repeat(shift, SEGMENTS)
    normals = unit / radii
    normals /= np.linalg.norm(normals, axis=1, keepdims=True)
    faces = _grid_faces(len(polar), SEGMENTS)
    # triangles at the poles are degenerate (zero area); drop them
    area = np.linalg.norm(
        np.cross(
            positions[faces[:, 1]] - positions[faces[:, 0]],
            positions[faces[:, 2]] - positions[faces[:, 0]],
        ),
        axis=1,
    )
    return LocalMesh(
        positions.astype(np.float32), normals.astype(np.float32), None, faces[area > 1e-12]
    )


def _cylinder(radius: float, half_length: float) -> LocalMesh:
    azimuth = np.linspace(0, 2 * np.pi, SEGMENTS, endpoint=False)
    ring = np.stack([np.cos(azimuth), np.sin(azimuth), np.zeros_like(azimuth)], axis=-1)
    side_positions = np.concatenate(
        [ring * radius + [0, 0, half_length], ring * radius - [0, 0, half_length]]
    )
    side = LocalMesh(side_positions, np.concatenate([ring, ring]), None, _grid_faces(2, SEGMENTS))
    parts = [side]
    for sign in (1.0, -1.0):
        centre = np.array([[0.0, 0.0, sign * half_length]])
        positions = np.concatenate([centre, ring * radius + centre])
        normals = np.tile([0.0, 0.0, sign], (SEGMENTS + 1, 1))
        fan = [(0, 1 + c, 1 + (c + 1) % SEGMENTS) for c in range(SEGMENTS)]
        fan = fan if sign > 0 else [(a, c, b) for a, b, c in fan]
        parts.append(LocalMesh(positions, normals, None, np.array(fan, np.uint32)))
    return _merge(parts)


def _merge(parts: list[LocalMesh]) -> LocalMesh:
    offsets = np.cumsum([0] + [len(p.positions) for p in parts[:-1]])
    return LocalMesh(
        np.concatenate([p.positions for p in parts]).astype(np.float32),
        np.concatenate([p.normals for p in parts]).astype(np.float32),
        None,
        np.concatenate([p.faces + offset for p, offset in zip(parts, offsets, strict=True)]).astype(
            np.uint32
        ),
    )
