"""The code's own shape: modules import each other in one direction, and never hide a cycle.

A cycle (the job queue importing the ingestion code that imported the queue back, each inside a
function) makes the next person unsure where anything starts. Imports inside functions are kept
for optional heavy libraries (torch, whisper, the embedded server), never for our own modules.
"""

from __future__ import annotations

import ast
from pathlib import Path

from core.config import PROJECT_ROOT

PACKAGES = ("core", "db", "ui", "web")


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (PROJECT_ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            name = ".".join(path.relative_to(PROJECT_ROOT).with_suffix("").parts).removesuffix(".__init__")
            found[name] = path
    return found


def _imported(node: ast.AST, modules: dict[str, Path]) -> set[str]:
    """Our modules an import statement names (`from core import a, b` names core.a and core.b)."""
    names = set()
    if isinstance(node, ast.Import):
        names = {alias.name for alias in node.names}
    elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
        names = {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return {name for name in names if name in modules}


def _graph() -> tuple[dict[str, set[str]], list[tuple[str, str]]]:
    modules = _modules()
    graph, hidden = {}, []
    for name, path in modules.items():
        tree = ast.parse(path.read_text())
        graph[name] = set()
        for node in ast.walk(tree):
            graph[name] |= _imported(node, modules)
        for function in ast.walk(tree):
            if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                hidden += [(name, target) for node in ast.walk(function) for target in _imported(node, modules)]
        graph[name].discard(name)
    return graph, hidden


def test_our_modules_import_each_other_without_a_cycle():
    graph, _ = _graph()
    cycles, state = [], {}

    def visit(module: str, trail: list[str]) -> None:
        state[module] = "open"
        for target in sorted(graph[module]):
            if state.get(target) == "open":
                cycles.append(trail[trail.index(target):] + [target] if target in trail else [module, target])
            elif target not in state:
                visit(target, trail + [target])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert cycles == []


def test_no_import_of_our_own_modules_is_hidden_inside_a_function():
    _, hidden = _graph()
    assert hidden == []
