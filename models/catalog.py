"""The opened models: model folders and timm files the user opened, by name.

The shipped presets are a fixed table (models/presets.py); an opened model joins `CATALOG`
here instead, under its folder's name, and `models.presets.get_preset(name)` finds either.
`open_model(path)` checks a folder (read, built, a smallest forward pass) and adds it.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .presets import Preset
    from .session import Session


class Catalog:
    """Opened models by name, in the order they were opened."""

    def __init__(self) -> None:
        self._models: dict[str, Preset] = {}

    def add(self, preset: Preset) -> Preset:
        self._models[preset.name] = preset
        return preset

    def get(self, name: str) -> Preset | None:
        return self._models.get(name)

    def remove(self, name: str) -> None:
        """Forget an opened model (nothing happens when there is none by that name)."""
        self._models.pop(name, None)

    def __contains__(self, name: object) -> bool:
        return name in self._models

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._models))

    def __len__(self) -> int:
        return len(self._models)

    def items(self) -> list[tuple[str, Preset]]:
        return list(self._models.items())


CATALOG = Catalog()


def open_model(path: str | Path, arch: str | None = None) -> Preset:
    """Check a model folder or timm file (CheckpointError says why it cannot be opened: it
    is read and its model built, so one that reads but cannot build is refused too) and
    add it to CATALOG, under the folder's name, for the app to switch to like a preset."""
    return open_model_ready(path, arch)[0]


def open_model_ready(path: str | Path, arch: str | None = None) -> tuple[Preset, Session]:
    """`open_model`, with the Session it built: handed to `load_preset(…, ready=)` (the
    app's request carries it), the first load does not read the files again."""
    from .checkpoints.registry import read_model

    opened = read_model(Path(path).resolve(), arch)
    session = build_opened(path, arch, opened)
    return register_opened(path, arch, opened), session


def build_opened(path: str | Path, arch: str | None, opened) -> Session:
    """The model of a folder already read, built and loaded on CPU (any thread): every check
    of a build (heads that divide, finite weights, a smallest forward pass) before the
    folder is offered anywhere; CheckpointError says why it cannot be."""
    from .session import load_folder

    return load_folder(Path(path).resolve(), "cpu", arch, opened)


def register_opened(path: str | Path, arch: str | None, opened) -> Preset:
    """Add a model folder already read (`read_model`, which may run on any thread) to
    CATALOG; `load_preset(name, ready=…)` with the Session built (`build_opened`) or the
    folder read loads it without reading the files again."""
    from .presets import Preset, find
    from .tasks.task import get_task

    path = Path(path).resolve()
    name, n = opened.name, 2
    while (found := find(name)) is not None and found.source != str(path):
        name, n = f"{opened.name} ({n})", n + 1
    task = opened.task
    return CATALOG.add(Preset(name, opened.arch, task,
                              f"{opened.family} {opened.arch} from {path}",
                              get_task(task).first_input, opened.config, source=str(path),
                              source_arch=arch))
