"""A compact ViT per camera whose blocks are FiLM-modulated by the instruction embedding."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from sim2real.policy.vla.layers import FiLM, Block

# ImageNet statistics: the usual input normalisation, and what pretrained encoders expect.
_MEAN = (0.485, 0.456, 0.406)
_STD = (0.229, 0.224, 0.225)


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
        self.register_buffer("mean", torch.tensor(_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(_STD).view(1, 3, 1, 1), persistent=False)

    def forward(self, images: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        """images: B x 3 x H x W floats in [0, 1]; condition: B x width. Returns B x T x width."""
        x = self.patchify((images - self.mean) / self.std).flatten(2).transpose(1, 2)
        x = x + self.position
        for block, film in zip(self.blocks, self.films, strict=True):
            x = film(block(x), condition)
        return self.norm(x)

    def load_pretrained(self, path: Path) -> list[str]:
        """Load encoder weights from a local file (a state dict saved with torch.save).

        Returns the names of parameters the file did not provide (FiLM layers usually)."""
        from sim2real.errors import Sim2RealError

        if not Path(path).is_file():
            raise Sim2RealError(f"invalid vision weights: {path} is not a file")
        state = torch.load(path, map_location="cpu", weights_only=True)
        try:
            missing, unexpected = self.load_state_dict(state, strict=False)
        except RuntimeError as error:  # shapes differ: another image, patch or model size
            raise Sim2RealError(f"invalid vision weights {path}: {error}") from None
        if unexpected:
            raise Sim2RealError(
                f"pretrained encoder {path} has parameters this encoder lacks: {unexpected[:5]}"
            )
        return list(missing)
