"""The reference VLA network and its losses."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from sim2real.policy.vla.config import VLAConfig
from sim2real.policy.vla.layers import Block
from sim2real.policy.vla.vision import FiLMResNet, FiLMViT


class ReferenceVLA(nn.Module):
    """[visual tokens | language | state | K action queries] -> K actions in one pass."""

    def __init__(self, config: VLAConfig, pretrained: bool = True) -> None:
        """`pretrained`: start a pretrained encoder from its published weights (False when a
        checkpoint's weights replace them anyway)."""
        super().__init__()
        self.config = config
        width = config.width
        self.language = nn.Sequential(nn.Linear(config.language_dim, width), nn.LayerNorm(width))
        self.encoders = nn.ModuleDict(
            {camera: image_encoder(config, pretrained) for camera in config.cameras})
        self.camera_embedding = nn.Parameter(torch.zeros(len(config.cameras), 1, width))
        # OpenVLA-OFT: proprioception projected by a 2-layer MLP with GELU.
        self.state = nn.Sequential(
            nn.Linear(config.state_dim, width), nn.GELU(), nn.Linear(width, width)
        )
        self.action_queries = nn.Parameter(torch.randn(1, config.chunk_size, width) * 0.02)
        self.trunk = nn.ModuleList(
            Block(width, config.heads, config.mlp_ratio, config.dropout)
            for _ in range(config.trunk_depth)
        )
        self.norm = nn.LayerNorm(width)
        outputs = config.action_dim * (config.bins if config.head == "discrete" else 1)
        self.action_head = nn.Sequential(
            nn.Linear(width, config.head_hidden),
            nn.GELU(),
            nn.Linear(config.head_hidden, config.head_hidden),
            nn.GELU(),
            nn.Linear(config.head_hidden, outputs),
        )

    def forward(
        self, images: dict[str, torch.Tensor], language: torch.Tensor, state: torch.Tensor,
        encoded: bool = False,
    ) -> torch.Tensor:
        """images[camera]: B x 3 x S x S in [0, 1], or with `encoded` the output of the encoder's
        frozen stages (`frozen_features`, e.g. from the training feature cache); language:
        B x 384; state: B x 14 (normalised).

        Returns B x K x 14 (continuous, in [-1, 1] units) or B x K x 14 x bins logits."""
        condition = self.language(language)
        tokens = []
        for i, camera in enumerate(self.config.cameras):
            encoder = self.encoders[camera]
            encode = encoder.forward_features if encoded else encoder
            tokens.append(encode(images[camera], condition) + self.camera_embedding[i])
        batch = state.shape[0]
        tokens += [
            condition.unsqueeze(1),
            self.state(state).unsqueeze(1),
            self.action_queries.expand(batch, -1, -1),
        ]
        x = torch.cat(tokens, dim=1)
        for block in self.trunk:
            x = block(x)
        queries = self.norm(x[:, -self.config.chunk_size :])
        out = self.action_head(queries)
        if self.config.head == "discrete":
            return out.view(batch, self.config.chunk_size, self.config.action_dim, self.config.bins)
        return torch.tanh(out)

    def loss(self, prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """L1 on normalised actions (continuous) or cross-entropy over bins (discrete).

        target: B x K x 14 normalised actions in [-1, 1]."""
        if self.config.head == "discrete":
            bins = to_bins(target, self.config.bins)
            return F.cross_entropy(prediction.flatten(0, 2), bins.flatten())
        return F.l1_loss(prediction, target)

    @torch.no_grad()
    def actions(self, prediction: torch.Tensor) -> torch.Tensor:
        """Normalised actions B x K x 14 from a forward() output (argmax bin centres if discrete)."""
        if self.config.head == "discrete":
            return from_bins(prediction.argmax(dim=-1), self.config.bins)
        return prediction


def image_encoder(config: VLAConfig, pretrained: bool = True) -> nn.Module:
    """One camera's encoder; its tokens have the model width and are conditioned on language."""
    if config.encoder == "efficientnet-lite0":
        from sim2real.policy.vla.efficientnet import FiLMEfficientNet

        return FiLMEfficientNet(config.image_size, config.patch_size, config.width, config.width,
                                config.frozen_stages, pretrained)
    if config.encoder == "resnet":
        return FiLMResNet(config.image_size, config.patch_size, config.width, config.width)
    return FiLMViT(config.image_size, config.patch_size, config.width, config.vision_depth,
                   config.heads, config.mlp_ratio, config.dropout, config.width)


def to_bins(normalised: torch.Tensor, bins: int) -> torch.Tensor:
    """[-1, 1] -> bin indices 0..bins-1 (uniform bins, as OpenVLA/SimpleVLA-RL)."""
    scaled = (normalised.clamp(-1, 1) + 1) / 2 * bins
    return scaled.long().clamp(0, bins - 1)


def from_bins(indices: torch.Tensor, bins: int) -> torch.Tensor:
    """Bin indices -> bin centres in [-1, 1]."""
    return (indices.float() + 0.5) / bins * 2 - 1
