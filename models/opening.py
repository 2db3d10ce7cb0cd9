"""Opening a model folder or timm file: read, built, checked, then added to the catalog.

`open_model(path)` refuses (CheckpointError, with the reason) a folder that cannot be read or
whose model cannot be built and run on a smallest input; one that passes joins
`models.catalog.CATALOG` under its folder's name, for the app to switch to like a preset.
"""
from __future__ import annotations

from pathlib import Path

from .catalog import CATALOG
from .checkpoints.registry import read_model
from .presets import Preset, find
from .session import Session, load_folder
from .tasks.task import get_task


def open_model(path: str | Path, arch: str | None = None) -> Preset:
    """Check a model folder or timm file (CheckpointError says why it cannot be opened: it
    is read and its model built, so one that reads but cannot build is refused too) and
    add it to CATALOG, under the folder's name, for the app to switch to like a preset."""
    return open_model_ready(path, arch)[0]


def open_model_ready(path: str | Path, arch: str | None = None) -> tuple[Preset, Session]:
    """`open_model`, with the Session it built: handed to `load_preset(…, ready=)` (the
    app's request carries it), the first load does not read the files again."""
    opened = read_model(Path(path).resolve(), arch)
    session = build_opened(path, arch, opened)
    return register_opened(path, arch, opened), session


def build_opened(path: str | Path, arch: str | None, opened) -> Session:
    """The model of a folder already read, built and loaded on CPU (any thread): every check
    of a build (heads that divide, finite weights, a smallest forward pass) before the
    folder is offered anywhere; CheckpointError says why it cannot be."""
    return load_folder(Path(path).resolve(), "cpu", arch, opened)


def register_opened(path: str | Path, arch: str | None, opened) -> Preset:
    """Add a model folder already read (`read_model`, which may run on any thread) to
    CATALOG; `load_preset(name, ready=…)` with the Session built (`build_opened`) or the
    folder read loads it without reading the files again."""
    path = Path(path).resolve()
    name, n = opened.name, 2
    while (found := find(name)) is not None and found.source != str(path):
        name, n = f"{opened.name} ({n})", n + 1
    task = opened.task
    return CATALOG.add(Preset(name, opened.arch, task,
                              f"{opened.family} {opened.arch} from {path}",
                              get_task(task).first_input, opened.config, source=str(path),
                              source_arch=arch))
