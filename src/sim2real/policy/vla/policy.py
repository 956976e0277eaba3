"""The reference VLA as a Policy: a checkpoint in, action chunks out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from sim2real.errors import Sim2RealError
from sim2real.policy.protocol import PolicyMetadata
from sim2real.policy.vla.augment import centre_crop
from sim2real.policy.vla.config import VLAConfig
from sim2real.policy.vla.images import resize_square
from sim2real.policy.vla.language import InstructionEncoder
from sim2real.policy.vla.model import ReferenceVLA
from sim2real.policy.vla.normalize import Bounds


class VLAPolicy:
    """Runs a trained ReferenceVLA on observations; returns K x 14 absolute joint targets."""

    def __init__(self, model: ReferenceVLA, action_bounds: Bounds, state_bounds: Bounds,
                 device: str | torch.device = "cpu") -> None:
        self.model = model.eval().to(device)
        self.config: VLAConfig = model.config
        self.action_bounds = action_bounds
        self.state_bounds = state_bounds
        self.device = torch.device(device)
        self.language = InstructionEncoder()
        self._instruction: str | None = None
        self._embedding: torch.Tensor | None = None

    @classmethod
    def load(cls, path: Path | str, device: str | None = None) -> "VLAPolicy":
        from sim2real.train.checkpoint import load_checkpoint

        payload = load_checkpoint(Path(path))
        config = VLAConfig(**payload["config"])
        model = ReferenceVLA(config)
        model.load_state_dict(payload["model"])
        norms = payload["normalisation"]
        device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        return cls(model, Bounds.from_stats(norms["action"]), Bounds.from_stats(norms["state"]), device)

    @property
    def metadata(self) -> PolicyMetadata:
        # The env renders at the policy's square size, so no detail is lost before resizing.
        size = self.config.image_size
        return PolicyMetadata(
            name=f"reference-vla-{self.config.size}-{self.config.head}",
            cameras=tuple(self.config.cameras),
            image_size=(size, size),
            chunk_size=self.config.chunk_size,
            action_dim=self.config.action_dim,
        )

    def reset(self, episode: dict[str, Any] | None = None) -> None:
        self._instruction = None
        self._embedding = None

    @torch.no_grad()
    def infer(self, observation: dict[str, Any]) -> np.ndarray:
        missing = [c for c in self.config.cameras if f"images/{c}" not in observation]
        if missing:
            raise Sim2RealError(
                f"observation lacks images/{missing[0]}; this policy needs cameras {list(self.config.cameras)}"
            )
        size = self.config.image_size
        images = {}
        for camera in self.config.cameras:
            square = resize_square(observation[f"images/{camera}"][None], size)
            x = square.permute(0, 3, 1, 2).float().div(255.0)
            images[camera] = centre_crop(x, size).to(self.device)
        instruction = str(observation["instruction"])
        if instruction != self._instruction:
            vector = self.language.encode([instruction])
            self._embedding = torch.as_tensor(vector, device=self.device)
            self._instruction = instruction
        state = torch.as_tensor(np.asarray(observation["state"], dtype=np.float32))[None]
        state = self.state_bounds.normalise(state).to(self.device)
        prediction = self.model(images, self._embedding, state)
        actions = self.action_bounds.denormalise(self.model.actions(prediction).float().cpu())
        return actions[0].numpy().astype(np.float64)
