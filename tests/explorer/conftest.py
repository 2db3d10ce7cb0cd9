import threading

import pytest
from PySide6 import QtCore

from explorer.app import create_window
from explorer.i18n import set_language


@pytest.fixture
def make_window(qtbot, tmp_path):
    """Build main windows on a throw-away settings file; close them; fail on leaked threads."""
    created = []
    before = {t.ident for t in threading.enumerate()}
    settings_path = str(tmp_path / "settings.ini")

    def make(preset="translate", initial_input=None, wait=True):
        settings = QtCore.QSettings(settings_path, QtCore.QSettings.IniFormat)
        window = create_window(preset, "cpu", settings, initial_input)
        qtbot.addWidget(window)
        window.resize(1300, 820)
        window.show()
        created.append(window)
        if wait:
            qtbot.waitUntil(lambda: window.state.trace is not None, timeout=60_000)
        return window

    yield make
    for window in created:
        window.close()
    set_language("en")  # the next test starts in English
    leaked = [t.name for t in threading.enumerate()
              if t.ident not in before and t.is_alive() and t.name == "model-worker"]
    assert leaked == [], f"worker threads left running: {leaked}"
