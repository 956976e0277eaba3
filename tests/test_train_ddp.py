"""Multi-process SFT with torchrun (DDP over gloo on CPU): what a GPU cluster runs with NCCL."""

import json
import subprocess
import sys
from pathlib import Path

from sim2real.policy.vla.checkpoint import load_checkpoint


def test_torchrun_two_processes_train_one_model(click_bell_demos, tmp_path):
    out = tmp_path / "ddp.pt"
    torchrun = str(Path(sys.executable).parent / "torchrun")
    result = subprocess.run(
        [torchrun, "--standalone", "--nproc-per-node", "2", "-m", "sim2real", "train", "sft",
         "--data", str(click_bell_demos), "--model", "tiny", "--cameras", "head", "--steps", "6",
         "--batch-size", "4", "--warmup-steps", "1", "--out", str(out), "--json"],
        capture_output=True, text=True, timeout=600,
        env={"OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    reports = [line for line in result.stdout.splitlines() if line.startswith("{")]
    assert len(reports) == 1, result.stdout  # one rank reports
    summary = json.loads(reports[0])
    assert summary["steps"] == 6 and summary["checkpoint"] == str(out)
    payload = load_checkpoint(out)
    assert payload["step"] == 6
    # DDP wraps the model; the checkpoint holds the plain model's weights, loadable anywhere
    assert not any(key.startswith("module.") for key in payload["model"])
    # tensorboard logs of the run are written (by rank 0)
    assert any(out.with_suffix(".logs").rglob("events.out.tfevents.*"))
