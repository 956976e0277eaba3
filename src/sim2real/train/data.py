"""Training samples from demonstration datasets, images streamed from a frame cache.

A sample is frame t of an episode: the images and state at t, the instruction, and the K
actions t..t+K-1 (the last action repeats past the episode's end, so every frame is usable).
Several datasets are mixed by pooling their frames. Normalisation bounds come from the datasets'
meta/stats.json (`sim2real.policy.transforms.Normalisation`), not from these frames.

Images are decoded once per (dataset, camera, size) into a memory-mapped cache on disk at the
model's resolution (`train/frame_cache.py`) and each batch reads only its own frames; states,
actions and instructions (a few numbers per frame) are held in memory.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from sim2real.data.layout import video_file
from sim2real.data.reader import Dataset
from sim2real.errors import Sim2RealError
from sim2real.policy.transforms import resize_square
from sim2real.policy.vla.language import InstructionEncoder
from sim2real.train.frame_cache import PooledFrames, ensure_frames


@dataclass
class Batch:
    frames: torch.Tensor  # B: the pooled frame indices
    images: dict[str, torch.Tensor]  # camera -> B x S x S x 3 uint8
    state: torch.Tensor  # B x 14
    actions: torch.Tensor  # B x K x 14
    instruction_ids: torch.Tensor  # B


@dataclass
class TrainingFrames:
    images: dict[str, PooledFrames]  # camera -> N x S x S x 3 uint8, read per batch
    states: torch.Tensor  # N x 14
    actions: torch.Tensor  # N x 14
    episode_end: torch.Tensor  # N: index of the last frame of each frame's episode
    instruction_ids: torch.Tensor  # N
    instructions: list[str]
    instruction_embeddings: np.ndarray  # len(instructions) x 384

    @classmethod
    def load(cls, roots: Sequence[Path], cameras: Sequence[str], size: int,
             cache_folders: Sequence[Path] | None = None) -> TrainingFrames:
        """Every frame of every dataset, images resized to the model's input and cached (built
        where missing; the datasets' files are checked by `data.validate.check_readable`
        before). `cache_folders`: where the caches go (default: each dataset's cache/frames,
        else the user cache)."""
        parts: dict[str, list[np.ndarray]] = {c: [] for c in cameras}
        states, actions, ends, instruction_ids = [], [], [], []
        instructions: dict[str, int] = {}
        offset = 0
        for root in roots:
            dataset = Dataset(Path(root))
            missing = set(cameras) - set(dataset.cameras)
            if missing:
                raise Sim2RealError(
                    f"dataset {root} lacks camera(s) {sorted(missing)} the model needs; it has {list(dataset.cameras)}"
                )
            lengths = []
            for index in range(len(dataset)):
                episode = dataset.episode(index)
                length = len(episode.actions)
                lengths.append(length)
                states.append(torch.as_tensor(episode.states))
                actions.append(torch.as_tensor(episode.actions))
                ends.append(torch.full((length,), offset + length - 1))
                task = instructions.setdefault(episode.instruction, len(instructions))
                instruction_ids.append(torch.full((length,), task))
                offset += length
            for camera in cameras:
                parts[camera].append(ensure_frames(
                    dataset.root, camera, size, lambda c=camera, d=dataset, n=lengths: _resized(d, c, size, n),
                    cache_folders))
        if offset == 0:
            raise Sim2RealError("the training datasets hold no frames")
        names = list(instructions)
        images = {c: PooledFrames(v) for c, v in parts.items()}
        for camera, pooled in images.items():
            if len(pooled) != offset:
                raise Sim2RealError(f"the {camera} frame caches hold {len(pooled)} frames, the data {offset}")
        return cls(
            images=images,
            states=torch.cat(states).float(),
            actions=torch.cat(actions).float(),
            episode_end=torch.cat(ends),
            instruction_ids=torch.cat(instruction_ids),
            instructions=names,
            instruction_embeddings=InstructionEncoder().encode(names),
        )

    def __len__(self) -> int:
        return len(self.states)

    def sample(self, batch_size: int, chunk: int, generator: torch.Generator) -> Batch:
        frames = torch.randint(len(self), (batch_size,), generator=generator)
        steps = frames[:, None] + torch.arange(chunk)[None, :]
        steps = torch.minimum(steps, self.episode_end[frames][:, None])
        return Batch(
            frames=frames,
            images={c: v[frames] for c, v in self.images.items()},
            state=self.states[frames],
            actions=self.actions[steps],
            instruction_ids=self.instruction_ids[frames],
        )


def _resized(dataset: Dataset, camera: str, size: int, lengths: Sequence[int]) -> Iterator[torch.Tensor]:
    """Each episode's frames of `camera` resized to `size`, checked against its data's length."""
    for index, length in enumerate(lengths):
        frames = _decoded(dataset, index, camera)
        if len(frames) != length:
            raise Sim2RealError(f"dataset {dataset.root}: episode {index}: {camera} has {len(frames)} "
                                f"frames, data {length}")
        yield resize_square(frames, size)


def _decoded(dataset: Dataset, index: int, camera: str) -> np.ndarray:
    """An episode's frames; a video whose header was fine but whose frames are not gets one line."""
    try:
        return dataset.frames(index, camera)
    except Exception as error:
        path = video_file(dataset.root, camera, index).relative_to(dataset.root)
        raise Sim2RealError(f"dataset {dataset.root}: episode {index}: corrupt {path} "
                            f"({str(error).splitlines()[0] if str(error) else type(error).__name__})") from None
