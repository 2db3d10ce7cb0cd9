"""The opened models: model folders and timm files the user opened, by name.

The shipped presets are a fixed table (models/presets.py); an opened model joins `CATALOG`
here instead, under its folder's name, and `models.presets.get_preset(name)` finds either.
`models.opening.open_model(path)` checks a folder (read, built, a smallest forward pass) and
adds it. This module imports nothing of models/: the presets import it.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

Preset = Any  # models.presets.Preset (which imports this module)


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
