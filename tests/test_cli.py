import json
import os
import subprocess
import sys

import pytest
from PIL import Image


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sim2real", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "COLUMNS": "120"},
    )


def _commands() -> list[tuple[list[str], object]]:
    """Every command and sub-command the `sim2real` tool registers (path, click command),
    found by walking it."""
    import typer

    from sim2real.cli.main import app

    def walk(command, path: list[str]) -> list[tuple[list[str], object]]:
        found = [(path, command)]
        if hasattr(command, "commands"):  # a group (typer ships its own click)
            for name, sub in command.commands.items():
                found += walk(sub, [*path, name])
        return found

    return walk(typer.main.get_command(app), [])


def _command_paths() -> list[list[str]]:
    return [path for path, _ in _commands()]


def test_every_option_and_argument_has_help_text():
    missing = [f"sim2real {' '.join(path)} {param.name}" for path, command in _commands()
               for param in command.params if not (getattr(param, "help", None) or "").strip()]
    assert missing == []


def test_every_command_has_help():
    from typer.testing import CliRunner

    from sim2real.cli.main import app

    paths = _command_paths()
    expected = {"tasks", "expert", "render", "generate", "eval", "serve", "report", "compare",
                "dataset info", "dataset validate", "dataset export", "train sft",
                "bench env", "bench render", "bench generate", "bench serve"}
    assert expected <= {" ".join(p) for p in paths}
    runner = CliRunner()
    for path in paths:
        result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "120"})
        assert result.exit_code == 0, (path, result.output)
        assert "Usage" in result.output, path


def test_tasks_json():
    result = run_cli("tasks", "--json")
    assert result.returncode == 0, result.stderr
    names = [t["name"] for t in json.loads(result.stdout)["tasks"]]
    assert "click_bell" in names


def test_expert_json():
    result = run_cli("expert", "--task", "click_bell", "--episodes", "2", "--seed", "0", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["success_rate"] == 1.0
    assert [e["seed"] for e in report["episodes"]] == [0, 1]
    assert all(e["success"] and e["steps"] > 0 for e in report["episodes"])


def test_expert_under_randomization():
    result = run_cli("expert", "--task", "click_bell", "--episodes", "2", "--randomize", "all",
                     "--split", "ood", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["randomize"] == "BG+LT+TD+CP+TH" and report["split"] == "ood"
    assert report["success_rate"] == 1.0
    wrong = run_cli("expert", "--randomize", "BG+XY", "--episodes", "1")
    assert wrong.returncode == 2 and "XY" in wrong.stderr and "known factors" in wrong.stderr


def test_render_writes_pngs(tmp_path):
    result = run_cli("render", "--task", "click_bell", "--seed", "0", "--out", str(tmp_path),
                     "--image-size", "96x72", "--json")
    assert result.returncode == 0, result.stderr
    paths = json.loads(result.stdout)
    head = Image.open(paths["head"])
    sheet = Image.open(paths["contact_sheet"])
    assert head.size == (96, 72)
    assert sheet.size == (3 * 96, 72)
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir())  # no temp leftovers


def test_expert_writes_video(tmp_path):
    import av

    result = run_cli("expert", "--episodes", "1", "--video", str(tmp_path), "--image-size", "64x48")
    assert result.returncode == 0, result.stderr
    (video,) = tmp_path.glob("*.mp4")
    with av.open(str(video)) as container:
        frames = sum(1 for _ in container.decode(video=0))
    assert frames > 40


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["expert", "--task", "nope"], "invalid task: 'nope'; allowed: "),
        (["render", "--image-size", "big"], "invalid image_size: 'big'; must be WIDTHxHEIGHT"),
    ],
)
def test_user_mistakes_are_one_clear_line(args, message):
    result = run_cli(*args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
