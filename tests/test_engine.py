"""The rollout engine: batched and sequential rollouts agree seed for seed; one policy call per
chunk boundary across all environments; sampling policies' log-probabilities agree."""

import numpy as np
import pytest
import torch

from sim2real.core.contract import HOME_ACTION
from sim2real.core.policy import ActionSample, PolicyMetadata, SamplingPolicy, check_actions
from sim2real.evaluate.engine import PolicyActor, RolloutEngine
from sim2real.evaluate.envs import LocalEnvs, ProcessEnvs
from sim2real.evaluate.runner import EvalSpec, SimEnvFactory, evaluate
from sim2real.settings import make_settings

BLIND = make_settings(cameras=()).model_dump(mode="json")


class DriftPolicy:
    """Stateless and deterministic: each observation's chunk is a function of its state alone,
    so a batched answer must equal the one-by-one answers. Counts its calls and batch sizes."""

    metadata = PolicyMetadata(name="drift", chunk_size=7, stateful=False)

    def __init__(self) -> None:
        self.batches: list[int] = []

    def reset(self, episode=None) -> None:
        pass

    def infer(self, observations):
        self.batches.append(len(observations))
        states = np.stack([o["state"] for o in observations]).astype(np.float64)
        target = HOME_ACTION + np.where(np.arange(14) % 7 == 1, 0.2, 0.0)
        steps = np.linspace(0.1, 0.7, 7)[None, :, None]
        chunks = states[:, None, :] + steps * (target - states)[:, None, :]
        chunks[..., [6, 13]] = 1.0  # grippers open (a measured opening can exceed 1 slightly)
        return chunks


def test_batched_and_sequential_rollouts_agree_seed_for_seed():
    seeds = list(range(7))
    sequential_policy, batched_policy = DriftPolicy(), DriftPolicy()
    sequential = RolloutEngine(LocalEnvs.build(SimEnvFactory("click_bell", BLIND), 1),
                               PolicyActor(lambda: sequential_policy, 1)).run(seeds)
    envs = ProcessEnvs(SimEnvFactory("click_bell", BLIND), 3, processes=2)
    try:
        engine = RolloutEngine(envs, PolicyActor(lambda: batched_policy, 3))
        batched = engine.run(seeds)
    finally:
        envs.close()
    strip = lambda records: [r.as_dict() | {"seconds": 0} for r in records]  # noqa: E731
    assert strip(sequential) == strip(batched)
    assert [r.seed for r in batched] == seeds
    # one call per chunk boundary for all envs at once: batches of three while seeds remain
    assert max(batched_policy.batches) == 3 and set(sequential_policy.batches) == {1}
    assert len(batched_policy.batches) < len(sequential_policy.batches) / 2
    assert engine.timing.steps == sum(r.steps for r in batched)


def test_evaluate_with_several_envs_matches_one_env_for_a_stateful_policy():
    one = evaluate(EvalSpec("click_bell", BLIND, "expert", envs=1), episodes=3, first_seed=20)
    three = evaluate(EvalSpec("click_bell", BLIND, "expert", envs=3), episodes=3, first_seed=20)
    assert one.success_rate == 1.0
    assert [r.as_dict() | {"seconds": 0} for r in one.records] == [
        r.as_dict() | {"seconds": 0} for r in three.records
    ]


class FlakyPolicy(DriftPolicy):
    """Fails on one seed's observations only (it sees the instruction, which differs)."""

    def __init__(self, bad_instruction: str) -> None:
        super().__init__()
        self.bad = bad_instruction

    def infer(self, observations):
        if any(o["instruction"] == self.bad for o in observations):
            raise RuntimeError("bad observation")
        return super().infer(observations)


def test_a_failure_in_a_batched_call_fails_only_its_episode():
    factory = SimEnvFactory("click_bell", make_settings(cameras=(), instructions="unseen").model_dump(mode="json"))
    envs = LocalEnvs.build(factory, 3)
    instructions = [envs.envs[0].reset(seed=seed)[1]["episode"].instruction for seed in range(3)]
    assert len(set(instructions)) == 3  # the policy can tell the episodes apart
    records = RolloutEngine(envs, PolicyActor(lambda: FlakyPolicy(instructions[1]), 3)).run([0, 1, 2])
    failures = {r.seed: r.failure for r in records}
    assert failures[1] == "policy error: RuntimeError: bad observation"
    assert failures[0] == failures[2] == "step limit reached"


class TokenPolicy:
    """A toy discrete-head policy: logits linear in the state, 4 bins per action slot."""

    bins = 4
    metadata = PolicyMetadata(name="tokens", chunk_size=2, stateful=False)

    def __init__(self) -> None:
        generator = torch.Generator().manual_seed(0)
        self.weight = torch.randn(14, 2 * 14 * self.bins, generator=generator, requires_grad=True)
        self.generator = generator

    def reset(self, episode=None) -> None:
        pass

    def _logits(self, observations) -> torch.Tensor:
        states = torch.as_tensor(np.stack([o["state"] for o in observations]), dtype=torch.float32)
        return (states @ self.weight).view(len(observations), 2, 14, self.bins)

    def _actions(self, tokens: torch.Tensor) -> np.ndarray:
        return (HOME_ACTION + 0.01 * (tokens.numpy() - 1.5)).astype(np.float64)

    def infer(self, observations):
        with torch.no_grad():
            return self._actions(self._logits(observations).argmax(-1))

    def sample(self, observations, temperature: float) -> ActionSample:
        with torch.no_grad():
            logits = self._logits(observations) / temperature
            tokens = torch.distributions.Categorical(logits=logits).sample()
            log_probs = torch.log_softmax(logits, -1).gather(-1, tokens[..., None])[..., 0]
        return ActionSample(self._actions(tokens), tokens.numpy(), log_probs.numpy())

    def log_prob(self, observations, tokens):
        logits = self._logits(observations)
        return torch.log_softmax(logits, -1).gather(-1, torch.as_tensor(tokens)[..., None])[..., 0]


def test_a_sampling_policy_scores_its_own_samples_as_it_sampled_them():
    policy = TokenPolicy()
    assert isinstance(policy, SamplingPolicy)
    observations = [{"state": HOME_ACTION + 0.1 * i, "instruction": ""} for i in range(3)]
    drawn = policy.sample(observations, temperature=1.0)
    assert check_actions(drawn.actions, 3).shape == (3, 2, 14) and drawn.tokens.shape == (3, 2, 14)
    scored = policy.log_prob(observations, drawn.tokens)
    np.testing.assert_allclose(scored.detach().numpy(), drawn.log_probs, rtol=1e-6, atol=1e-6)
    scored.sum().backward()  # differentiable, as GRPO needs
    assert policy.weight.grad is not None and policy.weight.grad.abs().sum() > 0
    # a hotter temperature spreads the same logits: sampled tokens' log-probs fall on average
    hot = policy.sample(observations * 50, temperature=5.0)
    cold = policy.sample(observations * 50, temperature=0.2)
    assert hot.log_probs.mean() < cold.log_probs.mean()


@pytest.mark.parametrize("shape", [(14,), (3, 14), (1, 3, 14)])
def test_single_observation_answers_are_accepted_as_a_batch_of_one(shape):
    assert check_actions(np.zeros(shape), 1).shape[0] == 1
