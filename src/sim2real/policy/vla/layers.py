"""Transformer building blocks: pre-norm blocks with optional FiLM modulation."""

from __future__ import annotations

import torch
from torch import nn


class FiLM(nn.Module):
    """Feature-wise linear modulation: x * (1 + gamma(c)) + beta(c), per channel.

    Initialised to the identity so an untrained FiLM leaves the visual features alone.
    """

    def __init__(self, condition_dim: int, width: int) -> None:
        super().__init__()
        self.project = nn.Linear(condition_dim, 2 * width)
        nn.init.zeros_(self.project.weight)
        nn.init.zeros_(self.project.bias)

    def forward(self, x: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        """x: B x ... x width, channels last (tokens or a feature map's cells); condition: B x c."""
        gamma, beta = self.project(condition).chunk(2, dim=-1)
        shape = (x.shape[0],) + (1,) * (x.dim() - 2) + (x.shape[-1],)
        return x * (1 + gamma.view(shape)) + beta.view(shape)


class Block(nn.Module):
    """Pre-norm transformer block with bidirectional self-attention."""

    def __init__(self, width: int, heads: int, mlp_ratio: float, dropout: float) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(width)
        self.attention = nn.MultiheadAttention(width, heads, dropout=dropout, batch_first=True)
        self.norm2 = nn.LayerNorm(width)
        hidden = int(width * mlp_ratio)
        self.mlp = nn.Sequential(
            nn.Linear(width, hidden), nn.GELU(), nn.Dropout(dropout), nn.Linear(hidden, width)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        normed = self.norm1(x)
        x = x + self.attention(normed, normed, normed, need_weights=False)[0]
        return x + self.mlp(self.norm2(x))
