"""The reference VLA as a Policy: a checkpoint in, action chunks out."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from sim2real.core.contract import image_key
from sim2real.core.environment import Observation
from sim2real.core.policy import PolicyMetadata
from sim2real.core.records import EpisodeInfo
from sim2real.errors import Sim2RealError
from sim2real.policy.vla.augment import centre_crop
from sim2real.policy.vla.config import VLAConfig
from sim2real.policy.vla.images import resize_square
from sim2real.policy.vla.language import InstructionEncoder
from sim2real.policy.vla.model import ReferenceVLA
from sim2real.policy.vla.normalize import Bounds


class VLAPolicy:
    """Runs a trained ReferenceVLA on a batch of observations; returns B x K x 14 absolute joint
    targets. Stateless between calls, so one instance serves any number of episodes at once."""

    def __init__(self, model: ReferenceVLA, action_bounds: Bounds, state_bounds: Bounds,
                 device: str | torch.device = "cpu") -> None:
        self.model = model.eval().to(device)
        self.config: VLAConfig = model.config
        self.action_bounds = action_bounds
        self.state_bounds = state_bounds
        self.device = torch.device(device)
        self.language = InstructionEncoder()
        self._embeddings: dict[str, torch.Tensor] = {}  # instruction -> 384-vector, a pure cache

    @classmethod
    def load(cls, path: Path | str, device: str | None = None) -> "VLAPolicy":
        from sim2real.policy.vla.checkpoint import load_checkpoint

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
            stateful=False,
        )

    def reset(self, episode: EpisodeInfo | None = None) -> None:
        pass  # nothing carries over between calls

    @torch.no_grad()
    def infer(self, observations: Sequence[Observation]) -> np.ndarray:
        for observation in observations:
            missing = [c for c in self.config.cameras if image_key(c) not in observation]
            if missing:
                raise Sim2RealError(
                    f"observation lacks {image_key(missing[0])}; this policy needs cameras "
                    f"{list(self.config.cameras)}"
                )
        size = self.config.image_size
        images = {}
        for camera in self.config.cameras:
            batch = np.stack([np.asarray(o[image_key(camera)]) for o in observations])
            x = resize_square(batch, size).permute(0, 3, 1, 2).float().div(255.0)
            images[camera] = centre_crop(x, size).to(self.device)
        language = torch.stack([self._embedding(str(o["instruction"])) for o in observations])
        state = torch.as_tensor(np.stack([np.asarray(o["state"], dtype=np.float32) for o in observations]))
        state = self.state_bounds.normalise(state).to(self.device)
        prediction = self.model(images, language, state)
        actions = self.action_bounds.denormalise(self.model.actions(prediction).float().cpu())
        return actions.numpy().astype(np.float64)

    def _embedding(self, instruction: str) -> torch.Tensor:
        if instruction not in self._embeddings:
            vector = self.language.encode([instruction])[0]
            self._embeddings[instruction] = torch.as_tensor(vector, device=self.device)
        return self._embeddings[instruction]
