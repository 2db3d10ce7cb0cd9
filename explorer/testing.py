"""The pytest plugin: `make_explorer`, a factory fixture that opens Transformer Explorer.

Registered through the `pytest11` entry point, so any project that installs
transformer-explorer can test its own demo (napari's `make_napari_viewer` is the model):

    def test_my_demo(make_explorer):
        e = make_explorer("vit-digits")
        e.set_input("seven.png"); e.wait()
        assert e.prediction.label == "7"

Windows are built offscreen on a throw-away settings file, closed on teardown, and the test
fails if a model worker thread is left running. `make_explorer(preset, untrained=True)`: the
presets with random weights (what training changes); `initial_input=`: the first input
instead of the preset's sample.
"""
from __future__ import annotations

import os
import threading

import pytest

from .qapp import release_widgets, top_level_widgets


def close_all(explorers: list, widgets: set[int]) -> None:
    """Close `explorers` (emptied: the list held them) and release their windows, their
    states and the top-level widgets made since `widgets` (`release_widgets`)."""
    import shiboken6

    roots = []
    for explorer in explorers:
        if shiboken6.isValid(explorer.window):
            explorer.close()
        roots += [explorer.window, explorer.state]
    del explorers[:]
    release_widgets(widgets, roots)


@pytest.fixture
def make_explorer(tmp_path, request):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6 import QtCore

    from .api import Explorer
    from .i18n import set_language
    from .qapp import application
    from .zoom import ZOOM

    application()
    widgets = top_level_widgets()
    created: list[Explorer] = []
    before = {t.ident for t in threading.enumerate()}
    settings_path = str(tmp_path / "explorer-settings.ini")

    def make(preset: str | None = None, device: str = "cpu", size=(1280, 800),
             wait: bool = True, untrained: bool = False, initial_input=None) -> Explorer:
        settings = QtCore.QSettings(settings_path, QtCore.QSettings.IniFormat)
        explorer = Explorer.open(preset, device, settings=settings, size=size, wait=wait,
                                 untrained=untrained, initial_input=initial_input)
        created.append(explorer)
        return explorer

    yield make
    close_all(created, widgets)
    ZOOM.set(1.0)  # the next test starts at 100%, in English
    set_language("en")
    leaked = [t.name for t in threading.enumerate()
              if t.ident not in before and t.is_alive() and t.name == "model-worker"]
    if leaked:
        pytest.fail(f"worker threads left running: {leaked}")
