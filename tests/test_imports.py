"""Imports run downward only between rooms, and the rooms have no cycle.

Every module under src/sim2real is read with `ast` (imports inside functions and under
TYPE_CHECKING count too: a lazy import is still a dependency) and each import of ours is mapped
to a room: the first name under `sim2real` (`sim2real.render.cameras` -> render,
`sim2real/settings.py` -> settings). ROOMS is the order of DESIGN.md's rooms table, lowest first.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"

# Lowest first: a room may import the rooms before it, never one after it.
ROOMS: tuple[str, ...] = (
    "core",  # the contract: imports nothing else of ours
    "errors",  # the user-facing error type
    "media",  # images, videos, atomic writes
    "cache",  # the user cache folder (textures, decimated meshes)
    "locks",  # folder locks (on top of media's temporaries)
    "parallel",  # a function over chunks in-process, in K processes or on Ray
    "embodiment",
    "scene",
    "tasks",
    "experts",
    "render",  # below randomize: LT asks whether the rig is the rasterizer
    "randomize",
    "settings",  # composes scene's, render's and randomize's settings into EnvSettings
    "env",
    "data",
    "policy",
    "evaluate",
    "train",
    "robot",
    "protocol",
    "platform",
    "study",
    "bench",
    "cli",
)
# The package itself: `sim2real/__init__.py` is the public face of the env (`sim2real.make`),
# `sim2real/__main__.py` runs the command line, `sim2real/config_file.py` (settings files and
# dotted overrides) belongs with the settings it builds.
PACKAGE_ROOMS = {"__init__": "env", "__main__": "cli", "config_file": "settings"}

# Upward imports waiting for a change owned elsewhere: (importer room, imported room) -> why.
KNOWN_PENDING: dict[tuple[str, str], str] = {}


def module_room(parts: tuple[str, ...]) -> str:
    """('sim2real', 'render', 'cameras') -> 'render'; ('sim2real',) -> the package's room."""
    if len(parts) == 1:
        return PACKAGE_ROOMS["__init__"]
    name = parts[1]
    return PACKAGE_ROOMS.get(name, name)


def file_room(path: Path, package: Path) -> str:
    parts = path.relative_to(package).with_suffix("").parts
    if len(parts) == 1:  # a module of the package itself: settings.py, __init__.py, ...
        return PACKAGE_ROOMS.get(parts[0], parts[0])
    return parts[0]


def imported_modules(tree: ast.AST, module: tuple[str, ...], is_package: bool):
    """(line, dotted name parts) of every import of ours anywhere in the module."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, tuple(alias.name.split("."))
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against this module's package
                base = module if is_package else module[:-1]
                base = base[: len(base) - (node.level - 1)]
                target = base + tuple(node.module.split(".")) if node.module else base
            else:
                target = tuple(node.module.split("."))
            if target == ("sim2real",):  # `from sim2real import render` names a room
                for alias in node.names:
                    yield node.lineno, (*target, alias.name)
            else:
                yield node.lineno, target


def import_edges(src: Path) -> list[tuple[str, str, str]]:
    """(importer room, imported room, 'file:line') for every import between two rooms."""
    package = src / "sim2real"
    edges = []
    for path in sorted(package.rglob("*.py")):
        parts = ("sim2real", *path.relative_to(package).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        module = parts[:-1] if is_package else parts
        importer = file_room(path, package)
        tree = ast.parse(path.read_text(), filename=str(path))
        for line, target in imported_modules(tree, module, is_package):
            if target[0] != "sim2real":
                continue
            imported = module_room(target)
            if imported != importer:
                edges.append((importer, imported, f"{path.relative_to(src)}:{line}"))
    return edges


def unplaced(edges) -> list[str]:
    rooms = {room for a, b, _ in edges for room in (a, b)}
    return sorted(rooms - set(ROOMS))


def upward_imports(edges, known: dict = KNOWN_PENDING) -> list[str]:
    rank = {room: i for i, room in enumerate(ROOMS)}
    return [
        f"{where}: {a} imports {b}, which is above it"
        for a, b, where in edges
        if a in rank and b in rank and rank[b] > rank[a] and (a, b) not in known
    ]


def room_cycles(edges, known: dict = KNOWN_PENDING) -> list[list[str]]:
    """The rooms caught in cycles: each strongly connected part of the room graph with more
    than one room (Tarjan's algorithm), sorted."""
    graph: dict[str, set[str]] = defaultdict(set)
    for a, b, _ in edges:
        if (a, b) not in known:
            graph[a].add(b)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    parts: list[list[str]] = []

    def visit(room: str) -> None:
        index[room] = low[room] = len(index)
        stack.append(room)
        for nxt in sorted(graph[room]):
            if nxt not in index:
                visit(nxt)
                low[room] = min(low[room], low[nxt])
            elif nxt in stack:
                low[room] = min(low[room], index[nxt])
        if low[room] == index[room]:
            part = []
            while True:
                member = stack.pop()
                part.append(member)
                if member == room:
                    break
            if len(part) > 1:
                parts.append(sorted(part))

    for room in sorted(graph):
        if room not in index:
            visit(room)
    return sorted(parts)


@pytest.fixture(scope="module")
def edges():
    return import_edges(SRC)


def test_every_room_is_placed(edges):
    missing = unplaced(edges)
    assert not missing, f"rooms missing from ROOMS (place them in DESIGN.md's order): {missing}"


def test_no_room_imports_a_room_above_it(edges):
    upward = upward_imports(edges)
    assert not upward, "\n".join(upward)


def test_rooms_have_no_cycle(edges):
    cycles = room_cycles(edges)
    assert not cycles, "rooms importing each other: " + "; ".join(", ".join(c) for c in cycles)


def test_known_pending_exceptions_are_still_needed(edges):
    """A pending exception goes as soon as the import it excuses is gone."""
    present = {(a, b) for a, b, _ in edges}
    stale = sorted(set(KNOWN_PENDING) - present)
    assert not stale, f"remove from KNOWN_PENDING, the import is gone: {stale}"


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / "sim2real" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def test_the_check_finds_an_upward_import_even_inside_a_function(tmp_path):
    src = _tree(tmp_path, {
        "__init__.py": "",
        "scene/__init__.py": "",
        "scene/station.py": "def build():\n    from sim2real.env import make\n",
        "env.py": "from sim2real.scene.station import build\n",
        "tasks/__init__.py": "",
        "tasks/base.py": "from ..render import cameras\n",  # relative: tasks -> render
        "render/__init__.py": "",
        "render/cameras.py": "",
    })  # fmt: skip
    upward = upward_imports(import_edges(src), known={})
    assert upward == [
        "sim2real/scene/station.py:2: scene imports env, which is above it",
        "sim2real/tasks/base.py:1: tasks imports render, which is above it",
    ]


def test_the_check_finds_a_cycle_and_an_unplaced_room(tmp_path):
    src = _tree(tmp_path, {
        "__init__.py": "",
        "data/__init__.py": "from sim2real import evaluate\n",
        "evaluate/__init__.py": "import sim2real.data.writer\n",
        "gadgets.py": "from sim2real.core import contract\n",
    })  # fmt: skip
    edges = import_edges(src)
    assert room_cycles(edges, known={}) == [["data", "evaluate"]]
    assert unplaced(edges) == ["gadgets"]
