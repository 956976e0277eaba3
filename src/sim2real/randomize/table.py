"""TH: the table (and everything the task puts on it) moved up or down; the robot stays.

Train: offsets within +-`table_offset` (default 3 cm); ood: magnitudes in (offset, 2 x offset].
Tasks read the episode's height from `SimView.table_top`, so placements and success heights
follow the table.
"""

from __future__ import annotations

import mujoco
import numpy as np

from sim2real.randomize.base import Factor, Params, SceneHandles, beyond

TABLE_BODY = "table"


class TableHeight(Factor):
    name = "TH"
    stage = "scene"

    def bind(self, handles: SceneHandles) -> None:
        model = handles.model
        self.body = model.body(TABLE_BODY).id
        self.nominal = float(model.body_pos[self.body, 2])
        # The legs (every table geom but the top) stretch so they still stand on the floor.
        top = model.geom("table_top").id
        self.legs = [g for g in np.flatnonzero(model.geom_bodyid == self.body) if g != top]
        self.leg_size = model.geom_size[self.legs].copy()
        self.leg_pos = model.geom_pos[self.legs].copy()

    def sample(self, rng: np.random.Generator, handles: SceneHandles) -> Params:
        limit = self.config.table_offset
        if self.ood:
            offset = beyond(rng, limit) * rng.choice([-1.0, 1.0])
        else:
            offset = rng.uniform(-limit, limit)
        offset = round(float(offset), 5)
        return {"offset": offset, "table_top": round(self.nominal + offset, 5)}

    def apply(self, handles: SceneHandles, params: Params) -> None:
        model: mujoco.MjModel = handles.model
        model.body_pos[self.body, 2] = params["table_top"]
        half_growth = params["offset"] / 2
        model.geom_size[self.legs, 2] = self.leg_size[:, 2] + half_growth
        model.geom_pos[self.legs, 2] = self.leg_pos[:, 2] - half_growth
        handles.view.table_top = params["table_top"]
