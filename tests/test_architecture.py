"""The layout ARCHITECTURE.md promises: stage packages, no import cycles (counting
imports inside functions), and small modules, classes and functions."""
from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "symprop"
LIMITS = {"module": 500, "class": 250, "function": 60}


def strongly_connected(graph) -> list[set[str]]:
    """Tarjan's components of the import graph with more than one module."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(module):
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in graph.find_modules_directly_imported_by(module):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            component = set()
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.add(top)
                if top == module:
                    break
            if len(component) > 1:
                found.append(component)

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return found


def test_there_is_no_import_cycle_even_through_imports_inside_functions():
    graph = grimp.build_graph("symprop", include_external_packages=False)
    assert strongly_connected(graph) == []


def test_a_cycle_would_be_found(tmp_path, monkeypatch):
    (tmp_path / "loop").mkdir()
    (tmp_path / "loop" / "__init__.py").write_text("")
    (tmp_path / "loop" / "a.py").write_text("def f():\n    from loop import b\n")
    (tmp_path / "loop" / "b.py").write_text("from loop import a\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert strongly_connected(grimp.build_graph("loop")) == [{"loop.a", "loop.b"}]


def test_the_layers_contract_names_every_stage_package():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    layers = set(next(c for c in config["contracts"] if c["type"] == "layers")["layers"])
    packages = {f"symprop.{p.name}" for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    assert packages <= layers
    assert {"symprop.cli", "symprop.errors"} <= layers


def oversized() -> list[str]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        name = path.relative_to(ROOT)
        if source.count("\n") > LIMITS["module"]:
            found.append(f"{name}: {source.count(chr(10))} lines")
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                kind = "class" if isinstance(node, ast.ClassDef) else "function"
                length = node.end_lineno - node.lineno + 1
                if length > LIMITS[kind]:
                    found.append(f"{name}:{node.lineno} {kind} {node.name}: {length} lines")
    return found


def test_modules_classes_and_functions_stay_small():
    assert oversized() == []
