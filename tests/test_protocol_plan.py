"""Trial plans: the paper's counts, determinism per seed, counterbalancing, positions inside
the simulator's placement ranges, distractors, the CLI, and the placement sheet's scale."""

import json

import numpy as np
import pytest

from sim2real.errors import Sim2RealError
from sim2real.protocol.plan import load_plan, make_plan, williams_order
from sim2real.protocol.preset import load_preset, preset_from_dict

PAPER = load_preset("paper")


@pytest.mark.parametrize("task, total, per_condition", [("click_bell", 260, 20), ("place_empty_cup", 520, 40)])
def test_plan_counts_match_the_paper(task, total, per_condition):
    plan = make_plan(PAPER, task, seed=0)
    assert len(plan.trials) == total
    conditions = plan.conditions()
    assert conditions["base"] == {"base": per_condition}
    for factor in ("background", "lighting", "distractors", "object"):
        assert sum(conditions[factor].values()) == 3 * per_condition  # Tables 5-8: 60 (120) per factor
        assert set(conditions[factor].values()) == {per_condition}
    assert [t.index for t in plan.trials] == list(range(total))
    # every grid cell equally often within every condition
    for factor, levels in conditions.items():
        for level in levels:
            cells = [t.cell for t in plan.trials if t.factor == factor and t.level == level]
            assert len(set(np.bincount(cells))) == 1


def test_plans_are_deterministic_per_seed(tmp_path):
    first, again, other = (make_plan(PAPER, "click_bell", seed=s) for s in (3, 3, 4))
    assert first.model_dump_json() == again.model_dump_json() and first.digest == again.digest
    assert first.digest != other.digest
    assert [t.condition for t in first.trials] != [t.condition for t in other.trials]
    path = first.save(tmp_path / "plan.json")
    assert load_plan(path) == first
    edited = json.loads(path.read_text())
    edited["trials"][0]["placements"]["bell_xy"] = [0.0, 0.0]
    path.write_text(json.dumps(edited))
    with pytest.raises(Sim2RealError, match="digest"):
        load_plan(path)
    for seed in (-1, 2**31):  # numpy refuses a negative one; the database keeps 32 bits
        with pytest.raises(Sim2RealError, match=rf"invalid seed: {seed}; allowed: 0 <= seed < 2\^31"):
            make_plan(PAPER, "click_bell", seed)


