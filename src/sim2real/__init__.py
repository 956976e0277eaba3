"""sim2real: zero-shot sim-to-real research on VLA policies for dual-arm manipulation."""

from sim2real.render.gl import select_gl_backend

select_gl_backend()  # must happen before mujoco is imported anywhere

from sim2real.errors import Sim2RealError  # noqa: E402

__version__ = "0.1.0"
__all__ = ["EnvSettings", "Sim2RealEnv", "Sim2RealError", "make", "make_settings"]

# The simulator (MuJoCo, the arms' assets, IK) loads on first use, not on `import sim2real`:
# the command line's --help and its checks of what the user typed need none of it.
_LAZY = {"Sim2RealEnv": "sim2real.env", "make": "sim2real.env",
         "EnvSettings": "sim2real.settings", "make_settings": "sim2real.settings"}


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module 'sim2real' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(_LAZY[name]), name)
