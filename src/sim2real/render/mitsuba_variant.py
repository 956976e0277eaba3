"""Pick and start Mitsuba 3's variant: cuda_ad_rgb on a GPU, llvm_ad_rgb on CPU, scalar_rgb last.

Mitsuba's variant is process-wide: the first path-traced camera decides it. llvm_ad_rgb needs
LLVM's shared library at run time; Debian's LLVM 15 crashes Dr.Jit, so we point Dr.Jit at
libLLVM 19 (apt package libllvm19) unless the user set DRJIT_LIBLLVM_PATH themselves.
"""

from __future__ import annotations

import glob
import os
import warnings

from sim2real.errors import Sim2RealError
from sim2real.render.presets import VARIANT_CHOICES

LLVM_LIBRARY_GLOBS = (
    "/usr/lib/x86_64-linux-gnu/libLLVM.so.19*",
    "/usr/lib/x86_64-linux-gnu/libLLVM-19.so*",
    "/usr/lib/llvm-19/lib/libLLVM*.so*",
    "/usr/lib/aarch64-linux-gnu/libLLVM.so.19*",
    "/usr/lib/aarch64-linux-gnu/libLLVM-19.so*",
)
INSTALL_LLVM = (
    "install LLVM 19 with `sudo apt-get install libllvm19` (`make setup` does it), or set "
    "DRJIT_LIBLLVM_PATH to a libLLVM.so of version 16 or newer"
)


def find_libllvm() -> str | None:
    """The libLLVM 19 shared library on this machine, or None."""
    for pattern in LLVM_LIBRARY_GLOBS:
        found = sorted(glob.glob(pattern))
        if found:
            return found[0]
    return None


def select_variant(requested: str = "auto") -> str:
    """Start Mitsuba with `requested` (or the best available for 'auto') and return its name.

    An explicitly requested variant that cannot start is an error saying how to install what it
    needs; 'auto' falls back to slower variants and warns how to get the faster one.
    """
    if requested not in VARIANT_CHOICES:
        raise Sim2RealError(
            f"invalid render.path_tracer.variant: {requested!r}; "
            f"allowed: {', '.join(VARIANT_CHOICES)}"
        )
    # Dr.Jit reads DRJIT_LIBLLVM_PATH when its LLVM backend first starts: set it before that.
    if "DRJIT_LIBLLVM_PATH" not in os.environ and (library := find_libllvm()):
        os.environ["DRJIT_LIBLLVM_PATH"] = library
    import mitsuba as mi

    current = mi.variant()
    if current is not None and (requested in ("auto", current)):
        return current
    if requested != "auto":
        _start(requested)
        return requested
    problems = []
    for candidate in ("cuda_ad_rgb", "llvm_ad_rgb", "scalar_rgb"):
        try:
            _start(candidate)
        except Sim2RealError as error:
            problems.append(str(error))
            continue
        if candidate == "scalar_rgb":
            warnings.warn(
                "path tracing with Mitsuba's slow scalar_rgb variant: " + "; ".join(problems[1:]),
                stacklevel=2,
            )
        return candidate
    raise Sim2RealError("no Mitsuba variant could start: " + "; ".join(problems))


def _start(variant: str) -> None:
    """Switch Mitsuba to `variant` and check that its Dr.Jit backend really works."""
    import mitsuba as mi

    if variant not in mi.variants():
        raise Sim2RealError(
            f"Mitsuba variant {variant!r} is not in this Mitsuba build (has: "
            f"{', '.join(mi.variants())}); install the PyPI wheel: `pip install mitsuba`"
        )
    import drjit as dr

    backend = {"cuda_ad_rgb": dr.JitBackend.CUDA, "llvm_ad_rgb": dr.JitBackend.LLVM}.get(variant)
    if backend is not None and not dr.has_backend(backend):
        if variant == "cuda_ad_rgb":
            raise Sim2RealError("Mitsuba variant 'cuda_ad_rgb' needs an NVIDIA GPU and driver")
        library = os.environ.get("DRJIT_LIBLLVM_PATH", "libLLVM.so")
        raise Sim2RealError(
            f"Mitsuba variant 'llvm_ad_rgb' cannot load LLVM ({library}): {INSTALL_LLVM}"
        )
    try:
        mi.set_variant(variant)
    except (ImportError, AttributeError) as error:
        raise Sim2RealError(f"Mitsuba variant {variant!r} failed to start: {error}") from None
