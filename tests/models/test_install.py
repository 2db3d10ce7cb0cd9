"""The package as a user gets it: the wheel carries everything the app reads at run time, and
an installed copy, run from another folder, finds it where it was installed; a shipped
weights file deleted from an install is an error with its path and the fix, not a model with
random weights. (.ci/run also installs the wheel into a fresh virtual environment.)"""
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "transformer_explorer_resources"  # what pyproject installs resources/ as
SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build")


def repository_files(folder: str) -> set[str]:
    return {p.relative_to(ROOT).as_posix() for p in (ROOT / folder).rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """A wheel built from a copy of the checkout (a build writes build/ beside its source)."""
    source = tmp_path_factory.mktemp("source")
    for name in ("models", "explorer", "resources"):
        shutil.copytree(ROOT / name, source / name, ignore=SKIP)
    for name in ("pyproject.toml", "README.md", "main.py"):
        shutil.copy(ROOT / name, source / name)
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(out), str(source)], check=True, capture_output=True,
                   timeout=600)
    return next(out.glob("*.whl"))


def test_the_wheel_carries_the_code_and_every_shipped_file_but_the_screenshots(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    code = repository_files("models") | repository_files("explorer")
    assert code <= names
    # no top-level module but the packages: the checkout's main.py (a shim, in the source the
    # wheel is built from) stays out, so an install never shadows another project's `main`
    assert "main.py" not in names
    assert {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")} == {
        "models", "explorer", PACKAGE}, sorted(n for n in names if "/" not in n)
    shipped = {f.replace("resources/", f"{PACKAGE}/", 1) for f in repository_files("resources")
               if not f.startswith("resources/screenshots/")}
    assert f"{PACKAGE}/weights/translate.safetensors" in shipped
    assert f"{PACKAGE}/tour/zh.json" in shipped
    assert shipped <= names
    assert not [n for n in names if "screenshots" in n or n.endswith(".pyc")]
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "transformer-explorer = explorer.cli:main" in text  # the command
    assert "transformer_explorer = explorer.testing" in text  # the pytest plugin


def run_installed(site: Path, folder: Path, *args: str) -> subprocess.CompletedProcess:
    """The installed copy's command line, run in `folder`, importing from `site` only."""
    env = {**os.environ, "PYTHONPATH": str(site)}
    return subprocess.run([sys.executable, "-c", "import sys, explorer.cli as cli; "
                           "sys.exit(cli.main())", *args], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=300)


def test_an_installed_copy_reports_a_deleted_weights_file_with_its_path_and_the_fix(
        wheel, tmp_path):
    site, elsewhere = tmp_path / "site-packages", tmp_path / "elsewhere"
    zipfile.ZipFile(wheel).extractall(site)  # what pip does with a pure-Python wheel
    elsewhere.mkdir()
    where = subprocess.run(
        [sys.executable, "-c", "import models, explorer, explorer.cli as cli, "
         "models.resources as r; "
         "print(models.__file__, explorer.__file__, cli.__file__, r.root())"],
        cwd=elsewhere, env={**os.environ, "PYTHONPATH": str(site)}, capture_output=True,
        text=True, check=True).stdout.split()
    assert [Path(p).is_relative_to(site) for p in where] == [True] * 4, where
    assert Path(where[-1]) == site / PACKAGE

    result = run_installed(site, elsewhere, "trace", "--preset", "translate", "--input",
                           "the cat sleeps", "-o", "t.npz")
    assert result.returncode == 0, result.stderr
    assert "prediction: le chat dort" in result.stdout  # the grammar's own translation

    weights = site / PACKAGE / "weights" / "translate.safetensors"
    weights.unlink()
    result = run_installed(site, elsewhere, "trace", "--preset", "translate", "--input",
                           "the cat sleeps", "-o", "t.npz")
    assert result.returncode == 2
    assert str(weights) in result.stderr
    assert "reinstall" in result.stderr and "python -m models.train translate" in result.stderr
    assert "prediction" not in result.stdout and "Traceback" not in result.stderr
    listed = run_installed(site, elsewhere, "presets").stdout
    assert "MISSING" in listed and str(weights) in listed
    # random weights on request only, and said so
    result = run_installed(site, elsewhere, "trace", "--preset", "translate", "--input",
                           "the cat sleeps", "-o", "t.npz", "--untrained")
    assert result.returncode == 0 and "UNTRAINED" in result.stdout
