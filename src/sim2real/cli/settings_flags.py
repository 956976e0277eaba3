"""The scene and rendering options of every command that builds environments, declared once.

Each option is derived from its `EnvSettings` field: the flag from the field's name, the help
text from its description, the default shown from its default. Values go to the settings
model unparsed (pydantic validates them), so a command-line value, a `--config` file and a
`--set` override are checked by the same code and fail with the same one-line message.

    @settings_options(exclude=("cameras",))
    def eval_command(policy: str, settings_flags: SettingsFlags, ...):
        settings = settings_flags.settings(forced={"cameras": ...})
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from sim2real.settings import EnvSettings

# The settings that generate, eval, expert and render share, as dotted field paths: a nested
# field's flag is its last part (render.msaa -> --msaa). Everything else is reachable with
# --config or --set.
SHARED_FIELDS = (
    "randomize", "split", "granularity", "fidelity", "physics", "instructions", "cameras",
    "image_size", "render.shadows", "render.msaa",
)  # fmt: skip
PARAMETER = "settings_flags"  # the command's parameter that receives them


@dataclass(frozen=True)
class SettingsFlags:
    """What the user said about the settings: a file, options typed, dotted overrides."""

    config: Path | None = None
    overrides: tuple[str, ...] = ()
    given: Mapping[str, Any] = field(default_factory=dict)  # dotted field -> typed value

    def settings(
        self,
        defaults: Mapping[str, Any] | None = None,
        given: Mapping[str, Any] | None = None,
        forced: Mapping[str, Any] | None = None,
    ) -> EnvSettings:
        """defaults < the --config file < options (`given` adds a command's own) < --set < forced.

        `defaults` are what the command would pick itself; `forced` what it cannot do without
        (all keys are dotted field paths)."""
        from sim2real.config_file import layered_settings, nest, parse_overrides, read_settings_file

        file = read_settings_file(self.config) if self.config is not None else {}
        return layered_settings([
            ("", nest(dict(defaults or {}))),
            (f"settings file {self.config}", file),
            ("", nest({**self.given, **(given or {})})),
            ("--set", parse_overrides(self.overrides)),
            ("", nest(dict(forced or {}))),
        ])


def settings_options(exclude: Iterable[str] = ()) -> Callable[[Callable], Callable]:
    """Give a command one option per shared settings field (less `exclude`), `--config` and
    `--set`, in place of its `settings_flags: SettingsFlags` parameter."""
    paths = [path for path in SHARED_FIELDS if path not in set(exclude)]
    names = {path.rsplit(".", 1)[-1]: path for path in paths}

    def decorate(command: Callable) -> Callable:
        signature = inspect.signature(command, eval_str=True)
        if PARAMETER not in signature.parameters:
            raise TypeError(f"{command.__name__} needs a `{PARAMETER}` parameter")
        parameters = []
        for parameter in signature.parameters.values():
            if parameter.name == PARAMETER:
                parameters += [_option(name, path) for name, path in names.items()]
                parameters += [_config_option(), _set_option()]
            else:  # keyword-only: defaults may then come before options without one
                parameters.append(parameter.replace(kind=inspect.Parameter.KEYWORD_ONLY))

        def run(**values: Any) -> Any:
            given = {path: _number(path, values.pop(name)) for name, path in names.items()}
            flags = SettingsFlags(
                values.pop("config"),
                tuple(values.pop("set_overrides") or ()),
                {path: value for path, value in given.items() if value is not None},
            )
            return command(**values, **{PARAMETER: flags})

        run.__name__, run.__qualname__ = command.__name__, command.__qualname__
        run.__doc__, run.__module__ = command.__doc__, command.__module__
        run.__signature__ = signature.replace(parameters=parameters)  # what typer reads
        return run

    return decorate


def settings_field(path: str) -> FieldInfo:
    """The EnvSettings field at a dotted path ('render.msaa')."""
    model: type[BaseModel] = EnvSettings
    *parents, leaf = path.split(".")
    for part in parents:
        model = model.model_fields[part].annotation
    return model.model_fields[leaf]


def _option(name: str, path: str) -> inspect.Parameter:
    info = settings_field(path)
    if not info.description:
        raise TypeError(f"EnvSettings field {path} needs a description: it is the option's help")
    flag = "--" + name.replace("_", "-")
    if info.annotation is bool:
        option = typer.Option(
            f"{flag}/--no-{flag[2:]}", help=info.description,
            show_default=flag[2:] if info.default else f"no-{flag[2:]}",
        )  # fmt: skip
        annotation: Any = Annotated[bool | None, option]
    else:
        metavar = {int: "<int>", float: "<float>"}.get(info.annotation, "<str>")
        option = typer.Option(
            flag, help=info.description, show_default=_shown(info.default), metavar=metavar
        )
        annotation = Annotated[str | None, option]
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=annotation)


def _config_option() -> inspect.Parameter:
    option = typer.Option(
        "--config", help="YAML file of settings (docs/configuration.md); options on the command "
        "line and --set override it",
    )  # fmt: skip
    return inspect.Parameter("config", inspect.Parameter.KEYWORD_ONLY, default=None,
                             annotation=Annotated[Path | None, option])


def _set_option() -> inspect.Parameter:
    option = typer.Option(
        "--set", metavar="FIELD.SUB=VALUE", help="one setting, as a YAML value, over the file and "
        "the options (randomization.camera_radius=0.08); repeat for more",
    )  # fmt: skip
    return inspect.Parameter("set_overrides", inspect.Parameter.KEYWORD_ONLY, default=None,
                             annotation=Annotated[list[str] | None, option])


def _number(path: str, value: Any) -> Any:
    """'4' -> 4 for a numeric field; anything that does not parse goes on as typed, for the
    settings model to refuse by name."""
    kind = settings_field(path).annotation
    if isinstance(value, str) and kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return value


def _shown(default: Any) -> str:
    """A default as it would be typed: head,left_wrist; 640x480; default (a preset)."""
    if isinstance(default, BaseModel):
        return "default"
    if isinstance(default, tuple) and all(isinstance(v, int) for v in default):
        return "x".join(map(str, default))
    if isinstance(default, tuple):
        return ",".join(map(str, default))
    return str(default)
