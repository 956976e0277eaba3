"""Training-time image augmentation as OpenVLA-OFT: random resized crop and colour jitter.

Written with plain torch ops (no torchvision) and applied per sample on batches.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def random_resized_crop(images: torch.Tensor, size: int, scale: tuple[float, float] = (0.9, 0.9),
                        generator: torch.Generator | None = None) -> torch.Tensor:
    """B x 3 x H x W -> B x 3 x size x size; each sample cropped to a random area fraction in
    `scale` (OpenVLA-OFT keeps 90% of the area) at a random position, then resized."""
    batch, _, height, width = images.shape
    area = torch.empty(batch).uniform_(*scale, generator=generator)
    side = area.sqrt()
    # affine_grid works in [-1, 1] coordinates: scale by the crop side, shift within the slack.
    shift_x = (torch.rand(batch, generator=generator) * 2 - 1) * (1 - side)
    shift_y = (torch.rand(batch, generator=generator) * 2 - 1) * (1 - side)
    theta = torch.zeros(batch, 2, 3)
    theta[:, 0, 0] = side
    theta[:, 1, 1] = side
    theta[:, 0, 2] = shift_x
    theta[:, 1, 2] = shift_y
    grid = F.affine_grid(theta.to(images), [batch, 3, size, size], align_corners=False)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="border", align_corners=False)


def centre_crop(images: torch.Tensor, size: int, scale: float = 0.9) -> torch.Tensor:
    """The deterministic counterpart used at inference: the central `scale` of the area."""
    batch = images.shape[0]
    side = scale**0.5
    theta = torch.zeros(batch, 2, 3)
    theta[:, 0, 0] = side
    theta[:, 1, 1] = side
    grid = F.affine_grid(theta.to(images), [batch, 3, size, size], align_corners=False)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="border", align_corners=False)


def colour_jitter(images: torch.Tensor, brightness: float = 0.2, contrast: float = 0.2,
                  saturation: float = 0.2, hue: float = 0.05,
                  generator: torch.Generator | None = None) -> torch.Tensor:
    """Random brightness, contrast, saturation and a hue shift per sample; images in [0, 1]."""
    batch = images.shape[0]

    def factor(amount: float) -> torch.Tensor:
        return (1 + (torch.rand(batch, generator=generator) * 2 - 1) * amount).view(batch, 1, 1, 1).to(images)

    images = images * factor(brightness)
    mean = images.mean(dim=(1, 2, 3), keepdim=True)
    images = (images - mean) * factor(contrast) + mean
    grey = (0.299 * images[:, 0:1] + 0.587 * images[:, 1:2] + 0.114 * images[:, 2:3])
    images = (images - grey) * factor(saturation) + grey
    if hue > 0:
        images = _rotate_hue(images, (torch.rand(batch, generator=generator) * 2 - 1) * hue)
    return images.clamp(0, 1)


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
