"""Where the shipped files are: weights, tour, samples, held-out data, class names.

The one place that knows. Everything the app reads at run time is looked up here by its
path inside the repository's `resources/` folder, e.g. `resource_path("weights/translate.
safetensors")`. pyproject.toml installs that folder as the package `PACKAGE`, so an
installed copy finds it through `importlib.resources`, wherever it was installed.
"""
from __future__ import annotations

import functools
from importlib.resources import files
from pathlib import Path

PACKAGE = "transformer_explorer_resources"  # pyproject maps this name onto resources/
PREFIX = "resources/"  # how presets and tour files name a shipped file


@functools.cache
def root() -> Path:
    """The shipped files that belong to this copy of the code."""
    checkout = Path(__file__).resolve().parents[1]
    if (checkout / "pyproject.toml").is_file() and (checkout / "resources").is_dir():
        # A source checkout (installed editable, or not at all): its own folder, not the
        # one of another checkout or worktree that happens to be installed.
        return checkout / "resources"
    try:
        return Path(str(files(PACKAGE)))  # an installed wheel or sdist
    except ModuleNotFoundError:
        # installed without its data: every file is then reported missing, with this path
        return checkout / PACKAGE


def resource_path(relative: str) -> Path:
    """A shipped file or folder by its path inside resources/ ("tour/en.json"). It may not
    exist (a damaged install): callers that need it say so with the path."""
    return root() / relative


def shipped(value):
    """A value from shipped data (a preset's sample, a tour step's input): one that names a
    shipped file as "resources/..." becomes that file's path here; others are unchanged."""
    if isinstance(value, str) and value.startswith(PREFIX):
        return str(resource_path(value[len(PREFIX):]))
    return value


def missing_weights(path: Path, preset: str) -> str:
    """Why a preset cannot load: its weights file is missing or unreadable, and the fix."""
    return (f"the weights of preset '{preset}' are missing or unreadable: {path} — reinstall "
            f"Transformer Explorer (pip install --force-reinstall transformer-explorer), or "
            f"train them again with `python -m models.train {preset}`; "
            f"--untrained runs the model with random weights instead")
