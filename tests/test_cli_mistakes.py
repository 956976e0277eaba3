"""Mistakes on the command line: exactly one line on stderr naming the field, exit code 2, and
nothing done (no episode run, no file written), so each fails fast."""

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sim2real.core.contract import SEED_LIMIT

TIMEOUT_S = 90  # a mistake is reported in seconds; `--ray bogus:1` used to retry for minutes


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sim2real", *args], capture_output=True, text=True,
        timeout=TIMEOUT_S, cwd=cwd, env={**os.environ, "COLUMNS": "80"},
    )  # fmt: skip


def assert_mistake(result: subprocess.CompletedProcess, *fragments: str) -> str:
    """Exit 2, one line on stderr (so no traceback and no progress bar), nothing on stdout."""
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2, (result.returncode, result.stderr[-2000:])
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    assert result.stdout == ""
    return lines[0]


def files_under(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


@pytest.fixture
def workdir(tmp_path):
    """A folder holding one existing file (for --out mistakes); checked unchanged afterwards."""
    (tmp_path / "existing.txt").write_text("keep me")
    before = files_under(tmp_path)
    yield tmp_path
    assert files_under(tmp_path) == before, "a refused command wrote files"
    assert (tmp_path / "existing.txt").read_text() == "keep me"


# -- --out / --video pointing at an existing file -------------------------------------------

@pytest.mark.parametrize(
    ("command", "field"),
    [
        (["generate", "--episodes", "1", "--out"], "out"),
        (["render", "--out"], "out"),
        (["eval", "--policy", "zero", "--episodes", "1", "--out"], "out"),
        (["expert", "--episodes", "1", "--video"], "video"),
        (["report", "results-that-do-not-matter", "--out"], "out"),
    ],
)
@pytest.mark.parametrize("below", ["", "run1"], ids=["the-file", "below-the-file"])
def test_output_folder_that_is_a_file(workdir, command, field, below):
    target = workdir / "existing.txt" / below if below else workdir / "existing.txt"
    assert_mistake(run_cli(*command, str(target)), f"invalid {field}: '{target}'", "is a file")


# -- what the option parser itself refuses: one line too, not a boxed usage message -------

@pytest.mark.parametrize(
    ("command", "fragments"),
    [
        (["expert", "--episodes", "x"], ["'--episodes'", "integer", "sim2real expert --help"]),
        (["eval", "--policy", "zero", "--cameras", "head"], ["No such option: --cameras"]),
        (["eval"], ["Missing option '--policy'"]),
        (["dataset", "info"], ["Missing argument 'root'"]),
        (["no-such-command"], ["No such command 'no-such-command'"]),
    ],
)  # fmt: skip
def test_parser_mistakes(workdir, command, fragments):
    assert_mistake(run_cli(*command, cwd=workdir), *fragments)


# -- seeds: 0 <= seed < 2^31, for every seed a command will use -----------------------------

@pytest.mark.parametrize(
    "command",
    [
        ["expert", "--seed", "-1"],
        ["expert", "--seed", str(SEED_LIMIT - 5), "--episodes", "10"],
        ["render", "--seed", str(2**63)],
        ["render", "--grid", "2x2", "--seed", str(SEED_LIMIT - 2)],
        ["generate", "--seed", str(SEED_LIMIT), "--episodes", "1", "--out", "new"],
        ["eval", "--policy", "zero", "--seed", "-3", "--out", "new"],
    ],
)
def test_seeds_out_of_range(workdir, command):
    assert_mistake(run_cli(*command, cwd=workdir), "invalid seed:", "2^31")


# -- settings options --------------------------------------------------------------------

@pytest.mark.parametrize(
    ("command", "fragments"),
    [
        (["render", "--randomize", "clean+BG"], ["invalid randomize: 'clean+BG'", "cannot be joined"]),
        (["expert", "--randomize", "TD+TH", "--granularity", "frame"],
         ["invalid granularity: 'frame'", "episode-only", "BG, LT, CP"]),
        (["generate", "--out", "new", "--granularity", "frame"], ["invalid granularity: 'frame'"]),
        (["render", "--msaa", "3"], ["invalid render.msaa: 3", "0, 1, 2, 4, 8, 16"]),
        (["generate", "--out", "new", "--cameras", ""], ["invalid cameras: ''", "head"]),
        (["render", "--image-size", "big"], ["invalid image_size: 'big'", "WIDTHxHEIGHT"]),
    ],
)  # fmt: skip
def test_bad_settings_options(workdir, command, fragments):
    assert_mistake(run_cli(*command, cwd=workdir), *fragments)


def option_help(command: str, option: str) -> str:
    """The help text of one option of a command, as `--help` prints it (unwrapped)."""
    import typer

    from sim2real.cli.main import app

    (param,) = [p for p in typer.main.get_command(app).commands[command].params if p.name == option]
    return param.help


REQUIRED = {"generate": ["--out", "new"], "eval": ["--policy", "zero", "--out", "new"],
            "expert": [], "render": []}  # what each command needs besides the mistake


@pytest.mark.parametrize("command", list(REQUIRED))
def test_msaa_help_and_error_name_the_same_values(workdir, command):
    from sim2real.render.presets import MSAA_SAMPLES

    allowed = ", ".join(map(str, MSAA_SAMPLES))
    assert option_help(command, "msaa").endswith(f"samples: {allowed}")
    assert_mistake(run_cli(command, *REQUIRED[command], "--msaa", "3", cwd=workdir),
                   f"invalid render.msaa: 3; must be one of {allowed}")


# -- --config FILE.yaml and --set ----------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        ("randomization:\n  camra_radius: 0.08\n",
         ["invalid randomization.camra_radius: 0.08", "known: camera_jitter_deg, camera_radius"]),
        ("cameras: 5\n", ["invalid cameras: 5"]),
        ("image_size: 5\n", ["invalid image_size: 5"]),
        ("physics: {frition: 2}\n", ["invalid physics.frition", "known: friction, gravity"]),
        ("fidelity: high\n  msaa: 0\n", ["malformed YAML at line 2", "mapping values are not allowed"]),
        ("- cameras\n", ["holds a list", "mapping"]),
    ],
)  # fmt: skip
def test_bad_settings_files(workdir, text, fragments):
    config = workdir / "settings.yaml"
    config.write_text(text)
    try:
        line = assert_mistake(run_cli("generate", "--out", "new", "--config", str(config), cwd=workdir),
                              *fragments)
    finally:
        config.unlink()  # the workdir check: nothing else appeared
    assert "settings.yaml" in line


