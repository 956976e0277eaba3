"""The pretrained EfficientNet-Lite0 encoder: ImageNet weights really load, stages freeze, FiLM
modulates only the trainable stages."""

import pytest
import torch

from sim2real.errors import Sim2RealError
from sim2real.policy.vla.efficientnet import FiLMEfficientNet, imagenet_network

COIL = 506  # ImageNet class "coil, spiral, volute, whorl, helix"
# Recorded once from the package's own EfficientNet class (stem + blocks 0..7 called directly,
# ImageNet weights, the synthetic image below at 128 px): the output of stage 4 (80 x 8 x 8).
STAGE4_MEAN, STAGE4_STD = 0.42029, 10.5644
STAGE4_CHANNEL_MEANS = (6.9164, 1.3503, -4.1154, -11.7969, -5.5725, 6.6260)
MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)


def synthetic_image(size: int = 128) -> torch.Tensor:
    """1 x 3 x size x size in [0, 1]: concentric rings, a diagonal grating and a block."""
    y, x = torch.meshgrid(torch.linspace(-1, 1, size), torch.linspace(-1, 1, size), indexing="ij")
    rings = 0.5 + 0.5 * torch.sin(12 * (x**2 + y**2).sqrt())
    grating = 0.5 + 0.5 * torch.cos(7 * x + 3 * y)
    block = (x > 0.2).float() * (y < 0).float() * 0.8 + 0.1
    return torch.stack([rings, grating, block]).unsqueeze(0)


@pytest.fixture(scope="module")
def encoder():
    torch.manual_seed(0)
    return FiLMEfficientNet(128, 16, 64, 32, frozen_stages=5).eval()


def test_the_packaged_weights_are_imagenet_ones():
    """The package's classifier with the shipped weights names the rings a coil, confidently;
    the same network with random weights has no opinion."""
    image = (synthetic_image() - MEAN) / STD
    with torch.no_grad():
        pretrained = imagenet_network(128).eval()(image).softmax(-1)[0]
        torch.manual_seed(0)
        random = imagenet_network(128, pretrained=False).eval()(image).softmax(-1)[0]
    assert int(pretrained.argmax()) == COIL and float(pretrained[COIL]) > 0.5
    assert float(random.max()) < 0.01


def test_encoder_features_are_the_recorded_imagenet_features(encoder):
    features = encoder.frozen_features(synthetic_image()).float()
    assert features.shape == (1, 80, 8, 8) and features.dtype == torch.float32
    assert features.mean().item() == pytest.approx(STAGE4_MEAN, rel=1e-3)
    assert features.std().item() == pytest.approx(STAGE4_STD, rel=1e-3)
    channel_means = features.mean(dim=(0, 2, 3))[: len(STAGE4_CHANNEL_MEANS)]
    torch.testing.assert_close(channel_means, torch.tensor(STAGE4_CHANNEL_MEANS), atol=2e-3, rtol=1e-3)
    torch.manual_seed(0)
    random = FiLMEfficientNet(128, 16, 64, 32, frozen_stages=5, pretrained=False).eval()
    assert random.frozen_features(synthetic_image()).float().std().item() < 0.01 * STAGE4_STD


def test_frozen_stages_stay_imagenet_and_film_modulates_the_rest(encoder):
    encoder.train()
    frozen = [p for stage in encoder.stages[:5] for p in stage.parameters()]
    assert frozen and not any(p.requires_grad for p in frozen)
    statistics = [m.running_mean.clone() for m in encoder.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    images = torch.rand(2, 3, 128, 128)
    condition = torch.randn(2, 32)
    tokens = encoder(images, condition)
    assert tokens.shape == (2, 64, 64)
    tokens.square().mean().backward()
    assert all(p.grad is None for p in frozen)
    assert encoder.stages[5][0]._project_conv.weight.grad.abs().sum() > 0
    assert encoder.films[0].project.weight.grad.abs().sum() > 0
    after = [m.running_mean for m in encoder.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert all(torch.equal(a, b) for a, b in zip(statistics, after, strict=True))  # ImageNet's kept
    # The frozen features depend on the image alone; the tokens on the instruction too.
    with torch.no_grad():
        torch.nn.init.normal_(encoder.films[0].project.weight, std=0.1)
        features = encoder.frozen_features(images)
        torch.testing.assert_close(encoder(images, condition), encoder.forward_features(features, condition))
        assert not torch.allclose(encoder.forward_features(features, condition),
                                  encoder.forward_features(features, -condition))
    encoder.zero_grad()


def test_bad_settings_are_named():
    with pytest.raises(Sim2RealError, match="invalid frozen_stages: 6 .* allowed: 0..5"):
        FiLMEfficientNet(128, 16, 64, 32, frozen_stages=6, pretrained=False)
    with pytest.raises(Sim2RealError, match="invalid patch_size: 8"):
        FiLMEfficientNet(128, 8, 64, 32, frozen_stages=2, pretrained=False)


def test_single_thread_cpu_inference_matches_the_module_and_survives_a_checkpoint(tmp_path):
    """`infer` runs on one intra-op thread (docs/vla_encoder.md, "Latency per chunk"): the same
    actions as the plain module's forward with torch's threads, before and after a checkpoint
    round trip, and torch's thread count is restored afterwards."""
    import numpy as np

    from sim2real.policy.transforms import Normalisation, model_images, resize_square
    from sim2real.policy.vla.checkpoint import save_checkpoint
    from sim2real.policy.vla.config import preset
    from sim2real.policy.vla.model import ReferenceVLA
    from sim2real.policy.vla.policy import VLAPolicy

    torch.manual_seed(0)
    config = preset("tiny", encoder="efficientnet-lite0", image_size=128, camera_aspect="4:3")
    policy = VLAPolicy(ReferenceVLA(config, pretrained=False), Normalisation.unit(), "cpu")
    assert policy.cpu_threads == 1
    rng = np.random.default_rng(0)
    width, height = config.render_size
    observation = {"images/head": rng.integers(0, 256, (height, width, 3), dtype=np.uint8),
                   "state": rng.uniform(-0.5, 0.5, 14), "instruction": "Click the bell."}
    embedding = rng.standard_normal(384).astype(np.float32)
    policy.language.remember("Click the bell.", embedding)
    images = {"head": model_images(resize_square(observation["images/head"][None], 128), 128)}
    language = torch.as_tensor(embedding[None])
    state = torch.as_tensor(observation["state"][None], dtype=torch.float32)
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        with torch.no_grad():
            plain = policy.model(images, language, state)[0]  # unit bounds: actions = outputs
        actions = policy.infer([observation])[0]
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(threads)
    np.testing.assert_allclose(actions, plain.double().numpy(), atol=1e-4)
    path = save_checkpoint(tmp_path / "lite.pt", {
        "model": policy.model.state_dict(), "config": config.model_dump(mode="json"),
        "normalisation": policy.normalisation.as_dict()})
    loaded = VLAPolicy.load(path, "cpu")
    loaded.language.remember("Click the bell.", embedding)
    np.testing.assert_allclose(loaded.infer([observation])[0], actions, atol=1e-5)
