"""LT: the directional "sun" and the two point lamps: colour, intensity, position, type.

Train: near-white colours (colour-temperature tints), moderate intensities, lamps above the
table. Ood: saturated colours, intensities outside the train range, lamps low or far to the
side: none of these is ever drawn in training. Lamps switch between point and spot only where
the renderer supports it (the rasterizer; the path tracer fixes light types when it builds its
scene); the type is drawn either way, so the other draws do not depend on the renderer.
"""

from __future__ import annotations

import colorsys

import mujoco
import numpy as np

from sim2real.randomize.base import Factor, Params, SceneHandles, rounded
from sim2real.render.cameras import CameraRig

SUN, LAMPS = "sun", ("lamp_left", "lamp_right")
TRAIN_SATURATION, OOD_SATURATION = (0.0, 0.15), (0.3, 0.6)
TRAIN_SUN, OOD_SUN = (0.4, 0.75), ((0.15, 0.3), (0.85, 1.0))  # diffuse intensity
TRAIN_LAMP, OOD_LAMP = (0.1, 0.35), ((0.0, 0.06), (0.45, 0.6))
POINT, SPOT = int(mujoco.mjtLightType.mjLIGHT_POINT), int(mujoco.mjtLightType.mjLIGHT_SPOT)


class Lighting(Factor):
    name = "LT"
    stage = "view"

    def bind(self, handles: SceneHandles) -> None:
        model = handles.model
        self.lights = {name: model.light(name).id for name in (SUN, *LAMPS)}
        self.sun_type = int(model.light_type[self.lights[SUN]])
        self.lamp_types = {name: int(model.light_type[self.lights[name]]) for name in LAMPS}
        self.types_change = handles.cameras is None or isinstance(handles.cameras, CameraRig)
        self.table_top = self.layout.table_top

    def sample(self, rng: np.random.Generator, handles: SceneHandles) -> Params:
        params = {SUN: self._light(rng, TRAIN_SUN, OOD_SUN)}
        # The sun's direction: from above, leaning at most ~35 degrees (train) or more (ood).
        lean = rng.uniform(0.45, 0.9) if self.ood else rng.uniform(0.0, 0.7)
        heading = rng.uniform(0, 2 * np.pi)
        direction = np.array([lean * np.cos(heading), lean * np.sin(heading), -1.0])
        params[SUN]["dir"] = rounded(direction / np.linalg.norm(direction))
        params[SUN]["pos"] = rounded(np.array([0, 0, self.table_top]) - 1.6 * direction)
        params[SUN]["type"] = self.sun_type
        for name in LAMPS:
            lamp = self._light(rng, TRAIN_LAMP, OOD_LAMP)
            side = -1.0 if name == "lamp_left" else 1.0
            if self.ood:  # low at table height or far out to the side
                x, z = side * rng.uniform(1.1, 1.6), self.table_top + rng.uniform(0.1, 0.45)
            else:
                x, z = side * rng.uniform(0.4, 1.0), self.table_top + rng.uniform(0.7, 1.3)
            pos = np.array([x, rng.uniform(-0.5, 0.3), z])
            towards_table = np.array([0, 0, self.table_top]) - pos
            lamp["pos"] = rounded(pos)
            lamp["dir"] = rounded(towards_table / np.linalg.norm(towards_table))
            drawn_type = SPOT if rng.uniform() < 0.3 else POINT
            lamp["type"] = drawn_type if self.types_change else self.lamp_types[name]
            params[name] = lamp
        return params

    def _light(self, rng: np.random.Generator, train: tuple, ood: tuple) -> Params:
        low, high = OOD_SATURATION if self.ood else TRAIN_SATURATION
        colour = np.array(colorsys.hsv_to_rgb(rng.uniform(), rng.uniform(low, high), 1.0))
        span = ood[int(rng.integers(2))] if self.ood else train
        return {"colour": rounded(colour, 4), "intensity": round(float(rng.uniform(*span)), 4)}

    def apply(self, handles: SceneHandles, params: Params) -> None:
        model, data = handles.model, handles.data
        for name, light in self.lights.items():
            values = params[name]
            model.light_diffuse[light] = np.asarray(values["colour"]) * values["intensity"]
            model.light_specular[light] = np.asarray(values["colour"]) * 0.15 * values["intensity"]
            model.light_pos[light] = values["pos"]
            model.light_dir[light] = values["dir"]
            model.light_type[light] = values["type"]
            # World-body lights: world pose = model pose; set data too (no kinematics pass).
            data.light_xpos[light] = values["pos"]
            data.light_xdir[light] = values["dir"]
