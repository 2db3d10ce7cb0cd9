"""Where the window goes and what it remembers. The whole window, its frame and title bar
included, inside the screen's free area: on a first run, with a geometry saved on a bigger
screen, after a zoom; its geometry, docks, preset, device, dtype and zoom saved when it closes."""
from __future__ import annotations

from PySide6 import QtCore, QtGui

from .zoom import ZOOM

FRAME_GUESS = (16, 48)  # a window manager's border and title bar, until it says


class Placement(QtCore.QObject):
    def __init__(self, window, size: tuple[int, int] = (1400, 860)) -> None:
        super().__init__(window)
        self.window = window
        self.settings = window.settings
        window.resize(*size)
        self._wanted_size: QtCore.QSize | None = QtCore.QSize(*size)
        self._fitted_size: QtCore.QSize | None = None  # the size restore_settings chose

    def restore_settings(self) -> None:
        window = self.window
        if self.settings is None:
            return
        geometry = self.settings.value("geometry")
        if geometry is not None:
            window.restoreGeometry(geometry)
            self._wanted_size = window.size()
        layout = self.settings.value("windowState")
        if layout is not None:
            window.restoreState(layout)
        window.docks["tour"].hide()  # a tour is started, not restored
        try:
            window.set_zoom(float(self.settings.value("zoom", 1.0)))
        except (TypeError, ValueError):
            window.set_zoom(1.0)
        self.fit_to_screen()
        self._fitted_size = window.size()

    def fit_to_screen(self) -> None:
        """The whole window, its frame and title bar included, inside the screen's free area:
        on a first run, with a geometry saved on a bigger screen, after a zoom."""
        window = self.window
        screen = window.screen() or QtGui.QGuiApplication.primaryScreen()
        if screen is None or window.isFullScreen() or window.isMaximized():
            return
        free = screen.availableGeometry()
        frame, inner = window.frameGeometry(), window.geometry()
        # The window manager adds the frame once the window is shown, and Qt learns its size
        # a moment later (app.run's first wait for --tour comes before that); until then,
        # room for a typical title bar and border, so the first frame never needs moving.
        # (Offscreen, a window has no frame once shown.)
        extra_w, extra_h = frame.width() - inner.width(), frame.height() - inner.height()
        framed = QtGui.QGuiApplication.platformName() not in ("offscreen", "minimal")
        if not (extra_w or extra_h) and (framed or not window.isVisible()):
            extra_w, extra_h = FRAME_GUESS
        # until the window is placed: the size it was built or saved with, else its own
        wanted = self._wanted_size if self._wanted_size is not None else inner.size()
        width = min(wanted.width(), free.width() - extra_w)
        height = min(wanted.height(), free.height() - extra_h)
        if (width, height) != (inner.width(), inner.height()):
            window.resize(width, height)
        frame = window.frameGeometry()
        left = min(max(frame.left(), free.left()), free.right() + 1 - frame.width())
        top = min(max(frame.top(), free.top()), free.bottom() + 1 - frame.height())
        if (left, top) != (frame.left(), frame.top()):
            window.move(max(left, free.left()), max(top, free.top()))

    def shown(self) -> None:
        # the frame's real size is known now (or, with some window managers, a moment later)
        QtCore.QTimer.singleShot(0, self._place)
        QtCore.QTimer.singleShot(400, self._placed)

    def _place(self) -> None:
        # a size given by code after the window was built (a script, `shot --size`) stays
        if self._wanted_size is not None and self.window.size() == self._fitted_size:
            self.fit_to_screen()
            self._fitted_size = self.window.size()
        else:
            self._wanted_size = None

    def _placed(self) -> None:
        self._place()
        self._wanted_size = None  # from now on the user's size is the size

    def save_settings(self) -> None:
        window = self.window
        if self.settings is not None:
            self.settings.setValue("geometry", window.saveGeometry())
            self.settings.setValue("windowState", window.saveState())
            self.settings.setValue("preset", window.state.preset)
            self.settings.setValue("device", window.state.device.split(":")[0])
            self.settings.setValue("zoom", ZOOM.factor)
            self.settings.setValue("dtype", window.state.dtype)  # (the Device menu's)
            self.settings.sync()
