"""Choose MuJoCo's headless OpenGL backend before mujoco is first imported.

EGL is preferred (fast, no display); OSMesa is the fallback where no EGL library exists.
A user's own MUJOCO_GL always wins.
"""

from __future__ import annotations

import ctypes.util
import os


def select_gl_backend() -> str:
    if "MUJOCO_GL" not in os.environ:
        os.environ["MUJOCO_GL"] = "egl" if ctypes.util.find_library("EGL") else "osmesa"
    if os.environ["MUJOCO_GL"] == "osmesa":
        os.environ.setdefault("PYOPENGL_PLATFORM", "osmesa")
    elif os.environ["MUJOCO_GL"] == "egl":
        os.environ.setdefault("PYOPENGL_PLATFORM", "egl")
    return os.environ["MUJOCO_GL"]