@pytest.mark.parametrize(
    ("override", "fragments"),
    [
        ("randomization.camra_radius=0.08",
         ["--set: invalid randomization.camra_radius: 0.08", "known: camera_jitter_deg"]),
        ("cameras=5", ["invalid cameras: 5"]),
        ("split", ["invalid --set: 'split'", "FIELD=VALUE"]),
        ("cameras=[head", ["invalid --set cameras", "not a YAML value"]),
    ],
)  # fmt: skip
def test_bad_overrides(workdir, override, fragments):
    assert_mistake(run_cli("expert", "--set", override, cwd=workdir), *fragments)


def test_missing_settings_file(workdir):
    assert_mistake(run_cli("expert", "--config", str(workdir / "none.yaml")), "invalid config:")


def test_precedence_defaults_file_options_overrides(tmp_path):
    """defaults < file < options < --set: the file sets three fields, an option overrides one,
    --set changes one field of the file's physics preset and keeps its others."""
    config = tmp_path / "settings.yaml"
    config.write_text("randomize: BG\nsplit: ood\nphysics: extreme\n")
    result = run_cli("expert", "--episodes", "1", "--config", str(config), "--randomize", "CP",
                     "--set", "physics.friction=0.3", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["randomize"] == "CP"  # option over file
    assert report["split"] == "ood"  # file over default
    assert report["physics"] == {"timestep": 0.004, "friction": 0.3, "restitution": 0.5, "gravity": 4.9}


# -- policies, servers, clusters -----------------------------------------------------------

@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"not an array", "not a .npy array"),
        (np.zeros((5, 3)), "holds shape (5, 3)"),
        (np.array([{"a": 1}], dtype=object), "not a .npy array"),  # pickled: never loaded
    ],
)
def test_replay_policy_that_is_not_an_action_array(workdir, content, fragment):
    path = workdir / "actions.npy"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        np.save(path, content, allow_pickle=True)
    try:
        assert_mistake(run_cli("eval", "--policy", f"replay:{path}", "--episodes", "1", "--out", "new",
                               cwd=workdir), "invalid policy: 'replay:", "N x 14", fragment)
    finally:
        path.unlink()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_serve_on_a_port_in_use():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert_mistake(run_cli("serve", "--policy", "zero", "--port", str(port)),
                       f"invalid port: {port}", "in use")


