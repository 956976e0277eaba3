"""Fast queries of the current contacts between two sets of geoms."""

from __future__ import annotations

from collections.abc import Iterable

import mujoco
import numpy as np


class ContactProbe:
    """Finds contacts between geom set A and geom set B with one vectorised look-up.

    The success predicates run at every physics step, so this is on the hot path: a symmetric
    ngeom x ngeom table answers 'is this pair of interest?' for all contacts at once.
    """

    def __init__(self, model: mujoco.MjModel, geoms_a: Iterable[int], geoms_b: Iterable[int]):
        in_a = np.zeros(model.ngeom, dtype=bool)
        in_b = np.zeros(model.ngeom, dtype=bool)
        in_a[list(geoms_a)] = True
        in_b[list(geoms_b)] = True
        self.pairs = np.outer(in_a, in_b) | np.outer(in_b, in_a)

    def _mask(self, data: mujoco.MjData) -> np.ndarray:
        geoms = data.contact.geom[: data.ncon]
        return self.pairs[geoms[:, 0], geoms[:, 1]]

    def touching(self, data: mujoco.MjData) -> bool:
        return data.ncon > 0 and bool(self._mask(data).any())

    def contact_points(self, data: mujoco.MjData) -> np.ndarray:
        if data.ncon == 0:
            return np.empty((0, 3))
        mask = self._mask(data)
        if not mask.any():
            return np.empty((0, 3))
        return data.contact.pos[: data.ncon][mask]
