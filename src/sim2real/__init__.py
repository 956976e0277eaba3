"""sim2real: zero-shot sim-to-real research on VLA policies for dual-arm manipulation."""

from sim2real.render.gl import select_gl_backend

select_gl_backend()  # must happen before mujoco is imported anywhere

from sim2real.env import Sim2RealEnv, make  # noqa: E402
from sim2real.errors import Sim2RealError  # noqa: E402
from sim2real.settings import EnvSettings, make_settings  # noqa: E402

__version__ = "0.1.0"
__all__ = ["EnvSettings", "Sim2RealEnv", "Sim2RealError", "make", "make_settings"]