def test_serve_on_a_host_that_does_not_resolve():
    assert_mistake(run_cli("serve", "--policy", "zero", "--host", "no-such-host.invalid"),
                   "invalid host: 'no-such-host.invalid'")


@pytest.mark.parametrize("command", [["generate", "--out", "new"], ["eval", "--policy", "zero", "--out", "new"]])
@pytest.mark.parametrize("address", ["bogus:1", "127.0.0.1:{free}"])
def test_unreachable_ray_cluster(workdir, command, address):
    address = address.format(free=_free_port())
    assert_mistake(run_cli(*command, "--ray", address, "--episodes", "1", cwd=workdir),
                   f"invalid ray: '{address}'")


@pytest.mark.parametrize("command", ["serve", "eval"])
def test_policy_help_lists_every_policy_spec(command):
    for spec in ("expert", "zero", "replay:", "ws://", ".pt"):
        assert spec in option_help(command, "policy")


# -- datasets that are broken or unfinished ------------------------------------------------

@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    """One click_bell episode, head camera at 32 x 24 (no shadow map or MSAA: cheap on CPU)."""
    from sim2real.data.generate import GenerateSpec, generate
    from sim2real.settings import make_settings

    settings = make_settings(cameras=("head",), image_size=(32, 24), randomize="BG", split="ood",
                             render={"shadows": False, "msaa": 0})
    root = tmp_path_factory.mktemp("mistakes") / "ds"
    generate(GenerateSpec("click_bell", settings.model_dump(mode="json"), 1, 0), root)
    return root


def _delete(path: Path) -> None:
    path.unlink()


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _garble(path: Path) -> None:
    path.write_text('{"codebase_version": "v3.0", "total_')


BREAKAGES = {
    "deleted parquet": ("data/chunk-000/file-000.parquet", _delete, "missing data/chunk-000/file-000.parquet"),
    "truncated mp4": ("videos/observation.images.head/chunk-000/file-000.mp4", _truncate,
                      "corrupt videos/observation.images.head/chunk-000/file-000.mp4"),
    "bad info.json": ("meta/info.json", _garble, "corrupt meta/info.json"),
    "missing stats.json": ("meta/stats.json", _delete, "missing meta/stats.json"),
    "interrupted": ("meta/info.json", _delete, "interrupted generation: 1 of 1 episodes written"),
}  # fmt: skip


@pytest.mark.parametrize(
    "command",
    [
        ["dataset", "info", "{data}"],
        ["dataset", "export", "{data}", "--out", "{work}/h5"],
        ["train", "sft", "--data", "{data}", "--out", "{work}/h5/model.pt", "--cameras", "head",
         "--steps", "1", "--batch-size", "1"],
    ],
    ids=["info", "export", "train-sft"],
)  # fmt: skip
@pytest.mark.parametrize("breakage", list(BREAKAGES))
def test_broken_dataset(dataset, tmp_path, command, breakage):
    broken = tmp_path / "broken"
    shutil.copytree(dataset, broken)
    relative, damage, message = BREAKAGES[breakage]
    damage(broken / relative)
    args = [part.format(data=broken, work=tmp_path) for part in command]
    line = assert_mistake(run_cli(*args), str(broken), message)
    if breakage == "interrupted":
        assert "re-run the same `sim2real generate" in line
    assert not (tmp_path / "h5").exists()


@pytest.mark.parametrize("below", ["", "h5"])
def test_export_into_a_file(dataset, workdir, below):
    target = workdir / "existing.txt" / below if below else workdir / "existing.txt"
    assert_mistake(run_cli("dataset", "export", str(dataset), "--out", str(target)),
                   f"invalid out: '{target}'", "is a file")


@pytest.mark.parametrize(("name", "what"), [("nowhere", "does not exist"), ("existing.txt", "is a file")])
def test_validate_on_a_path_that_is_no_folder(workdir, name, what):
    assert_mistake(run_cli("dataset", "validate", str(workdir / name)), "invalid root:", what)


def test_dataset_info_shows_image_size_fidelity_and_split(dataset):
    result = run_cli("dataset", "info", str(dataset), "--json")
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    assert (info["image_size"], info["fidelity"], info["split"], info["randomize"]) == (
        "32x24", "low", "ood", "BG")
