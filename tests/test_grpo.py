"""GRPO: the group filter, advantages and clipped loss against hand-computed values, and a few
updates on a tiny synthetic environment raising the probability of the rewarded tokens."""

import math

import numpy as np
import pytest
import torch

from sim2real.core.contract import ACTION_DIM, HOME_ACTION
from sim2real.core.policy import ActionSample, PolicyMetadata
from sim2real.core.records import EpisodeInfo
from sim2real.evaluate.engine import RolloutEngine
from sim2real.evaluate.envs import LocalEnvs
from sim2real.train.grpo.algorithm import clipped_token_loss, group_advantages, keeps_group
from sim2real.train.grpo.rollouts import SamplingActor
from sim2real.train.grpo.update import Group, policy_update


def test_groups_of_all_successes_or_all_failures_are_dropped():
    assert not keeps_group([1.0] * 8)
    assert not keeps_group([0.0] * 8)
    assert keeps_group([1.0] + [0.0] * 7)  # 1 of 8 = 0.125 >= 0.1
    assert keeps_group([1.0] * 7 + [0.0])  # 7 of 8 = 0.875 <= 0.9
    assert not keeps_group([1.0] + [0.0] * 10)  # 1 of 11 = 0.09 < 0.1


def test_advantages_are_group_normalised():
    # mean 0.25, population std sqrt(0.25 * 0.75) = 0.4330
    np.testing.assert_allclose(group_advantages([1, 0, 0, 0]),
                               [0.75 / 0.4330127, -0.25 / 0.4330127, -0.25 / 0.4330127, -0.25 / 0.4330127],
                               rtol=1e-5)
    np.testing.assert_allclose(group_advantages([1, 1, 1, 1]), [0, 0, 0, 0])


def _loss(ratios, advantage, mask=None, clip_low=0.2, clip_high=0.28):
    new = torch.log(torch.tensor([ratios], dtype=torch.float64))
    old = torch.zeros_like(new)
    mask = torch.ones_like(new) if mask is None else torch.tensor([mask], dtype=torch.float64)
    return clipped_token_loss(new, old, torch.tensor([advantage]), mask, clip_low, clip_high)


def test_clipped_loss_matches_hand_computed_values():
    # A = +1: min(1.5, clip 1.28) = 1.28 and min(0.5, 0.8) = 0.5 -> mean 0.89, loss -0.89
    parts = _loss([1.5, 0.5], 1.0)
    assert float(parts.loss) == pytest.approx(-0.89)
    assert parts.clip_fraction == pytest.approx(1.0)  # both ratios outside [0.8, 1.28]
    # A = -1: min(-1.5, -1.28) = -1.5 and min(-0.5, -0.8) = -0.8 -> mean -1.15, loss 1.15
    assert float(_loss([1.5, 0.5], -1.0).loss) == pytest.approx(1.15)
    # the k3 estimate of KL: mean((r - 1) - log r)
    expected_kl = np.mean([(1.5 - 1) - math.log(1.5), (0.5 - 1) - math.log(0.5)])
    assert parts.approx_kl == pytest.approx(expected_kl)


def test_clip_high_is_asymmetric():
    # a ratio of 1.25 with A > 0 is inside DAPO's [0.8, 1.28] but outside a symmetric 0.2
    assert float(_loss([1.25], 1.0).loss) == pytest.approx(-1.25)
    assert float(_loss([1.25], 1.0, clip_high=0.2).loss) == pytest.approx(-1.2)
    # on the low side the bound is 0.8: a ratio of 0.75 with A < 0 is clipped to 0.8
    assert float(_loss([0.75], -1.0).loss) == pytest.approx(0.8)


def test_token_mean_within_trajectories_then_mean_over_trajectories():
    new = torch.log(torch.tensor([[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]], dtype=torch.float64))
    mask = torch.tensor([[1.0, 1.0, 0.0], [1.0, 0.0, 0.0]], dtype=torch.float64)
    # trajectory means: A = 2 (two tokens) and A = -1 (one token): (2 + -1) / 2 = 0.5
    parts = clipped_token_loss(new, torch.zeros_like(new), torch.tensor([2.0, -1.0]), mask)
    assert float(parts.loss) == pytest.approx(-0.5)


