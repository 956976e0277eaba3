"""Study files: validated like the settings (errors name the nested field), steps keyed by
their inputs and shared between cells, and every preset in configs/studies valid."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from sim2real.errors import Sim2RealError
from sim2real.study.config import load_study, parse_study
from sim2real.study.graph import build_plan

PRESETS = Path(__file__).parent.parent / "configs" / "studies"
BASE = {
    "name": "keys",
    "tasks": ["click_bell", "place_empty_cup"],
    "env": {"cameras": ["head"], "image_size": [48, 48]},
    "data": {"clean": {}, "TH": {"randomize": "TH"}},
    "demos": 3,
    "training": {"steps": 2, "replicates": 2, "head": "discrete"},
    "variants": ["sft", "sft+grpo", "sft+grpo+dr"],
    "evaluation": {"suites": ["clean", "sim-ood"], "episodes": 2},
}


@pytest.mark.parametrize("change, field", [
    ({"data": {"TH": {"randomize": "XX"}}}, "invalid data.TH.randomize: 'XX'; unknown factor"),
    ({"data": {"TH": {"randomization": {"table_offset": 5}}}}, "invalid data.TH.randomization.table_offset: 5"),
    ({"env": {"cameras": ["nose"]}}, "invalid env.cameras: ['nose']; unknown camera"),
    ({"training": {"steps": 0}}, "invalid training.steps: 0"),
    ({"training": {"out": "x.pt"}}, "'out' is set by the study"),
    ({"evaluation": {"suites": ["sim-odd"]}}, "invalid evaluation.suites: ['sim-odd']; unknown suite 'sim-odd'"),
    ({"training": {"head": "continuous"}}, "invalid variants:"),
    ({"tasks": ["fly"]}, "invalid tasks: ['fly']; unknown task 'fly'"),
    ({"grpo": {"clip_low": 1}}, "invalid grpo.clip_low: 1"),
    ({"grpo": {"init": "sft.pt"}}, "'init' is set by the study"),
    ({"grpo": {"dr_randomize": "XX"}}, "invalid grpo.dr_randomize: 'XX'"),
    ({"data": {"x": {"split": "heldout"}}}, "split 'heldout' is the proxy-real world's"),
    ({"colour": "red"}, "invalid colour: 'red'; unknown field"),
])
def test_errors_name_the_nested_field(change, field):
    with pytest.raises(Sim2RealError) as error:
        parse_study({**BASE, **change})
    assert field in str(error.value)


def test_cli_refuses_a_bad_study_in_one_line_with_exit_2(tmp_path):
    study = tmp_path / "bad.yaml"
    study.write_text(yaml.safe_dump({**BASE, "demos": -1}))
    result = subprocess.run([sys.executable, "-m", "sim2real", "study", "run", str(study), "--dir",
                             str(tmp_path / "run")], capture_output=True, text=True, timeout=120,
                            env={**os.environ, "COLUMNS": "400"})  # rich wraps at the terminal width
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "invalid demos: -1" in lines[0], result.stderr
    assert not (tmp_path / "run").exists()  # refused before any work


def test_steps_are_shared_where_their_inputs_are_the_same():
    plan = build_plan(parse_study(BASE))
    kinds = [s.kind for s in plan.steps.values()]
    # 2 settings x 2 tasks datasets, shared by the replicates and the variants
    assert kinds.count("generate") == 4
    # one SFT per (setting, task, replicate), shared by sft, sft+grpo and sft+grpo+dr
    assert kinds.count("train") == 2 * 2 * 2
    assert kinds.count("grpo") == 2 * 2 * 2 * 2
    # every policy on clean (1 world) and sim-ood (5 worlds)
    assert kinds.count("evaluate") == (8 + 16) * 6
    cell = plan.cells["TH/sft+grpo/click_bell"]
    (sft_cell,) = [plan.cells["TH/sft/click_bell"]]
    for grpo_key, sft_key in zip(cell.policies, sft_cell.policies, strict=True):
        assert plan.steps[grpo_key].inputs == (sft_key,)
    multi = build_plan(parse_study({**BASE, "training": {**BASE["training"], "policy": "multi-task"}}))
    trains = [s for s in multi.steps.values() if s.kind == "train"]
    assert len(trains) == 2 * 2 and all(len(s.inputs) == 2 for s in trains)


def test_a_changed_setting_changes_exactly_the_keys_downstream_of_it():
    before = build_plan(parse_study(BASE))
    after = build_plan(parse_study({**BASE, "data": {**BASE["data"], "TH": {"randomize": "TH+CP"}}}))
    changed = set(after.steps) - set(before.steps)
    th = {k for k, s in after.steps.items() if s.label.split()[1].split("/")[0] == "TH"}
    assert changed == th
    renamed = build_plan(parse_study({**BASE, "data": {"clean": {}, "height": {"randomize": "TH"}}}))
    assert set(renamed.steps) == set(before.steps)  # a name is not an input


def test_only_selects_a_cell_and_what_it_needs():
    plan = build_plan(parse_study(BASE))
    steps = plan.select(("clean/sft/click_bell",))
    assert {s.kind for s in steps} == {"generate", "train", "evaluate"}
    assert len([s for s in steps if s.kind == "generate"]) == 1
    with pytest.raises(Sim2RealError, match="invalid --only: 'nope/\\*'"):
        plan.select(("nope/*",))


@pytest.mark.parametrize("preset", sorted(PRESETS.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_preset_is_a_valid_study_on_the_head_camera(preset):
    config = load_study(preset)
    assert config.name == preset.stem
    # The paper's policies see its single forward head camera (wrist cameras stay an option).
    assert config.policy_cameras == ("head",)
    plan = build_plan(config)
    assert {s.kind for s in plan.steps.values()} >= {"generate", "train", "evaluate"}
    if any(v != "sft" for v in config.variants):
        assert any(s.kind == "grpo" for s in plan.steps.values())


def test_presets_cover_the_papers_grids():
    assert {p.stem for p in PRESETS.glob("*.yaml")} >= {
        "paper-table1", "paper-table2", "paper-table3", "paper-fidelity", "smoke"}


def test_a_second_run_of_the_same_folder_is_refused(tmp_path):
    from sim2real.study.execute import run_study
    from sim2real.study.store import StudyStore

    with StudyStore(tmp_path).run_lock():
        with pytest.raises(Sim2RealError, match="locked by another run"):
            run_study(parse_study(BASE), tmp_path)
    assert not (tmp_path / "steps").exists()
