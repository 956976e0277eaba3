"""The scripted plan of each task, by task name.

A plan lives in `sim2real.experts.<task name>` and registers itself with `@register_plan`; the
module is imported the first time its task's plan is asked for, so tasks never import experts
and adding a task's expert is adding a module here (or registering a plan from anywhere).
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
from collections.abc import Callable, Iterator
from typing import Any

from sim2real.errors import invalid
from sim2real.experts.motion import Phase
from sim2real.tasks.base import InitialState, SimView, Task

# plan(task, view, initial_state) -> phases; later phases may look at the current state.
Plan = Callable[[Any, SimView, InitialState], Iterator[Phase]]

_PLANS: dict[str, Plan] = {}


def register_plan(task_name: str) -> Callable[[Plan], Plan]:
    def add(plan: Plan) -> Plan:
        _PLANS[task_name] = plan
        return plan

    return add


def plan_for(task: Task) -> Plan:
    """The scripted plan of `task` (by its name)."""
    name = task.name
    if name not in _PLANS:
        module = f"{__package__}.{name}"
        if importlib.util.find_spec(module) is not None:
            importlib.import_module(module)
    if name not in _PLANS:
        raise invalid("task", name, f"tasks with a scripted expert: {', '.join(_plan_names())}")
    return _PLANS[name]


def _plan_names() -> list[str]:
    import sim2real.experts as package

    modules = {m.name for m in pkgutil.iter_modules(package.__path__)}
    return sorted(set(_PLANS) | (modules & _task_names()))


def _task_names() -> set[str]:
    from sim2real.tasks.registry import task_names

    return set(task_names())
