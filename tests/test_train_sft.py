"""SFT of the reference VLA on real (tiny) click_bell demonstrations."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from sim2real.errors import Sim2RealError
from sim2real.policy.vla.config import preset
from sim2real.policy.vla.model import ReferenceVLA, from_bins, to_bins
from sim2real.policy.vla.policy import VLAPolicy
from sim2real.policy.vla.checkpoint import load_checkpoint
from sim2real.train.sft import SFTConfig, train_sft


@pytest.fixture(scope="module")
def trained(click_bell_demos, tmp_path_factory):
    out = tmp_path_factory.mktemp("ckpt") / "tiny.pt"
    config = SFTConfig(data=(click_bell_demos,), out=out, model="tiny", cameras=("head",), steps=40,
                       batch_size=8, warmup_steps=5, learning_rate=1e-3, checkpoint_every=20)
    return config, train_sft(config)


def test_loss_falls(trained):
    _, summary = trained
    assert summary["steps"] == 40 and summary["samples_per_second"] > 0
    assert summary["loss_last"] < 0.7 * summary["loss_first"], summary


def test_checkpoint_is_self_describing_and_loads_as_a_policy(trained, blind_env):
    config, _ = trained
    payload = load_checkpoint(config.out)
    assert payload["step"] == 40 and payload["config"]["cameras"] == ["head"]
    assert "all-MiniLM-L6-v2" in payload["language_model"]
    assert set(payload["normalisation"]) == {"action", "state"} and "optimizer" in payload
    policy = VLAPolicy.load(config.out)
    assert policy.metadata.chunk_size == 25 and policy.metadata.image_size == (96, 96)
    import sim2real

    env = sim2real.make("click_bell", cameras=("head",), image_size=(96, 96))
    observation, info = env.reset(seed=0)
    policy.reset(info["episode"])
    chunks = policy.infer([observation, observation])
    assert chunks.shape == (2, 25, 14) and np.isfinite(chunks).all()
    np.testing.assert_allclose(chunks[0], policy.infer([observation])[0], atol=1e-5)
    chunk = chunks[0]
    low, high = env.robot.action_low, env.robot.action_high
    assert ((chunk >= low - 1e-6) & (chunk <= high + 1e-6)).all()
    env.step(chunk[0])  # a valid action for the env
    env.close()


def test_resume_continues_from_the_checkpoint(trained, tmp_path):
    config, _ = trained
    copy = tmp_path / "resume.pt"
    copy.write_bytes(config.out.read_bytes())
    summary = train_sft(config.model_copy(update={"out": copy, "steps": 45, "resume": True}))
    assert summary["steps_this_run"] == 5 and load_checkpoint(copy)["step"] == 45
    wrong = config.model_copy(update={"out": copy, "steps": 50, "resume": True, "head": "discrete"})
    with pytest.raises(Sim2RealError, match="invalid head: 'discrete' with --resume"):
        train_sft(wrong)


def test_an_interrupted_run_resumed_equals_an_uninterrupted_one(click_bell_demos, tmp_path):
    """Weights, optimiser, schedule and the batches drawn all continue exactly."""
    base = SFTConfig(data=(click_bell_demos,), out=tmp_path / "straight.pt", model="tiny",
                     cameras=("head",), steps=6, batch_size=4, warmup_steps=2, checkpoint_every=3)
    train_sft(base)

    class Crash(Exception):
        pass

    def crash_in_step_four(step: int, loss: float, throughput: float) -> None:
        if step == 4:  # after the step-3 checkpoint was written
            raise Crash

    interrupted = base.model_copy(update={"out": tmp_path / "resumed.pt"})
    with pytest.raises(Crash):
        train_sft(interrupted, crash_in_step_four)
    assert load_checkpoint(interrupted.out)["step"] == 3
    train_sft(interrupted.model_copy(update={"resume": True}))
    straight, resumed = load_checkpoint(base.out)["model"], load_checkpoint(interrupted.out)["model"]
    for name, weights in straight.items():
        torch.testing.assert_close(resumed[name], weights, rtol=0, atol=0, msg=name)


def test_discrete_head_bins_round_trip_and_train(click_bell_demos, tmp_path):
    values = torch.linspace(-1, 1, 1001)
    assert (from_bins(to_bins(values, 256), 256) - values).abs().max() <= 1 / 256 + 1e-6
    config = SFTConfig(data=(click_bell_demos,), out=tmp_path / "discrete.pt", head="discrete", cameras=("head",),
                       steps=8, batch_size=4, warmup_steps=2)
    summary = train_sft(config)
    assert np.isfinite(summary["loss_last"])
    model = ReferenceVLA(preset("tiny", head="discrete", cameras=("head",)))
    images = {"head": torch.rand(2, 3, 96, 96)}
    logits = model(images, torch.randn(2, 384), torch.randn(2, 14))
    assert logits.shape == (2, 25, 14, 256)


def test_eval_runs_on_a_checkpoint(trained, tmp_path):
    from tests.test_cli import run_cli

    config, _ = trained
    result = run_cli("eval", "--policy", str(config.out), "--episodes", "1", "--no-videos",
                     "--out", str(tmp_path / "eval"), "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["episodes"] == 1 and summary["settings"]["cameras"] == ["head"]


def test_pretrained_vision_weights_are_loaded_into_every_camera(click_bell_demos, tmp_path):
    """An encoder saved from one model starts another's training (FiLM layers excepted)."""
    donor = ReferenceVLA(preset("tiny", cameras=("head",)))
    first_conv = "stages.0.body.0.weight"
    torch.nn.init.constant_(donor.encoders["head"].get_parameter(first_conv), 0.125)
    state = {k: v for k, v in donor.encoders["head"].state_dict().items() if not k.startswith("films")}
    torch.save(state, tmp_path / "encoder.pt")
    config = SFTConfig(data=(click_bell_demos,), out=tmp_path / "init.pt", model="tiny", cameras=("head",),
                       steps=1, batch_size=2, warmup_steps=0, learning_rate=1e-9,
                       vision_weights=tmp_path / "encoder.pt")
    train_sft(config)
    weights = load_checkpoint(config.out)["model"][f"encoders.head.{first_conv}"]
    torch.testing.assert_close(weights, torch.full_like(weights, 0.125), atol=1e-6, rtol=0)
    for size in ("base", "tiny"):  # another size's ViT; a ViT's weights for a ResNet
        wrong = ReferenceVLA(preset(size, encoder="vit", cameras=("head",))).encoders["head"]
        torch.save(wrong.state_dict(), tmp_path / f"{size}_vit.pt")
        with pytest.raises(Sim2RealError, match="invalid vision weights"):
            train_sft(config.model_copy(update={"vision_weights": tmp_path / f"{size}_vit.pt", "overwrite": True}))


