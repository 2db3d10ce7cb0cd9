"""Small helpers for the still (non-zoomable) pyqtgraph pictures every panel uses."""
from __future__ import annotations

import pyqtgraph as pg
from PySide6 import QtWidgets

FOCUS_COLOUR = (255, 140, 0)


def still(plot: pg.PlotItem, axes: bool = False, aspect: bool = True) -> pg.PlotItem:
    """Rows downwards like a matrix; no zoom, pan, menu or buttons (hover is the interaction)."""
    plot.setMenuEnabled(False)
    plot.setMouseEnabled(False, False)
    plot.hideButtons()
    plot.invertY(True)
    if aspect:
        plot.setAspectLocked(True)
    if not axes:
        plot.hideAxis("left")
        plot.hideAxis("bottom")
    return plot


def focus_rect(plot: pg.PlotItem, colour=FOCUS_COLOUR,
               width: int = 3) -> QtWidgets.QGraphicsRectItem:
    """An outline added to `plot`, for the selected token, patch, head or window."""
    rect = QtWidgets.QGraphicsRectItem()
    rect.setPen(pg.mkPen(colour, width=width, cosmetic=True))
    plot.addItem(rect)
    return rect
