"""MatrixView: a labelled heatmap with a colour bar, hover read-out and linked highlights.

Items are created once; `set_matrix` only updates them (`setImage(..., autoLevels=False)`).
Hover and click report cells through signals; the owner turns them into AppState calls
and gives the shared selection back through `set_highlight`.
"""
from __future__ import annotations

import math
from html import escape

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from .plots import still

SIGNED = pg.colormap.get("CET-D1")  # diverging, centred on 0
PROBABILITY = pg.colormap.get("viridis")
LABEL_HEIGHT_PX = 14  # room one row label needs
HIGHLIGHT = QtGui.QColor(255, 140, 0)


def short(label: str, width: int = 9) -> str:
    return label if len(label) <= width else label[: width - 1] + "…"


class MatrixView(pg.GraphicsLayoutWidget):
    hovered = QtCore.Signal(int, int)  # row, column; the selection stays when the mouse leaves
    clicked = QtCore.Signal(int, int)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(160, 160)
        self.ci.layout.setContentsMargins(2, 2, 2, 2)
        self.plot = still(self.addPlot(row=0, col=0), axes=True, aspect=False)
        self.plot.getViewBox().setDefaultPadding(0)
        for axis in ("left", "bottom"):  # labels are tokens: no SI prefix re-set per range
            self.plot.getAxis(axis).enableAutoSIPrefix(False)
        self.image = pg.ImageItem(np.zeros((1, 1), np.float32))
        self.plot.addItem(self.image)
        self.masked = pg.ImageItem(np.zeros((1, 1, 4), np.ubyte))  # grey over blocked cells
        self.plot.addItem(self.masked)
        self.colorbar = pg.ColorBarItem(values=(0, 1), colorMap=PROBABILITY, interactive=False,
                                        width=10)
        self.colorbar.setImageItem(self.image, insert_in=self.plot)
        pen = pg.mkPen(HIGHLIGHT, width=2, cosmetic=True)
        self.row_box = QtWidgets.QGraphicsRectItem()
        self.col_box = QtWidgets.QGraphicsRectItem()
        self.cell_box = QtWidgets.QGraphicsRectItem()
        for box in (self.row_box, self.col_box, self.cell_box):
            box.setPen(pen)
            box.setZValue(10)
            box.hide()
            self.plot.addItem(box)
        self.cell_box.setPen(pg.mkPen("k", width=3, cosmetic=True))
        self.readout = self.addLabel("", row=1, col=0, justify="left", size="9pt")
        self.readout_text = ""  # what the read-out says, as plain text
        self.title: str | None = None
        self._cmap = PROBABILITY
        self._levels: tuple[float, float] = (0.0, 1.0)
        self.data = np.zeros((1, 1), np.float32)
        self.row_labels: list[str] = []
        self.col_labels: list[str] = []
        self._hover_cell: tuple[int, int] | None = None
        self.scene().sigMouseMoved.connect(self._mouse_moved)
        self.scene().sigMouseClicked.connect(self._mouse_clicked)

    # -- data ----------------------------------------------------------------
    def set_matrix(self, data: np.ndarray, row_labels: list[str], col_labels: list[str],
                   title: str, signed: bool = False, levels: tuple[float, float] | None = None,
                   blocked: np.ndarray | None = None) -> None:
        data = np.ascontiguousarray(data, dtype=np.float32)
        if levels is None:
            if signed:
                peak = float(np.nanmax(np.abs(data[np.isfinite(data)]), initial=1e-6)) or 1e-6
                levels = (-peak, peak)
            else:
                levels = (0.0, 1.0)
        cmap = SIGNED if signed else PROBABILITY
        if cmap is not self._cmap:  # rebuilding the bar's gradient is not free
            self.colorbar.setColorMap(cmap)
            self._cmap = cmap
        if levels != self._levels:
            self.colorbar.setLevels(levels)
            self._levels = levels
        shown = np.where(np.isfinite(data), data, levels[0]).astype(np.float32)
        self.image.setImage(shown, autoLevels=False, levels=levels)
        rows, cols = data.shape
        self.image.setRect(QtCore.QRectF(0, 0, cols, rows))
        if blocked is not None and blocked.any():
            overlay = np.zeros((rows, cols, 4), np.ubyte)
            overlay[blocked] = (150, 150, 150, 255)
            self.masked.setImage(overlay, autoLevels=False)
            self.masked.setRect(QtCore.QRectF(0, 0, cols, rows))
            self.masked.show()
        else:
            self.masked.hide()
        new_axes = (row_labels, col_labels) != (self.row_labels, self.col_labels)
        reshaped = new_axes or data.shape != self.data.shape
        self.data, self.row_labels, self.col_labels = data, row_labels, col_labels
        if reshaped:
            self._set_ticks()
            self.plot.setRange(xRange=(0, cols), yRange=(0, rows), padding=0)
        if title != self.title:  # a new title re-lays out the whole plot
            self.title = title
            self.plot.setTitle(title, size="10pt")
            reshaped = True
        self._show_readout()
        if reshaped:
            # Settle the layout and the view's transform now, not while painting: left to
            # pyqtgraph they change during the first paint and cost a second one.
            self.ci.layout.activate()
            self.plot.layout.activate()
            self.plot.vb.updateMatrix()

    def _set_ticks(self) -> None:
        """As many labels as fit: every k-th one when the view is small."""
        box = self.plot.vb.sceneBoundingRect()
        height, width = max(box.height(), 40.0), max(box.width(), 40.0)
        for axis, labels, room in (("left", self.row_labels, height / LABEL_HEIGHT_PX),
                                   ("bottom", self.col_labels, None)):
            if room is None:  # columns: as wide as the longest label shown
                longest = max((len(short(lab)) for lab in labels), default=1)
                room = width / (7 * longest + 8)
            step = max(1, math.ceil(len(labels) / max(room, 1)))
            ticks = [(i + 0.5, short(lab)) for i, lab in enumerate(labels) if i % step == 0]
            self.plot.getAxis(axis).setTicks([ticks, []])
        # Axes sized here from the labels they will show: left to pyqtgraph, they size
        # themselves while painting and so every new set of labels cost a second paint.
        metrics = QtGui.QFontMetrics(self.plot.getAxis("left").font())
        longest = max((metrics.horizontalAdvance(short(lab)) for lab in self.row_labels),
                      default=0)
        self.plot.getAxis("left").setWidth(longest + 12)
        self.plot.getAxis("bottom").setHeight(metrics.height() + 10)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if hasattr(self, "col_labels"):  # pyqtgraph resizes once inside __init__
            self._set_ticks()

    # -- highlight -------------------------------------------------------------
    def set_highlight(self, row: int | None, col: int | None, locked: bool = False) -> None:
        rows, cols = self.data.shape
        row = row if row is not None and 0 <= row < rows else None
        col = col if col is not None and 0 <= col < cols else None
        self.row_box.setVisible(row is not None)
        self.col_box.setVisible(col is not None)
        self.cell_box.setVisible(row is not None and col is not None and locked)
        if row is not None:
            self.row_box.setRect(0, row, cols, 1)
        if col is not None:
            self.col_box.setRect(col, 0, 1, rows)
        if row is not None and col is not None:
            self.cell_box.setRect(col, row, 1, 1)
        self._show_readout(row, col)

    def _show_readout(self, row: int | None = None, col: int | None = None) -> None:
        if row is None and self._hover_cell:
            row, col = self._hover_cell
        text = ""
        rows, cols = self.data.shape
        if row is not None and col is not None and row < rows and col < cols:
            r = self.row_labels[row] if row < len(self.row_labels) else str(row)
            c = self.col_labels[col] if col < len(self.col_labels) else str(col)
            text = f"[{row}, {col}]  {r} → {c}  =  {self.data[row, col]:.4g}"
        if text != self.readout_text:  # the label reads HTML: "<eos>" must not vanish
            self.readout_text = text
            self.readout.setText(escape(text))

    # -- mouse -----------------------------------------------------------------
    def cell_at(self, scene_pos: QtCore.QPointF) -> tuple[int, int] | None:
        if not self.plot.vb.sceneBoundingRect().contains(scene_pos):
            return None
        point = self.plot.vb.mapSceneToView(scene_pos)
        row, col = int(math.floor(point.y())), int(math.floor(point.x()))
        if 0 <= row < self.data.shape[0] and 0 <= col < self.data.shape[1]:
            return row, col
        return None

    def _mouse_moved(self, scene_pos: QtCore.QPointF) -> None:
        cell = self.cell_at(scene_pos)
        if cell == self._hover_cell:
            return
        self._hover_cell = cell
        if cell is None:
            return
        self.hovered.emit(*cell)
        self.setToolTip(self.readout_text)

    def _mouse_clicked(self, event) -> None:
        cell = self.cell_at(event.scenePos())
        if cell is not None and event.button() == QtCore.Qt.LeftButton:
            self.clicked.emit(*cell)

    def leaveEvent(self, event: QtCore.QEvent) -> None:
        self._hover_cell = None
        super().leaveEvent(event)
