"""`sim2real render --grid` and the randomization options on the command line."""

import json

import pytest
from PIL import Image

from tests.test_cli import run_cli


def test_render_grid_writes_one_sheet_per_factor(tmp_path):
    result = run_cli(
        "render", "--task", "click_bell", "--randomize", "BG+CP", "--split", "ood", "--seed", "3",
        "--grid", "2x3", "--image-size", "48x36", "--per-factor", "--out", str(tmp_path), "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    sheets = [Image.open(path) for path in json.loads(result.stdout)["contact_sheets"]]
    assert len(sheets) == 3  # BG+CP, BG, CP
    assert all(sheet.size == (3 * 48, 2 * 36) for sheet in sheets)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == sorted(
        f"click_bell_{spec}_ood_seed3_grid2x3.png" for spec in ("BG-CP", "BG", "CP")
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["render", "--randomize", "BG+FOG"],
            "invalid randomize: 'BG+FOG'; unknown factor 'FOG'; known factors: BG, LT, TD, CP, TH",
        ),
        (["render", "--grid", "4by4"], "invalid grid: '4by4'; allowed: ROWSxCOLS"),
        (["render", "--split", "test"], "invalid split: 'test'"),
        (["bench", "env", "--granularity", "step"], "invalid granularity: 'step'"),
    ],
)
def test_bad_options_are_one_line_errors(args, message):
    result = run_cli(*args)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
