"""The tokens of the selected site: text as two linked strips, images as the patch grid.

Text: queries on top, keys below, a line from the selected query to every key whose
opacity is the selected head's weight. Images: the model's input with its patch grid
(ViT) or the site's window grid (Swin), the selected token outlined and its attention
laid over the image.
"""
from __future__ import annotations

import re
from html import escape

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from models.analysis import prefix_tokens
from models.sites import kind_of, token_layout
from models.trace import Trace

from ..analyst import Request
from ..i18n import tr
from ..labels import picture, query_heat, site_tokens, window_token_at, window_token_cell
from ..state import Selection
from ..widgets import ImageItem
from ..widgets.matrix_view import elastic
from ..widgets.plots import focus_rect, still
from ..zoom import ZOOM, pt
from ..zoom import font as zoom_font
from .base import Panel

QUERY_COLOUR = QtGui.QColor(255, 140, 0)
KEY_COLOUR = QtGui.QColor(30, 110, 220)
TEMPLATE_COLOUR = QtGui.QColor(140, 140, 140)  # a chat template's tokens: not typed


class TokenStrip(QtWidgets.QWidget):
    """Painted token boxes; cheap to repaint, no item per token."""

    hovered = QtCore.Signal(str, int)  # "query" | "key", index
    clicked = QtCore.Signal(str, int)

    def __init__(self) -> None:
        super().__init__()
        self.setMouseTracking(True)
        self.setMinimumHeight(120)
        self.setAttribute(QtCore.Qt.WA_OpaquePaintEvent)  # paintEvent fills every pixel
        self.queries: list[str] = []
        self.keys: list[str] = []
        self.unknown: set[int] = set()  # key indices of unknown words
        self.template: set[int] = set()  # the tokens a chat template added (grey, dashed)
        self.weights: np.ndarray | None = None  # (Nq, Nk) of the selected head
        self.query: int | None = None
        self.key: int | None = None
        self._boxes: dict[str, list[QtCore.QRectF]] = {"query": [], "key": []}
        self._hover: tuple[str, int] | None = None
        # The two rows of boxes and words, none chosen, as painted over the exposed part:
        # a hover repaints the lines and the two chosen boxes over this picture instead of
        # every box and word (64 tokens: 7.5 ms of a hover's 19 ms at GPT-2-small size).
        self._rows_key: tuple | None = None
        self._rows: QtGui.QPixmap | None = None
        self._generation = 0  # bumped when the tokens or their boxes change

    def set_tokens(self, queries, keys, weights, unknown=()) -> None:
        self.queries, self.keys, self.weights = list(queries), list(keys), weights
        self.unknown = set(unknown)
        self._layout()
        self.update()

    def set_template(self, indices) -> None:
        """The tokens a chat template added (before `set_tokens`)."""
        self.template = set(indices)
        self._generation += 1

    def set_selection(self, query, key) -> None:
        if (query, key) != (self.query, self.key):
            self.query, self.key = query, key
            self.update()

    def resizeEvent(self, event) -> None:
        self._layout()
        super().resizeEvent(event)

    def changeEvent(self, event) -> None:
        if event.type() == QtCore.QEvent.FontChange:  # zoom: boxes as big as the text
            self._layout()
            self.update()
        super().changeEvent(event)

    def natural_width(self) -> int:
        """Width the longer row needs at the smallest gap: a long text is wider than the
        panel, and the scroll area around the strip then scrolls."""
        metrics = QtGui.QFontMetricsF(self.font())
        need = [sum(metrics.horizontalAdvance(t) + 12 for t in tokens)
                + 2.0 * max(0, len(tokens) - 1) for tokens in (self.queries, self.keys)]
        return int(max(need) + 17)

    def box(self, row: str, index: int) -> QtCore.QRectF | None:
        boxes = self._boxes[row]
        return boxes[index] if 0 <= index < len(boxes) else None

    def _layout(self) -> None:
        self._generation += 1
        metrics = QtGui.QFontMetricsF(self.font())
        height = metrics.height() + 8
        self.setMinimumWidth(self.natural_width())
        for row, tokens, y in (("query", self.queries, 8.0),
                               ("key", self.keys, self.height() - height - 8.0)):
            widths = [metrics.horizontalAdvance(t) + 12 for t in tokens]
            gap = max(2.0, (self.width() - 16 - sum(widths)) / max(1, len(tokens) - 1))
            gap = min(gap, 40.0)
            x = max(8.0, (self.width() - sum(widths) - gap * (len(tokens) - 1)) / 2)
            boxes = []
            for w in widths:
                boxes.append(QtCore.QRectF(x, y, w, height))
                x += w + gap
            self._boxes[row] = boxes

    def paintEvent(self, event) -> None:
        p = QtGui.QPainter(self)
        p.setRenderHint(QtGui.QPainter.Antialiasing)
        p.fillRect(self.rect(), QtCore.Qt.white)
        q_boxes, k_boxes = self._boxes["query"], self._boxes["key"]
        exposed = QtCore.QRectF(event.rect())
        if self.weights is not None and self.query is not None and self.query < len(q_boxes):
            start = q_boxes[self.query]
            row = self.weights[self.query]
            # Only what crosses the exposed part (a long text's strip is thousands of pixels
            # wide), in opaque colours mixed with the white ground, weakest first: Qt
            # strokes a wide antialiased line with alpha ~15× slower than an opaque one
            # (0.24 ms against 0.015: 17 ms a hover at 512 tokens).
            left, right = exposed.left() - 8, exposed.right() + 8
            shown = np.clip(row[: len(k_boxes)], 0, 1)
            seen = np.flatnonzero(shown >= 0.5 / 255)  # a visible line: a long text has few
            for j in seen[np.argsort(shown[seen], kind="stable")]:
                weight = float(shown[j])
                ends = visible_part(QtCore.QPointF(start.center().x(), start.bottom()),
                                    QtCore.QPointF(k_boxes[j].center().x(), k_boxes[j].top()),
                                    left, right)
                if ends is not None:
                    p.setPen(QtGui.QPen(on_white(QUERY_COLOUR, weight), 1 + 5 * weight))
                    p.drawLine(*ends)
        area = event.rect()
        p.drawPixmap(area.topLeft(), self._rows_picture(area))
        for row, index in (("query", self.query), ("key", self.key)):
            box = self.box(row, index) if index is not None else None
            if box is not None and box.intersects(exposed):  # over its unchosen look
                p.fillRect(box.adjusted(-1.5, -1.5, 1.5, 1.5), QtCore.Qt.white)
                self._paint_box(p, row, index, chosen=True)
        p.end()

    def _rows_picture(self, area: QtCore.QRect) -> QtGui.QPixmap:
        """Both rows' boxes and words, none chosen, over `area` (transparent around)."""
        ratio = self.devicePixelRatioF()
        key = (area.x(), area.y(), area.width(), area.height(), ratio, self._generation)
        if key != self._rows_key or self._rows is None:
            pixmap = QtGui.QPixmap(area.size() * ratio)
            pixmap.setDevicePixelRatio(ratio)
            pixmap.fill(QtCore.Qt.transparent)
            p = QtGui.QPainter(pixmap)
            p.setRenderHint(QtGui.QPainter.Antialiasing)
            p.setFont(self.font())
            p.translate(-area.x(), -area.y())
            exposed = QtCore.QRectF(area)
            for row in ("query", "key"):
                for i, box in enumerate(self._boxes[row]):
                    if box.intersects(exposed):  # (not scrolled out of view)
                        self._paint_box(p, row, i, chosen=False)
            p.end()
            self._rows_key, self._rows = key, pixmap
        return self._rows

    def _paint_box(self, p: QtGui.QPainter, row: str, i: int, chosen: bool) -> None:
        box = self._boxes[row][i]
        colour = QUERY_COLOUR if row == "query" else KEY_COLOUR
        text = (self.queries if row == "query" else self.keys)[i]
        fill = QtGui.QColor(colour)
        fill.setAlpha(220 if chosen else 35)
        p.setPen(QtGui.QPen(colour, 2 if chosen else 1))
        p.setBrush(fill)
        p.drawRoundedRect(box, 4, 4)
        p.setPen(QtCore.Qt.white if chosen else QtCore.Qt.black)
        if i in self.template and not chosen:  # the chat template's, not typed
            p.setPen(TEMPLATE_COLOUR)
        p.drawText(box, QtCore.Qt.AlignCenter, text)
        if row == "key" and i in self.unknown:
            p.setPen(QtGui.QPen(QtGui.QColor(220, 0, 0), 2, QtCore.Qt.DotLine))
            p.drawLine(box.bottomLeft() + QtCore.QPointF(3, 2),
                       box.bottomRight() + QtCore.QPointF(-3, 2))

    def token_at(self, pos: QtCore.QPointF) -> tuple[str, int] | None:
        for row, boxes in self._boxes.items():
            for i, box in enumerate(boxes):
                if box.contains(pos):
                    return row, i
        return None

    def mouseMoveEvent(self, event) -> None:
        hit = self.token_at(event.position())
        if hit != self._hover:
            self._hover = hit
            if hit is not None:
                self.hovered.emit(*hit)

    def mousePressEvent(self, event) -> None:
        hit = self.token_at(event.position())
        if hit is not None:
            self.clicked.emit(*hit)

    def leaveEvent(self, event) -> None:
        self._hover = None


