"""`study report --real`: a protocol database's trials of the study's own policies (matched by
checkpoint sha256) become the Real columns, with Sim-OOD / proxy-real vs Real agreement; a
database of other policies is one line; a `--real` that is no protocol database is refused.

The study's steps are committed by hand (small checkpoint files, evaluation summaries): nothing
is generated, trained or evaluated."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest
import yaml

from sim2real.errors import Sim2RealError
from sim2real.protocol.db import open_store
from sim2real.protocol.plan import make_plan
from sim2real.protocol.preset import load_preset
from sim2real.protocol.records import PolicyRecord
from sim2real.study.config import parse_study
from sim2real.study.graph import build_plan
from sim2real.study.store import StudyStore

STUDY = {
    "name": "real", "tasks": ["click_bell"],
    "env": {"cameras": ["head"], "image_size": [48, 48]},
    "data": {"clean": {}, "TH": {"randomize": "TH"}, "CP": {"randomize": "CP"}, "BG": {"randomize": "BG"}},
    "demos": 2, "training": {"model": "tiny", "steps": 1},
    "evaluation": {"suites": ["sim-ood", "proxy-real"], "episodes": 10},
}
SIM_OOD = {"clean": 2, "TH": 6, "CP": 7, "BG": 3}  # successes of 10 in every Sim-OOD world
PROXY = {"clean": 1, "TH": 5, "CP": 4, "BG": 2}  # of 10
REAL = {"clean": 1, "TH": 4, "CP": 3}  # of the smoke plan's 5 trials; BG never ran on a robot


def wilson(k: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    p = k / n
    centre, half = p + z * z / (2 * n), z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (centre - half) / (1 + z * z / n), (centre + half) / (1 + z * z / n)


def by_hand_pearson(xs, ys):
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    cov = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    return cov / math.sqrt(sum((x - mx) ** 2 for x in xs) * sum((y - my) ** 2 for y in ys))


@pytest.fixture
def study(tmp_path):
    """A finished study folder (one checkpoint file per setting) and its YAML file."""
    config = parse_study(STUDY)
    plan, store = build_plan(config), StudyStore(tmp_path / "study")
    cost = {"seconds": 1.0, "peak_memory_mb": 1.0}
    setting_of = {key: cell.setting for cell in plan.cells.values() for key in cell.policies}
    for step in plan.steps.values():
        store.folder(step).mkdir(parents=True)
        if step.kind == "train":
            store.output(step).write_bytes(f"checkpoint of {setting_of[step.key]}".encode())
        extra = {}
        if step.kind == "evaluate":
            setting = step.label.split()[1].split("/")[0]
            successes = (PROXY if step.config["suite"] == "proxy-real" else SIM_OOD)[setting]
            extra = {"summary": {"successes": successes, "episodes": 10}}
        store.commit(step, {**cost, **extra})
    checkpoints = {setting_of[s.key]: store.output(s) for s in plan.steps.values() if s.kind == "train"}
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump(STUDY))
    return path, tmp_path / "study", checkpoints


def protocol_database(path, policies: dict[str, tuple[str, int]], task: str = "click_bell"):
    """A real trial database: the smoke plan's campaign of `policies` (name -> (checkpoint
    file, successes of 5)), outcomes recorded through the console's API."""
    from sim2real.policy.spec import spec_sha256

    plan = make_plan(load_preset("smoke"), task, seed=0)
    with open_store(path) as store:
        store.register_campaign(plan, [PolicyRecord(n, str(f), spec_sha256(str(f))) for n, (f, _) in policies.items()])
        for name, (_, successes) in policies.items():
            for trial in plan.trials:
                store.record(plan, trial.index, name, trial.index < successes, operator="test")
    return path


