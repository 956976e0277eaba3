"""The frozen-stage feature cache on real (tiny) click_bell demos: it holds what the frozen
stages compute live, is built once, and is keyed by what its values depend on."""

import numpy as np
import torch

from sim2real.data.reader import Dataset
from sim2real.policy.vla.config import preset
from sim2real.policy.vla.efficientnet import FiLMEfficientNet
from sim2real.policy.transforms import resize_square
from sim2real.train.features import (CachedFeatures, FeatureViews, cache_file, cache_key,
                                     ensure_cache, live_features)

SIZE = 32


def pooled_images(root, camera: str) -> torch.Tensor:
    dataset = Dataset(root)
    return torch.cat([resize_square(dataset.frames(i, camera), SIZE) for i in range(len(dataset))])


def test_cached_features_equal_the_frozen_stages_run_live(click_bell_demos, tmp_path):
    config = preset("tiny", encoder="efficientnet-lite0", image_size=SIZE, cameras=("head",),
                    frozen_stages=4)
    encoder = FiLMEfficientNet(SIZE, 16, config.width, config.width, config.frozen_stages).eval()
    views = FeatureViews(count=2, seed=7)
    built = []
    cache = ensure_cache(click_bell_demos, "head", encoder, config, views, tmp_path, built.append)
    frames_total = int(Dataset(click_bell_demos).info["total_frames"])
    assert cache.shape == (frames_total, 2, 40, 4, 4) and cache.dtype == np.float16
    assert sum(built) == frames_total

    # Two copies of the dataset pooled, as training mixes datasets: indices run across both.
    pooled = CachedFeatures([cache, cache])
    images = pooled_images(click_bell_demos, "head")
    images, uniforms = torch.cat([images, images]), torch.cat([views.uniforms(frames_total)] * 2)
    generator = torch.Generator().manual_seed(0)
    frames = torch.randint(len(pooled), (12,), generator=generator)
    chosen = torch.randint(views.count, (12,), generator=generator)
    chosen[:3] = 0  # the inference view is among them
    cached = pooled.gather(frames, chosen)
    live = live_features(encoder, images[frames], SIZE, chosen, uniforms[frames, chosen])
    assert cached.dtype == live.dtype == torch.float16 and cached.shape == live.shape
    # Equal up to the last bit of half precision (a batch of 12 vs chunks of 64 through conv).
    torch.testing.assert_close(cached.float(), live.float(), atol=2e-3, rtol=2e-3)
    # The views differ from each other: augmentation survives the cache.
    assert not torch.allclose(pooled.gather(frames[:1], torch.tensor([0])).float(),
                              pooled.gather(frames[:1], torch.tensor([1])).float())

    # Built once: a second call reads the file.
    again = []
    ensure_cache(click_bell_demos, "head", encoder, config, views, tmp_path, again.append)
    assert not again
    # Keyed by what the features depend on.
    key = cache_key(click_bell_demos, "head", config, views)
    other_stages = config.model_copy(update={"frozen_stages": 3})
    other_size = preset("tiny", encoder="efficientnet-lite0", image_size=96, cameras=("head",))
    paths = {cache_file(click_bell_demos, key, tmp_path),
             cache_file(click_bell_demos, cache_key(click_bell_demos, "head", other_stages, views), tmp_path),
             cache_file(click_bell_demos, cache_key(click_bell_demos, "head", other_size, views), tmp_path),
             cache_file(click_bell_demos, cache_key(click_bell_demos, "head", config, FeatureViews(2, 8)), tmp_path)}
    assert len(paths) == 4
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [cache_file(click_bell_demos, key, tmp_path).name, cache_file(click_bell_demos, key, tmp_path).with_suffix(".json").name])
