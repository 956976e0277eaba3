"""The reference VLA's discrete head as a SamplingPolicy (what GRPO needs), and batched inference."""

import numpy as np
import pytest
import torch

import sim2real
from sim2real.core.policy import SamplingPolicy
from sim2real.errors import Sim2RealError
from sim2real.policy.transforms import Normalisation
from sim2real.policy.vla.checkpoint import save_checkpoint
from sim2real.policy.vla.config import preset
from sim2real.policy.vla.model import ReferenceVLA, from_bins
from sim2real.policy.vla.policy import SamplingVLAPolicy, VLAPolicy
from tests.test_checkpoint import tiny_payload


@pytest.fixture(scope="module")
def observations():
    """Three real click_bell observations (different seeds) from the head camera at 96 px."""
    env = sim2real.make("click_bell", cameras=("head",), image_size=(96, 96),
                        render={"shadows": False, "msaa": 0})
    observed = [env.reset(seed=seed)[0] for seed in (0, 1, 2)]
    env.close()
    return observed


def policy_with(head: str) -> VLAPolicy:
    torch.manual_seed(0)
    model = ReferenceVLA(preset("tiny", cameras=("head",), head=head))
    with torch.no_grad():  # a peaked distribution, as after training, so sampling has structure
        model.action_head[-1].weight.mul_(30)
    kind = SamplingVLAPolicy if head == "discrete" else VLAPolicy
    return kind(model, Normalisation.unit())


def test_only_discrete_checkpoints_are_sampling_policies(tmp_path):
    discrete = VLAPolicy.load(save_checkpoint(tmp_path / "d.pt", tiny_payload("discrete")))
    continuous = VLAPolicy.load(save_checkpoint(tmp_path / "c.pt", tiny_payload("continuous")))
    assert isinstance(discrete, SamplingPolicy) and not isinstance(continuous, SamplingPolicy)
    with pytest.raises(Sim2RealError, match="continuous-head VLA has no action tokens"):
        SamplingVLAPolicy(continuous.model, continuous.normalisation)


def test_sampled_tokens_are_scored_alike_by_log_prob(observations):
    policy = policy_with("discrete")
    generator = torch.Generator().manual_seed(1)
    for temperature in (1.0, 1.6):
        drawn = policy.sample(observations, temperature, generator)
        assert drawn.tokens.shape == drawn.log_probs.shape == drawn.actions.shape == (3, 25, 14)
        assert drawn.tokens.min() >= 0 and drawn.tokens.max() < 256
        np.testing.assert_allclose(drawn.actions, from_bins(torch.as_tensor(drawn.tokens), 256).numpy(), atol=1e-6)
        scored = policy.log_prob(observations, drawn.tokens, temperature=temperature)
        np.testing.assert_allclose(scored.detach().numpy(), drawn.log_probs, atol=1e-5)
    at_one = policy.log_prob(observations, drawn.tokens)  # the default: temperature 1
    assert not np.allclose(at_one.detach().numpy(), drawn.log_probs, atol=1e-3)
    at_one.sum().backward()  # differentiable under the current weights
    assert policy.model.action_head[-1].weight.grad.abs().sum() > 0


def test_sampling_follows_softmax_of_logits_over_temperature(observations):
    """Over 64 x 350 draws the count of each position's most likely bin matches its probability
    under softmax(logits / T) within 5 standard deviations, and T changes it as it should."""
    policy = policy_with("discrete")
    batch = [observations[0]] * 64
    greedy = policy.infer(observations[:1])
    for temperature in (1.0, 2.0):
        drawn = policy.sample(batch, temperature, torch.Generator().manual_seed(2))
        with torch.no_grad():
            logits = policy.model(*policy.inputs(observations[:1]))[0] / temperature
        top = logits.argmax(-1)
        p_top = torch.softmax(logits, -1).gather(-1, top[..., None])[..., 0].numpy()
        hits = (drawn.tokens == top.numpy()[None]).sum()
        expected, spread = 64 * p_top.sum(), np.sqrt(64 * (p_top * (1 - p_top)).sum())
        assert abs(hits - expected) < 5 * spread, (temperature, hits, expected, spread)
    cold = policy.sample(observations[:1], 1e-4, torch.Generator().manual_seed(3))
    np.testing.assert_allclose(cold.actions, greedy, atol=1e-6)  # T -> 0 is argmax, as infer


@pytest.mark.parametrize("head", ["continuous", "discrete"])
def test_batched_inference_equals_one_observation_at_a_time(observations, head):
    policy = policy_with(head)
    batched = policy.infer(observations)
    one_by_one = np.concatenate([policy.infer([o]) for o in observations])
    assert batched.shape == (3, 25, 14)
    np.testing.assert_allclose(batched, one_by_one, atol=1e-5)
    assert not np.allclose(batched[0], batched[1], atol=1e-4)  # the observations do matter