def on_white(colour, alpha: float) -> QtGui.QColor:
    """`colour` at `alpha` over white, as an opaque colour."""
    c = QtGui.QColor(colour)
    return QtGui.QColor(*(round(255 + (v - 255) * alpha) for v in (c.red(), c.green(), c.blue())))


def visible_part(a: QtCore.QPointF, b: QtCore.QPointF, left: float,
                 right: float) -> tuple[QtCore.QPointF, QtCore.QPointF] | None:
    """The segment a–b cut to left ≤ x ≤ right; None when none of it is there."""
    if max(a.x(), b.x()) < left or min(a.x(), b.x()) > right:
        return None
    dx = b.x() - a.x()
    if dx == 0:
        return a, b

    def at(x: float) -> QtCore.QPointF:
        return QtCore.QPointF(x, a.y() + (b.y() - a.y()) * (x - a.x()) / dx)

    low, high = sorted((a.x(), b.x()))
    return at(max(low, left)), at(min(high, right))


# a line may break at a space or between two Chinese characters (written without spaces)
BREAKABLE = re.compile(r"\s+|[\u3000-\u9fff\uff00-\uffef]|[^\s\u3000-\u9fff\uff00-\uffef]+")


class Caption:
    """A picture's caption, wrapped to the picture's width (pyqtgraph labels do not wrap)."""

    def __init__(self, view: pg.GraphicsView, label: pg.LabelItem) -> None:
        # elastic: a line of the caption never widens the picture past the view (it did by
        # the layout's margins, and the patch numbers at the right were cut)
        self.view, self.label, self.text = view, elastic(label), ""

    def setText(self, text: str) -> None:
        self.text = text
        metrics = QtGui.QFontMetrics(zoom_font(9))
        left, _, right, _ = self.view.ci.layout.getContentsMargins()
        room = max(self.view.width() - int(left + right) - 16, 80)
        lines: list[str] = []
        for part in text.replace("<br>", "\n").split("\n"):
            line = ""
            for piece in BREAKABLE.findall(part):  # a word, a space or one Chinese character
                if line.strip() and metrics.horizontalAdvance(line + piece) > room:
                    lines.append(line.strip())
                    line = piece.lstrip()
                else:
                    line += piece
            lines.append(line.strip())
        self.label.setText("<br>".join(escape(line) for line in lines), size=pt(9))


