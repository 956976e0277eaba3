"""The spec string, granularity, split and physics presets: parsing and clear errors."""

import pytest

import sim2real
from sim2real import Sim2RealError
from sim2real.randomize.spec import KNOWN_FACTORS, parse_spec
from sim2real.settings import make_settings


@pytest.mark.parametrize(
    ("text", "factors"),
    [
        ("clean", ()),
        ("BG", ("BG",)),
        ("TH+CP+BG", ("BG", "CP", "TH")),
        ("th+cp", ("CP", "TH")),
        ("all", ("BG", "LT", "TD", "CP", "TH")),
        ("all+PHY", ("BG", "LT", "TD", "CP", "TH", "PHY")),
    ],
)
def test_spec_strings(text, factors):
    assert parse_spec(text) == factors


def test_settings_keep_the_canonical_spelling():
    assert make_settings(randomize="TH+cp+BG").randomize == "BG+CP+TH"
    assert make_settings().randomize == "clean"


def test_unknown_factor_lists_the_known_ones():
    with pytest.raises(Sim2RealError) as error:
        make_settings(randomize="BG+XY")
    message = str(error.value)
    assert "invalid randomize" in message and "'XY'" in message
    for name in KNOWN_FACTORS:
        assert name in message


@pytest.mark.parametrize("factor", ["TD", "TH", "PHY", "OBJ"])
def test_episode_only_factors_cannot_be_frame_wise(factor):
    with pytest.raises(Sim2RealError, match=f"{factor} is episode-only"):
        make_settings(randomize=factor, randomization={"granularity": {factor: "frame"}})


def test_global_frame_granularity_resamples_only_view_factors():
    env = sim2real.make("click_bell", cameras=(), randomize="BG+LT+CP+TH+PHY", granularity="frame")
    try:
        assert sorted(f.name for f in env.randomizer.frame_factors) == ["BG", "CP", "LT"]
        assert len(env.randomizer.factors) == 5
    finally:
        env.close()


@pytest.mark.parametrize(
    ("field", "value", "allowed"),
    [("granularity", "step", "episode"), ("split", "test", "ood"), ("physics", "moon", "extreme")],
)
def test_bad_values_name_field_and_allowed(field, value, allowed):
    with pytest.raises(Sim2RealError, match=f"invalid {field}: '{value}'.*{allowed}"):
        make_settings(**{field: value})


def test_physics_presets():
    default = make_settings(physics="default").physics
    extreme = make_settings(physics="extreme").physics
    assert (default.friction, default.restitution, default.gravity) == (0.5, 0.0, 9.81)
    assert extreme.friction < default.friction
    assert extreme.restitution > default.restitution
    assert extreme.gravity < default.gravity
    env = sim2real.make("click_bell", cameras=(), physics="extreme")
    try:
        assert env.model.opt.gravity[2] == pytest.approx(-extreme.gravity)
        assert env.model.geom_friction[:, 0] == pytest.approx(extreme.friction)
    finally:
        env.close()


def test_per_factor_granularity_overrides_the_global_one():
    env = sim2real.make(
        "click_bell", cameras=(), randomize="BG+CP", randomization={"granularity": {"CP": "frame"}}
    )
    try:
        assert [f.name for f in env.randomizer.frame_factors] == ["CP"]
    finally:
        env.close()
