"""All heads of the selected site at once.

Text: query tokens on the left, key tokens on the right, a line per (query, key, head) whose
opacity is the weight, one colour per head; click a colour to switch that head on or off.
Images: the selected token's attention over the image, one small picture per head.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from models.analysis import token_layout
from models.trace import Trace

from ..labels import axis_labels, picture, query_heat
from ..state import Selection
from ..widgets.plots import still
from ..zoom import pt
from .base import Panel

HEAD_COLOURS = [QtGui.QColor(c) for c in ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                           "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
                                           "#393b79", "#637939")]


class HeadLines(QtWidgets.QWidget):
    """Painted lines between two token columns; one pass of QPainter, no item per edge."""

    hovered = QtCore.Signal(int)  # query index
    toggled = QtCore.Signal()

    def __init__(self) -> None:
        super().__init__()
        self.setMouseTracking(True)
        self.setMinimumSize(260, 200)
        self.setAttribute(QtCore.Qt.WA_OpaquePaintEvent)  # paintEvent fills every pixel
        self.queries: list[str] = []
        self.keys: list[str] = []
        self.weights = np.zeros((0, 1, 1))  # (H, Nq, Nk); no heads until the first trace
        self.enabled: list[bool] = []
        self.query: int | None = None
        self.head = 0  # the selected head: drawn on top, wider, its swatch outlined
        self._swatches: list[QtCore.QRectF] = []

    def set_data(self, queries, keys, weights) -> None:
        self.queries, self.keys, self.weights = queries, keys, weights
        if len(self.enabled) != weights.shape[0]:
            self.enabled = [True] * weights.shape[0]
        self.update()

    def set_query(self, query: int | None, head: int = 0) -> None:
        if (query, head) != (self.query, self.head):
            self.query, self.head = query, head
            self.update()

    def head_offset(self, head: int) -> float:
        """Vertical offset of a head's lines, so heads that attend alike lie side by side
        instead of on top of one another."""
        heads = self.weights.shape[0]
        return (head - (heads - 1) / 2) * min(3.0, 12.0 / max(heads, 1))

    def _columns(self) -> tuple[float, float]:
        """x of the query and key columns: at most 420 px apart, centred."""
        middle, half = self.width() / 2, min(210.0, self.width() / 2 - 90.0)
        return middle - half, middle + half

    def _row_y(self, i: int, n: int) -> float:
        top, bottom = 36.0, self.height() - 10.0
        return top + (bottom - top) * (i + 0.5) / max(n, 1)

    def paintEvent(self, event) -> None:
        p = QtGui.QPainter(self)
        p.setRenderHint(QtGui.QPainter.Antialiasing)
        p.fillRect(self.rect(), QtCore.Qt.white)
        self._swatches = []
        for h in range(self.weights.shape[0]):  # head toggles
            box = QtCore.QRectF(8 + h * 34, 6, 30, 18)
            self._swatches.append(box)
            colour = QtGui.QColor(HEAD_COLOURS[h % len(HEAD_COLOURS)])
            if not self.enabled[h]:
                colour.setAlpha(40)
            p.fillRect(box, colour)
            p.setPen(QtCore.Qt.white if self.enabled[h] else QtCore.Qt.gray)
            p.drawText(box, QtCore.Qt.AlignCenter, f"h{h}")
            if h == self.head:
                p.setPen(QtGui.QPen(QtCore.Qt.black, 3))
                p.drawRect(box.adjusted(-2, -2, 2, 2))
        left, right = self._columns()
        nq, nk = len(self.queries), len(self.keys)
        rows = [self.query] if self.query is not None and self.query < nq else range(nq)
        # the selected head last, so that it lies on top
        heads = sorted((h for h in range(self.weights.shape[0]) if self.enabled[h]),
                       key=lambda h: h == self.head)
        for h in heads:
            colour = QtGui.QColor(HEAD_COLOURS[h % len(HEAD_COLOURS)])
            width = 3.5 if h == self.head else 2.0
            shift = self.head_offset(h)
            for i in rows:
                y0 = self._row_y(i, nq) + shift
                for j in np.nonzero(self.weights[h, i] > 0.02)[0]:
                    colour.setAlphaF(float(min(1.0, self.weights[h, i, j])))
                    p.setPen(QtGui.QPen(colour, width))
                    p.drawLine(QtCore.QPointF(left, y0),
                               QtCore.QPointF(right, self._row_y(j, nk) + shift))
        p.setPen(QtCore.Qt.black)
        for i, text in enumerate(self.queries):
            font = p.font()
            font.setBold(i == self.query)
            p.setFont(font)
            p.drawText(QtCore.QRectF(left - 96, self._row_y(i, nq) - 9, 90, 18),
                       QtCore.Qt.AlignRight | QtCore.Qt.AlignVCenter, text)
        font = p.font()
        font.setBold(False)
        p.setFont(font)
        for j, text in enumerate(self.keys):
            p.drawText(QtCore.QRectF(right + 6, self._row_y(j, nk) - 9, 84, 18),
                       QtCore.Qt.AlignLeft | QtCore.Qt.AlignVCenter, text)
        p.end()

    def mousePressEvent(self, event) -> None:
        for h, box in enumerate(self._swatches):
            if box.contains(event.position()):
                self.toggle_head(h)
                return

    def toggle_head(self, head: int) -> None:
        self.enabled[head] = not self.enabled[head]
        self.update()
        self.toggled.emit()

    def mouseMoveEvent(self, event) -> None:
        pos = event.position()
        if pos.x() < self._columns()[0] and self.queries:
            i = int((pos.y() - 36.0) / max(self.height() - 46.0, 1) * len(self.queries))
            if 0 <= i < len(self.queries):
                self.hovered.emit(i)


class HeadImages(pg.GraphicsLayoutWidget):
    """One picture per head: the selected token's attention over the input image."""

    def __init__(self) -> None:
        super().__init__()
        self.pictures: list[tuple[pg.ImageItem, pg.ImageItem, pg.PlotItem]] = []
        self.selected = -1
        self.lut = pg.colormap.get("inferno").getLookupTable(nPts=256)

    def ensure(self, heads: int) -> None:
        if len(self.pictures) == heads:
            return
        self.clear()
        self.pictures = []
        self.selected = -1
        columns = int(np.ceil(np.sqrt(heads)))
        for h in range(heads):
            plot = still(self.addPlot(row=h // columns, col=h % columns, title=f"head {h}"))
            image, heat = pg.ImageItem(levels=(0, 1)), pg.ImageItem()
            heat.setLookupTable(self.lut)
            heat.setOpacity(0.65)
            plot.addItem(image)
            plot.addItem(heat)
            self.pictures.append((image, heat, plot))

    def show_heads(self, image: np.ndarray, heats: list[np.ndarray | None],
                   selected: int = 0) -> None:
        self.ensure(len(heats))
        if selected != self.selected:
            self.selected = selected
            for h, (_, _, plot) in enumerate(self.pictures):
                if h == selected:
                    plot.setTitle(f"<b>head {h} (selected)</b>", color="#ff8c00", size=pt(10))
                else:
                    plot.setTitle(f"head {h}", size=pt(10))
        for (item, heat_item, _), heat in zip(self.pictures, heats):
            item.setImage(image, autoLevels=False, levels=(0, 1))
            if heat is None:
                heat_item.hide()
                continue
            scale = image.shape[0] // heat.shape[0]
            big = np.kron(heat / max(float(heat.max()), 1e-9), np.ones((scale, scale)))
            heat_item.setImage(big.astype(np.float32), autoLevels=False, levels=(0, 1))
            heat_item.show()


class HeadsPanel(Panel):
    name = "heads"
    title = "Heads"

    def __init__(self, state, parent=None) -> None:
        super().__init__(state, parent)
        self.lines = HeadLines()
        self.images = HeadImages()
        self.stack = QtWidgets.QStackedLayout(self)
        self.stack.addWidget(self.lines)
        self.stack.addWidget(self.images)
        self.lines.hovered.connect(lambda i: self.state.hover(query=i, key=None))

    def apply_zoom(self, factor: float) -> None:
        self.images.selected = -1  # titles again, at the new size

    def update_trace(self, trace: Trace) -> None:
        self.stack.setCurrentWidget(self.lines if token_layout(trace.meta) == "text"
                                    else self.images)

    def update_selection(self, sel: Selection) -> None:
        trace = self.state.trace
        weights = trace[f"{sel.site}/weights"]
        if token_layout(trace.meta) == "text":
            if self._shown != (sel.site,):
                self.lines.set_data(*axis_labels(trace, sel.site), weights)
                self._shown = (sel.site,)
            self.lines.set_query(sel.query, sel.head)
            return
        info = trace.meta["sites"][sel.site]
        heats: list[np.ndarray | None] = []
        for h in range(info["heads"]):
            heats.append(None if sel.query is None else
                         query_heat(trace, sel.site, sel.window, h, sel.query))
        self.images.show_heads(picture(trace), heats, sel.head)
