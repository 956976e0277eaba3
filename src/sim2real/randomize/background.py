"""BG: the wall's and the table top's textures, drawn from the procedural texture library.

Two texture slots are added to the model once; a new texture overwrites a slot's pixels in
`model.tex_data` and is uploaded to the renderer's GL context (no recompilation). Train draws
from the 1000 seen textures, ood from the 200 unseen ones, heldout from the 100 held-out ones.
"""

from __future__ import annotations

import mujoco
import numpy as np

from sim2real.randomize.base import Factor, Params, SceneHandles
from sim2real.randomize.textures import TextureLibrary, texture_count

# geom, texrepeat: one texture per face (the noise styles do not tile seamlessly)
SURFACES = {"wall": ("wall", (1.0, 1.0)), "table": ("table_top", (1.0, 1.0))}


class Background(Factor):
    name = "BG"
    stage = "view"

    def build(self, spec: mujoco.MjSpec) -> None:
        size = self.config.texture_size
        for surface, (geom_name, repeat) in SURFACES.items():
            spec.add_texture(
                name=f"bg_{surface}",
                type=mujoco.mjtTexture.mjTEXTURE_2D,
                builtin=mujoco.mjtBuiltin.mjBUILTIN_FLAT,
                rgb1=[0.5, 0.5, 0.5],
                width=size,
                height=size,
            )
            material = spec.add_material(name=f"bg_{surface}", texrepeat=list(repeat), specular=0.1)
            material.textures[mujoco.mjtTextureRole.mjTEXROLE_RGB] = f"bg_{surface}"
            geom = next(g for g in spec.geoms if g.name == geom_name)
            geom.material = f"bg_{surface}"

    def bind(self, handles: SceneHandles) -> None:
        model = handles.model
        self.library = TextureLibrary(self.config.texture_dir, self.config.texture_size)
        self.split = self.library_set
        self.slots = {}
        for surface in SURFACES:
            tex = model.texture(f"bg_{surface}").id
            start = model.tex_adr[tex]
            count = model.tex_height[tex] * model.tex_width[tex] * model.tex_nchannel[tex]
            self.slots[surface] = (tex, slice(start, start + count))

    def sample(self, rng: np.random.Generator, handles: SceneHandles) -> Params:
        count = texture_count(self.split)
        return {surface: f"{self.split}/{int(rng.integers(count)):04d}" for surface in SURFACES}

    def apply(self, handles: SceneHandles, params: Params) -> None:
        # Rasterized rigs keep textures on their GL context; path-traced rigs read them from
        # the model when they build their scene.
        upload = getattr(handles.cameras, "upload_texture", None)
        for surface, (tex, pixels) in self.slots.items():
            split, index = params[surface].split("/")
            handles.model.tex_data[pixels] = self.library.pixels(split, int(index)).reshape(-1)
            if upload is not None:
                upload(tex)
