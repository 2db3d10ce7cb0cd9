"""The layers. pyproject.toml's import-linter contracts state which package may import which
(models/ never imports Qt, pyqtgraph or explorer; panels and widgets never the window, the
scripting API or the app; the model architectures never the checkpoint readers); here
`lint-imports` runs them, and a copy of the code with a forbidden import planted for each
contract shows that each one catches it. What a contract cannot see stays a test: importing
models/ loads no Qt even through a third-party package."""
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = ("PySide6", "pyqtgraph", "explorer", "shiboken6")
LINT_IMPORTS = Path(sysconfig.get_path("scripts")) / "lint-imports"


def lint_imports(folder: Path) -> subprocess.CompletedProcess:
    """`lint-imports` run in `folder`: it reads the contracts from folder/pyproject.toml and the
    code from folder/models and folder/explorer (the folder comes first on its path)."""
    command = [str(LINT_IMPORTS)] if LINT_IMPORTS.exists() else ["lint-imports"]
    return subprocess.run([*command, "--no-cache"], cwd=folder, capture_output=True, text=True,
                          timeout=300)


def test_the_import_contracts_are_kept():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_each_contract_catches_a_forbidden_import(tmp_path):
    for package in ("models", "explorer"):
        shutil.copytree(ROOT / package, tmp_path / package,
                        ignore=lambda folder, names: [n for n in names if not (
                            n.endswith(".py") or (Path(folder) / n).is_dir())
                            or n == "__pycache__"])
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    planted = {"models/vit.py": "def drawn():\n    import pyqtgraph\n",
               "explorer/widgets/plots.py": "from explorer.main_window import MainWindow\n",
               "models/attention.py": "from models.checkpoints import registry\n"}
    for name, line in planted.items():
        with open(tmp_path / name, "a", encoding="utf-8") as f:
            f.write("\n" + line)
    result = lint_imports(tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "0 kept, 3 broken" in result.stdout, result.stdout
    for importer, imported in (("models.vit", "pyqtgraph"),
                               ("explorer.widgets.plots", "explorer.main_window"),
                               ("models.attention", "models.checkpoints.registry")):
        assert f"{importer} -> {imported}" in result.stdout, result.stdout


def test_importing_every_model_module_loads_no_gui_module():
    code = (
        "import sys, pkgutil, importlib, models, models.tasks\n"
        "for m in pkgutil.walk_packages(models.__path__, 'models.'):\n"
        "    importlib.import_module(m.name)\n"
        f"bad = [m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r}]\n"
        "print(bad); sys.exit(1 if bad else 0)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stdout + result.stderr
