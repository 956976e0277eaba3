"""Training-time image augmentation as OpenVLA-OFT: random resized crop and colour jitter.

Written with plain torch ops (no torchvision) and applied per sample on batches. Every random
choice is a uniform number in [0, 1) per sample (AUGMENT_UNIFORMS of them: crop area, crop x,
crop y, brightness, contrast, saturation, hue), so an augmentation can be drawn from a generator
on the fly (`random_resized_crop`, `colour_jitter`) or fixed in advance per frame and replayed
(`augment`: the feature cache's augmented views are the same wherever they are computed).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

AUGMENT_UNIFORMS = 7
CROP_SCALE = (0.9, 0.9)  # OpenVLA-OFT keeps 90% of the area
JITTER = dict(brightness=0.2, contrast=0.2, saturation=0.2, hue=0.05)


def augment(images: torch.Tensor, size: int, uniforms: torch.Tensor) -> torch.Tensor:
    """B x 3 x H x W in [0, 1] -> B x 3 x size x size: the random resized crop and colour jitter
    that the uniforms B x AUGMENT_UNIFORMS in [0, 1) choose."""
    cropped = resized_crop(images, size, uniforms[:, 0:3])
    return jitter(cropped, uniforms[:, 3:7])


def resized_crop(images: torch.Tensor, size: int, uniforms: torch.Tensor,
                 scale: tuple[float, float] = CROP_SCALE) -> torch.Tensor:
    """B x 3 x H x W -> B x 3 x size x size; each sample cropped to an area fraction in `scale`
    (uniforms[:, 0]) at a position within the slack (uniforms[:, 1:3]), then resized."""
    batch = images.shape[0]
    side = (scale[0] + uniforms[:, 0] * (scale[1] - scale[0])).sqrt()
    # affine_grid works in [-1, 1] coordinates: scale by the crop side, shift within the slack.
    theta = torch.zeros(batch, 2, 3)
    theta[:, 0, 0] = side
    theta[:, 1, 1] = side
    theta[:, 0, 2] = (uniforms[:, 1] * 2 - 1) * (1 - side)
    theta[:, 1, 2] = (uniforms[:, 2] * 2 - 1) * (1 - side)
    grid = F.affine_grid(theta.to(images), [batch, 3, size, size], align_corners=False)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="border", align_corners=False)


def random_resized_crop(images: torch.Tensor, size: int, scale: tuple[float, float] = CROP_SCALE,
                        generator: torch.Generator | None = None) -> torch.Tensor:
    return resized_crop(images, size, torch.rand(images.shape[0], 3, generator=generator), scale)


def centre_crop(images: torch.Tensor, size: int, scale: float = 0.9) -> torch.Tensor:
    """The deterministic counterpart used at inference: the central `scale` of the area."""
    batch = images.shape[0]
    side = scale**0.5
    theta = torch.zeros(batch, 2, 3)
    theta[:, 0, 0] = side
    theta[:, 1, 1] = side
    grid = F.affine_grid(theta.to(images), [batch, 3, size, size], align_corners=False)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="border", align_corners=False)


def jitter(images: torch.Tensor, uniforms: torch.Tensor, brightness: float = JITTER["brightness"],
           contrast: float = JITTER["contrast"], saturation: float = JITTER["saturation"],
           hue: float = JITTER["hue"]) -> torch.Tensor:
    """Brightness, contrast, saturation and hue shifts per sample (uniforms B x 4 pick each
    within +- its amount); images in [0, 1]."""
    batch = images.shape[0]

    def factor(column: int, amount: float) -> torch.Tensor:
        return (1 + (uniforms[:, column] * 2 - 1) * amount).view(batch, 1, 1, 1).to(images)

    images = images * factor(0, brightness)
    mean = images.mean(dim=(1, 2, 3), keepdim=True)
    images = (images - mean) * factor(1, contrast) + mean
    grey = (0.299 * images[:, 0:1] + 0.587 * images[:, 1:2] + 0.114 * images[:, 2:3])
    images = (images - grey) * factor(2, saturation) + grey
    if hue > 0:
        images = _rotate_hue(images, (uniforms[:, 3] * 2 - 1) * hue)
    return images.clamp(0, 1)


def colour_jitter(images: torch.Tensor, brightness: float = JITTER["brightness"],
                  contrast: float = JITTER["contrast"], saturation: float = JITTER["saturation"],
                  hue: float = JITTER["hue"], generator: torch.Generator | None = None) -> torch.Tensor:
    uniforms = torch.rand(images.shape[0], 4, generator=generator)
    return jitter(images, uniforms, brightness, contrast, saturation, hue)


def _rotate_hue(images: torch.Tensor, turns: torch.Tensor) -> torch.Tensor:
    """Rotate chroma in YIQ space by `turns` of a full circle per sample."""
    to_yiq = torch.tensor([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]])
    to_rgb = torch.linalg.inv(to_yiq)
    angle = turns * 2 * torch.pi
    cos, sin = angle.cos(), angle.sin()
    rotation = torch.zeros(images.shape[0], 3, 3)
    rotation[:, 0, 0] = 1
    rotation[:, 1, 1], rotation[:, 1, 2] = cos, -sin
    rotation[:, 2, 1], rotation[:, 2, 2] = sin, cos
    matrix = (to_rgb @ rotation @ to_yiq).to(images)
    return torch.einsum("bij,bjhw->bihw", matrix, images)
