"""Imports run one way: commands -> tooling (runner, report, viz, calibrate) -> model -> scenario,
and no module imports itself back through a circle. Deferred imports inside functions count:
they were how the old circles hid. Only ``if TYPE_CHECKING:`` blocks are left out (they never
run)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "sim"
# lower layers first; a module may import its own layer or any lower one
LAYERS: dict[str, int] = {
    "scenario": 0,
    "model": 1,
    "runner": 2,
    "report": 3,
    "viz": 3,
    "calibrate": 3,
    "commands": 4,
    "api": 3,  # sim/api.py: the Python API, tooling like runner and report
    "cli": 5,
    "__init__": 0,  # sim/__init__.py: the version string and the API, loaded lazily (below)
}
# The package root hands out the API's names on first use (PEP 562 ``__getattr__``): nothing is
# imported when ``sim`` is, so that edge is neither upward at import time nor a circle.
LAZY_EXPORTS: dict[str, set[str]] = {"sim": {"sim.api"}}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(path: Path, modules: set[str]) -> set[str]:
    """The ``sim`` modules a file imports anywhere (functions included, TYPE_CHECKING not)."""
    found: set[str] = set()
    package = (
        module_name(path) if path.name == "__init__.py" else module_name(path).rsplit(".", 1)[0]
    )

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("sim"))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                base = f"{base}.{node.module}" if node.module else base
            if base.startswith("sim"):
                for alias in node.names:  # ``from sim.model import kernels``: a module
                    candidate = f"{base}.{alias.name}"
                    found.add(candidate if candidate in modules else base)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(), str(path)))
    return {name for name in found if name in modules} - {module_name(path)}


def graph() -> dict[str, set[str]]:
    files = sorted(PACKAGE.rglob("*.py"))
    modules = {module_name(path) for path in files}
    return {
        module_name(path): imports_of(path, modules) - LAZY_EXPORTS.get(module_name(path), set())
        for path in files
    }


def layer(module: str) -> int:
    parts = module.split(".")
    return LAYERS[parts[1] if len(parts) > 1 else "__init__"]


def test_every_module_has_a_layer() -> None:
    assert all(layer(module) >= 0 for module in graph())


def test_imports_run_one_way() -> None:
    upward = [
        f"{module} imports {target}"
        for module, targets in graph().items()
        for target in sorted(targets)
        if layer(target) > layer(module) and target != "sim"
    ]
    assert not upward, "\n".join(upward)


def find_cycle(edges: dict[str, set[str]]) -> list[str]:
    """One import circle, or [] (depth-first search; packages count as their __init__)."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def walk(node: str) -> list[str]:
        state[node] = 1
        stack.append(node)
        for target in sorted(edges.get(node, ())):
            if state.get(target) == 1:
                return stack[stack.index(target) :] + [target]
            if target not in state and (cycle := walk(target)):
                return cycle
        stack.pop()
        state[node] = 2
        return []

    for node in sorted(edges):
        if node not in state and (cycle := walk(node)):
            return cycle
    return []


def test_no_import_circle() -> None:
    edges = graph()
    # a package's __init__ re-exports its modules: importing ``sim.model.codes`` runs
    # ``sim.model`` first, but an import of a submodule is an edge to that submodule only
    cycle = find_cycle(edges)
    assert not cycle, " -> ".join(cycle)


def test_the_checks_catch_a_circle_and_an_upward_import() -> None:
    """The checks themselves can fail: a planted circle is found, a planted upward edge too."""
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) == []
    assert layer("sim.model.market") < layer("sim.runner.sweep")


@pytest.mark.parametrize("package", ["model", "scenario"])
def test_model_and_scenario_import_no_tooling(package: str) -> None:
    tooling = {"runner", "report", "viz", "calibrate", "commands", "cli"}
    offenders = [
        f"{module} imports {target}"
        for module, targets in graph().items()
        if module.startswith(f"sim.{package}")
        for target in targets
        if target.split(".")[1] in tooling
    ]
    assert not offenders, "\n".join(offenders)
