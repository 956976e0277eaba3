"""A Mitsuba 3 scene that mirrors a MuJoCo model: geoms, materials, textures, lights, cameras.

Built once per model; `sync(data)` then copies only what changed since the last frame: the
vertices of geoms that moved, colours and texture pixels that a randomizer rewrote (textures are
read from `model.tex_data` every frame for that reason), and lights that moved or changed.

Brightness follows MuJoCo's lighting model where a physical one must differ: a MuJoCo light of
diffuse colour c lights a facing white surface to colour c, so a directional light gets
irradiance pi*c and a point or spot light intensity pi*c*d^2 (d: its distance to the model's
centre, since MuJoCo's default lights do not fall off); ambient terms become a constant
environment. MuJoCo's headlight casts no shadow, and a directional light along each camera's
view would (a dark copy of the arms mid-table), so its diffuse part joins the ambient term at
half strength (the mean cosine it lights surfaces with).
"""

from __future__ import annotations

from dataclasses import dataclass

import mujoco
import numpy as np

from sim2real.render.geometry import LocalMesh, geom_local_mesh, object_linear_texcoords

DEFAULT_GEOM_RGBA = np.array([0.5, 0.5, 0.5, 1.0], np.float32)
DEFAULT_SPECULAR, DEFAULT_SHININESS = 0.5, 0.5  # MuJoCo's for geoms without a material
TEXTURE_ROLE_RGB = int(mujoco.mjtTextureRole.mjTEXROLE_RGB)
Light = mujoco.mjtLightType
_G = mujoco.mjtGeom
DRAWABLE_TYPES = {
    int(t)
    for t in (
        _G.mjGEOM_PLANE,
        _G.mjGEOM_SPHERE,
        _G.mjGEOM_CAPSULE,
        _G.mjGEOM_ELLIPSOID,
        _G.mjGEOM_CYLINDER,
        _G.mjGEOM_BOX,
        _G.mjGEOM_MESH,
    )
}  # height fields and SDFs are not mirrored (no task uses them)


def visible_geoms(model: mujoco.MjModel) -> list[int]:
    """Geoms the rasterizer draws with default options: groups enabled in MjvOption, not fully
    transparent (the arms' collision geoms are group 3, hidden)."""
    groups = mujoco.MjvOption().geomgroup
    return [
        g
        for g in range(model.ngeom)
        if groups[min(int(model.geom_group[g]), len(groups) - 1)]
        and model.geom_rgba[g, 3] > 0
        and int(model.geom_type[g]) in DRAWABLE_TYPES
    ]


def srgb_to_linear(value: np.ndarray) -> np.ndarray:
    value = np.clip(value, 0.0, 1.0)
    return np.where(value <= 0.04045, value / 12.92, ((value + 0.055) / 1.055) ** 2.4).astype(
        np.float32
    )


@dataclass
class _Surface:
    """What decides one geom's look, read from the model (compared frame to frame)."""

    rgba: np.ndarray
    texture: int  # model texture id, or -1


