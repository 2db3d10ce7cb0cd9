"""One zoom factor for every text on screen, for projectors and the back of a hall.

Qt widgets follow the application font, which `set_zoom` scales. pyqtgraph draws its own
text: titles and labels ask `pt(size)` for their size, axes `tick_font()`, and everything
that draws text redraws on `ZOOM.changed`.
"""
from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

LOWEST, HIGHEST = 0.5, 3.0
PRESENTATION = 1.75  # F5


class Zoom(QtCore.QObject):
    changed = QtCore.Signal(float)

    def __init__(self) -> None:
        super().__init__()
        self.factor = 1.0
        self._base_pt: float | None = None  # the application font's size at zoom 1

    def set(self, factor: float) -> None:
        factor = round(min(max(float(factor), LOWEST), HIGHEST), 2)
        app = QtWidgets.QApplication.instance()
        if app is not None:
            font = app.font()
            if self._base_pt is None:
                self._base_pt = font.pointSizeF() if font.pointSizeF() > 0 else 9.0
            font.setPointSizeF(self._base_pt * factor)
            app.setFont(font)
            # A widget with a style sheet keeps the font it was polished with (and passes it
            # to its children): polished again, it takes the new size.
            for widget in app.allWidgets():
                if widget.styleSheet():
                    widget.setStyleSheet(widget.styleSheet())
        if factor != self.factor:
            self.factor = factor
            self.changed.emit(factor)


ZOOM = Zoom()


def pt(size: float) -> str:
    """A pyqtgraph size string for `size` points at the current zoom: "13.5pt"."""
    return f"{size * ZOOM.factor:.3g}pt"


def font(size: float | None = None, bold: bool = False) -> QtGui.QFont:
    """The application font (already zoomed), optionally `size` points × zoom."""
    app = QtWidgets.QApplication.instance()
    result = QtGui.QFont(app.font()) if app is not None else QtGui.QFont()
    if size is not None:
        result.setPointSizeF(size * ZOOM.factor)
    result.setBold(bold)
    return result
