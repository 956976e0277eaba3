"""The registry of tasks by name. Every module of `sim2real.tasks` that defines a task registers
it with `@register`; modules are discovered automatically, so adding a task is adding a module."""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from sim2real.errors import invalid
from sim2real.tasks.base import Task

_TASKS: dict[str, type[Task]] = {}
_NOT_TASK_MODULES = {"base", "registry", "contacts"}


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


@cache
def _load_builtin_tasks() -> None:
    import sim2real.tasks as package

    for module in pkgutil.iter_modules(package.__path__):
        if module.name not in _NOT_TASK_MODULES and not module.name.startswith("_"):
            importlib.import_module(f"{package.__name__}.{module.name}")
