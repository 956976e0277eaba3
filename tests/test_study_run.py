"""The study runner end to end on a tiny study (one task, two settings, two demos, three
training steps, two evaluation episodes, 10 Hz control): killed with SIGKILL and resumed, a
changed setting, a failing step, a GRPO variant reusing the SFT step, and the same study on a
local Ray head."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml

from sim2real.study.config import parse_study
from sim2real.study.execute import run_study
from sim2real.study.graph import build_plan
from sim2real.study.store import StudyStore, is_locked

# One xdist worker runs the whole module (`--dist loadgroup` in the Makefile): its fixtures build
# one study each, and a second worker would only wait for them.
pytestmark = pytest.mark.xdist_group("study-run")

TINY = {
    "name": "tiny",
    "tasks": ["click_bell"],
    # 10 Hz: 80 steps per click_bell episode (200 at 25 Hz) in generation, training and evaluation
    "env": {"cameras": ["head"], "image_size": [48, 48], "control_hz": 10.0,
            "render": {"shadows": False, "msaa": 0}},
    "data": {"clean": {}, "TH": {"randomize": "TH"}},
    "demos": 2,
    # the discrete head, so that the GRPO variant below can start from these SFT policies
    "training": {"model": "tiny", "head": "discrete", "steps": 3, "batch_size": 4, "warmup_steps": 1,
                 "checkpoint_every": 1},
    # one GRPO update from one prompt's group of 2 rollouts, one greedy episode before and after
    "grpo": {"steps": 1, "group_size": 2, "prompts_per_step": 1, "max_prompts_per_step": 1, "envs": 1,
             "mini_batch": 2, "eval_every": 0, "eval_episodes": 1, "learning_rate": 1.0e-3},
    "evaluation": {"suites": ["clean"], "episodes": 2, "first_seed": 1000},
    "execution": {"workers": 2},
}


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "sim2real", "study", *args]


def records(root: Path) -> dict[str, int]:
    """Committed steps: record file -> modification time (ns)."""
    return {str(p.relative_to(root)): p.stat().st_mtime_ns for p in root.glob("steps/*/record.json")}


def once(tmp_path_factory, name: str, build):
    """`build(folder)` run once for all pytest-xdist workers (the first one to get here runs it,
    the others wait for it and read its JSON result)."""
    import fcntl

    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent
    with open(base / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        result = base / name / "result.json"
        if not result.is_file():
            (base / name).mkdir(exist_ok=True)
            result.write_text(json.dumps(build(base / name)))
        return json.loads(result.read_text())


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    study, root, before, summary = once(tmp_path_factory, "study-finished", killed_and_resumed)
    return Path(study), Path(root), before, summary


def killed_and_resumed(folder: Path):
    """The tiny study run by `sim2real study run`, killed with SIGKILL as soon as its first step
    has committed, then run again to the end."""
    study, root = folder / "tiny.yaml", folder / "run"
    study.write_text(yaml.safe_dump(TINY))
    command = cli("run", str(study), "--dir", str(root), "--json")
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 600
    while not records(root) and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert process.poll() is None, "the run ended before the kill"
    process.send_signal(signal.SIGKILL)
    process.wait()
    before_resume = records(root)
    assert 1 <= len(before_resume) < 6, "the kill came too late to interrupt anything"
    # The workers die with the scheduler: no step lock stays held.
    deadline = time.monotonic() + 30
    while any(is_locked(p) for p in root.glob("steps/*/lock")) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(is_locked(p) for p in root.glob("steps/*/lock")), "a worker outlived the killed run"
    # One worker from here on: the steps left form chains on a 2-core machine, and each worker
    # process pays its own imports (torch, its compiler stack on the first optimizer: ~15 s of CPU).
    resumed = subprocess.run([*command, "--workers", "1"], capture_output=True, text=True, timeout=900)
    assert resumed.returncode == 0, resumed.stderr
    return str(study), str(root), before_resume, json.loads(resumed.stdout)


def test_killed_run_resumes_and_never_redoes_finished_steps(finished):
    study, root, before_resume, summary = finished
    after = records(root)
    assert len(after) == 6 and summary["steps"] == 6
    for record, mtime in before_resume.items():
        assert after[record] == mtime, f"{record} was redone"
    done_before = {json.loads((root / r).read_text())["key"] for r in before_resume}
    assert done_before <= set(summary["already_done"])
    assert set(summary["ran"]) | set(summary["already_done"]) == {s.key for s in build_plan(parse_study(TINY)).steps.values()}
    for results in root.glob("steps/evaluate-*/results/summary.json"):
        assert json.loads(results.read_text())["episodes"] == 2


def test_status_lists_every_step_done(finished):
    study, root, *_ = finished
    status = subprocess.run(cli("status", str(study), "--dir", str(root), "--json"),
                            capture_output=True, text=True, timeout=120)
    payload = json.loads(status.stdout)
    assert payload["counts"] == {"done": 6}
    assert {row["kind"] for row in payload["steps"]} == {"generate", "train", "evaluate"}


CHANGED = {**TINY, "data": {
    # fails: its texture cache cannot be created
    "broken": {"randomize": "BG", "randomization": {"texture_dir": "/proc/no-such/textures"}},
    "clean": {},
    "TH": {"randomize": "CP"},  # same name, new content
}}


@pytest.fixture(scope="module")
def changed(finished, tmp_path_factory):
    """The finished study copied, TH changed to CP, and a setting that fails listed first."""
    _, root, *_ = finished

    def build(folder: Path):
        shutil.copytree(root, folder / "run")
        return str(folder / "run"), run_study(parse_study(CHANGED), folder / "run", workers=1)

    copy_root, summary = once(tmp_path_factory, "study-changed", build)
    return parse_study(CHANGED), Path(copy_root), summary


def test_changing_one_setting_reruns_only_its_dependents(finished, changed):
    old = build_plan(parse_study(TINY))
    config, _, summary = changed
    new = build_plan(config)
    def of(setting: str) -> set[str]:  # labels read "KIND SETTING[/VARIANT] ..."
        return {k for k, s in new.steps.items() if s.label.split()[1].split("/")[0] == setting}

    th, clean = of("TH"), of("clean")
    assert clean <= set(old.steps) and not th & set(old.steps)  # keys follow inputs
    assert set(summary["already_done"]) == clean
    assert set(summary["ran"]) == th


def test_a_failing_step_records_its_reason_and_blocks_only_its_dependents(changed):
    config, root, summary = changed
    plan = build_plan(config)
    (failed,) = summary["failed"]
    assert plan.steps[failed].label == "generate broken click_bell"
    assert "/proc/no-such" in summary["failed"][failed]
    assert set(summary["blocked"]) == plan.dependents(failed) and len(summary["blocked"]) == 2
    failure = StudyStore(root).failure(plan.steps[failed])
    assert "Traceback" in failure["detail"] and failure["reason"] == summary["failed"][failed]
    from sim2real.study.status import study_status

    states = {row["label"]: row for row in study_status(config, root)}
    assert states["generate broken click_bell"]["state"] == "failed"
    assert states["train broken click_bell seed 0"]["state"] == "blocked"
    assert states["evaluate TH/sft click_bell clean"]["state"] == "done"


WITH_GRPO = {**TINY, "variants": ["sft", "sft+grpo"]}


@pytest.fixture(scope="module")
def with_grpo(finished, tmp_path_factory):
    """The finished study copied, with the sft+grpo variant added, run for its clean cells."""
    _, root, *_ = finished

    def build(folder: Path):
        shutil.copytree(root, folder / "run")
        before = records(folder / "run")
        summary = run_study(parse_study(WITH_GRPO), folder / "run", workers=1, only=("clean/*",))
        return str(folder / "run"), before, summary

    copy_root, before, summary = once(tmp_path_factory, "study-grpo", build)
    return Path(copy_root), before, summary


def test_a_grpo_variant_trains_from_the_sft_step_which_runs_once(with_grpo):
    from sim2real.policy.vla.checkpoint import load_checkpoint

    root, before, summary = with_grpo
    plan = build_plan(parse_study(WITH_GRPO))
    (sft,) = plan.cells["clean/sft/click_bell"].policies
    (grpo,) = plan.cells["clean/sft+grpo/click_bell"].policies
    assert plan.steps[sft].kind == "train" and plan.steps[grpo].kind == "grpo"
    assert plan.steps[grpo].inputs == (sft,)  # the GRPO step's key consumes the SFT step's key
    assert not summary["failed"] and not summary["blocked"], summary
    (evaluation,) = plan.cells["clean/sft+grpo/click_bell"].evaluations
    assert set(summary["ran"]) == {grpo, evaluation.key}  # the SFT policy was not trained again
    assert sft in summary["already_done"]
    after = records(root)
    sft_record = f"steps/train-{sft}/record.json"
    assert after[sft_record] == before[sft_record]
    store = StudyStore(root)
    record = store.record(plan.steps[grpo])
    assert record["summary"]["steps"] == 1 and record["cpu_seconds"] > 0
    saved = load_checkpoint(store.output(plan.steps[grpo]))
    assert saved["step"] == 1 and saved["grpo"]["config"]["init"] == str(store.output(plan.steps[sft]))
    assert saved["grpo"]["config"]["group_size"] == 2 and saved["grpo"]["config"]["settings"]["randomize"] == "clean"
    results = json.loads((store.output(plan.steps[evaluation.key]) / "summary.json").read_text())
    assert results["episodes"] == 2


@contextmanager
def ray_head():
    """A Ray head on 127.0.0.1 with a free port, in its own process group, stopped by it."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    temp = tempfile.mkdtemp(prefix="ray", dir="/tmp")  # short: Ray's socket paths have a limit
    head = subprocess.Popen(
        [str(Path(sys.executable).parent / "ray"), "start", "--head", "--block", f"--port={port}",
         "--node-ip-address=127.0.0.1", "--num-cpus=2", "--include-dashboard=false",
         "--disable-usage-stats", f"--temp-dir={temp}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with socket.socket() as client:
                if client.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert head.poll() is None, "ray start exited"
            time.sleep(0.5)
        yield f"127.0.0.1:{port}"
    finally:
        # Every process of the head's session, Ray's workers too: they run in process groups
        # of their own, and `ray start --block` waits ~30 s for them after a SIGTERM. Killed
        # at once: nothing of a test cluster is worth a graceful stop.
        for pid in session_members(head.pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        head.wait(timeout=30)
        shutil.rmtree(temp, ignore_errors=True)


def session_members(sid: int) -> list[int]:
    """The processes of session `sid` (Linux: field 6 of /proc/PID/stat)."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):  # the process ended meanwhile
            continue
        if int(fields[3]) == sid:
            members.append(int(stat.parent.name))
    return members


def test_ray_cluster_gives_the_same_step_keys_and_results(finished, tmp_path):
    _, local_root, *_ = finished
    config = parse_study(TINY)
    with ray_head() as address:
        summary = run_study(config, tmp_path / "ray", ray_address=address, only=("clean/*",))
    plan = build_plan(config)
    clean = [s for s in plan.select(("clean/*",))]
    assert sorted(summary["ran"]) == sorted(s.key for s in clean) and not summary["failed"]
    local, remote = StudyStore(local_root), StudyStore(tmp_path / "ray")
    for step in clean:
        mine, theirs = local.record(step), remote.record(step)
        assert theirs is not None
        if step.kind == "generate":
            data = "data/chunk-000/file-000.parquet"
            assert (local.output(step) / data).read_bytes() == (remote.output(step) / data).read_bytes()
        if step.kind == "train":
            assert theirs["summary"]["loss_first"] == pytest.approx(mine["summary"]["loss_first"], rel=1e-5)
        if step.kind == "evaluate":
            episodes = [(e["seed"], e["success"], e["steps"]) for e in
                        map(json.loads, (local.output(step) / "episodes.jsonl").read_text().splitlines())]
            remote_episodes = [(e["seed"], e["success"], e["steps"]) for e in
                               map(json.loads, (remote.output(step) / "episodes.jsonl").read_text().splitlines())]
            assert episodes == remote_episodes and len(episodes) == 2


def test_report_writes_a_page_markdown_and_plots(finished, tmp_path):
    study, root, *_ = finished
    report = subprocess.run(cli("report", str(study), "--dir", str(root), "--out", str(tmp_path), "--json"),
                            capture_output=True, text=True, timeout=300)
    assert report.returncode == 0, report.stderr
    payload = json.loads(report.stdout)
    assert set(payload["cells"]) == {"clean/sft/click_bell", "TH/sft/click_bell"}
    assert all(c["clean"]["trials"] == 2 for c in payload["cells"].values())
    rows = {row["row"]: row for row in payload["tables"]["table1"]}
    assert rows["Clean"]["setting"] == "clean" and rows["TH"]["setting"] == "TH"
    assert rows["TH"]["paper"]["click_bell"] == {"sim-ood": 40, "real": 36.9}
    assert "p_values" in rows["TH"] and "click_bell" in rows["TH"]["p_values"]
    text = (tmp_path / "report.md").read_text()
    assert "Table 1" in text and "36.9%" in text and "/2)" in text
    page = (tmp_path / "report.html").read_text()
    assert "<table>" in page and 'src="table1.png"' in page
    assert (tmp_path / "table1.png").stat().st_size > 1000
