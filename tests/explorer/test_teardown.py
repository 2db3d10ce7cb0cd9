"""What a test's windows leave behind once `make_explorer` has closed them: nothing of the
window, its state or its panels (the whole suite's memory depends on it)."""
import weakref

from PySide6 import QtCore

from explorer.api import Explorer
from explorer.testing import close_all, top_level_widgets


def test_a_closed_explorer_leaves_no_window_state_or_panel_alive(tmp_path):
    widgets = top_level_widgets()
    settings = QtCore.QSettings(str(tmp_path / "settings.ini"), QtCore.QSettings.IniFormat)
    explorers = [Explorer.open(preset, settings=settings) for preset in ("translate", "vit-digits")]
    explorers[0].set_preset("reverse")  # a switch: the panels redraw for another model
    explorers[0].wait()
    alive = [weakref.ref(obj) for e in explorers
             for obj in (e, e.window, e.state, *e.window.panels.values())]
    close_all(explorers, widgets)
    assert explorers == []
    left = [type(ref()).__name__ for ref in alive if ref() is not None]
    assert left == []
    assert top_level_widgets() - widgets == set()
