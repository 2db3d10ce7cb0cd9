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


def _address(widget) -> int:
    import shiboken6
    return shiboken6.getCppPointer(widget)[0]


def top_level_widgets() -> set[int]:
    """The addresses of the top-level widgets alive now (none before a QApplication)."""
    from PySide6 import QtWidgets
    app = QtWidgets.QApplication.instance()
    return {_address(w) for w in app.topLevelWidgets()} if app is not None else set()


def release_widgets(before: set[int], roots: list = ()) -> None:
    """Delete `roots` (QObjects: closed windows, their states) and the top-level widgets made
    since `before` (`top_level_widgets()`), and let Python free what they held.

    A window's deletion takes its children with it, but not the widgets that were never
    given a parent (pyqtgraph's plot menus, a panel's cells not laid out now): their signals
    hold lambdas that hold the panels, which hold the state with its models and traces — a
    cycle through C++ that Python's collector cannot see, about 10 MB a window. The Python
    attributes of everything deleted are then dropped (of no use once the C++ object is
    gone), and the interface words bound to deleted widgets are forgotten. No full
    collection: it took seconds with the models loaded, and what is left is freed by
    reference counting. Bare QWidgets are left alone:
    pyqtgraph's are a QWidgetAction's, deleted with its menu."""
    import shiboken6
    from PySide6 import QtCore, QtWidgets

    from .i18n import forget_deleted

    app = QtWidgets.QApplication.instance()
    if app is None:
        return
    doomed = [root for root in roots if shiboken6.isValid(root)]
    doomed += [widget for widget in app.topLevelWidgets()
               if _address(widget) not in before and (type(widget) is not QtWidgets.QWidget
                                                      or widget.children())]
    for obj in doomed[:]:
        doomed += obj.findChildren(QtCore.QObject)
        obj.deleteLater()
    QtCore.QCoreApplication.sendPostedEvents(None, QtCore.QEvent.DeferredDelete)
    for obj in doomed:
        if shiboken6.isValid(obj):
            continue
        getattr(obj, "__dict__", {}).clear()
    forget_deleted()  # the interface words bound to deleted widgets


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
