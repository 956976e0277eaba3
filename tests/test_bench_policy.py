"""`sim2real bench policy` on the tiny preset: sane latencies and a ratio made from them."""

import json

import pytest
from typer.testing import CliRunner

from sim2real.cli.main import app
from sim2real.errors import Sim2RealError


def test_bench_policy_tiny_reports_positive_latencies_and_their_ratio():
    # In-process (no interpreter start-up) and 3 iterations: a few seconds on a loaded CPU.
    result = CliRunner().invoke(
        app, ["bench", "policy", "--model", "tiny", "--iterations", "3", "--warmup", "1",
              "--device", "cpu", "--json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["device"] == "cpu" and report["iterations"] == 3
    row = report["models"]["tiny"]
    assert row["cameras"] == ["head"] and row["chunk_size"] == 25
    assert row["parameters"] > 1e6
    for key in ("policy_median_ms", "policy_p90_ms", "forward_median_ms", "forward_p90_ms"):
        assert row[key] > 0, key
    assert row["policy_p90_ms"] >= row["policy_median_ms"]
    assert row["forward_p90_ms"] >= row["forward_median_ms"]
    assert row["ratio_over_forward"] == pytest.approx(row["policy_median_ms"] / row["forward_median_ms"])


def test_bench_policy_rejects_an_unknown_size():
    # `sim2real.cli.main.main` turns this error into one line and exit code 2.
    result = CliRunner().invoke(app, ["bench", "policy", "--model", "huge", "--json"])
    assert isinstance(result.exception, Sim2RealError)
    assert "huge" in str(result.exception)


def test_bench_policy_times_the_pretrained_encoder_on_the_head_view():
    result = CliRunner().invoke(
        app, ["bench", "policy", "--model", "tiny", "--encoder", "efficientnet-lite0", "--cameras", "head",
              "--image-size", "64", "--camera-aspect", "4:3", "--iterations", "2", "--warmup", "1",
              "--device", "cpu", "--json"]
    )
    assert result.exit_code == 0, result.output
    row = json.loads(result.stdout)["models"]["tiny"]
    assert row["encoder"] == "efficientnet-lite0" and row["cameras"] == ["head"] and row["image_size"] == 64
    assert row["policy_median_ms"] > 0 and row["forward_median_ms"] > 0
    assert row["inference_threads"] == 1 and row["raw_library_median_ms"] > 0  # the package's net
    raw = row["raw_library_median_ms"]
    assert row["ratio_over_raw_library"] == pytest.approx(row["forward_median_ms"] / raw)
    wrong = CliRunner().invoke(app, ["bench", "policy", "--model", "tiny", "--encoder", "dino", "--json"])
    assert isinstance(wrong.exception, Sim2RealError) and "invalid encoder: 'dino'" in str(wrong.exception)
