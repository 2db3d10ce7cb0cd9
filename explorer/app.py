"""Application set-up: platform checks, QApplication, the main window, and run()."""
from __future__ import annotations

import ctypes.util
import os
import sys

from PySide6 import QtCore, QtWidgets

from models.memory import return_large_blocks
from models.presets import DEFAULT_PRESET, PRESETS

from .main_window import MainWindow
from .state import AppState
from .tour import system_language

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


def _quiet_qt_messages(kind, context, text: str) -> None:
    # The offscreen plugin warns on every dock layout; everything else is passed on.
    if "propagateSizeHints" not in text:
        print(text, file=sys.stderr)


def application() -> QtWidgets.QApplication:
    app = QtWidgets.QApplication.instance()
    if app is None:
        return_large_blocks()  # a long input's freed trace goes back to the system
        QtCore.qInstallMessageHandler(_quiet_qt_messages)
        QtCore.QCoreApplication.setOrganizationName("TransformerExplorer")
        QtCore.QCoreApplication.setApplicationName("Transformer Explorer")
        app = QtWidgets.QApplication(sys.argv[:1])
    return app


def create_window(preset: str | None = None, device: str | None = None,
                  settings: QtCore.QSettings | None = None, initial_input=None,
                  untrained: bool = False, generate: int = 0, ready=None) -> MainWindow:
    """Build the window on a preset (last used, else the default) and start its first run;
    `untrained`: the presets with random weights instead of their trained ones; `generate`:
    a causal language model's continuation (tokens); `ready`: the opened model's Session
    already built (`models.session.open_model_ready`), so its files are read once."""
    if preset is None and settings is not None:
        preset = settings.value("preset", None)
    if preset not in PRESETS:
        preset = DEFAULT_PRESET
    if device is None and settings is not None:
        device = settings.value("device", "cpu")
    state = AppState(preset, "cpu", untrained=untrained)
    state.generate = generate  # --generate K: a causal language model's continuation
    state.offer_ready(preset, ready)
    window = MainWindow(state, settings)
    # the interface speaks the tour's language (chosen before, else the system's)
    window.set_language(str(settings.value("tourLanguage", system_language()))
                        if settings is not None else system_language())
    window.restore_settings()
    if PRESETS[preset].source:  # an opened model (--weights FOLDER): in the box from the start
        window.add_opened(preset)
    window.select_device(device or "cpu")
    window.select_preset(preset, initial_input)
    return window


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
    window = create_window(preset, device, QtCore.QSettings(), untrained=untrained,
                           generate=generate, ready=ready)
    if preset is not None and PRESETS[preset].source:  # `--weights FOLDER`
        window._remember("recentModels", PRESETS[preset].source)
    window.show()
    if session is not None or tour is not None:
        from .api import Explorer

        explorer = Explorer(window)
        explorer.wait()
        if session is not None:
            window.open_session(session)
        if tour is not None:
            explorer.tour(tour[0]).go(tour[1])
    code = app.exec()
    window.state.shutdown()
    return code
