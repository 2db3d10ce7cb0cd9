"""The desktop app: platform checks and run(). Windows are built with their Explorer by
`api.Explorer.create`; the QApplication comes from qapp.py."""
from __future__ import annotations

import ctypes.util
import os
import sys

from PySide6 import QtCore

from models.presets import get_preset

from .api import Explorer
from .main_window import MainWindow
from .qapp import application, user_settings

# Libraries Qt's xcb platform plugin loads that minimal Linux systems lack (Debian names).
XCB_LIBRARIES = {"xcb-cursor": "libxcb-cursor0", "xcb-icccm": "libxcb-icccm4",
                 "xcb-keysyms": "libxcb-keysyms1", "xkbcommon-x11": "libxkbcommon-x11-0",
                 "xcb-shape": "libxcb-shape0", "xcb-render-util": "libxcb-render-util0",
                 "xcb-image": "libxcb-image0", "EGL": "libegl1", "fontconfig": "libfontconfig1"}


def platform_problem() -> str:
    """A message naming what is missing for a window on this machine, or ''."""
    platform = os.environ.get("QT_QPA_PLATFORM", "")
    if not sys.platform.startswith("linux") or platform.startswith(("offscreen", "minimal", "vnc")):
        return ""
    if platform.startswith("wayland") or (not platform and os.environ.get("WAYLAND_DISPLAY")):
        return ""
    if not os.environ.get("DISPLAY"):
        return ("no display: set DISPLAY (or run under xvfb-run), or use "
                "QT_QPA_PLATFORM=offscreen for screenshots")
    missing = [pkg for lib, pkg in XCB_LIBRARIES.items() if ctypes.util.find_library(lib) is None]
    if missing:
        return ("Qt's X11 (xcb) platform needs system libraries that are missing; install them "
                f"with: sudo apt-get install {' '.join(missing)}")
    return ""


def create_window(preset: str | None = None, device: str | None = None,
                  settings: QtCore.QSettings | None = None, initial_input=None,
                  untrained: bool = False, generate: int = 0, ready=None) -> MainWindow:
    """The window of a new `Explorer.create(...)` (its `explorer`), for older scripts."""
    application()
    return Explorer.create(preset, device, settings, initial_input, untrained=untrained,
                           generate=generate, ready=ready).window


def run(preset: str | None = None, device: str | None = None, session: str | None = None,
        tour: tuple[str, int] | None = None, untrained: bool = False, generate: int = 0,
        ready=None) -> int:
    """The app; `session`: a session file to open; `tour`: (language, step) to open on;
    `untrained`: presets with random weights (--untrained); `generate`: --generate K."""
    problem = platform_problem()
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    app = application()
    explorer = Explorer.create(preset, device, user_settings(), untrained=untrained,
                               generate=generate, ready=ready)
    window = explorer.window
    if preset is not None and get_preset(preset).source:  # `--weights FOLDER`
        window.opener.remember("recentModels", get_preset(preset).source)
    window.show()
    if session is not None or tour is not None:
        explorer.wait()
        if session is not None:
            window.open_session(session)
        if tour is not None:
            explorer.tour(tour[0]).go(tour[1])
    code = app.exec()
    window.state.shutdown()
    return code
