"""The models package imports in any order: no import cycle among its modules, not even
through an import inside a function (hub.py and the hub_*.py readers were one circle); the
checkpoint readers sit under their registry, never above it; no reader decides a family by
comparing its model_type; and every module imports on its own in a fresh interpreter."""
import ast

import pytest

from tests.explorer.test_imports import (
    ROOT,
    find_cycle,
    fresh_import_failures,
    imported_modules,
    module_name,
)

PACKAGE = ROOT / "models"
MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def graph(inside_functions: bool) -> dict[str, set[str]]:
    return {name: imported_modules(name, path, inside_functions, MODULES)
            for name, path in MODULES.items()}


def test_the_models_graph_is_read_as_python_reads_it():
    edges = graph(inside_functions=True)
    registry = edges["models.checkpoints.registry"]
    assert {"models.checkpoints.gpt2", "models.checkpoints.vision"} <= registry  # `from . import`
    assert "models.errors" in edges["models.checkpoints.common"]  # `from ..errors import`
    assert "models.checkpoints.registry" in edges["models.session"]  # inside a function
    assert "models.checkpoints.registry" not in graph(False)["models.session"]


def test_no_module_level_import_cycle_among_models_modules():
    assert find_cycle(graph(inside_functions=False)) == []


def test_no_import_cycle_even_through_imports_inside_functions():
    assert find_cycle(graph(inside_functions=True)) == []


def test_readers_never_import_the_registry():
    """The registry imports the readers; a reader that imported it back would be the old
    circle again."""
    edges = graph(inside_functions=True)
    above = [name for name in MODULES if name.startswith("models.checkpoints.")
             and "models.checkpoints.registry" in edges[name]]
    assert above == []


def test_no_family_is_decided_by_comparing_its_name():
    """model_type -> reader is the registry's table: no `family == "gpt2"` or
    `model_type in ("vit", "deit")` anywhere in models/."""
    names = {"family", "model_type"}

    def named(node) -> bool:
        if isinstance(node, ast.Name):
            return node.id in names
        if isinstance(node, ast.Attribute):
            return node.attr in names
        if isinstance(node, ast.Call) and node.args:  # config.get("model_type")
            return isinstance(node.args[0], ast.Constant) and node.args[0].value in names
        if isinstance(node, ast.Subscript):  # config["model_type"]
            return isinstance(node.slice, ast.Constant) and node.slice.value in names
        return False

    def literal(node) -> bool:
        if isinstance(node, ast.Constant):
            return isinstance(node.value, str)
        return isinstance(node, (ast.Tuple, ast.List, ast.Set)) and any(
            isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.elts)

    found = []
    for name, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Compare):
                sides = [node.left, *node.comparators]
                if any(named(s) for s in sides) and any(literal(s) for s in sides):
                    found.append(f"{name}:{node.lineno}")
    assert found == []


def test_every_package_goes_into_the_wheel():
    """pyproject lists its packages by hand: a new one (models/checkpoints/) must be there,
    or the installed app fails on its first import of it."""
    tomllib = pytest.importorskip("tomllib")  # (Python 3.11)
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
                 ["packages"])
    packages = {module_name(p.parent / "__init__.py") for top in ("models", "explorer")
                for p in (ROOT / top).rglob("__init__.py")}
    assert packages - listed == set()


def test_every_models_module_imports_in_a_fresh_interpreter():
    assert fresh_import_failures("models", MODULES) == ""
