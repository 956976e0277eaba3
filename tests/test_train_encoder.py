"""SFT with the pretrained EfficientNet-Lite0 encoder on real (tiny) click_bell demos: cached
frozen features train exactly as the frozen stages run live; resume, eval and serve work."""

import json

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from sim2real.errors import Sim2RealError
from sim2real.policy.vla.policy import VLAPolicy
from sim2real.train.sft import SFTConfig, train_sft

SIZE = 32  # 2 x 2 tokens at stride 16: the smallest input that exercises every stage


def lite_config(data, out, **changes) -> SFTConfig:
    settings = dict(data=(data,), out=out, model="tiny", encoder="efficientnet-lite0",
                    cameras=("head",), image_size=SIZE, camera_aspect="4:3", frozen_stages=4,
                    steps=4, batch_size=4, warmup_steps=1, learning_rate=1e-3, checkpoint_every=2,
                    feature_views=2)
    return SFTConfig(**{**settings, **changes})


@pytest.fixture(scope="module")
def cached_run(click_bell_demos, tmp_path_factory):
    folder = tmp_path_factory.mktemp("lite")
    config = lite_config(click_bell_demos, folder / "lite.pt", feature_cache_dir=folder / "cache")
    progress = []
    summary = train_sft(config, on_features=lambda done, total: progress.append((done, total)))
    return config, summary, progress


def test_cached_features_train_as_the_frozen_stages_run_live(click_bell_demos, cached_run, tmp_path):
    """Without augmentation both read the inference view: the same batches, the same losses."""
    config, _, progress = cached_run
    assert progress and progress[-1][0] == progress[-1][1]  # the cache was built, all frames
    losses = {}
    for cache in (True, False):
        run = config.model_copy(update={"out": tmp_path / f"{cache}.pt", "augment": False,
                                        "feature_cache": cache, "steps": 3})
        seen = []
        train_sft(run, on_step=lambda step, loss, _: seen.append(loss))
        losses[cache] = seen
    np.testing.assert_allclose(losses[True], losses[False], rtol=1e-4)


def test_resume_eval_and_serve_with_the_pretrained_encoder(cached_run, click_bell_demos):
    config, summary, _ = cached_run
    assert summary["steps"] == 4
    resumed = train_sft(config.model_copy(update={"steps": 6, "resume": True}))
    assert resumed["steps_this_run"] == 2
    with pytest.raises(Sim2RealError, match="frozen_stages"):
        train_sft(config.model_copy(update={"steps": 8, "resume": True, "frozen_stages": 3}))

    policy = VLAPolicy.load(config.out, "cpu")
    assert policy.config.encoder == "efficientnet-lite0" and policy.metadata.image_size == (43, 32)

    from sim2real.cli.main import app

    out = config.out.parent / "eval"
    result = CliRunner().invoke(app, ["eval", "--policy", str(config.out), "--task", "click_bell",
                                      "--episodes", "1", "--no-videos", "--no-shadows", "--msaa", "0",
                                      "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["episodes"] == 1
    assert json.loads((out / "summary.json").read_text())["settings"]["image_size"] == [43, 32]

    from sim2real.policy.client import RemotePolicy
    from test_policy_server import ServerThread

    import sim2real

    server = ServerThread(lambda: VLAPolicy.load(config.out, "cpu"))
    try:
        remote = RemotePolicy(server.url)
        env = sim2real.make("click_bell", cameras=("head",), image_size=(43, 32))
        observation, info = env.reset(seed=0)
        env.close()
        remote.reset(info["episode"])
        served = remote.infer([observation])
        remote.close()
    finally:
        server.stop()
    np.testing.assert_allclose(served, policy.infer([observation]), atol=1e-5)
    assert served.shape == (1, 25, 14) and torch.isfinite(torch.as_tensor(served)).all()
