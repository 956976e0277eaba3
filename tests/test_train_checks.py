"""train sft refuses what would lose work or train on the wrong thing, before the first step
(issue 14: an existing --out, a folder --out, changed settings on --resume, corrupt datasets)."""

import json
import shutil

import pytest
import torch

from sim2real.errors import Sim2RealError
from sim2real.policy.vla.checkpoint import load_checkpoint
from sim2real.train.sft import SFTConfig, train_sft
from tests.test_cli import run_cli


def config_for(data, out, **changes) -> SFTConfig:
    values = dict(model="tiny", cameras=("head",), steps=2, batch_size=2, warmup_steps=0, learning_rate=1e-3)
    return SFTConfig(data=(data,), out=out, **{**values, **changes})


def no_training(*_):
    raise AssertionError("training started")


@pytest.fixture(scope="module")
def two_steps(click_bell_demos, tmp_path_factory):
    """A 2-step run's checkpoint; tests resume copies of it."""
    out = tmp_path_factory.mktemp("checks") / "two.pt"
    train_sft(config_for(click_bell_demos, out))
    return out


def copy_of(checkpoint, tmp_path):
    copy = tmp_path / "copy.pt"
    shutil.copy(checkpoint, copy)
    return copy


def test_an_existing_checkpoint_is_replaced_only_with_overwrite(click_bell_demos, two_steps, tmp_path):
    out = copy_of(two_steps, tmp_path)
    before = out.read_bytes()
    with pytest.raises(Sim2RealError, match=r"invalid out: .*--resume.*--overwrite"):
        train_sft(config_for(click_bell_demos, out), no_training, no_training)
    assert out.read_bytes() == before
    with pytest.raises(Sim2RealError, match="not with --resume"):
        train_sft(config_for(click_bell_demos, out, resume=True, overwrite=True), no_training, no_training)
    summary = train_sft(config_for(click_bell_demos, out, steps=1, overwrite=True))
    assert summary["steps_this_run"] == 1 and load_checkpoint(out)["step"] == 1


def test_an_output_that_cannot_be_written_is_refused_before_the_first_step(click_bell_demos, tmp_path):
    (tmp_path / "folder").mkdir()
    with pytest.raises(Sim2RealError, match="is a folder"):
        train_sft(config_for(click_bell_demos, tmp_path / "folder"), no_training, no_training)
    (tmp_path / "a_file").write_text("not a folder")
    with pytest.raises(Sim2RealError, match="invalid out: .*a writable path"):
        train_sft(config_for(click_bell_demos, tmp_path / "a_file" / "ck.pt"), no_training, no_training)


def test_resume_refuses_what_the_weights_cannot_follow(click_bell_demos, two_steps, tmp_path):
    out = copy_of(two_steps, tmp_path)
    before = out.read_bytes()
    for change, said in (({"cameras": ("head", "left_wrist")}, "invalid cameras"),
                         ({"head": "discrete"}, "invalid head"), ({"seed": 7}, "invalid seed")):
        with pytest.raises(Sim2RealError, match=said):
            train_sft(config_for(click_bell_demos, out, steps=4, resume=True, **change), no_training, no_training)
    other = tmp_path / "other"  # the same episodes with other statistics: regenerated data
    shutil.copytree(click_bell_demos, other)
    stats = json.loads((other / "meta/stats.json").read_text())
    for name in ("q99", "pooled_q99"):  # LeRobot's and the pooled one our trainer uses
        stats["action"][name][0] += 0.3
    (other / "meta/stats.json").write_text(json.dumps(stats))
    with pytest.raises(Sim2RealError, match="invalid data: .*normalisation"):
        train_sft(config_for(other, out, steps=4, resume=True), no_training, no_training)
    fewer = tmp_path / "fewer"  # another dataset
    shutil.copytree(click_bell_demos, fewer)
    info = json.loads((fewer / "meta/info.json").read_text())
    (fewer / "meta/info.json").write_text(json.dumps({**info, "total_frames": info["total_frames"] + 1}))
    with pytest.raises(Sim2RealError, match="invalid data: .*was trained on"):
        train_sft(config_for(fewer, out, steps=4, resume=True), no_training, no_training)
    assert out.read_bytes() == before


def test_resume_applies_and_records_a_new_learning_rate(click_bell_demos, two_steps, tmp_path):
    out = copy_of(two_steps, tmp_path)
    summary = train_sft(config_for(click_bell_demos, out, steps=3, resume=True, learning_rate=2e-3))
    assert summary["steps_this_run"] == 1 and summary["changed"] == {"learning_rate": [1e-3, 2e-3], "steps": [2, 3]}
    saved = load_checkpoint(out)
    assert saved["train_config"]["learning_rate"] == 2e-3
    assert saved["resumes"] == [{"step": 2, "changes": {"learning_rate": [1e-3, 2e-3], "steps": [2, 3]}}]
    assert saved["optimizer"]["param_groups"][0]["initial_lr"] == 2e-3
    # Settings not given on resume are the checkpoint's, not the defaults.
    kept = SFTConfig(data=(click_bell_demos,), out=out, steps=4, resume=True)
    train_sft(kept)
    assert load_checkpoint(out)["train_config"]["learning_rate"] == 2e-3


@pytest.mark.parametrize("as_json", [False, True])
def test_resume_at_or_past_the_asked_steps_changes_nothing(click_bell_demos, two_steps, tmp_path, as_json):
    out = copy_of(two_steps, tmp_path)
    before, mtime = out.read_bytes(), out.stat().st_mtime_ns
    summary = train_sft(config_for(click_bell_demos, out, steps=1, resume=True), no_training, no_training)
    assert summary["already_at_step"] == 2 and summary["steps_this_run"] == 0
    result = run_cli("train", "sft", "--data", str(click_bell_demos), "--out", str(out), "--steps", "2",
                     "--resume", *(["--json"] if as_json else []))
    assert result.returncode == 0, result.stderr
    if as_json:
        assert json.loads(result.stdout)["already_at_step"] == 2
    else:
        assert "already at step 2 (--steps 2): nothing to train" in " ".join(result.stderr.split())
    assert out.read_bytes() == before and out.stat().st_mtime_ns == mtime
    assert torch.equal(load_checkpoint(out)["sampler_rng"], load_checkpoint(two_steps)["sampler_rng"])


def _delete_parquet(root):
    (root / "data/chunk-000/file-001.parquet").unlink()


def _truncate_mp4(root):
    video = root / "videos/observation.images.head/chunk-000/file-000.mp4"
    video.write_bytes(video.read_bytes()[: video.stat().st_size // 2])


@pytest.mark.parametrize(("corrupt", "said"), [
    (_delete_parquet, "episode 1: missing data/chunk-000/file-001.parquet"),
    (_truncate_mp4, "episode 0: corrupt videos/observation.images.head/chunk-000/file-000.mp4"),
    (lambda root: (root / "meta/info.json").write_text('{"total_episodes": 2,'), "corrupt meta/info.json"),
    (lambda root: (root / "meta/stats.json").unlink(), "missing meta/stats.json"),
])
def test_a_corrupt_dataset_is_named_in_one_line_before_training(click_bell_demos, tmp_path, corrupt, said):
    broken = tmp_path / "broken"
    shutil.copytree(click_bell_demos, broken)
    corrupt(broken)
    with pytest.raises(Sim2RealError) as error:
        train_sft(config_for(broken, tmp_path / "ck.pt"), no_training, no_training)
    message = str(error.value)
    assert message.startswith(f"{broken}: {said}") and "\n" not in message, message
    assert not (tmp_path / "ck.pt").exists()
