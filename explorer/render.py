"""Pictures of a panel or the window: PNG at 1×, 2× or 3× its pixels, or SVG (vector, its
labels as text). Used by File ▸ Export panel…, the scripting API and `python main.py export`."""
from __future__ import annotations

from pathlib import Path

from PySide6 import QtCore, QtGui, QtSvg, QtWidgets

from models.tasks.text import InputError

EXPORT_FILTERS = {"PNG 1× (*.png)": 1, "PNG 2× (*.png)": 2, "PNG 3× (*.png)": 3,
                  "SVG, vector (*.svg)": 0}


def render(widget: QtWidgets.QWidget, path: str | Path, scale: float = 1) -> Path:
    """Write `widget` as it is on screen, highlights and lock included: PNG at `scale` times
    its pixels (text and lines drawn again at that size, not blown up), or SVG by suffix."""
    path = Path(path)
    suffix = path.suffix.lower()
    size = widget.size()
    if suffix == ".svg":
        generator = QtSvg.QSvgGenerator()
        generator.setFileName(str(path))
        generator.setSize(size)
        generator.setViewBox(QtCore.QRect(QtCore.QPoint(0, 0), size))
        generator.setTitle(widget.windowTitle() or type(widget).__name__)
        generator.setDescription("Transformer Explorer")
        painter = QtGui.QPainter(generator)
        widget.render(painter, QtCore.QPoint(0, 0))
        painter.end()
        if not path.is_file():
            raise InputError(f"could not write {path}")
        return path
    if suffix != ".png":
        raise InputError(f"export writes .png or .svg files, not '{suffix or path.name}'")
    if not 1 <= scale <= 4:
        raise InputError(f"scale must be from 1 to 4, not {scale}")
    image = QtGui.QImage(int(size.width() * scale), int(size.height() * scale),
                         QtGui.QImage.Format_ARGB32)
    image.setDevicePixelRatio(scale)
    image.fill(QtCore.Qt.white)
    painter = QtGui.QPainter(image)
    widget.render(painter, QtCore.QPoint(0, 0))
    painter.end()
    if not image.save(str(path)):
        raise InputError(f"could not write {path}")
    return path


