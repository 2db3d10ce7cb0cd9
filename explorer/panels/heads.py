"""All heads of the selected site at once.

Text: query tokens on the left, key tokens on the right, a line per (query, key, head) whose
opacity is the weight, one colour per head; click a colour to switch that head on or off.
Images: the selected token's attention over the image, one small picture per head.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import torch
from PySide6 import QtCore, QtGui, QtWidgets

from models.sites import token_layout
from models.trace import Trace

from ..analyst import Request
from ..compare import runs_of
from ..i18n import tr
from ..labels import axis_labels, picture, query_heat
from ..state import Selection
from ..widgets import ImageItem
from ..widgets.plots import still
from ..zoom import pt
from .base import Panel

HEAD_COLOURS = [QtGui.QColor(c) for c in ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                           "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
                                           "#393b79", "#637939")]
# Over this many tokens, the lines of all queries are thinned: per query and head only the
# TOP_LINKS strongest keys, drawn as one path per head and opacity step; labels thinned.
MANY_TOKENS = 128
TOP_LINKS = 3
MIN_WEIGHT = 0.02  # lighter links are not drawn
ALPHA_STEPS = 8


def strongest_links(weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each query's TOP_LINKS strongest keys and their weights, [H, Nq, k] each (what a
    thinned heads panel draws)."""
    # torch's top-k: numpy's argpartition took 0.23 s for 4 × 1,019²
    top = torch.from_numpy(weights).topk(min(TOP_LINKS, weights.shape[-1]), dim=-1)
    return top.indices.numpy(), top.values.numpy()


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
        self.top: tuple[np.ndarray, np.ndarray] | None = None  # (keys, weights) [H, Nq, k]
        self._paths: dict[int, list[tuple[float, QtGui.QPainterPath]]] = {}  # per head

    @property
    def thinned(self) -> bool:
        return max(len(self.queries), len(self.keys)) > MANY_TOKENS

    def set_data(self, queries, keys, weights, top=None) -> None:
        """`top`: `strongest_links(weights)` when the lines are thinned, already computed
        (on the analyst thread, for a long input); else computed here."""
        self.queries, self.keys, self.weights = queries, keys, weights
        if len(self.enabled) != weights.shape[0]:
            self.enabled = [True] * weights.shape[0]
        self.top, self._paths = None, {}
        if self.thinned:
            self.top = top if top is not None else strongest_links(weights)
        self.update()

    def resizeEvent(self, event) -> None:
        self._paths = {}  # the lines' ends moved
        super().resizeEvent(event)

    def head_paths(self, h: int) -> list[tuple[float, QtGui.QPainterPath]]:
        """Head h's strongest links of every query, one path per opacity step: a few
        thousand lines in a few draw calls instead of one call each."""
        if h not in self._paths:
            index, weight = self.top
            left, right = self._columns()
            nq, nk = len(self.queries), len(self.keys)
            shift = self.head_offset(h)
            paths = []
            steps = np.ceil(np.clip(weight[h], 0, 1) * ALPHA_STEPS)
            for step in range(1, ALPHA_STEPS + 1):
                path = QtGui.QPainterPath()
                for i, j in zip(*np.nonzero((steps == step) & (weight[h] > MIN_WEIGHT))):
                    path.moveTo(left, self._row_y(i, nq) + shift)
                    path.lineTo(right, self._row_y(index[h, i, j], nk) + shift)
                if not path.isEmpty():
                    paths.append((step / ALPHA_STEPS, path))
            self._paths[h] = paths
        return self._paths[h]

    def label_step(self, n: int) -> int:
        """Every k-th label when the rows are closer than a line of text, so that two drawn
        labels never overlap (at 15–19 tokens in a low dock too, not only a long input)."""
        spacing = (self.height() - 46.0) / max(n, 1)
        line = max(float(self.fontMetrics().height()), 12.0)
        return max(1, int(np.ceil(line / max(spacing, 1e-6))))

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
            if self.top is not None and len(rows) > 1:  # every query of a long input
                p.setBrush(QtCore.Qt.NoBrush)
                for alpha, path in self.head_paths(h):
                    colour.setAlphaF(alpha)
                    p.setPen(QtGui.QPen(colour, width / 2))
                    p.drawPath(path)
                continue
            for i in rows:
                y0 = self._row_y(i, nq) + shift
                for j in np.nonzero(self.weights[h, i] > MIN_WEIGHT)[0]:
                    colour.setAlphaF(float(min(1.0, self.weights[h, i, j])))
                    p.setPen(QtGui.QPen(colour, width))
                    p.drawLine(QtCore.QPointF(left, y0),
                               QtCore.QPointF(right, self._row_y(j, nk) + shift))
        p.setPen(QtCore.Qt.black)
        q_step, k_step = self.label_step(nq), self.label_step(nk)
        for i, text in enumerate(self.queries):
            if q_step > 1 and i != self.query and (
                    i % q_step or (self.query is not None and abs(i - self.query) < q_step)):
                continue  # thinned; and room kept around the selected query's label
            font = p.font()
            font.setBold(i == self.query)
            p.setFont(font)
            p.drawText(QtCore.QRectF(left - 96, self._row_y(i, nq) - 9, 90, 18),
                       QtCore.Qt.AlignRight | QtCore.Qt.AlignVCenter, text)
        font = p.font()
        font.setBold(False)
        p.setFont(font)
        if self.top is not None:
            start = 16.0 + 34 * self.weights.shape[0]  # after the head swatches
            note = tr("{n} tokens: the {top} strongest keys of each query; point at a query "
                      "for all its links").format(n=nq, top=TOP_LINKS)
            note = p.fontMetrics().elidedText(note, QtCore.Qt.ElideRight,
                                              int(self.width() - start - 8))
            p.drawText(QtCore.QRectF(start, 6, self.width() - start - 8, 18),
                       QtCore.Qt.AlignLeft | QtCore.Qt.AlignVCenter, note)
        for j, text in enumerate(self.keys):
            if j % k_step:
                continue
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
            plot = still(self.addPlot(row=h // columns, col=h % columns,
                                      title=tr("head {head}").format(head=h)))
            image, heat = ImageItem(levels=(0, 1)), ImageItem()
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
                    words = tr("head {head} (selected)").format(head=h)
                    plot.setTitle(f"<b>{words}</b>", color="#ff8c00", size=pt(10))
                else:
                    plot.setTitle(tr("head {head}").format(head=h), size=pt(10))
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
        pages = QtWidgets.QWidget()
        self.stack = QtWidgets.QStackedLayout(pages)
        self.stack.addWidget(self.lines)
        self.stack.addWidget(self.images)
        # compare mode's A − B: lines and heat cannot be negative; said, and A is drawn
        self.note = QtWidgets.QLabel()
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: #b00000")
        self.note.hide()
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.note)
        layout.addWidget(pages, 1)
        self.lines.hovered.connect(self._hovered)
        self.request = Request("heads", lambda: self.state.trace)

    def apply_zoom(self, factor: float) -> None:
        self.images.selected = -1  # titles again, at the new size

    def retranslate(self) -> None:
        self.images.selected = -1  # titles again, in the new language
        self._note()

    def update_trace(self, trace: Trace) -> None:
        self.stack.setCurrentWidget(self.lines if token_layout(trace.meta) == "text"
                                    else self.images)
        self._note()

    def _note(self) -> None:
        on = self.state.trace is not None and runs_of(self.state.trace) is not None
        self.note.setText(tr("A − B is not drawn here (a line's width or a heat cannot be "
                             "negative): these are A's weights; the Attention tab shows "
                             "A − B.") if on else "")
        self.note.setVisible(on)

    def _hovered(self, query: int) -> None:
        if not self.request.computing():  # (the lines shown meanwhile may be another run's)
            self.state.hover(query=query, key=None)

    def _arrived(self, trace: Trace, site: str, result: tuple) -> None:
        if self._shown == (site,):
            weights, top = result
            self.lines.set_data(*axis_labels(trace, site), weights, top)
            self.lines.update()

    def update_selection(self, sel: Selection) -> None:
        trace = self.state.trace
        runs = runs_of(trace)
        trace = trace if runs is None else runs[0]  # (A's: said in the note)
        if token_layout(trace.meta) == "text":
            if self._shown != (sel.site,):
                self._shown = (sel.site,)
                site, heads = sel.site, trace.meta["sites"][sel.site]["heads"]

                def job():  # one head's N × N at a time (a long input's: on the analyst thread)
                    weights = np.stack([trace.head_matrix(site, "weights", h)
                                        for h in range(heads)])
                    # the strongest links too: for H × 1,024² weights, tens of ms
                    thinned = max(weights.shape[-2:]) > MANY_TOKENS  # (as the lines decide)
                    return weights, strongest_links(weights) if thinned else None

                ready = all(trace.has_head_matrix(site, "weights", h) for h in range(heads))
                self.request.ask(self.state.trace, self._shown, job,
                                 lambda result: self._arrived(trace, site, result), ready)
            self.lines.set_query(sel.query, sel.head)
            return
        info = trace.meta["sites"][sel.site]
        heats: list[np.ndarray | None] = []
        for h in range(info["heads"]):
            heats.append(None if sel.query is None else
                         query_heat(trace, sel.site, sel.window, h, sel.query))
        self.images.show_heads(picture(trace), heats, sel.head)