class ImageTokens(pg.GraphicsLayoutWidget):
    """The model's input with a grid, an outline of the selected token and its attention."""

    hovered = QtCore.Signal(int, int)  # token row, column at the site's resolution
    clicked = QtCore.Signal(int, int)

    def __init__(self) -> None:
        super().__init__()
        self.setMinimumSize(200, 200)
        self.plot = still(self.addPlot())
        self.image = ImageItem(np.zeros((32, 32), np.float32), levels=(0, 1))
        self.overlay = ImageItem(np.zeros((32, 32, 4), np.ubyte))
        self.grid = pg.PlotDataItem(pen=pg.mkPen((90, 160, 255, 170), width=1), connect="pairs")
        self.windows = pg.PlotDataItem(pen=pg.mkPen((255, 60, 60), width=2), connect="pairs")
        for item in (self.image, self.overlay, self.grid, self.windows):
            self.plot.addItem(item)
        self.focus = focus_rect(self.plot)
        self.caption = Caption(self, self.addLabel("", row=1, col=0, size=pt(9)))
        ZOOM.changed.connect(self._zoomed)  # a method: disconnected when the view is deleted
        self.lut = pg.colormap.get("inferno").getLookupTable(nPts=256, alpha=False)
        self.resolution = 8
        self._hover: tuple[int, int] | None = None
        self.scene().sigMouseMoved.connect(self._moved)
        self.scene().sigMouseClicked.connect(self._clicked)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if hasattr(self, "caption"):  # pyqtgraph resizes once inside __init__
            self.caption.setText(self.caption.text)

    def _zoomed(self, _factor: float) -> None:
        self.caption.setText(self.caption.text)

    def set_image(self, image: np.ndarray, resolution: int, window: int = 0, shift: int = 0):
        size = image.shape[0]
        self.image.setImage(np.ascontiguousarray(image, np.float32), autoLevels=False,
                            levels=(0, 1))
        self.resolution = resolution
        cell = size / resolution
        self.grid.setData(*grid_lines(size, cell, 0))
        if window:
            self.windows.setData(*grid_lines(size, window * cell, shift * cell))
            self.windows.show()
        else:
            self.windows.hide()
        self.plot.setRange(xRange=(0, size), yRange=(0, size), padding=0.02)

    def set_attention(self, heat: np.ndarray | None, opacity: float = 0.6) -> None:
        """heat: (R, R) in [0, 1] or None to clear."""
        if heat is None:
            self.overlay.hide()
            return
        size = self.image.image.shape[0]
        scale = size // heat.shape[0]
        big = np.kron(heat / max(float(heat.max()), 1e-9), np.ones((scale, scale)))
        rgba = np.empty(big.shape + (4,), np.ubyte)
        rgba[..., :3] = self.lut[(np.clip(big, 0, 1) * 255).astype(int)]
        rgba[..., 3] = (np.clip(big, 0, 1) * 255 * opacity).astype(np.ubyte)
        self.overlay.setImage(rgba, autoLevels=False)
        self.overlay.show()

    def set_focus(self, cell: tuple[int, int] | None) -> None:
        if cell is None:
            self.focus.hide()
            return
        size = self.image.image.shape[0] / self.resolution
        self.focus.setRect(cell[1] * size, cell[0] * size, size, size)
        self.focus.show()

    def _cell(self, scene_pos) -> tuple[int, int] | None:
        if not self.plot.vb.sceneBoundingRect().contains(scene_pos):
            return None
        point = self.plot.vb.mapSceneToView(scene_pos)
        size = self.image.image.shape[0]
        if not (0 <= point.x() < size and 0 <= point.y() < size):
            return None
        return int(point.y() * self.resolution / size), int(point.x() * self.resolution / size)

    def _moved(self, scene_pos) -> None:
        cell = self._cell(scene_pos)
        if cell != self._hover:
            self._hover = cell
            if cell is not None:
                self.hovered.emit(*cell)

    def _clicked(self, event) -> None:
        cell = self._cell(event.scenePos())
        if cell is not None:
            self.clicked.emit(*cell)


