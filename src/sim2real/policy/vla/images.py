"""Camera images to model inputs, identically at training and at inference."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


def resize_square(images: np.ndarray | torch.Tensor, size: int) -> torch.Tensor:
    """uint8 N x H x W x 3 -> uint8 N x size x size x 3 (antialiased; the aspect is squashed, as
    OpenVLA-OFT does with its 224 x 224 inputs)."""
    x = torch.as_tensor(np.asarray(images)).permute(0, 3, 1, 2).float()
    x = F.interpolate(x, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
    return x.round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).contiguous()
