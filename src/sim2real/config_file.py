"""Settings files and dotted overrides: `EnvSettings` built from layers, each over the last.

The command line stacks them as: the defaults < what the command itself chooses (a grid's tile
size, a policy's image size) < a YAML file (`--config`) < options typed on the command line <
`--set FIELD.SUB=VALUE` < what the command must fix (the cameras a policy needs). Each layer is
merged into the previous layer's validated settings and validated again, so an error names the
layer it came from, and a partial mapping (`physics: {friction: 0.2}`) keeps the other fields
of whatever was there before (`physics: extreme` from a file, say).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from sim2real.errors import Sim2RealError, describe_validation_error, invalid
from sim2real.settings import EnvSettings

Layer = tuple[str, Mapping[str, Any]]  # (where the values came from, nested field: value)
OVERRIDE_FORM = "FIELD=VALUE or FIELD.SUB=VALUE (a YAML value), e.g. randomization.camera_radius=0.08"


def read_settings_file(path: Path) -> dict[str, Any]:
    """The mapping of field: value in a YAML file (empty file: no fields)."""
    if not path.is_file():
        raise invalid("config", str(path), "an existing YAML file of settings")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        raise Sim2RealError(f"invalid settings file {path}: malformed YAML{_where(error)}") from None
    except UnicodeDecodeError:
        raise Sim2RealError(f"invalid settings file {path}: not a text file") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise Sim2RealError(
            f"invalid settings file {path}: holds a {type(data).__name__}; allowed: a mapping "
            "of field: value (see docs/configuration.md)"
        )
    return data


def parse_overrides(texts: Iterable[str]) -> dict[str, Any]:
    """['randomization.camera_radius=0.08', 'cameras=head'] -> one nested mapping."""
    merged: dict[str, Any] = {}
    for text in texts:
        key, separator, raw = text.partition("=")
        path = key.strip().split(".")
        if not separator or not all(part.strip() for part in path):
            raise invalid("--set", text, OVERRIDE_FORM)
        try:
            value = yaml.safe_load(raw)
        except yaml.YAMLError as error:
            raise Sim2RealError(
                f"invalid --set {key}: {raw!r} is not a YAML value{_where(error)}"
            ) from None
        merged = deep_merge(merged, nest({key.strip(): value}))
    return merged


def nest(dotted: Mapping[str, Any]) -> dict[str, Any]:
    """{'render.msaa': 0} -> {'render': {'msaa': 0}}."""
    out: dict[str, Any] = {}
    for key, value in dotted.items():
        *parents, leaf = key.split(".")
        node = out
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return out


def deep_merge(base: Mapping[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    """`base` with `update` written over it; mappings merge field by field, anything else
    replaces."""
    out = dict(base)
    for key, value in update.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def layered_settings(layers: Sequence[Layer]) -> EnvSettings:
    """EnvSettings from the defaults and `layers` in order of increasing precedence."""
    settings = EnvSettings()
    for source, values in layers:
        if not values:
            continue
        try:
            settings = EnvSettings.model_validate(deep_merge(settings.model_dump(), values))
        except ValidationError as error:
            lines = describe_validation_error(error, EnvSettings).splitlines()
            raise Sim2RealError("\n".join(f"{source}: {line}" if source else line for line in lines)) from None
    return settings


def load_settings(path: Path, overrides: Iterable[str] = ()) -> EnvSettings:
    """Settings from a YAML file, then dotted `overrides` ('render.msaa=0') over it."""
    return layered_settings([
        (f"settings file {path}", read_settings_file(path)),
        ("--set", parse_overrides(overrides)),
    ])


def _where(error: yaml.YAMLError) -> str:
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error).splitlines()[0]
    at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    return f"{at}: {problem}"
