"""The proxy-real world: a held-out simulated world that no training setting ever samples, for
labs without a robot and for testing transfer. Its parameters are fixed and versioned, so
"proxy-real success" means the same thing in every study; a change makes a new version.

v1, relative to the training world:
* path-traced rendering at the `medium` fidelity preset;
* background textures and distractors from held-out sets (split `heldout`: neither the train
  nor the ood sets, see sim2real.randomize);
* unseen object instances (OBJ on its unseen set, for tasks whose object it can swap);
* the head camera's pose perturbed beyond the Sim-OOD range (offsets 10-20 cm, 3-6 degrees of
  jitter, where Sim-OOD goes to 10 cm and 3 degrees) and its intrinsics changed (fovy 45
  degrees instead of 42: no training or Sim-OOD setting changes them);
* sensor noise (std 2% of full scale) and motion blur (35% of the previous frame);
* actuation latency of one or two control steps (drawn per episode) and joint-tracking noise
  (std 0.003 rad on the arm joints' targets).
"""

from __future__ import annotations

from typing import Any

VERSION = "v1"

PROXY_REAL_V1: dict[str, Any] = {
    "fidelity": "medium",
    "split": "heldout",
    "granularity": "episode",
    "randomize": "BG+TD+CP+OBJ",
    "randomization": {"camera_radius": 0.1, "camera_jitter_deg": 3.0},
    "sensor": {"head_fovy": 45.0, "noise_std": 0.02, "motion_blur": 0.35},
    "actuation": {"latency_steps": (1, 2), "tracking_noise": 0.003},
}


def proxy_real_overrides(task: str) -> dict[str, Any]:
    """The settings that make an evaluation world the proxy-real one, for `task` (OBJ is left
    out for tasks holding objects of two categories, which it cannot swap)."""
    from sim2real.randomize.objects import swaps_instances
    from sim2real.tasks.registry import task_class

    overrides = dict(PROXY_REAL_V1)
    if not swaps_instances(task_class(task)()):
        overrides["randomize"] = overrides["randomize"].replace("+OBJ", "")
    return overrides
