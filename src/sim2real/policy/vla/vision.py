"""Image encoders, one per camera, FiLM-modulated by the instruction embedding.

Two families share one interface (B x 3 x S x S in [0, 1] + condition -> B x T x width tokens,
T = (S / patch_size)^2), and pretrained weights load into either (`load_encoder_weights`):
- `FiLMViT`: patchify + transformer blocks, each followed by FiLM.
- `FiLMResNet`: stride-2 residual stages down to one cell per `patch_size` pixels, each
  followed by FiLM. Convolutions share weights across positions, so an object seen at 100
  positions in the demos is recognised at the positions between them; a from-scratch ViT with
  learned position embeddings has no such prior and needs far more data for the same precision.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch
from torch import nn

from sim2real.policy.vla.layers import FiLM, Block

# ImageNet statistics: the usual input normalisation, and what pretrained encoders expect.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def read_encoder_weights(path: Path) -> dict[str, torch.Tensor]:
    """A pretrained encoder's state dict, saved with torch.save to a local file."""
    from sim2real.errors import Sim2RealError

    if not Path(path).is_file():
        raise Sim2RealError(f"invalid vision weights: {path} is not a file")
    return torch.load(path, map_location="cpu", weights_only=True)


def load_encoder_weights(encoder: nn.Module, state: dict[str, torch.Tensor],
                         source: Path) -> list[str]:
    """Load `state` (read from `source`) into an encoder of either family.

    Returns the names of parameters the state did not provide (FiLM layers usually)."""
    from sim2real.errors import Sim2RealError

    try:
        missing, unexpected = encoder.load_state_dict(state, strict=False)
    except RuntimeError as error:  # shapes differ: another image, patch or model size
        raise Sim2RealError(f"invalid vision weights {source}: {error}") from None
    if unexpected:
        raise Sim2RealError(
            f"invalid vision weights {source}: parameters this encoder lacks: {unexpected[:5]}"
        )
    return list(missing)


class FiLMViT(nn.Module):
    """Patchify, add positions, then blocks each followed by FiLM(language)."""

    def __init__(self, image_size: int, patch_size: int, width: int, depth: int, heads: int,
                 mlp_ratio: float, dropout: float, condition_dim: int) -> None:
        super().__init__()
        self.patchify = nn.Conv2d(3, width, kernel_size=patch_size, stride=patch_size)
        tokens = (image_size // patch_size) ** 2
        self.position = nn.Parameter(torch.randn(1, tokens, width) * 0.02)
        self.blocks = nn.ModuleList(Block(width, heads, mlp_ratio, dropout) for _ in range(depth))
        self.films = nn.ModuleList(FiLM(condition_dim, width) for _ in range(depth))
        self.norm = nn.LayerNorm(width)
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    def forward(self, images: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        """images: B x 3 x H x W floats in [0, 1]; condition: B x width. Returns B x T x width."""
        x = self.patchify((images - self.mean) / self.std).flatten(2).transpose(1, 2)
        x = x + self.position
        for block, film in zip(self.blocks, self.films, strict=True):
            x = film(block(x), condition)
        return self.norm(x)


class ResidualStage(nn.Module):
    """Halve the resolution: conv3x3/2 -> GN -> GELU -> conv3x3 -> GN, plus a 1x1/2 shortcut.

    GroupNorm, not BatchNorm: batch statistics from small robot batches differ between training
    and closed-loop inference (one frame)."""

    def __init__(self, channels_in: int, channels_out: int) -> None:
        super().__init__()
        groups = math.gcd(8, channels_out)
        self.body = nn.Sequential(
            nn.Conv2d(channels_in, channels_out, 3, stride=2, padding=1, bias=False),
            nn.GroupNorm(groups, channels_out),
            nn.GELU(),
            nn.Conv2d(channels_out, channels_out, 3, padding=1, bias=False),
            nn.GroupNorm(groups, channels_out),
        )
        self.shortcut = nn.Conv2d(channels_in, channels_out, 1, stride=2, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.gelu(self.body(x) + self.shortcut(x))


class FiLMResNet(nn.Module):
    """log2(patch_size) residual stages (channels doubling from 16 up to `width`), each followed
    by FiLM(language); the last feature map's cells are the tokens, with fixed 2-D sine-cosine
    positions (smooth in space, so they interpolate between the positions seen in training)."""

    def __init__(self, image_size: int, patch_size: int, width: int, condition_dim: int) -> None:
        super().__init__()
        stages = int(math.log2(patch_size))
        channels = [3] + [min(width, 16 * 2**i) for i in range(stages - 1)] + [width]
        self.stages = nn.ModuleList(ResidualStage(a, b) for a, b in zip(channels, channels[1:]))
        self.films = nn.ModuleList(FiLM(condition_dim, c) for c in channels[1:])
        side = image_size // patch_size
        self.register_buffer("position", sincos_2d(side, width), persistent=False)
        self.norm = nn.LayerNorm(width)
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    def forward(self, images: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        """images: B x 3 x H x W floats in [0, 1]; condition: B x width. Returns B x T x width."""
        x = (images - self.mean) / self.std
        for stage, film in zip(self.stages, self.films, strict=True):
            # FiLM modulates channels last: permuted views, no copies.
            x = film(stage(x).permute(0, 2, 3, 1), condition).permute(0, 3, 1, 2)
        return self.norm(x.flatten(2).transpose(1, 2) + self.position)


def sincos_2d(side: int, width: int) -> torch.Tensor:
    """1 x side^2 x width fixed 2-D sine-cosine position embeddings (MAE's recipe)."""
    quarter = width // 4
    frequencies = 1.0 / 10000 ** (torch.arange(quarter) / quarter)
    grid = torch.arange(side, dtype=torch.float32)
    y, x = torch.meshgrid(grid, grid, indexing="ij")
    parts = []
    for coordinate in (x.flatten(), y.flatten()):
        angles = coordinate[:, None] * frequencies[None, :]
        parts += [angles.sin(), angles.cos()]
    embedding = torch.cat(parts, dim=1)
    return nn.functional.pad(embedding, (0, width - embedding.shape[1])).unsqueeze(0)
