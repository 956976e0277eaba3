"""Demonstration datasets: layout, validation, workers, and crash safety under kill -9."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from sim2real.data.generate import GenerateSpec, generate
from sim2real.data.reader import Dataset
from sim2real.data.validate import validate
from sim2real.settings import make_settings

# Small and cheap: one camera, tiny images, no shadow map or MSAA (they set the cost on CPU).
SETTINGS = make_settings(cameras=("head",), image_size=(32, 24), randomize="TH+CP+BG",
                         granularity="frame", render={"shadows": False, "msaa": 0}).model_dump(mode="json")
SPEC = GenerateSpec("click_bell", SETTINGS, episodes=3, first_seed=0)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("ds") / "clean"
    generate(SPEC, root)
    return root


def content(root: Path) -> dict:
    """Everything a user reads from a dataset, decoded (bytes of encoders may legitimately differ)."""
    data = Dataset(root)
    out = {"info": data.info, "stats": data.stats, "episodes": data.episodes_table.to_pylist()}
    for index in range(len(data)):
        episode = data.episode(index)
        out[f"{index}/actions"] = episode.actions.tolist()
        out[f"{index}/states"] = episode.states.tolist()
        out[f"{index}/head"] = data.frames(index, "head").tolist()
        out[f"{index}/randomization"] = pq.read_table(
            root / f"randomization/chunk-000/file-{index:03d}.parquet").to_pylist()
    return out


def test_layout_matches_lerobot_v3(dataset):
    info = json.loads((dataset / "meta/info.json").read_text())
    assert info["codebase_version"] == "v3.0" and info["total_episodes"] == 3
    assert set(info["features"]) >= {"observation.state", "action", "observation.images.head",
                                      "timestamp", "frame_index", "episode_index", "index", "task_index"}
    table = pq.read_table(dataset / "data/chunk-000/file-001.parquet")
    episodes = pq.read_table(dataset / "meta/episodes/chunk-000/file-000.parquet").to_pylist()
    assert table["index"][0].as_py() == episodes[1]["dataset_from_index"] == episodes[0]["length"]
    assert set(table["episode_index"].to_pylist()) == {1}
    stats = json.loads((dataset / "meta/stats.json").read_text())
    assert set(stats["action"]) >= {"mean", "std", "min", "max", "q01", "q10", "q50", "q90", "q99",
                                    "pooled_q01", "pooled_q99"}
    assert np.array(stats["observation.images.head"]["mean"]).shape == (3, 1, 1)
    assert "click_bell" in (dataset / "README.md").read_text()
    frame = json.loads(pq.read_table(dataset / "randomization/chunk-000/file-000.parquet")["randomization"][5].as_py())
    assert {"BG", "CP", "TH"} <= set(frame)


def test_episodes_regenerate_from_their_recorded_seed_and_settings(dataset):
    from sim2real.env import make
    from tests.conftest import rollout

    data = Dataset(dataset)
    episode = data.episode(2)
    recorded = json.loads(data.episodes_table["episode"][2].as_py())
    env = make(recorded["task"], **{**recorded["settings"], "cameras": ()})
    actions, _ = rollout(env, recorded["seed"])
    np.testing.assert_allclose(np.array(actions[1:], dtype=np.float32), episode.actions)


def test_validate_accepts_a_good_dataset_and_names_each_problem(dataset, tmp_path):
    assert validate(dataset) == []
    broken = tmp_path / "broken"
    shutil.copytree(dataset, broken)
    (broken / "videos/observation.images.head/chunk-000/file-001.mp4").unlink()
    (broken / "data/chunk-000/file-002.parquet").write_bytes(b"not parquet")
    shutil.copy(broken / "videos/observation.images.head/chunk-000/file-002.mp4",
                broken / "videos/observation.images.head/chunk-000/file-000.mp4")
    problems = "\n".join(validate(broken))
    assert "episode 1: missing videos/observation.images.head/chunk-000/file-001.mp4" in problems
    assert "episode 2: corrupt data/chunk-000/file-002.parquet" in problems
    assert "episode 0: videos/observation.images.head/chunk-000/file-000.mp4 has" in problems

    stale = tmp_path / "stale"
    shutil.copytree(dataset, stale)
    stats = json.loads((stale / "meta/stats.json").read_text())
    stats["action"]["mean"][0] += 0.5
    (stale / "meta/stats.json").write_text(json.dumps(stats))
    assert validate(stale) == ["meta/stats.json: action mean do not match the data"]

    wrong_images = tmp_path / "wrong_images"
    shutil.copytree(dataset, wrong_images)
    stats = json.loads((wrong_images / "meta/stats.json").read_text())
    stats["observation.images.head"]["std"][1][0][0] += 0.1
    (wrong_images / "meta/stats.json").write_text(json.dumps(stats))
    (wrong_images / "randomization/chunk-000/file-001.parquet").unlink()
    assert validate(wrong_images) == [
        "episode 1: missing randomization/chunk-000/file-001.parquet"]
    shutil.copy(dataset / "randomization/chunk-000/file-001.parquet",
                wrong_images / "randomization/chunk-000/file-001.parquet")
    assert validate(wrong_images) == [
        "meta/stats.json: observation.images.head std do not match the decoded videos"]


def test_tasks_and_episode_stats_as_lerobot_writes_them(dataset):
    """LeRobot reads meta/tasks.parquet with pandas, the instruction being the frame's index."""
    tasks = pq.read_table(dataset / "meta/tasks.parquet")
    pandas_metadata = json.loads(tasks.schema.metadata[b"pandas"])
    assert pandas_metadata["index_columns"] == ["task"]
    instructions = dict(zip(tasks["task_index"].to_pylist(), tasks["task"].to_pylist(), strict=True))
    episodes = pq.read_table(dataset / "meta/episodes/chunk-000/file-000.parquet").to_pylist()
    data = Dataset(dataset)
    for row in episodes:
        frames = pq.read_table(dataset / f"data/chunk-000/file-{row['episode_index']:03d}.parquet")
        assert instructions[frames["task_index"][0].as_py()] == row["tasks"][0]
        actions = data.episode(row["episode_index"]).actions
        np.testing.assert_allclose(row["stats/action/mean"], actions.mean(axis=0), rtol=1e-5, atol=1e-6)
        assert len(row["stats/observation.images.head/mean"]) == 3


