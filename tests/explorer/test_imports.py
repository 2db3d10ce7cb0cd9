"""The explorer package imports in any order: no import cycle among its modules (the window
never needs the scripting API, the tour never needs the window), not even through an
import inside a function, and every module imports on its own in a fresh interpreter."""
import ast
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "explorer"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def module_level_imports(node: ast.AST, inside_functions: bool = False):
    """Import statements run when the module is imported: not those inside functions or
    classes (which run later, if ever), unless `inside_functions`."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.Import, ast.ImportFrom)):
            yield child
        elif inside_functions or not isinstance(
                child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            yield from module_level_imports(child, inside_functions)


def with_parents(name: str) -> list[str]:
    """Importing a.b.c runs a, a.b and a.b.c."""
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts) + 1)]


def imported_modules(name: str, path: Path, inside_functions: bool = False,
                     modules: dict[str, Path] = MODULES) -> set[str]:
    """The modules of `modules` (by default the explorer package's) that `name` imports."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in module_level_imports(tree, inside_functions):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            base = package.split(".")
            if node.level:
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module
            # `from . import session`: the submodule; `from .state import X`: the module
            targets = [f"{target}.{a.name}" if f"{target}.{a.name}" in modules else target
                       for a in node.names]
        for target in targets:
            found.update(m for m in with_parents(target) if m in modules and m != name)
    return found


def find_cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import cycle as a list of modules (the first again at the end), or []."""
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = "done"
        return []

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return []


def test_the_import_graph_is_read_as_python_reads_it():
    graph = {name: imported_modules(name, path) for name, path in MODULES.items()}
    assert {"explorer.main_window", "explorer.lecture", "explorer.model_opener",
            "explorer.toolbar"} <= graph["explorer.api"] | graph["explorer.main_window"]
    assert "explorer.state" in graph["explorer.tour"]  # `from .state import RunFailed`
    assert "explorer.session" in graph["explorer.api"]  # `from . import session as sessions`
    assert "explorer.panels" in graph["explorer.main_window"]  # a package's __init__ runs too
    # an import inside a function is not a module-level import
    assert "explorer.api" not in graph["explorer.bench"]
    assert "explorer.api" in imported_modules("explorer.bench", MODULES["explorer.bench"],
                                              inside_functions=True)
    # a cycle is found where there is one
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]


def test_no_module_level_import_cycle_among_explorer_modules():
    graph = {name: imported_modules(name, path) for name, path in MODULES.items()}
    assert find_cycle(graph) == []


def test_no_import_cycle_even_through_imports_inside_functions():
    """An import moved into a function only hides a cycle (api -> app -> main_window ->
    tour -> api was one): the layers stay in one direction."""
    graph = {name: imported_modules(name, path, inside_functions=True)
             for name, path in MODULES.items()}
    assert find_cycle(graph) == []


def fresh_import_failures(package: str, modules) -> str:
    """Each module imported first, with none of `package` imported before it: an import
    that works only after some other module was imported is a failure, named here."""
    script = (
        "import importlib, sys\n"
        "failed = []\n"
        f"for name in {sorted(modules)!r}:\n"
        f"    for loaded in [m for m in sys.modules if m.split('.')[0] == {package!r}]:\n"
        "        del sys.modules[loaded]\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except Exception as error:\n"
        "        failed.append(f'{name}: {type(error).__name__}: {error}')\n"
        "print('\\n'.join(failed))\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                          text=True, timeout=600,
                          env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip()


def test_every_explorer_module_imports_in_a_fresh_interpreter():
    assert fresh_import_failures("explorer", MODULES) == ""
