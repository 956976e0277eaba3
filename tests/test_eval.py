"""Policies in evaluation: expert upper bound, baselines, broken policies, workers, results."""

import json

import numpy as np
import pytest

import sim2real
from sim2real.evaluate.rollout import run_episode
from sim2real.evaluate.runner import EvalSpec, evaluate
from sim2real.policy.builtin import ExpertPolicy, ReplayPolicy, ZeroMotionPolicy
from sim2real.core.policy import PolicyMetadata
from sim2real.settings import make_settings
from tests.conftest import rollout

BLIND = make_settings(cameras=()).model_dump(mode="json")


class BrokenPolicy:
    metadata = PolicyMetadata(name="broken")

    def __init__(self, chunk):
        self.chunk = chunk

    def reset(self, episode=None):
        pass

    def infer(self, observations):
        return self.chunk


def test_expert_policy_matches_the_scripted_expert(blind_env):
    record = run_episode(blind_env, ExpertPolicy(), seed=3)
    actions, _ = rollout(blind_env, seed=3)
    assert record.success and record.steps == len(actions) - 1


def test_replay_of_expert_actions_succeeds(blind_env):
    actions, _ = rollout(blind_env, seed=5)
    record = run_episode(blind_env, ReplayPolicy(np.array(actions[1:]), chunk_size=8), seed=5)
    assert record.success and record.inferences == -(-record.steps // 8)


def test_zero_motion_fails_at_the_step_limit(blind_env):
    record = run_episode(blind_env, ZeroMotionPolicy(), seed=0)
    assert not record.success and record.steps == blind_env.max_steps
    assert record.failure == "step limit reached"


@pytest.mark.parametrize(
    ("chunk", "reason"),
    [
        (np.zeros((3, 13)), "shape (3, 13)"),
        (np.full((2, 14), np.nan), "non-finite action"),
        (np.full((1, 14), 50.0), "invalid action[0] (left joint1): 50"),
    ],
)
def test_broken_policies_are_recorded_as_failures_with_reasons(blind_env, chunk, reason):
    record = run_episode(blind_env, BrokenPolicy(chunk), seed=0)
    assert not record.success and reason in record.failure


class RaisingPolicy(BrokenPolicy):
    def infer(self, observations):
        raise RuntimeError("CUDA out of memory")


def test_a_policy_that_raises_fails_its_episode_not_the_evaluation(blind_env):
    record = run_episode(blind_env, RaisingPolicy(None), seed=0)
    assert not record.success and record.failure == "policy error: RuntimeError: CUDA out of memory"
    ragged = run_episode(blind_env, BrokenPolicy([[0.0] * 14, [0.0] * 3]), seed=0)
    assert not ragged.success and ragged.failure.startswith("policy error: ValueError")


def test_execute_first_m_actions_of_each_chunk(blind_env):
    actions, _ = rollout(blind_env, seed=2)
    replay = ReplayPolicy(np.array(actions[1:]), chunk_size=10)
    record = run_episode(blind_env, replay, seed=2, execute=10)
    assert record.success
    # executing only 5 of every 10 skips half the plan: the replay runs ahead of the robot
    record = run_episode(blind_env, ReplayPolicy(np.array(actions[1:]), chunk_size=10), seed=2, execute=5)
    assert record.inferences == -(-record.steps // 5)  # 5 actions per inference, never 10


def test_expert_evaluates_to_its_success_rate_and_workers_do_not_change_results():
    spec = EvalSpec("click_bell", BLIND, "expert")
    one = evaluate(spec, episodes=4, first_seed=10, workers=1)
    two = evaluate(spec, episodes=4, first_seed=10, workers=2)
    assert one.success_rate == 1.0 and one.skipped == []
    assert [r.as_dict() | {"seconds": 0} for r in one.records] == [
        r.as_dict() | {"seconds": 0} for r in two.records
    ]


def test_unsolvable_seeds_are_skipped(monkeypatch):
    """As RoboTwin 2.0, a seed counts only if the expert solves it; skips are reported. Which
    seeds the expert fails depends on the task's expert, so here the expert 'fails' every
    third seed and the evaluation must step over exactly those."""
    import sim2real.evaluate.rollout as rollout_module

    monkeypatch.setattr(rollout_module, "expert_solves", lambda env, seed: seed % 3 != 0)
    result = evaluate(EvalSpec("click_bell", BLIND, "zero"), episodes=6, first_seed=0)
    assert [r.seed for r in result.records] == [1, 2, 4, 5, 7, 8]
    assert result.skipped == [0, 3, 6]
    assert result.summary().skipped == 3


def test_eval_cli_writes_records_summary_and_videos(tmp_path):
    from tests.test_cli import run_cli

    out = tmp_path / "eval"
    result = run_cli("eval", "--policy", "expert", "--episodes", "2", "--out", str(out),
                     "--image-size", "64x48", "--no-shadows", "--msaa", "0", "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["success_rate"] == 1.0 and summary["episodes"] == 2 and summary["skipped"] == 0
    assert summary["settings"]["render"]["shadows"] is False and summary["settings"]["render"]["msaa"] == 0
    assert len(summary["ci95"]) == 2
    lines = (out / "episodes.jsonl").read_text().splitlines()
    assert [json.loads(line)["seed"] for line in lines] == [0, 1]
    assert len(list((out / "videos").glob("*.mp4"))) == 2
    assert "click_bell" in (out / "results.md").read_text()


def test_report_and_compare_cli(tmp_path):
    from tests.test_cli import run_cli

    for policy, label in (("expert", "expert"), ("zero", "zero")):
        result = run_cli("eval", "--policy", policy, "--label", label, "--episodes", "3",
                         "--out", str(tmp_path / label), "--no-videos", "--json")
        assert result.returncode == 0, result.stderr
    result = run_cli("report", str(tmp_path / "expert"), str(tmp_path / "zero"),
                     "--out", str(tmp_path / "report"), "--json")
    assert result.returncode == 0, result.stderr
    table = (tmp_path / "report" / "report.md").read_text()
    assert "| expert | 100% [" in table and "| zero | 0% [" in table
    assert (tmp_path / "report" / "report.png").stat().st_size > 1000
    result = run_cli("compare", str(tmp_path / "zero"), str(tmp_path / "expert"), "--json")
    comparison = json.loads(result.stdout)
    assert comparison["difference"] == 1.0 and 0 < comparison["p_value"] < 0.05


def test_sim_ood_suite_varies_one_factor_at_a_time(tmp_path):
    from tests.test_cli import run_cli

    result = run_cli("eval", "--policy", "expert", "--suite", "sim-ood", "--episodes", "2",
                     "--out", str(tmp_path), "--no-videos", "--json")
    assert result.returncode == 0, result.stderr
    suite = json.loads(result.stdout)
    assert list(suite["factors"]) == ["BG", "LT", "TD", "CP", "TH"]
    for factor, summary in suite["factors"].items():
        assert summary["settings"]["randomize"] == factor and summary["settings"]["split"] == "ood"
        assert summary["success_rate"] == 1.0  # the expert solves every seed it was not skipped on
        assert (tmp_path / factor / "episodes.jsonl").is_file()
    assert suite["success_rate"] == 1.0 and suite["episodes"] == 10
    # the suite's mean is written beside the factors, and a report reads it as one cell
    assert json.loads((tmp_path / "summary.json").read_text())["success_rate"] == 1.0
    assert "| mean | | 100.0% |" in (tmp_path / "results.md").read_text()
    result = run_cli("report", str(tmp_path), "--out", str(tmp_path / "report"))
    assert result.returncode == 0, result.stderr
    assert "| expert | 100% [" in (tmp_path / "report" / "report.md").read_text()
    # two results of one setting on one task would be one cell: refused, with what to do
    result = run_cli("report", str(tmp_path / "BG"), str(tmp_path / "LT"), "--out", str(tmp_path / "r2"))
    assert result.returncode == 2 and "own --label" in result.stderr