def test_plans_are_counterbalanced():
    plan = make_plan(PAPER, "place_empty_cup", seed=1)
    block = PAPER.block_size
    n_conditions = 1 + 3 * 4
    # blocks of one condition, one block of every condition per round
    for start in range(0, len(plan.trials), block):
        assert len({t.condition for t in plan.trials[start:start + block]}) == 1
    rounds = {}
    for t in plan.trials:
        rounds.setdefault(t.round, []).append(t.condition)
    assert all(len(set(c)) == n_conditions and len(c) == n_conditions * block for c in rounds.values())
    # no condition bunched at the start or the end: equal counts in both halves, mean position
    # near the middle, and its position inside a round changes from round to round
    half = len(plan.trials) // 2
    middle = (len(plan.trials) - 1) / 2
    for condition in {t.condition for t in plan.trials}:
        indices = [t.index for t in plan.trials if t.condition == condition]
        assert sum(i < half for i in indices) == len(indices) // 2
        assert abs(np.mean(indices) - middle) < 0.1 * len(plan.trials)
        positions = [rounds[r].index(condition) // block for r in sorted(rounds)]
        assert len(set(positions)) == len(positions)  # 8 rounds, 8 different slots


@pytest.mark.parametrize("n", [4, 5, 13])
def test_williams_rows_form_a_latin_square(n):
    rows = [williams_order(n, r) for r in range(n if n % 2 == 0 else 2 * n)]
    for row in rows:
        assert sorted(row) == list(range(n))
    for position in range(n):
        column = [row[position] for row in rows]
        assert sorted(set(column)) == list(range(n))
    follows = np.zeros((n, n), int)  # first-order carry-over: each ordered pair equally often
    for row in rows:
        for a, b in zip(row, row[1:]):
            follows[a, b] += 1
    off_diagonal = follows[~np.eye(n, dtype=bool)]
    assert off_diagonal.min() == off_diagonal.max()


def test_positions_lie_inside_the_simulators_ranges_and_distractors_keep_clear():
    from sim2real.tasks import click_bell, place_empty_cup

    bell = make_plan(PAPER, "click_bell", seed=0)
    for t in bell.trials:
        x, y = (v / 100 for v in t.placements["bell_xy"])
        assert click_bell.X_RANGE[0] <= x <= click_bell.X_RANGE[1] and abs(x) >= click_bell.MIN_ABS_X
        assert click_bell.Y_RANGE[0] <= y <= click_bell.Y_RANGE[1]
        cx, cy = t.cell_centres["bell_xy"]
        assert abs(t.placements["bell_xy"][0] - cx) <= PAPER.jitter_cm + 0.05
        assert abs(t.placements["bell_xy"][1] - cy) <= PAPER.jitter_cm + 0.05
        if t.factor == "distractors":
            assert len(t.setup.distractors) == int(t.level)
            assert len({d.name for d in t.setup.distractors}) == int(t.level)
            spots = [t.placements["bell_xy"], *(d.xy_cm for d in t.setup.distractors)]
            gaps = [np.hypot(a[0] - b[0], a[1] - b[1]) for i, a in enumerate(spots) for b in spots[i + 1:]]
            assert min(gaps) >= PAPER.distractor_clearance_cm
        else:
            assert t.setup.distractors == []
        assert t.setup.instance == (t.level if t.factor == "object" else "bell/seen/0")
    cup = make_plan(PAPER, "place_empty_cup", seed=0)
    for t in cup.trials:
        (x, y), (cx, cy) = ((v / 100 for v in t.placements[k]) for k in ("cup_xy", "coaster_xy"))
        assert place_empty_cup.CUP_ABS_X[0] <= abs(x) <= place_empty_cup.CUP_ABS_X[1]
        assert place_empty_cup.CUP_Y[0] <= y <= place_empty_cup.CUP_Y[1]
        assert np.hypot(x - cx, y - cy) >= place_empty_cup.MIN_APART


def test_bad_presets_name_the_field():
    data = PAPER.model_dump(mode="json")
    data["tasks"]["click_bell"]["trials_per_condition"] = 21
    with pytest.raises(Sim2RealError, match="trials_per_condition"):
        preset_from_dict(data)
    data = PAPER.model_dump(mode="json")
    data["distractor_counts"] = [2, 40]
    with pytest.raises(Sim2RealError, match="40 distractors"):
        preset_from_dict(data)


@pytest.fixture
def cli(monkeypatch, capsys):
    """`sim2real protocol ...` in this process: (exit code, stdout, stderr)."""
    from test_platform_cli import sim2real

    return lambda *args: sim2real(monkeypatch, capsys, "protocol", *args)


def test_plan_and_sheet_commands(tmp_path, cli):
    plan_file = tmp_path / "plan.json"
    code, out, err = cli("plan", "--task", "click_bell", "--preset", "paper", "--seed", "0", "--out", str(plan_file),
                         "--json")
    assert code == 0, err
    payload = json.loads(out)
    assert payload["trials"] == 260 and payload["per_factor"]["lighting"] == 60
    assert payload["conditions"]["distractors"] == {"2": 20, "4": 20, "8": 20}
    for args, needle in ((("plan", "--task", "nope", "--out", str(tmp_path / "x.json")), "invalid task: 'nope'"),
                         (("plan", "--task", "click_bell", "--seed", "-1", "--out", str(tmp_path / "x.json")),
                          "invalid seed: -1"),
                         (("sheet", str(plan_file), "--trials", "0-3", "--out", str(tmp_path / "s.png")),
                          "invalid trials")):
        code, _, err = cli(*args)
        assert code == 2 and needle in err and len(err.strip().splitlines()) == 1, err

    # PNG: one image at the DPI it records; the 10 cm scale bar spans 10 cm of pixels
    from PIL import Image

    png = tmp_path / "sheet.png"
    code, out, err = cli("sheet", str(plan_file), "--out", str(png), "--dpi", "100", "--trials", "1-20", "--json")
    assert code == 0, err
    image = Image.open(png)
    assert round(image.info["dpi"][0]) == 100
    width_cm, height_cm = json.loads(out)["page_cm"]
    assert abs(image.size[0] - width_cm / 2.54 * 100) <= 1 and abs(image.size[1] - height_cm / 2.54 * 100) <= 1
    pixels = np.asarray(image.convert("RGB")).astype(int)
    red = (pixels[..., 0] > 200) & (pixels[..., 1] < 60) & (pixels[..., 2] < 60)
    row = np.flatnonzero(red.sum(axis=1)).mean().round().astype(int)
    columns = np.flatnonzero(red[row])
    measured_cm = (columns.max() - columns.min() + 1) / 100 * 2.54
    assert abs(measured_cm - 10.0) < 0.05, measured_cm

    # PDF: A4 landscape pages; the red bar is 10 cm of PDF points on the page
    import pdfplumber

    pdf = tmp_path / "sheet.pdf"
    code, out, err = cli("sheet", str(plan_file), "--out", str(pdf), "--trials", "1-20", "--json")
    assert code == 0, err
    with pdfplumber.open(pdf) as document:
        assert len(document.pages) == json.loads(out)["pages"] > 1
        page = document.pages[-1]  # the top-left tile holds the bar
        assert (round(page.width / 72 * 2.54, 1), round(page.height / 72 * 2.54, 1)) == (29.7, 21.0)
        bars = [e for e in document.pages[len(document.pages) - 2].objects.get("line", []) + page.objects.get("line", [])
                if tuple(round(c, 2) for c in (e.get("stroking_color") or ())) == (1.0, 0.0, 0.0)]
        assert bars, "no red scale bar found"
        assert abs((bars[0]["x1"] - bars[0]["x0"]) / 72 * 2.54 - 10.0) < 0.01
