"""Intel Open Image Denoise (pyoidn) on path-traced frames, guided by albedo and normal images."""

from __future__ import annotations

import numpy as np

from sim2real.errors import Sim2RealError


def denoise(colour: np.ndarray, albedo: np.ndarray, normal: np.ndarray) -> np.ndarray:
    """Denoise a linear HDR colour image (H, W, 3 float32) with its albedo and normal images."""
    try:
        import pyoidn
    except ImportError:
        raise Sim2RealError(
            "fidelity 'high' denoises with Intel Open Image Denoise: `pip install pyoidn`"
        ) from None
    return pyoidn.denoise(
        np.ascontiguousarray(colour, np.float32),
        np.ascontiguousarray(np.clip(albedo, 0.0, 1.0), np.float32),
        np.ascontiguousarray(np.clip(normal, -1.0, 1.0), np.float32),
        hdr=True,
    )


def linear_to_srgb8(image: np.ndarray) -> np.ndarray:
    """Linear radiance -> 8-bit sRGB, as a camera's output (clipped, no tone curve beyond sRGB)."""
    value = np.clip(image, 0.0, 1.0)
    srgb = np.where(value <= 0.0031308, value * 12.92, 1.055 * np.power(value, 1 / 2.4) - 0.055)
    return (srgb * 255.0 + 0.5).astype(np.uint8)
