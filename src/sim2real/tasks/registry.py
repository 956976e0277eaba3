"""The registry of tasks by name."""

from __future__ import annotations

from sim2real.errors import invalid
from sim2real.tasks.base import Task

_TASKS: dict[str, type[Task]] = {}


def register(cls: type[Task]) -> type[Task]:
    _TASKS[cls.name] = cls
    return cls


def task_names() -> list[str]:
    _load_builtin_tasks()
    return sorted(_TASKS)


def task_class(name: str) -> type[Task]:
    _load_builtin_tasks()
    if name not in _TASKS:
        raise invalid("task", name, ", ".join(sorted(_TASKS)))
    return _TASKS[name]


def _load_builtin_tasks() -> None:
    from sim2real.tasks import click_bell  # noqa: F401  (registers on import)
