"""GRPO end to end on click_bell from a tiny discrete SFT checkpoint: two steps run, the output
loads as a policy, a killed run resumes to exactly the weights of an uninterrupted one, and the
run refuses what it cannot do (a continuous head, a changed experiment, an existing --out)."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from sim2real.errors import Sim2RealError
from sim2real.policy.vla.checkpoint import load_checkpoint
from sim2real.train.config import SFTConfig
from sim2real.train.grpo.config import GRPOConfig
from sim2real.train.grpo.trainer import train_grpo
from sim2real.train.sft import train_sft

# 10 Hz control: 80 steps per click_bell episode, the cheapest honest episode on 2 cores.
SETTINGS = {"control_hz": 10.0, "render": {"shadows": False, "msaa": 0}}


@pytest.fixture(scope="module")
def discrete_sft(click_bell_demos, tmp_path_factory):
    out = tmp_path_factory.mktemp("grpo") / "sft.pt"
    train_sft(SFTConfig(data=(click_bell_demos,), out=out, head="discrete", cameras=("head",),
                        steps=4, batch_size=4, warmup_steps=1))
    return out


def _config(init, out, **changes):
    values = dict(init=init, out=out, settings=SETTINGS, group_size=2, prompts_per_step=1,
                  max_prompts_per_step=1, steps=2, envs=2, eval_every=0, eval_episodes=1,
                  mini_batch=2, learning_rate=1e-3)
    return GRPOConfig(**{**values, **changes})


def test_two_steps_run_and_the_checkpoint_is_a_policy(discrete_sft, tmp_path):
    # In two local worker processes (--workers 2), each with its own policy copy and one env:
    # the in-process engine is what the resume test below runs.
    events = []
    summary = train_grpo(_config(discrete_sft, tmp_path / "rl.pt", envs=1),
                         lambda kind, data: events.append(kind), workers=2)
    assert summary["steps"] == 2 and events.count("step") == 2 and events.count("eval") == 2
    assert events.count("episode") == 2 * 2  # 2 steps x 1 prompt x G = 2
    assert summary["rollout_steps_per_second"] > 0
    assert summary["eval_seeds"]["click_bell"][0] >= 2_000_000
    saved = load_checkpoint(tmp_path / "rl.pt")
    history = saved["grpo"]["history"]
    assert [h["step"] for h in history] == [1, 2]
    assert all(0.0 <= h["kept_fraction"] <= 1.0 for h in history)
    # The output is a VLA checkpoint like any other: eval loads it by content.
    from tests.test_cli import run_cli

    result = run_cli("eval", "--policy", str(tmp_path / "rl.pt"), "--episodes", "1", "--no-videos",
                     "--set", "control_hz=10", "--out", str(tmp_path / "eval"), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["episodes"] == 1


def test_a_killed_run_resumes_exactly(discrete_sft, tmp_path):
    # An untrained policy fails every rollout, so its advantages (and updates) are zero; what a
    # resume must continue exactly is then every random stream: the prompts, the environments
    # and the sampled tokens (a digest per step), plus the optimiser's state. That the updates
    # themselves are right is tests/test_grpo.py's bandit.
    changes = {"keep_low": 0.0, "keep_high": 1.0, "steps": 3}
    straight = tmp_path / "straight.pt"
    train_grpo(_config(discrete_sft, straight, **changes))
    expected = load_checkpoint(straight)["model"]
    digests = [h["sampled_tokens_sha256"] for h in load_checkpoint(straight)["grpo"]["history"]]
    assert len(set(digests)) == 3, "each step should draw other tokens"

    killed = tmp_path / "killed.pt"
    script = (
        "import sys; from pathlib import Path; from sim2real.train.grpo.config import GRPOConfig; "
        "from sim2real.train.grpo.trainer import train_grpo; "
        f"train_grpo(GRPOConfig.model_validate_json(sys.argv[1]))"
    )
    config = _config(discrete_sft, killed, **changes)
    process = subprocess.Popen([sys.executable, "-c", script, config.model_dump_json()],
                               start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and process.poll() is None:
            if killed.is_file() and load_checkpoint(killed)["step"] >= 1:
                break
            time.sleep(0.2)
        assert process.poll() is None, "the run ended before it could be killed"
        os.killpg(process.pid, signal.SIGKILL)  # the run and its env workers
    finally:
        process.wait()
    step = load_checkpoint(killed)["step"]
    assert 1 <= step < 3
    summary = train_grpo(config.model_copy(update={"resume": True}))
    assert summary["steps_this_run"] == 3 - step
    resumed = load_checkpoint(killed)
    for name, weights in expected.items():
        torch.testing.assert_close(resumed["model"][name], weights, rtol=0, atol=0, msg=name)
    assert resumed["grpo"]["prompts"] == load_checkpoint(straight)["grpo"]["prompts"]
    assert [h["sampled_tokens_sha256"] for h in resumed["grpo"]["history"]] == digests

    again = train_grpo(config.model_copy(update={"resume": True}))
    assert again["already_at_step"] == 3


def test_refusals(discrete_sft, click_bell_demos, tmp_path):
    continuous = tmp_path / "continuous.pt"
    train_sft(SFTConfig(data=(click_bell_demos,), out=continuous, cameras=("head",), steps=1, batch_size=2,
                        warmup_steps=0))
    with pytest.raises(Sim2RealError, match="continuous action head.*--head discrete"):
        train_grpo(_config(continuous, tmp_path / "x.pt"))
    assert not (tmp_path / "x.pt").exists()
    (tmp_path / "taken.pt").write_bytes(b"mine")
    with pytest.raises(Sim2RealError, match="invalid out"):
        train_grpo(_config(discrete_sft, tmp_path / "taken.pt"))
    assert (tmp_path / "taken.pt").read_bytes() == b"mine"
    with pytest.raises(Sim2RealError, match="is a checkpoint but not of a GRPO run"):
        train_grpo(_config(discrete_sft, continuous, resume=True))
    with pytest.raises(Sim2RealError, match="invalid workers: 2; allowed: 1 with --ray"):
        train_grpo(_config(discrete_sft, tmp_path / "y.pt"), workers=2, ray_address="auto")
    assert not (tmp_path / "y.pt").exists()


def test_command_line_mistakes_are_one_line_before_any_work(discrete_sft, tmp_path):
    from tests.test_cli import run_cli

    for args, said in ((["--temperature", "0"], "invalid temperature: 0.0"),
                       (["--init", str(tmp_path / "none.pt")], "checkpoint not found"),
                       (["--task", "no_such_task"], "no_such_task"),
                       (["--workers", "0"], "invalid workers: 0; allowed:")):
        init = [] if "--init" in args else ["--init", str(discrete_sft)]
        result = run_cli("train", "grpo", *init, "--out", str(tmp_path / "rl.pt"), *args)
        assert result.returncode == 2, result.stderr
        assert said in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert not (tmp_path / "rl.pt").exists()
