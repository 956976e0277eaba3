"""The procedural object library: every module in this package defines `CATEGORIES`.

Modules are discovered automatically, so adding a category means adding a module.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from sim2real.errors import invalid
from sim2real.scene.library.base import Category, ObjectInstance, Split

__all__ = ["Category", "ObjectInstance", "Split", "categories", "category", "instance"]


@cache
def _all() -> dict[str, Category]:
    found: dict[str, Category] = {}
    for module in pkgutil.iter_modules(__path__):
        if module.name == "base" or module.name.startswith("_"):
            continue
        for cat in getattr(importlib.import_module(f"{__name__}.{module.name}"), "CATEGORIES", ()):
            if cat.name in found:
                raise ValueError(f"object category {cat.name} is defined twice")
            found[cat.name] = cat
    return found


def categories(kind: str | None = None) -> list[Category]:
    """All categories, or only those of one kind ('task' or 'distractor'), sorted by name."""
    return [c for name, c in sorted(_all().items()) if kind is None or c.kind == kind]


def category(name: str) -> Category:
    if name not in _all():
        raise invalid("object category", name, ", ".join(sorted(_all())))
    return _all()[name]


def instance(instance_id: str) -> ObjectInstance:
    for cat in _all().values():
        for inst in cat.instances:
            if inst.instance_id == instance_id:
                return inst
    raise invalid("object instance", instance_id, "an id listed by categories()")