class MitsubaScene:
    """The Mitsuba mirror of one MuJoCo model, with one sensor per camera."""

    def __init__(
        self,
        model: mujoco.MjModel,
        cameras: dict[str, int],
        image_size: tuple[int, int],
        integrator: dict,
    ) -> None:
        import mitsuba as mi

        self.mi = mi
        self.model = model
        self.geoms = visible_geoms(model)
        self.local: dict[int, LocalMesh] = {g: self._local_mesh(g) for g in self.geoms}
        self.surfaces = {g: self._surface(g) for g in self.geoms}
        self.lights = list(range(model.nlight))
        self._texture_cache: dict[int, np.ndarray] = {}
        objects: dict = {"type": "scene", "integrator": integrator}
        for g in self.geoms:
            objects[f"geom{g}"] = self._make_shape(g)
        objects.update(self._make_emitters())
        self.scene = mi.load_dict(objects)
        self.params = mi.traverse(self.scene)
        width, height = image_size
        self.image_size = image_size
        self.camera_ids = cameras
        self.sensors = {
            name: self._make_sensor(cam, width, height) for name, cam in cameras.items()
        }
        self.sensor_params = {name: mi.traverse(sensor) for name, sensor in self.sensors.items()}
        self._poses = np.full((model.ngeom, 12), np.nan)
        self.last_changes: list[str] = []  # scene parameters the last sync wrote (bench render)
        self._light_state: np.ndarray | None = None
        self._camera_state: dict[str, np.ndarray] = {}

    # -- per frame ---------------------------------------------------------------------------

    def sync(self, data: mujoco.MjData, camera: str) -> None:
        """Bring the scene to `data`'s state as seen from `camera`, touching only what changed."""
        self.last_changes = []
        changed = self._sync_geoms(data) | self._sync_surfaces() | self._sync_lights(data)
        if changed:
            self.params.update()
        self._sync_camera(data, camera)

    def _sync_geoms(self, data: mujoco.MjData) -> bool:
        poses = np.concatenate([data.geom_xpos, data.geom_xmat], axis=1)
        moved = [g for g in self.geoms if not np.array_equal(poses[g], self._poses[g])]
        for g in moved:
            positions, normals = self.local[g].world(
                data.geom_xpos[g], data.geom_xmat[g].reshape(3, 3)
            )
            self._set(f"geom{g}.vertex_positions", positions.ravel())
            self._set(f"geom{g}.vertex_normals", normals.ravel())
            self._poses[g] = poses[g]
        return bool(moved)

    def _sync_surfaces(self) -> bool:
        changed = False
        fresh_textures = {
            tex: self._texture_pixels(tex)
            for tex in {s.texture for s in self.surfaces.values() if s.texture >= 0}
        }
        updated_textures = {
            tex
            for tex, pixels in fresh_textures.items()
            if not np.array_equal(pixels, self._texture_cache.get(tex))
        }
        for g in self.geoms:
            surface = self._surface(g)
            old = self.surfaces[g]
            if np.array_equal(surface.rgba, old.rgba) and surface.texture not in updated_textures:
                continue
            if surface.texture != old.texture:  # swapping textures would need a new scene
                raise ValueError(f"geom {g} changed texture {old.texture} -> {surface.texture}")
            if surface.texture >= 0:
                key = self._bsdf_key(g, "base_color.data")
                self._set(
                    key, self._base_color_texture(fresh_textures[surface.texture], surface.rgba)
                )
            else:
                self._set(self._bsdf_key(g, "base_color.value"), srgb_to_linear(surface.rgba[:3]))
            self.surfaces[g] = surface
            changed = True
        self._texture_cache.update(fresh_textures)
        return changed

    def _sync_lights(self, data: mujoco.MjData) -> bool:
        m = self.model
        state = np.concatenate(
            [
                data.light_xpos.ravel(),
                data.light_xdir.ravel(),
                m.light_diffuse.ravel(),
                m.light_ambient.ravel(),
                m.light_active.ravel(),
                m.light_cutoff.ravel(),
                m.vis.headlight.ambient,
                m.vis.headlight.diffuse,
            ]
        ).astype(np.float64)
        if self._light_state is not None and np.array_equal(state, self._light_state):
            return False
        for i in self.lights:
            self._set_light(i, data)
        self._set("ambient.radiance.value", self._ambient())
        self._light_state = state
        return True

    def _sync_camera(self, data: mujoco.MjData, camera: str) -> None:
        cam = self.camera_ids[camera]
        state = np.concatenate([data.cam_xpos[cam], data.cam_xmat[cam]])
        if np.array_equal(state, self._camera_state.get(camera)):
            return
        params = self.sensor_params[camera]
        params["to_world"] = self._camera_to_world(data, cam)
        params.update()
        self._camera_state[camera] = state

    # -- segmentation (tests, debugging) -----------------------------------------------------

    def segment(self, data: mujoco.MjData, camera: str) -> np.ndarray:
        """Geom id seen through each pixel centre (-1: nothing), one ray per pixel."""
        mi = self.mi
        import drjit as dr

        self.sync(data, camera)
        width, height = self.image_size
        xs, ys = np.meshgrid((np.arange(width) + 0.5) / width, (np.arange(height) + 0.5) / height)
        rays, _ = self.sensors[camera].sample_ray(
            0.0, 0.0, mi.Point2f(xs.ravel(), ys.ravel()), mi.Point2f(0.5, 0.5)
        )
        hit = self.scene.ray_intersect(rays)
        keys = np.array(dr.reinterpret_array(mi.UInt32, hit.shape))
        geom_of_key = {self._shape_key(shape): int(shape.id()[4:]) for shape in self.scene.shapes()}
        lookup = np.vectorize(lambda key: geom_of_key.get(int(key), -1))
        return lookup(keys).reshape(height, width)

    # -- building ----------------------------------------------------------------------------

    def _local_mesh(self, g: int) -> LocalMesh:
        mesh = geom_local_mesh(self.model, g)
        matid = self.model.geom_matid[g]
        needs_uv = matid >= 0 and self.model.mat_texid[matid, TEXTURE_ROLE_RGB] >= 0
        if needs_uv and mesh.texcoords is None:
            uv = object_linear_texcoords(
                mesh.positions,
                self.model.geom_size[g],
                self.model.mat_texrepeat[matid],
                bool(self.model.mat_texuniform[matid]),
            )
            mesh = LocalMesh(mesh.positions, mesh.normals, uv, mesh.faces)
        return mesh

    def _surface(self, g: int) -> _Surface:
        """MuJoCo's rule: the material's colour unless the geom's own rgba is not the default."""
        m = self.model
        matid = int(m.geom_matid[g])
        rgba = m.geom_rgba[g].astype(np.float32)
        texture = -1
        if matid >= 0:
            if np.array_equal(rgba, DEFAULT_GEOM_RGBA):
                rgba = m.mat_rgba[matid].astype(np.float32)
            texture = int(m.mat_texid[matid, TEXTURE_ROLE_RGB])
            if texture >= 0 and m.tex_type[texture] != mujoco.mjtTexture.mjTEXTURE_2D:
                texture = -1  # cube/skybox textures: drawn in the material's colour (documented)
        return _Surface(rgba.copy(), texture)

    def _texture_pixels(self, tex: int) -> np.ndarray:
        m = self.model
        width, height, channels = m.tex_width[tex], m.tex_height[tex], m.tex_nchannel[tex]
        start = m.tex_adr[tex]
        pixels = m.tex_data[start : start + width * height * channels].reshape(
            height, width, channels
        )
        return pixels[..., :3].copy() if channels >= 3 else np.repeat(pixels[..., :1], 3, axis=2)

    def _base_color_texture(self, pixels: np.ndarray, rgba: np.ndarray) -> np.ndarray:
        return srgb_to_linear(pixels.astype(np.float32) / 255.0 * rgba[:3])

    def _make_bsdf(self, g: int) -> dict:
        m = self.model
        matid = int(m.geom_matid[g])
        specular = float(m.mat_specular[matid]) if matid >= 0 else DEFAULT_SPECULAR
        shininess = float(m.mat_shininess[matid]) if matid >= 0 else DEFAULT_SHININESS
        # MuJoCo's Phong exponent is 128*shininess; Beckmann alpha = sqrt(2/(n+2)) = roughness^2
        roughness = (2.0 / (128.0 * shininess + 2.0)) ** 0.25
        surface = self.surfaces[g]
        if surface.texture >= 0:
            pixels = self._base_color_texture(self._texture_pixels(surface.texture), surface.rgba)
            base = {
                "type": "bitmap",
                "bitmap": self.mi.Bitmap(pixels),
                "raw": True,  # already linear
                "filter_type": "nearest",  # MuJoCo's checkers are crisp
            }
        else:
            base = {"type": "rgb", "value": srgb_to_linear(surface.rgba[:3]).tolist()}
        principled = {
            "type": "principled",
            "base_color": base,
            "roughness": float(np.clip(roughness, 0.05, 1.0)),
            "specular": float(np.clip(specular, 0.0, 1.0)),
        }
        return {"type": "twosided", "material": principled}

    def _make_shape(self, g: int):
        mi = self.mi
        mesh = self.local[g]
        props = mi.Properties()
        props["bsdf"] = mi.load_dict(self._make_bsdf(g))
        shape = mi.Mesh(
            f"geom{g}",
            len(mesh.positions),
            len(mesh.faces),
            props=props,
            has_vertex_normals=True,
            has_vertex_texcoords=mesh.texcoords is not None,
        )
        params = mi.traverse(shape)
        buffers = {
            "faces": mesh.faces,
            "vertex_positions": mesh.positions,
            "vertex_normals": mesh.normals,
        }
        if mesh.texcoords is not None:
            buffers["vertex_texcoords"] = mesh.texcoords
        for key, array in buffers.items():  # the buffer types differ between variants
            params[key] = type(params[key])(array.ravel())
        params.update()
        return shape

    def _make_emitters(self) -> dict:
        # Colours as 3-lists: a single number would make a spectrum that cannot turn coloured later.
        rgb = {"type": "rgb", "value": [1.0, 1.0, 1.0]}
        emitters: dict = {
            "ambient": {"type": "constant", "radiance": rgb},
        }
        for i in self.lights:
            kind = int(self.model.light_type[i])
            if kind == Light.mjLIGHT_DIRECTIONAL:
                emitters[f"light{i}"] = {
                    "type": "directional",
                    "direction": [0, 0, -1],
                    "irradiance": rgb,
                }
            elif kind == Light.mjLIGHT_SPOT:
                emitters[f"light{i}"] = {"type": "spot", "intensity": rgb}
            else:  # point (and image-based lights, drawn as points)
                emitters[f"light{i}"] = {"type": "point", "intensity": rgb}
        return emitters

    def _set_light(self, i: int, data: mujoco.MjData) -> None:
        m = self.model
        colour = np.pi * m.light_diffuse[i].astype(np.float64) * float(m.light_active[i])
        position, direction = data.light_xpos[i], data.light_xdir[i]
        kind = int(m.light_type[i])
        if kind == Light.mjLIGHT_DIRECTIONAL:
            self._set(f"light{i}.irradiance.value", colour)
            self._set(f"light{i}.to_world", self._direction_frame(direction))
            return
        reach = float(np.linalg.norm(position - m.stat.center)) or 1.0
        intensity = colour * reach**2
        self._set(f"light{i}.intensity.value", intensity)
        if kind == Light.mjLIGHT_SPOT:
            self._set(f"light{i}.to_world", self._direction_frame(direction, position))
            self._set(f"light{i}.cutoff_angle", float(m.light_cutoff[i]))
            self._set(f"light{i}.beam_width", float(m.light_cutoff[i]) * 0.75)
        else:
            self._set(f"light{i}.position", position)

    def _ambient(self) -> np.ndarray:
        m = self.model
        headlight = m.vis.headlight
        total = np.array(headlight.ambient, np.float64)
        if headlight.active:
            total += 0.5 * np.array(headlight.diffuse, np.float64)
        total += (m.light_ambient * m.light_active[:, None]).sum(axis=0)
        return total

    def _direction_frame(self, direction: np.ndarray, origin: np.ndarray | None = None):
        """A transform whose +z points along `direction` (Mitsuba emitters shine along +z)."""
        direction = np.asarray(direction, np.float64)
        direction = direction / (np.linalg.norm(direction) or 1.0)
        up = [0.0, 1.0, 0.0] if abs(direction[2]) > 0.9 else [0.0, 0.0, 1.0]
        origin = np.zeros(3) if origin is None else np.asarray(origin, np.float64)
        return self.mi.ScalarTransform4f().look_at(
            origin=origin.tolist(), target=(origin + direction).tolist(), up=up
        )

    def _camera_to_world(self, data: mujoco.MjData, cam: int):
        """MuJoCo cameras look along their -z with +y up; Mitsuba's look along +z."""
        axes = data.cam_xmat[cam].reshape(3, 3)
        origin = data.cam_xpos[cam]
        return self.mi.ScalarTransform4f().look_at(
            origin=origin.tolist(), target=(origin - axes[:, 2]).tolist(), up=axes[:, 1].tolist()
        )

    def _make_sensor(self, cam: int, width: int, height: int):
        return self.mi.load_dict(
            {
                "type": "perspective",
                "fov": float(self.model.cam_fovy[cam]),
                "fov_axis": "y",
                "near_clip": 0.01,
                "far_clip": 100.0,
                "film": {
                    "type": "hdrfilm",
                    "width": width,
                    "height": height,
                    "pixel_format": "rgb",
                    "rfilter": {"type": "box"},
                },
                "sampler": {"type": "independent"},
            }
        )

    def _bsdf_key(self, g: int, name: str) -> str:
        return f"geom{g}.bsdf.brdf_0.{name}"

    def _set(self, key: str, value) -> None:
        """Assign a traversed parameter, converting numpy values to the variant's own types."""
        self.last_changes.append(key)
        current = self.params[key]
        if isinstance(value, self.mi.ScalarTransform4f):
            self.params[key] = (
                type(current)(value.matrix) if type(current) is not type(value) else value
            )
            return
        array = np.asarray(value)
        if array.ndim == 3:  # texture pixels
            self.params[key] = self.mi.TensorXf(array)
        elif array.size <= 3:  # a colour, a point, an angle
            self.params[key] = type(current)(*array.ravel().tolist())
        else:  # a vertex buffer
            self.params[key] = type(current)(array.ravel())

    def _shape_key(self, shape) -> int:
        import drjit as dr

        return int(dr.reinterpret_array(self.mi.UInt32, self.mi.ShapePtr(shape))[0])
