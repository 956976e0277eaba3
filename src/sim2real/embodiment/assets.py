"""Where the WidowX AI assets come from: the `trossen-arm-sim` package."""

from __future__ import annotations

from pathlib import Path

import mujoco


def arm_asset_dir() -> Path:
    import trossen_arm_sim

    return Path(trossen_arm_sim.__file__).parent / "assets"


def load_arm_spec() -> mujoco.MjSpec:
    """A fresh spec of one WidowX AI follower arm (meshes resolved from the package)."""
    return mujoco.MjSpec.from_file(str(arm_asset_dir() / "wxai_follower.xml"))
