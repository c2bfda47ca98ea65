"""Every module of the engine and the features imports alone, and none is part of a module-level cycle.

The channels once imported :mod:`bot.app` for the ``Core`` type while :mod:`bot.app` imported the
channels: each import had to hide inside a function, and importing a channel first could fail.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "handlers")

# One interpreter for every module: before each import it forgets the project's modules (the
# third-party ones stay loaded, they take no part in our cycles), so each module is imported as if alone.
IMPORT_EACH_ALONE = """
import importlib, json, sys, traceback
failures = {}
for name in sys.argv[1:]:
    for loaded in [m for m in sys.modules if m.split(".")[0] in ("bot", "handlers")]:
        del sys.modules[loaded]
    try:
        importlib.import_module(name)
    except BaseException:
        failures[name] = traceback.format_exc(limit=-3)
print(json.dumps(failures))
"""


def project_modules() -> dict[str, Path]:
    """Every module of the two packages, by dotted name, found on disk (importing them is the test's job)."""
    modules: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            parts = path.relative_to(REPO).with_suffix("").parts
            modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def _type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def module_level_imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The project modules ``name`` imports when it is loaded: not inside functions, not for the type checker."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    body = list(ast.parse(path.read_text(encoding="utf-8")).body)
    while body:
        node = body.pop()
        if isinstance(node, ast.If) and not _type_checking(node.test):
            body += node.body + node.orelse
        elif isinstance(node, ast.Try):
            body += node.body + node.orelse + node.finalbody + [s for h in node.handlers for s in h.body]
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                found.add(submodule if submodule in known else base)
    # A module's own packages are loaded before it anyway: no edge to them.
    return {m for m in found if m in known and m != name and not name.startswith(f"{m}.")}


def test_each_module_imports_alone() -> None:
    """Each module of bot/ and handlers/, imported first in a fresh interpreter, imports without error."""
    names = sorted(project_modules())
    ran = subprocess.run(
        [sys.executable, "-c", IMPORT_EACH_ALONE, *names],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    failures = json.loads(ran.stdout.strip().splitlines()[-1])
    assert failures == {}, "\n".join(f"{name}:\n{trace}" for name, trace in failures.items())


def test_no_import_cycle_at_module_level() -> None:
    """No chain of module-level imports leads from a module of bot/ or handlers/ back to itself."""
    modules = project_modules()
    known = set(modules)
    graph = {name: module_level_imports(name, path, known) for name, path in modules.items()}
    cycles: list[list[str]] = []
    state: dict[str, str] = {}  # "open" while on the path being walked, "done" after

    def walk(name: str, path: list[str]) -> None:
        state[name] = "open"
        for target in sorted(graph[name]):
            if state.get(target) == "open":
                cycles.append([*path[path.index(target) :], target])
            elif target not in state:
                walk(target, [*path, target])
        state[name] = "done"

    for name in sorted(graph):
        if name not in state:
            walk(name, [name])
    assert cycles == [], "\n".join(" -> ".join(cycle) for cycle in cycles)


def test_the_core_imports_no_channel_and_no_feature() -> None:
    """``bot.core`` is what channels and features import, so it reaches neither, even indirectly."""
    modules = project_modules()
    known = set(modules)
    graph = {name: module_level_imports(name, path, known) for name, path in modules.items()}
    reached, todo = set(), ["bot.core"]
    while todo:
        for target in graph[todo.pop()] - reached:
            reached.add(target)
            todo.append(target)
    assert {m for m in reached if m.startswith(("bot.channels", "handlers", "bot.app"))} == set()