@pytest.mark.parametrize("encoder", ["vit", "resnet"])
def test_both_image_encoders_make_one_token_per_patch_and_learn(encoder, click_bell_demos, tmp_path):
    """Either encoder gives (S / patch)^2 language-conditioned tokens and trains end to end."""
    from sim2real.policy.vla.model import image_encoder

    config = preset("tiny", encoder=encoder, cameras=("head",))
    model = image_encoder(config)
    images, condition = torch.rand(2, 3, 96, 96), torch.randn(2, config.width)
    tokens = model(images, condition)
    assert tokens.shape == (2, config.tokens_per_camera, config.width)
    for film in model.films:  # FiLM starts as the identity; give it a say to check it has one
        torch.nn.init.normal_(film.project.weight, std=0.5)
    modulated = model(images, condition)
    assert not torch.allclose(modulated, tokens, atol=1e-3)
    assert not torch.allclose(model(images, -condition), modulated, atol=1e-3)
    sft = SFTConfig(data=(click_bell_demos,), out=tmp_path / f"{encoder}.pt", encoder=encoder,
                    cameras=("head",), steps=20, batch_size=8, warmup_steps=2, learning_rate=1e-3)
    summary = train_sft(sft)
    assert summary["loss_last"] < summary["loss_first"], summary
    assert VLAPolicy.load(sft.out).config.encoder == encoder
    with pytest.raises(Sim2RealError, match="invalid encoder"):
        other = "vit" if encoder == "resnet" else "resnet"
        train_sft(sft.model_copy(update={"steps": 21, "resume": True, "encoder": other}))


def test_resnet_needs_a_power_of_two_patch():
    with pytest.raises(ValueError, match="power of two"):
        preset("tiny", encoder="resnet", patch_size=12)
