"""Settings files and dotted overrides (`sim2real.config_file`), and the options derived from
EnvSettings (`sim2real.cli.settings_flags`)."""

import re
from pathlib import Path

import pytest

from sim2real.cli.settings_flags import SHARED_FIELDS, SettingsFlags, settings_field
from sim2real.config_file import load_settings, parse_overrides
from sim2real.errors import Sim2RealError
from sim2real.settings import EnvSettings

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_each_layer_overrides_the_one_before(tmp_path):
    config = tmp_path / "settings.yaml"
    config.write_text("image_size: [40, 30]\nsplit: ood\nrandomize: BG\nrender: {msaa: 0}\n")
    flags = SettingsFlags(config, ("randomize=CP", "render.shadows=false"), {"split": "train", "randomize": "LT"})
    settings = flags.settings(
        defaults={"image_size": "320x240", "instructions": "unseen"}, forced={"cameras": ("head",)}
    )
    assert settings.instructions == "unseen"  # a command's default over the model's
    assert settings.image_size == (40, 30)  # the file over a command's default
    assert settings.split == "train"  # an option over the file
    assert settings.randomize == "CP"  # --set over an option
    assert (settings.render.msaa, settings.render.shadows) == (0, False)  # both kept, merged
    assert settings.cameras == ("head",)  # what the command cannot do without, last


def test_a_partial_mapping_keeps_the_other_fields_of_a_preset(tmp_path):
    config = tmp_path / "settings.yaml"
    config.write_text("physics: extreme\n")
    settings = load_settings(config, ["physics.friction=0.3", "randomization.granularity.CP=frame",
                                      "randomize=CP"])
    assert (settings.physics.friction, settings.physics.gravity) == (0.3, 4.9)
    assert settings.randomization.granularity == {"CP": "frame"}


def test_overrides_are_yaml_values():
    assert parse_overrides(["a.b=0.08", "a.c=true", "d=[1, 2]", "e=BG+CP", "a.f="]) == {
        "a": {"b": 0.08, "c": True, "f": None}, "d": [1, 2], "e": "BG+CP"}


@pytest.mark.parametrize("field", sorted(EnvSettings.model_fields))
@pytest.mark.parametrize("value", [5, [1.5], {"x": 1}, "??"])
def test_a_wrong_type_in_any_field_names_the_field(tmp_path, field, value):
    """Never a TypeError or a traceback from a validator: one message per field."""
    import yaml

    config = tmp_path / "settings.yaml"
    config.write_text(yaml.safe_dump({field: value}))
    try:
        load_settings(config)
    except Sim2RealError as error:
        assert f"invalid {field}" in str(error) and str(config) in str(error)


def test_every_shared_option_has_its_help_from_the_model():
    for path in SHARED_FIELDS:
        assert settings_field(path).description, path


@pytest.mark.parametrize("page", ["rendering.md", "configuration.md"])
def test_the_settings_files_in_the_docs_load(tmp_path, page):
    """Every YAML settings file the docs show is one `--config` accepts."""
    import textwrap

    blocks = re.findall(r"^( *)```yaml\n(.*?)^\1```", (DOCS / page).read_text(), re.S | re.M)
    assert blocks
    for _, block in blocks:
        config = tmp_path / "settings.yaml"
        config.write_text(textwrap.dedent(block))
        settings = load_settings(config)
        if page == "rendering.md":
            assert (settings.fidelity, settings.render.path_tracer.high.spp) == ("high", 64)
        else:
            assert (settings.randomize, settings.granularity, settings.image_size) == (
                "BG+CP+TH", "frame", (224, 224))
            assert (settings.physics.gravity, settings.randomization.camera_radius) == (4.9, 0.08)


# What a command fixes itself rather than take from the user (the policy's cameras, a list of
# fidelities to compare): the only settings fields not offered as options.
OWN_CHOICE = {"generate": set(), "eval": {"cameras"}, "expert": {"cameras"}, "render": {"cameras", "fidelity"}}


@pytest.mark.parametrize("command", sorted(OWN_CHOICE))
def test_the_settings_options_are_declared_once_by_the_model(command):
    """generate, eval, expert and render offer the same settings options, each with its
    EnvSettings field's description as help, plus --config and --set."""
    import typer

    from sim2real.cli.main import app

    params = {param.name: param for param in typer.main.get_command(app).commands[command].params}
    for path in SHARED_FIELDS:
        name = path.rsplit(".", 1)[-1]
        if name in OWN_CHOICE[command]:
            continue
        assert params[name].help == settings_field(path).description, (command, path)
    assert {"config", "set_overrides"} <= set(params)