def grid_lines(size: float, step: float, offset: float) -> tuple[np.ndarray, np.ndarray]:
    """x, y pairs of the lines of a grid of `step`, shifted by `offset` (wrapping)."""
    xs, ys = [], []
    positions = np.arange(offset % step, size + 1e-6, step)
    for p in positions:
        xs += [p, p, 0, size]
        ys += [0, size, p, p]
    return np.array(xs, float), np.array(ys, float)


class TokensPanel(Panel):
    name = "tokens"
    title = "Tokens"

    def __init__(self, state, parent=None) -> None:
        super().__init__(state, parent)
        self.strip = TokenStrip()
        self.scroll = QtWidgets.QScrollArea()  # a long text scrolls sideways
        self.scroll.setWidget(self.strip)
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QtWidgets.QFrame.NoFrame)
        self.scroll.setVerticalScrollBarPolicy(QtCore.Qt.ScrollBarAlwaysOff)
        self.picture = ImageTokens()
        self.stack = QtWidgets.QStackedLayout(self)
        self.stack.addWidget(self.scroll)
        self.stack.addWidget(self.picture)
        self.strip.hovered.connect(self._strip_hovered)
        self.strip.clicked.connect(self._strip_clicked)
        self.picture.hovered.connect(self._cell_hovered)
        self.picture.clicked.connect(self._cell_clicked)
        self.request = Request("tokens", lambda: self.state.trace)

    # -- pointing ------------------------------------------------------------------
    def _strip_hovered(self, row: str, index: int) -> None:
        if row == "query":
            self.state.hover(query=index, key=None)
        else:
            self.state.hover(query=self.state.selection.query, key=index)

    def _strip_clicked(self, row: str, index: int) -> None:
        if row == "query":
            self.state.lock(index, None)
        else:
            self.state.lock(self.state.selection.query, index)

    def token_of_cell(self, y: int, x: int) -> dict:
        """Selection fields of the token at grid cell (y, x) of the site's resolution."""
        trace, site = self.state.trace, self.state.selection.site
        info = trace.meta["sites"][site]
        if kind_of(trace.meta, site).windowed:
            return window_token_at(trace, site, y, x)
        # CLS (and DeiT's DIST) come before the patches
        return {"query": prefix_tokens(trace.meta) + y * info["grid"][1] + x}

    def _cell_hovered(self, y: int, x: int) -> None:
        if self.state.trace is not None:
            self.state.hover(key=None, **self.token_of_cell(y, x))

    def _cell_clicked(self, y: int, x: int) -> None:
        if self.state.trace is not None:
            fields = self.token_of_cell(y, x)
            self.state.lock(fields.pop("query"), None, **fields)

    # -- drawing -------------------------------------------------------------------
    def update_trace(self, trace: Trace) -> None:
        self.stack.setCurrentWidget(self.scroll if token_layout(trace.meta) == "text"
                                    else self.picture)

    def _weights_arrived(self, asked: tuple, weights: np.ndarray) -> None:
        # only the head they were asked for: a head whose weights were at hand may have been
        # drawn since, without a new ask, and the older answer must not overwrite it
        if asked == self._shown == (self.state.selection.site, self.state.selection.head):
            self.strip.weights = weights
            self.strip.update()

    def update_selection(self, sel: Selection) -> None:
        trace = self.state.trace
        info = trace.meta["sites"][sel.site]
        if token_layout(trace.meta) == "text":
            if self._shown != (sel.site, sel.head):
                queries, keys = site_tokens(trace, sel.site)
                unknown = ({i for i, t in enumerate(keys) if t in trace.meta.get("unknown", [])}
                           if keys is trace.meta.get("source_tokens") else set())
                site, head = sel.site, sel.head
                self._shown = (site, head)
                # the tokens at once; the head's weights (N × N) from the analyst thread when
                # a long input's are not at hand
                ready = trace.has_head_matrix(site, "weights", head)
                self.strip.set_template(trace.meta.get("chat", {}).get("template_tokens", []))
                self.strip.set_tokens(queries, keys, trace.head_matrix(site, "weights", head)
                                      if ready else None, unknown)
                if not ready:
                    asked = self._shown
                    self.request.ask(trace, asked,
                                     lambda: trace.head_matrix(site, "weights", head),
                                     lambda weights: self._weights_arrived(asked, weights),
                                     False)
            self.strip.set_selection(sel.query, sel.key)
            self.scroll_to_selection()
            return
        if self._shown != (sel.site,):
            res = info.get("resolution", info.get("grid"))[0]
            self.picture.set_image(picture(trace), res, info.get("window_size", 0),
                                   info.get("shift", 0))
            self._shown = (sel.site,)
        self._show_image_selection(trace, sel, info, trace[f"{sel.site}/weights"])

    def scroll_to_selection(self) -> None:
        """The selected query (else key) scrolled to the middle when it is out of view;
        nothing moves when it is in view, so pointing at the strip itself never scrolls it."""
        sel = self.state.selection
        row, index = ("query", sel.query) if sel.query is not None else ("key", sel.key)
        box = self.strip.box(row, index) if index is not None else None
        bar = self.scroll.horizontalScrollBar()
        port = self.scroll.viewport().width()
        if box is not None and not (bar.value() <= box.left() and
                                    box.right() <= bar.value() + port):
            bar.setValue(int(box.center().x() - port / 2))  # centred, with its context

    def _show_image_selection(self, trace, sel, info, weights) -> None:
        if sel.query is None:
            self.picture.set_focus(None)
            self.picture.set_attention(None)
            self.picture.caption.setText(tr("point at a patch to see where it looks"))
            return
        heat = query_heat(trace, sel.site, sel.window, sel.head, sel.query)
        if kind_of(trace.meta, sel.site).windowed:
            cell = window_token_cell(trace, sel.site, sel.window, sel.query)
            self.picture.set_focus(cell)
            caption = tr("token {y},{x} · window {window} · head {head}").format(
                y=cell[0], x=cell[1], window=sel.window, head=sel.head)
        else:
            g = info["grid"][1]
            row, p = weights[sel.head, sel.query], prefix_tokens(trace.meta)
            if sel.query < p:
                self.picture.set_focus(None)
                who = trace.meta["tokens"][sel.query]
                caption = tr("{who} attends (head {head}); {who}→CLS {value}").format(
                    who=who, head=sel.head, value=f"{row[0]:.2f}")
            else:
                self.picture.set_focus(divmod(sel.query - p, g))
                caption = tr("patch {patch} attends (head {head}); →CLS {value}").format(
                    patch=sel.query - p, head=sel.head, value=f"{row[0]:.2f}")
        self.picture.set_attention(heat)
        self.picture.caption.setText(caption)
