"""The frozen stages' features of a pretrained encoder, computed once per frame and cached on
disk with the dataset, so an epoch never runs them again.

A frozen stage sees no language and never trains, so its output is a function of the image
alone. Augmentation stays on images, before the cache: each frame is cached in a few fixed
views (`FeatureViews`), view 0 the inference view (the central crop) and the others random
resized crops with colour jitter whose random numbers are fixed per (frame, view) by a seed.
Training draws one view per sample. `live_features` computes the same views without the cache
(what the cache must equal).

A cache file holds one dataset's frames for one camera, N x V x C x h x w float16, under
`<dataset>/cache/features/` (or another folder), named by a digest of everything the values
depend on: the dataset's content (its meta/info.json and meta/stats.json), the encoder and its
weights, the frozen stages, the image size, the camera and the views. It is written to a
temporary file and renamed into place, so a crash never leaves half a cache.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from sim2real.data.reader import Dataset
from sim2real.media import atomic_path
from sim2real.policy.vla.augment import AUGMENT_UNIFORMS, CROP_SCALE, JITTER, augment, centre_crop
from sim2real.policy.vla.config import VLAConfig
from sim2real.train.frame_cache import dataset_digest

FORMAT = "sim2real-features/1"
CHUNK = 64  # frames through the frozen stages at once while building


@dataclass(frozen=True)
class FeatureViews:
    """The images of each frame the cache holds: `count` views, 0 the inference view, the rest
    augmented with uniforms drawn from `seed` (the same for every dataset and camera)."""

    count: int = 4
    seed: int = 0

    def uniforms(self, frames: int) -> torch.Tensor:
        """frames x count x AUGMENT_UNIFORMS: the random numbers of every (frame, view)."""
        generator = torch.Generator().manual_seed(self.seed)
        return torch.rand(frames, self.count, AUGMENT_UNIFORMS, generator=generator)


def view_images(images: torch.Tensor, size: int, views: torch.Tensor,
                uniforms: torch.Tensor) -> torch.Tensor:
    """uint8 B x S x S x 3 -> float B x 3 x size x size in [0, 1]: view 0 the central crop as at
    inference, any other view augmented by its uniforms (B x AUGMENT_UNIFORMS)."""
    x = images.permute(0, 3, 1, 2).float() / 255.0
    out = centre_crop(x, size)
    augmented = views > 0
    if augmented.any():
        out[augmented] = augment(x[augmented], size, uniforms[augmented])
    return out


def live_features(encoder, images: torch.Tensor, size: int, views: torch.Tensor,
                  uniforms: torch.Tensor) -> torch.Tensor:
    """The frozen stages run now on the given views: B x C x h x w float16."""
    return encoder.frozen_features(view_images(images, size, views, uniforms))


def cache_key(root: Path, camera: str, config: VLAConfig, views: FeatureViews) -> dict:
    """Everything a cached feature depends on."""
    from sim2real.policy.vla.efficientnet import weights_digest

    return {
        "format": FORMAT, "dataset": dataset_digest(root), "camera": camera,
        "encoder": config.encoder, "weights": weights_digest(), "frozen_stages": config.frozen_stages,
        "image_size": config.image_size, "views": asdict(views),
        "augmentation": {"crop_scale": list(CROP_SCALE), **JITTER},
    }


def cache_file(root: Path, key: dict, folder: Path | None = None) -> Path:
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:20]
    return (folder or Path(root) / "cache" / "features") / f"{key['camera']}-{digest}.npy"


def ensure_cache(root: Path, camera: str, encoder, config: VLAConfig, views: FeatureViews,
                 folder: Path | None = None,
                 on_frames: Callable[[int], None] | None = None) -> np.ndarray:
    """The dataset's cached features for `camera` (read-only memory map), built first if absent.
    `on_frames(n)` reports progress while building."""
    key = cache_key(root, camera, config, views)
    path = cache_file(root, key, folder)
    if not path.is_file():
        _build(Path(root), camera, encoder, config, views, key, path, on_frames)
    return np.load(path, mmap_mode="r")


def _build(root: Path, camera: str, encoder, config: VLAConfig, views: FeatureViews, key: dict,
           path: Path, on_frames: Callable[[int], None] | None) -> None:
    from sim2real.policy.transforms import resize_square

    dataset = Dataset(root)
    total = int(dataset.info["total_frames"])
    uniforms = views.uniforms(total)
    device = next(encoder.parameters()).device
    shape = (total, views.count, *encoder.frozen_shape(config.image_size))
    was_training = encoder.training
    encoder.eval()
    with atomic_path(path, ".npy") as tmp:
        out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float16, shape=shape)
        start = 0
        for index in range(len(dataset)):
            frames = resize_square(dataset.frames(index, camera), config.image_size)
            for first in range(0, len(frames), CHUNK):
                chunk = frames[first : first + CHUNK]
                rows = slice(start + first, start + first + len(chunk))
                for view in range(views.count):
                    which = torch.full((len(chunk),), view)
                    images = view_images(chunk, config.image_size, which, uniforms[rows, view])
                    out[rows, view] = encoder.frozen_features(images.to(device)).cpu().numpy()
                if on_frames is not None:
                    on_frames(len(chunk))
            start += len(frames)
        if start != total:
            from sim2real.errors import Sim2RealError

            raise Sim2RealError(f"{root}: {camera} has {start} frames, meta/info.json {total}")
        out.flush()
        del out
    with atomic_path(path.with_suffix(".json"), ".json") as tmp:
        tmp.write_text(json.dumps(key, indent=1))
    encoder.train(was_training)


class CachedFeatures:
    """Several datasets' caches for one camera, indexed by the pooled frame index (datasets in
    order, as `TrainingFrames` pools them)."""

    def __init__(self, parts: Sequence[np.ndarray]) -> None:
        self.parts = list(parts)
        self.starts = np.cumsum([0] + [len(p) for p in self.parts])

    def __len__(self) -> int:
        return int(self.starts[-1])

    def gather(self, frames: torch.Tensor, views: torch.Tensor) -> torch.Tensor:
        """B x C x h x w float16 for pooled frame indices and view indices."""
        frames, views = frames.numpy(), views.numpy()
        part = np.searchsorted(self.starts, frames, side="right") - 1
        rows = [self.parts[p][f - self.starts[p], v] for p, f, v in zip(part, frames, views, strict=True)]
        return torch.from_numpy(np.stack(rows))


def uses_feature_cache(config, model: VLAConfig) -> bool:
    """Whether an SFT run (`config`: an SFTConfig) trains on cached frozen-stage features."""
    return config.feature_cache and model.encoder == "efficientnet-lite0" and model.frozen_stages > 0


def load_features(config, model_config: VLAConfig, model,
                  on_features: Callable[[int, int], None] | None = None) -> dict[str, CachedFeatures]:
    """camera -> the pooled cached features of the run's datasets, built where missing with
    each camera's own encoder (`on_features(frames, total)` reports building progress)."""
    views = FeatureViews(config.feature_views, config.seed)
    total = sum(int(Dataset(root).info["total_frames"]) for root in config.data) * len(model_config.cameras)
    done = 0

    def built(frames: int) -> None:
        nonlocal done
        done += frames
        if on_features is not None:
            on_features(done, total)

    for root in config.data:
        missing = set(model_config.cameras) - set(Dataset(root).cameras)
        if missing:
            from sim2real.errors import Sim2RealError

            raise Sim2RealError(f"dataset {root} lacks camera(s) {sorted(missing)} the model needs; "
                                f"it has {list(Dataset(root).cameras)}")
    features = {}
    for camera in model_config.cameras:
        encoder = model.encoders[camera]
        parts = [ensure_cache(root, camera, encoder, model_config, views, config.feature_cache_dir, built)
                 for root in config.data]
        features[camera] = CachedFeatures(parts)
    return features


def sample_views(batch: int, views: FeatureViews, augment: bool,
                 generator: torch.Generator) -> torch.Tensor:
    """One cached view per sample: any view when augmenting, else the inference view."""
    if not augment or views.count == 1:
        return torch.zeros(batch, dtype=torch.long)
    return torch.randint(views.count, (batch,), generator=generator)
