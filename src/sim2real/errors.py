"""User-facing errors: the command line prints these as one clear line, never a traceback."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import BaseModel, ValidationError


class Sim2RealError(Exception):
    """A mistake in what the user asked for (bad value, unknown name, missing dependency)."""


def invalid(field: str, value: object, allowed: str) -> Sim2RealError:
    """An error that names the field, the value that was given and what is allowed instead."""
    return Sim2RealError(f"invalid {field}: {value!r}; allowed: {allowed}")


def describe_validation_error(error: ValidationError, model: type[BaseModel]) -> str:
    """One line per bad field of `model`: its dotted name, the value given, what is wrong.

    An unknown field lists the fields known where it was written (a typo inside
    `randomization:` lists the randomization fields, not the top-level ones). A field that
    fails several ways (a union such as `Path | None`) is reported once."""
    lines: dict[str, str] = {}
    for problem in error.errors():
        location = tuple(problem["loc"])
        field = ".".join(str(part) for part in location) or "settings"
        if field in lines:
            continue
        message = problem["msg"].removeprefix("Value error, ")
        if problem["type"] == "extra_forbidden":
            known = ", ".join(sorted(_model_at(model, location[:-1]).model_fields))
            message = f"unknown setting; known: {known}"
        lines[field] = f"invalid {field}: {problem.get('input')!r}; {message}"
    return "\n".join(lines.values())


def _model_at(model: type[BaseModel], location: tuple[Any, ...]) -> type[BaseModel]:
    """The nested model that `location` (a path of field names) points into."""
    from pydantic import BaseModel

    for part in location:
        field = model.model_fields.get(str(part))
        annotation = field.annotation if field is not None else None
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            break
        model = annotation
    return model