def test_two_workers_give_the_same_dataset(dataset, tmp_path):
    other = tmp_path / "two"
    generate(SPEC, other, workers=2)
    assert content(other) == content(dataset)


DRIVER = """
import json, sys
from pathlib import Path
from sim2real.data.generate import GenerateSpec, generate
spec = GenerateSpec(**json.loads(sys.argv[1]))
generate(spec, Path(sys.argv[2]))
"""


def _run_until(command, condition, timeout=120.0) -> None:
    """Start the generator and kill -9 it the moment `condition()` holds."""
    process = subprocess.Popen(command, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    deadline = time.time() + timeout
    while not condition() and process.poll() is None and time.time() < deadline:
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()


def test_kill_dash_nine_then_resume_gives_the_same_dataset(dataset, tmp_path):
    root = tmp_path / "killed"
    staging = root / "meta/.episodes"
    command = [sys.executable, "-c", DRIVER, json.dumps(SPEC.key()), str(root)]
    records = lambda: len(list(staging.glob("episode_*.json")))  # noqa: E731
    # Killed: right after the seed plan is saved; in the middle of writing an episode's files
    # (a video is being encoded); and right after the first episode is committed.
    _run_until(command, lambda: (staging / "plan.json").exists())
    _run_until(command, lambda: any(root.rglob(".tmp-file-*.mp4.*")) or records() >= 1)
    _run_until(command, lambda: records() >= 2)
    assert not (root / "meta/info.json").exists(), "the kills came too late to test a crash"
    subprocess.run(command, check=True, timeout=300)
    assert validate(root) == []
    assert content(root) == content(dataset)
    leftovers = list(root.rglob(".tmp-*"))
    assert leftovers == [], f"partial temp files left behind: {leftovers}"


def test_a_folder_from_another_command_is_refused(dataset):
    from sim2real import Sim2RealError

    with pytest.raises(Sim2RealError, match="different command"):
        generate(GenerateSpec("click_bell", SETTINGS, episodes=2, first_seed=5), dataset)


def test_ray_cluster_gives_the_same_dataset(dataset, tmp_path):
    """A local Ray head started by the test on 127.0.0.1, stopped after it."""
    import socket

    import ray

    ray_cli = str(Path(sys.executable).parent / "ray")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    subprocess.run([ray_cli, "start", "--head", f"--port={port}", "--node-ip-address=127.0.0.1",
                    "--num-cpus=2", "--include-dashboard=false", "--disable-usage-stats"],
                   check=True, capture_output=True, timeout=180)
    try:
        generate(SPEC, tmp_path / "ray", ray_address=f"127.0.0.1:{port}")
        assert content(tmp_path / "ray") == content(dataset)
    finally:
        ray.shutdown()
        subprocess.run([ray_cli, "stop", "--force"], capture_output=True, timeout=120)


@pytest.mark.parametrize("keyframe_interval", [None, 2])  # eval videos; datasets (as LeRobot)
def test_video_encoding_is_reproducible_bit_for_bit(tmp_path, keyframe_interval):
    """The same frames give the same MP4 bytes every time, also with torch loaded (x264's
    macroblock-tree rate control did not: 2-4 distinct outputs in 12 encodes)."""
    import hashlib

    import torch  # noqa: F401  (loaded in training and evaluation processes)

    from sim2real.media import write_mp4

    rng = np.random.default_rng(0)
    base = rng.integers(0, 255, (24, 32, 3), dtype=np.uint8)
    frames = [np.roll(base, shift, axis=1) // 2 + shift for shift in range(60)]
    digests = {hashlib.md5(write_mp4(tmp_path / f"{i}.mp4", frames, 25, keyframe_interval=keyframe_interval)
                           .read_bytes()).hexdigest()
               for i in range(8)}
    assert len(digests) == 1


def test_dataset_commands(dataset, tmp_path):
    from tests.test_cli import run_cli

    info = json.loads(run_cli("dataset", "info", str(dataset), "--json").stdout)
    assert info["episodes"] == 3 and info["task"] == "click_bell"
    assert json.loads(run_cli("dataset", "validate", str(dataset), "--json").stdout) == {
        "valid": True, "problems": []}
    exported = run_cli("dataset", "export", str(dataset), "--out", str(tmp_path / "h5"), "--json")
    assert exported.returncode == 0, exported.stderr
    assert json.loads(exported.stdout)["episodes"] == 3
    wrong = run_cli("dataset", "export", str(dataset), "--out", str(tmp_path / "x"), "--format", "zarr")
    assert wrong.returncode == 2 and "format" in wrong.stderr and "robotwin-hdf5" in wrong.stderr
    (tmp_path / "empty").mkdir()  # a folder that is no dataset: problems found, exit 1
    broken = run_cli("dataset", "validate", str(tmp_path / "empty"))
    assert broken.returncode == 1 and "missing meta/info.json" in broken.stderr + broken.stdout
    nowhere = run_cli("dataset", "validate", str(tmp_path / "nothing-here"))  # a mistake: exit 2
    assert nowhere.returncode == 2 and "invalid root" in nowhere.stderr