class Bandit:
    """A one-step Environment with a known best action: the episode succeeds if the left
    joint1 target is above home (token bins 2 or 3 of 4), else fails."""

    def reset(self, *, seed=None):
        self.seed = seed
        self.info = {"success": False, "step": 0, "max_steps": 1, "control_hz": 25.0,
                     "episode": EpisodeInfo(task="bandit", seed=seed, instruction="go up")}
        return self._observation(), dict(self.info)

    def _observation(self):
        return {"state": HOME_ACTION.copy(), "instruction": "go up"}

    def step(self, action):
        success = bool(action[0] > HOME_ACTION[0])
        self.info = {**self.info, "success": success, "step": 1}
        return self._observation(), float(success), success, not success, dict(self.info)

    def close(self):
        pass


class TablePolicy:
    """A discrete head with one learnable logit table (K = 1, 14 slots, 4 bins)."""

    bins = 4
    metadata = PolicyMetadata(name="table", chunk_size=1, stateful=False)

    def __init__(self):
        self.logits = torch.zeros(1, ACTION_DIM, self.bins, requires_grad=True)

    def reset(self, episode=None):
        pass

    def _actions(self, tokens):
        actions = np.tile(HOME_ACTION, (tokens.shape[0], 1, 1))
        actions[:, :, 0] += 0.1 * (tokens[:, :, 0] - 1.5)
        return actions

    def _table(self, batch, temperature):
        return (self.logits / temperature).expand(batch, -1, -1, -1)

    def infer(self, observations):
        return self._actions(self.logits.argmax(-1).expand(len(observations), -1, -1).numpy())

    def sample(self, observations, temperature):
        with torch.no_grad():
            logits = self._table(len(observations), temperature)
            tokens = torch.distributions.Categorical(logits=logits).sample()
            log_probs = torch.log_softmax(logits, -1).gather(-1, tokens[..., None])[..., 0]
        return ActionSample(self._actions(tokens.numpy()), tokens.numpy(), log_probs.numpy())

    def log_prob(self, observations, tokens, temperature=1.0):
        logits = self._table(len(observations), temperature)
        return torch.log_softmax(logits, -1).gather(-1, torch.as_tensor(tokens)[..., None])[..., 0]

    def p_rewarded(self):
        return float(torch.softmax(self.logits.detach()[0, 0], -1)[2:].sum())


def _grpo_steps(sign: float, steps: int = 6) -> tuple[float, float]:
    torch.manual_seed(0)
    policy = TablePolicy()
    optimiser = torch.optim.Adam([policy.logits], lr=0.2)
    actor = SamplingActor(policy, temperature=1.6)
    engine = RolloutEngine(LocalEnvs([Bandit() for _ in range(8)]), actor)
    before = policy.p_rewarded()
    for step in range(steps):
        groups = []
        for prompt in range(4):
            engine.run([step * 10 + prompt] * 8)
            group = Group("bandit", step * 10 + prompt, actor.take())
            for trajectory in group.trajectories:
                trajectory.reward = trajectory.reward if sign > 0 else 1.0 - trajectory.reward
            if keeps_group(group.rewards):
                groups.append(group)
        stats = policy_update(policy.log_prob, [policy.logits], optimiser, groups, 1.6, mini_batch=8,
                              clip_low=0.2, clip_high=0.28, grad_clip=1.0,
                              generator=torch.Generator().manual_seed(step))
        assert stats.old_log_prob_drift < 1e-5 and stats.tokens == 14 * 8 * len(groups)
    return before, policy.p_rewarded()


def test_grpo_steps_raise_the_probability_of_the_rewarded_tokens():
    before, after = _grpo_steps(+1.0)
    assert before == pytest.approx(0.5)
    assert after > 0.8
    # the same updates with the reward inverted must lower it: a wrong sign or ratio fails here
    _, inverted = _grpo_steps(-1.0)
    assert inverted < 0.2
