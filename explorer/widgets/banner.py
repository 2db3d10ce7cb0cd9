"""A notice over a result that no longer matches what the user asked for.

A refused input or a model that cannot be opened leaves the previous result on screen; the
banner says so where people look (over the plot and over the prediction), not only in the
status bar, and stays until a new result replaces the old one.
"""
from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

from ..text import plain, tip

STALE_STYLE = ("background: #fff1c2; color: #6b3a00; border: 2px solid #e0a000; "
               "border-radius: 3px; padding: 4px")


class StaleBanner(QtWidgets.QLabel):
    def __init__(self, covers: QtWidgets.QWidget | None = None) -> None:
        super().__init__()
        self.covers = covers  # the result it speaks of: faded while the banner is up
        self.veil: Veil | None = None
        self.setWordWrap(True)  # a long reason wraps; it is never cut
        plain(self)  # what it says may quote a token: never read as HTML
        self.setTextInteractionFlags(QtCore.Qt.TextSelectableByMouse)
        self.setStyleSheet(STALE_STYLE)
        self.hide()

    def say(self, text: str) -> None:
        """Show `text` ('' hides the banner)."""
        if text == self.text() and self.isHidden() != bool(text):
            return  # said already (every run says '' to the hidden banner)
        self.setText(text)
        self.setToolTip(tip(text))
        self.setVisible(bool(text))
        if self.covers is not None:
            if text and self.veil is None:
                self.veil = Veil(self.covers)
            elif not text and self.veil is not None:
                self.veil.deleteLater()
                self.veil = None


class Veil(QtWidgets.QWidget):
    """A light wash over a stale result (a child drawn over its parent's other children: a
    graphics effect on plots drew stale pixels), letting the mouse through."""

    def __init__(self, parent: QtWidgets.QWidget) -> None:
        super().__init__(parent)
        self.setAttribute(QtCore.Qt.WA_TransparentForMouseEvents)
        parent.installEventFilter(self)
        self.setGeometry(parent.rect())
        self.show()
        self.raise_()

    def eventFilter(self, watched, event) -> bool:
        if event.type() == QtCore.QEvent.Resize:
            self.setGeometry(watched.rect())
        elif event.type() == QtCore.QEvent.ChildAdded:
            self.raise_()
        return False

    def paintEvent(self, event) -> None:
        painter = QtGui.QPainter(self)
        painter.fillRect(self.rect(), QtGui.QColor(255, 255, 255, 150))


def with_banner(widget: QtWidgets.QWidget) -> tuple[QtWidgets.QWidget, StaleBanner]:
    """`widget` with a banner above it, as one widget."""
    box = QtWidgets.QWidget()
    layout = QtWidgets.QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(2)
    banner = StaleBanner(widget)
    layout.addWidget(banner)
    layout.addWidget(widget, 1)
    return box, banner


class ElidedLabel(QtWidgets.QLabel):
    """One line that ends in '…' when it does not fit, the whole text in its tooltip (the
    status bar's messages; the banner above the plot says what matters in full)."""

    def __init__(self) -> None:
        super().__init__()
        self.setProperty("elides", True)
        self.setSizePolicy(QtWidgets.QSizePolicy.Ignored, QtWidgets.QSizePolicy.Preferred)

    def setText(self, text: str) -> None:
        super().setText(text)
        self.setToolTip(tip(text))

    def minimumSizeHint(self) -> QtCore.QSize:
        return QtCore.QSize(0, super().minimumSizeHint().height())

    def paintEvent(self, event) -> None:
        painter = QtGui.QPainter(self)
        painter.setPen(self.palette().color(QtGui.QPalette.WindowText))
        room = self.contentsRect()
        text = self.fontMetrics().elidedText(self.text(), QtCore.Qt.ElideRight, room.width())
        painter.drawText(room, QtCore.Qt.AlignLeft | QtCore.Qt.AlignVCenter, text)


class DockTitle(QtWidgets.QWidget):
    """A dock's title bar in the application font, so it zooms with every other text (Qt
    draws its own title in a font it keeps from the window's creation); float and close
    buttons as Qt's own, dragging and double-clicking left to the dock."""

    def __init__(self, dock: QtWidgets.QDockWidget) -> None:
        super().__init__(dock)
        self.label = QtWidgets.QLabel(dock.windowTitle())
        dock.windowTitleChanged.connect(self.label.setText)
        row = QtWidgets.QHBoxLayout(self)
        row.setContentsMargins(4, 0, 2, 0)
        row.addWidget(self.label, 1)
        for icon, slot in ((QtWidgets.QStyle.SP_TitleBarNormalButton,
                            lambda: dock.setFloating(not dock.isFloating())),
                           (QtWidgets.QStyle.SP_TitleBarCloseButton, dock.close)):
            button = QtWidgets.QToolButton()
            button.setIcon(self.style().standardIcon(icon))
            button.setAutoRaise(True)
            button.setIconSize(QtCore.QSize(10, 10))
            button.setFixedSize(16, 16)  # as low as Qt's own title bar
            button.setFocusPolicy(QtCore.Qt.NoFocus)
            button.clicked.connect(slot)
            row.addWidget(button)