def test_report_with_real_trials_of_the_same_policies(study, tmp_path):
    from typer.testing import CliRunner

    from sim2real.cli.main import app

    study_file, root, checkpoints = study
    other = tmp_path / "other.pt"
    other.write_bytes(b"a policy this study never trained")
    policies = {f"vla-{s}": (checkpoints[s], k) for s, k in REAL.items()}
    database = protocol_database(tmp_path / "trials.db", {**policies, "other": (other, 5)})
    protocol_database(database, {"vla-BG": (checkpoints["BG"], 5)}, task="place_empty_cup")  # another task
    out = tmp_path / "report"
    result = CliRunner().invoke(app, ["study", "report", str(study_file), "--dir", str(root), "--out", str(out),
                                      "--real", str(database), "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    matched = payload["real"]["cells"]
    assert {cell: (m["successes"], m["trials"]) for cell, m in matched.items()} == {
        f"{s}/sft/click_bell": (k, 5) for s, k in REAL.items()}
    assert matched["TH/sft/click_bell"]["policies"] == ["vla-TH"]
    for setting, k in REAL.items():
        real = payload["cells"][f"{setting}/sft/click_bell"]["real"]
        assert (real["successes"], real["trials"], real["rate"]) == (k, 5, k / 5)
        assert real["ci95"] == pytest.approx(wilson(k, 5))
    assert "real" not in payload["cells"]["BG/sft/click_bell"]  # no trials: nothing, not a zero
    links = {(p["predictor"], p["target"]): p for p in payload["predictivity"]}
    for predictor, rates in (("sim-ood", SIM_OOD), ("proxy-real", PROXY)):
        link = links[(predictor, "real")]
        xs, ys = [rates[s] / 10 for s in REAL], [REAL[s] / 5 for s in REAL]
        assert link["n"] == 3 and link["pearson_r"] == pytest.approx(by_hand_pearson(xs, ys))
    # Sim-OOD orders TH and CP the other way round (0.6 < 0.7, real 0.8 > 0.6): each has a violation of 0.2
    assert links[("sim-ood", "real")]["mmrv"] == pytest.approx((0 + 0.2 + 0.2) / 3)
    assert links[("proxy-real", "real")]["mmrv"] == 0.0  # same order as real
    text = (out / "report.md").read_text()
    header, _, *rows = text.split("### Table 1")[1].split("\n\n")[1].splitlines()  # its rows, up to a blank line
    column = [c.strip() for c in header.split("|")].index("click_bell Real (ours)")
    real_column = {cells[1]: cells[column] for cells in ([c.strip() for c in row.split("|")] for row in rows)}
    low, high = wilson(4, 5)
    assert real_column["TH"] == f"80.0% [{100 * low:.0f}, {100 * high:.0f}] (4/5), p 0.11"  # Barnard vs Clean's 1/5
    assert real_column["Clean (clean)"].endswith("(1/5)") and real_column["BG"] == "-"  # no trials: blank
    assert "Sim-OOD predicting Real over 3 cells" in text and (out / "sim_ood_vs_real.png").is_file()


def test_a_database_of_other_policies_is_one_line(study, tmp_path):
    from sim2real.study.config import load_study
    from sim2real.study.real import open_real
    from sim2real.study.report import write_study_report

    study_file, root, _ = study
    other = tmp_path / "other.pt"
    other.write_bytes(b"someone else's policy")
    database = protocol_database(tmp_path / "others.db", {"other": (other, 2)})
    with open_real(str(database)) as store:
        payload = write_study_report(load_study(study_file), root, tmp_path / "report", store)
    assert payload["real"]["cells"] == {}
    assert f"no real-world trials of this study's policies in sqlite:///{database}" in payload["markdown_text"]
    assert not any("real" in cell for cell in payload["cells"].values())


def test_a_real_that_is_no_protocol_database_is_refused(study, tmp_path):
    from sqlalchemy import create_engine, text

    from sim2real.study.real import open_real

    study_file, root, _ = study
    not_sqlite = tmp_path / "notes.txt"
    not_sqlite.write_text("not a database\n" * 20)
    result = subprocess.run([sys.executable, "-m", "sim2real", "study", "report", str(study_file), "--dir",
                             str(root), "--out", str(tmp_path / "out"), "--real", str(not_sqlite)],
                            capture_output=True, text=True, timeout=120)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error: invalid --real: '{not_sqlite}'; allowed: a protocol trial database")
    assert not (tmp_path / "out").exists() and result.stdout == ""
    other = tmp_path / "other.db"
    with create_engine(f"sqlite:///{other}").begin() as connection:
        connection.execute(text("CREATE TABLE things (id INTEGER)"))
    missing, empty = tmp_path / "missing.db", tmp_path / "empty.db"
    empty.touch()
    before = other.read_bytes()
    for value, why in ((str(missing), "no such file"), (str(other), "no protocol tables"),
                       (str(empty), "no protocol tables"), ("mysql://host/db", "postgresql://")):
        with pytest.raises(Sim2RealError, match=why) as error:
            open_real(value)
        assert str(error.value).startswith(f"invalid --real: {value!r}")
    assert not missing.exists() and other.read_bytes() == before and empty.read_bytes() == b""  # nothing written
