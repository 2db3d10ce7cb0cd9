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

from ..i18n import tr
from ..text import tip
from ..zoom import ZOOM, font, pt
from . import ImageItem
from .plots import still

SIGNED = pg.colormap.get("CET-D1")  # diverging, centred on 0
PROBABILITY = pg.colormap.get("viridis")
LABEL_WIDTHS = (9, 6, 4)  # characters a tick label keeps, tried in turn before thinning
HIGHLIGHT = QtGui.QColor(255, 140, 0)
# A matrix with more rows or columns than this zooms (wheel) and pans (drag), and is pooled
# when it has more cells than the view has pixels; smaller ones stay as they always were.
ZOOMABLE = 128
MIN_CELLS = 4  # zooming in stops at this many rows or columns


def elastic(label: pg.LabelItem) -> pg.LabelItem:
    """A label that never asks for more width than the plot has: its text is elided to fit
    here, and pyqtgraph would otherwise widen the plot past the view to show it whole."""
    fit_height = label.updateMin

    def update_min() -> None:
        fit_height()
        label.setMinimumWidth(1)

    label.updateMin = update_min
    return label


def fit_title(plot: pg.PlotItem | pg.PlotWidget, title: str, size: float, rows: int = 2,
              colours: dict[str, str] | None = None) -> None:
    """`title` (plain text) as `plot`'s title in `size` points at the zoom: on one line,
    else wrapped onto `rows` lines, words left out from the right with '…' (title_lines),
    the whole in the tooltip; fitted again whenever the plot's width changes. `colours`:
    words shown in a colour of their own (a curve's, say)."""
    plot = getattr(plot, "plotItem", plot)  # (a PlotWidget: its plot)
    plot._fitted_title = (title, size, rows, colours or {})
    if not getattr(plot, "_fits_title", False):
        plot._fits_title = True
        elastic(plot.titleLabel)  # (else pyqtgraph widens the plot past its view)
        plot.vb.sigResized.connect(lambda _: _refit_title(plot))
    _refit_title(plot, force=True)


def _refit_title(plot: pg.PlotItem, force: bool = False) -> None:
    title, size, rows, colours = plot._fitted_title
    # the title is centred over the plot's view box: as wide as it at most
    width = max(int(plot.vb.width()) - 4, 60)
    lines = title_lines(title, QtGui.QFontMetrics(font(size)), width, rows)
    shown = "<br>".join(" ".join(
        f"<span style='color:{colours[word]}'>{escape(word)}</span>" if word in colours
        else escape(word) for word in line.split(" ")) for line in lines)
    if not force and (shown, pt(size)) == getattr(plot, "_shown_title", None):
        return
    plot._shown_title = (shown, pt(size))
    plot.titleLabel.setToolTip(tip(title) if " ".join(lines) != title else "")
    plot.setTitle(shown, size=pt(size))
    # pyqtgraph gives a title a fixed 30 px: as tall as its lines
    tall = max(30, int(plot.titleLabel.item.boundingRect().height()) + 2)
    plot.titleLabel.setMaximumHeight(tall)
    plot.layout.setRowFixedHeight(0, tall)


def short(label: str, width: int = 9) -> str:
    return label if len(label) <= width else label[: width - 1] + "…"


def title_lines(title: str, metrics: QtGui.QFontMetrics, width: int,
                most: int = 2) -> list[str]:
    """The title on one line, else wrapped at spaces onto `most` lines; what still does not
    fit is left out a whole word at a time ('…'), so a number ("window 15", "[8×16]") is never
    cut (a single word wider than the plot is elided, unless it holds a number)."""
    words, lines = [], [""]
    for word in title.split(" "):
        # Chinese has no spaces: a run of it wider than the plot wraps between characters
        words.extend(_cjk_pieces(word, metrics, width) if metrics.horizontalAdvance(word)
                     > width and any(ord(c) >= 0x2E80 for c in word) else [word])
    for word in words:
        trial = f"{lines[-1]} {word}".strip()
        if metrics.horizontalAdvance(trial) <= width or not lines[-1]:
            lines[-1] = trial
        else:
            lines.append(word)
    if len(lines) > most:
        rest = [w for w in " ".join(lines[most - 1:]).split(" ") if w]
        # words go from the right, each run of them marked '…'; a bracketed number stays
        # (the shape "[8×16]", "(K/V head 1)")
        while metrics.horizontalAdvance(" ".join(rest)) > width or "…" not in rest:
            words = [i for i, w in enumerate(rest) if w != "…" and not (
                w.startswith(("[", "(")) and any(c.isdigit() for c in w))]
            if len(rest) < 2 or not words:
                break
            gone = words[-1]
            rest[gone] = "…"
            rest = [w for i, w in enumerate(rest) if not (w == "…" and i and rest[i - 1] == "…")]
        lines = [*lines[:most - 1], " ".join(rest)]
    # a line still too wide is elided, unless it holds a number: then it stays whole
    return [line if metrics.horizontalAdvance(line) <= width or any(c.isdigit() for c in line)
            else metrics.elidedText(line, QtCore.Qt.ElideRight, width) for line in lines]


def _cjk_pieces(word: str, metrics: QtGui.QFontMetrics, width: int) -> list[str]:
    """`word` cut between characters into pieces each as wide as `width` at most (each
    fills a line, so no space comes between two of them)."""
    pieces = [""]
    for char in word:
        if pieces[-1] and metrics.horizontalAdvance(pieces[-1] + char) > width:
            pieces.append("")
        pieces[-1] += char
    return pieces


def fit(label: str, width: int) -> str:
    """A tick label shortened to `width` characters; numbers are never cut."""
    return label if label.replace(",", "").isdigit() else short(label, width)


def pool(shown: np.ndarray, factor: tuple[int, int], signed: bool) -> np.ndarray:
    """Blocks of factor = (rows, columns) cells to one pixel each. Probabilities: the block's
    maximum, so one strong cell (a one-token stripe) stays visible; signed: the value of
    largest magnitude.
    The last blocks are filled by repeating the edge, which changes no maximum."""
    (rows, cols), (fy, fx) = shown.shape, factor
    r, c = -(-rows // fy), -(-cols // fx)
    padded = np.pad(shown, ((0, r * fy - rows), (0, c * fx - cols)), mode="edge")
    blocks = padded.reshape(r, fy, c, fx)
    high = blocks.max(axis=3).max(axis=1)  # the inner axis first: a contiguous reduction
    if not signed:
        return high
    low = blocks.min(axis=3).min(axis=1)
    return np.where(-low > high, low, high)


class MatrixView(pg.GraphicsLayoutWidget):
    hovered = QtCore.Signal(int, int)  # row, column; the selection stays when the mouse leaves
    clicked = QtCore.Signal(int, int)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(110, 110)
        self.ci.layout.setContentsMargins(2, 2, 2, 2)
        self.plot = still(self.addPlot(row=0, col=0), axes=True, aspect=False)
        self.plot.getViewBox().setDefaultPadding(0)
        for axis in ("left", "bottom"):  # labels are tokens: no SI prefix re-set per range
            self.plot.getAxis(axis).enableAutoSIPrefix(False)
            # _set_ticks already chose labels that fit: pyqtgraph must not drop more of them
            self.plot.getAxis(axis).setStyle(textFillLimits=[(0, 1.0)],
                                             hideOverlappingLabels=False)
        self.image = ImageItem(np.zeros((1, 1), np.float32))
        self.plot.addItem(self.image)
        self.masked = ImageItem(np.zeros((1, 1, 4), np.ubyte))  # grey over blocked cells
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
        # Says when cells are pooled or the view zoomed in; a child of the view box, so it
        # stays in its corner while the matrix pans under it.
        self.note = pg.TextItem("", color=(20, 20, 20), fill=pg.mkBrush(255, 255, 255, 215))
        self.note.setParentItem(self.plot.vb)
        self.note.setZValue(20)
        self.note.hide()
        self.note_text = ""
        self.pooled = (1, 1)  # cells per pixel of the image on screen, (down, across)
        self.zoomable = False
        self._finite = np.zeros((1, 1), np.float32)  # data with non-finite cells at the floor
        self._blocked: np.ndarray | None = None
        self._signed = False
        self._image_stale = False  # the image waits for the next paint to be pooled
        self._fit_cache: dict[tuple, tuple[list[str], np.ndarray]] = {}
        self.readout = elastic(self.addLabel("", row=1, col=0, justify="left", size=pt(9)))
        elastic(self.plot.titleLabel)
        # a title as tall as its lines: Qt's 4 px of margin round the text cost the plot
        # 8 px of height, 16 at 200%
        self.plot.titleLabel.item.document().setDocumentMargin(0)
        self.readout_text = ""  # what the read-out says, as plain text
        self._readout_parts: tuple[str, str, str, str] | None = None  # value, [r, c], q, k
        self._readout_shown = ""  # as fitted to the width
        self.title: str | None = None  # in full; shown elided to the width, whole as tooltip
        self.title_rows = 2  # lines the title may wrap onto before words are left out
        self._shown_title = ""
        self._cmap = PROBABILITY
        self._levels: tuple[float, float] = (0.0, 1.0)
        self._bar_step = 0.0  # the colour bar's tick spacing (_bar_ticks)
        self.data = np.zeros((1, 1), np.float32)
        self.row_labels: list[str] = []
        self.col_labels: list[str] = []
        self.col_ticks: list[str] | None = None
        self._hover_cell: tuple[int, int] | None = None
        self._selected_row: int | None = None  # always labelled (set_highlight)
        self._rows_thinned = True  # some row's label left out: a new selected row re-ticks
        self._left_base: tuple | None = None  # (row ticks before the selected row's, …)
        self._pool_hint = ""  # the pooling of a view too small for its badge
        self.scene().sigMouseMoved.connect(self._mouse_moved)
        self.scene().sigMouseClicked.connect(self._mouse_clicked)
        # labels are chosen for the room the plot really has, which changes with the axes
        self.plot.vb.sigResized.connect(lambda _: self._view_changed())
        self.plot.vb.sigRangeChanged.connect(lambda *_: self._view_changed())
        self._apply_zoom()
        ZOOM.changed.connect(self._apply_zoom)

    def _apply_zoom(self, *_) -> None:
        ticks = font()
        for axis in (self.plot.getAxis("left"), self.plot.getAxis("bottom"),
                     self.colorbar.axis):
            axis.setTickFont(ticks)
        self._size_bar()
        self._bar_ticks()
        self.readout.setAttr("size", pt(9))
        self._show_readout(force=True)
        if self.title is not None:
            self._show_title()
            self._set_ticks()

    def _size_bar(self) -> None:
        """The bar's numbers get their room now, not after a paint that cut them; a minus
        sign's room only where the scale has one (the central plot keeps it at 200%)."""
        widest = "-0.00" if self._levels[0] < 0 else "0.00"
        self.colorbar.axis.setWidth(QtGui.QFontMetrics(font()).horizontalAdvance(widest) + 12)

    def sizeHint(self) -> QtCore.QSize:
        # pyqtgraph asks for 640×480: a panel of ten would ask for a screen and a half, and
        # a scroll area around it would scroll instead of sharing the room out
        return QtCore.QSize(240, 200)

    # -- data ----------------------------------------------------------------
    def set_matrix(self, data: np.ndarray, row_labels: list[str], col_labels: list[str],
                   title: str, signed: bool = False, levels: tuple[float, float] | None = None,
                   blocked: np.ndarray | None = None,
                   col_ticks: list[str] | None = None) -> None:
        """`col_ticks`: what the column axis shows, when not the labels themselves ('' = no
        tick); the read-out always names the full label."""
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
            negative = (levels[0] < 0) != (self._levels[0] < 0)
            self._levels = levels
            if negative:
                self._size_bar()
            self._bar_ticks()
        self._finite = np.where(np.isfinite(data), data, levels[0]).astype(np.float32)
        self._blocked = blocked if blocked is not None and blocked.any() else None
        self._signed = signed
        rows, cols = data.shape
        zoomable = max(rows, cols) > ZOOMABLE
        if zoomable or self.zoomable:
            self.plot.setMouseEnabled(zoomable, zoomable)
            limits = (dict(xMin=0, xMax=cols, yMin=0, yMax=rows, minXRange=MIN_CELLS,
                           minYRange=MIN_CELLS) if zoomable else
                      dict(xMin=None, xMax=None, yMin=None, yMax=None, minXRange=None,
                           minYRange=None))
            self.plot.vb.setLimits(**limits)
            self.zoomable = zoomable
        new_axes = (row_labels, col_labels, col_ticks) != (self.row_labels, self.col_labels,
                                                           self.col_ticks)
        reshaped = new_axes or data.shape != self.data.shape
        if new_axes:
            self._fit_cache.clear()
        self.data, self.row_labels, self.col_labels = data, row_labels, col_labels
        self.col_ticks = col_ticks
        if reshaped:
            self._set_ticks()
            self.plot.setRange(xRange=(0, cols), yRange=(0, rows), padding=0)
        self._draw_image(force=True)
        if title != self.title:  # a new title re-lays out the whole plot
            self.title = title
            reshaped |= self._show_title()
        self._show_readout()
        if reshaped:
            # Settle the layout and the view's transform now, not while painting: left to
            # pyqtgraph they change during the first paint and cost a second one.
            self.ci.layout.activate()
            self.plot.layout.activate()
            self.plot.vb.updateMatrix()

    def reset_view(self) -> None:
        """The whole matrix again, after zooming or panning."""
        rows, cols = self.data.shape
        self.plot.setRange(xRange=(0, cols), yRange=(0, rows), padding=0)

    def visible_cells(self) -> tuple[int, int, int, int]:
        """(first row, end row, first column, end column) in view."""
        rows, cols = self.data.shape
        (x0, x1), (y0, y1) = self.plot.vb.viewRange()
        return (max(0, math.floor(y0)), min(rows, math.ceil(y1)),
                max(0, math.floor(x0)), min(cols, math.ceil(x1)))

    def _pool_factor(self) -> tuple[int, int]:
        """Cells per pixel in view, (down, across), rounded up (1: every cell gets a pixel
        at least). A small matrix is always drawn cell by cell (as it always was)."""
        if not self.zoomable:
            return 1, 1
        (x0, x1), (y0, y1) = self.plot.vb.viewRange()
        box = self.plot.vb.boundingRect()
        rows, cols = self.data.shape
        across = (min(x1, cols) - max(x0, 0)) / max(box.width(), 64.0)
        down = (min(y1, rows) - max(y0, 0)) / max(box.height(), 64.0)
        return max(1, math.ceil(down - 1e-9)), max(1, math.ceil(across - 1e-9))

    def _view_changed(self) -> None:
        self._set_ticks()
        self._bar_ticks()
        self._draw_image()

    def _bar_ticks(self) -> None:
        """Colour-bar numbers three lines apart at this text size: pyqtgraph's own spacing
        ignores the font, and on a short bar at 200% its labels overlapped. (One line apart,
        a tall bar was a column of 26 numbers, which pyqtgraph lays out again, 3 ms, each
        time the scale changes.)"""
        low, high = self._levels
        span = high - low
        height = self.plot.vb.sceneBoundingRect().height()
        if span <= 0 or not math.isfinite(span) or height <= 0:
            return
        raw = span * QtGui.QFontMetrics(font()).height() * 3 / height  # 3 lines apart
        unit = 10.0 ** math.floor(math.log10(raw))
        step = next(m * unit for m in (1, 2, 2.5, 5, 10) if m * unit >= raw)
        if step != self._bar_step:
            self._bar_step = step
            self.colorbar.axis.setTickSpacing(levels=[(step, 0.0)])

    def _draw_image(self, force: bool = False) -> None:
        """The image at one pixel per cell, or pooled when the view has fewer pixels than
        cells; drawn again only when the pooling changes (zooming, resizing, new data).
        A large matrix is pooled when painted: the layout settles (and resizes the view a
        few times) first, and a hidden view pools nothing."""
        factor = self._pool_factor()
        if factor != self.pooled or force:
            self.pooled = factor
            self._image_stale = True
            if self.zoomable:
                self.viewport().update()
            else:
                self._set_image()
        self._show_note()

    def paintEvent(self, event) -> None:
        if self._image_stale:
            self.pooled = self._pool_factor()
            self._set_image()
            self._show_note()
        super().paintEvent(event)

    def _set_image(self) -> None:
        self._image_stale = False
        (fy, fx), plain = self.pooled, self.pooled == (1, 1)
        shown = self._finite if plain else pool(self._finite, self.pooled, self._signed)
        self.image.setImage(shown, autoLevels=False, levels=self._levels)
        self.image.setRect(QtCore.QRectF(0, 0, shown.shape[1] * fx, shown.shape[0] * fy))
        if self._blocked is not None:
            # grey where every cell of the block is blocked (a block with one allowed cell
            # shows that cell's colour)
            blocked = self._blocked if plain else \
                ~pool((~self._blocked).astype(np.float32), self.pooled, False).astype(bool)
            overlay = np.zeros((*blocked.shape, 4), np.ubyte)
            overlay[blocked] = (150, 150, 150, 255)
            self.masked.setImage(overlay, autoLevels=False)
            self.masked.setRect(QtCore.QRectF(0, 0, blocked.shape[1] * fx,
                                              blocked.shape[0] * fy))
            self.masked.show()
        else:
            self.masked.hide()

    def _show_note(self) -> None:
        rows, cols = self.data.shape
        r0, r1, c0, c1 = self.visible_cells()
        zoomed = (r0, r1, c0, c1) != (0, rows, 0, cols)
        parts = []
        (fy, fx) = self.pooled
        if self.pooled != (1, 1):
            how = tr("largest |value|" if self._signed else "max")
            r, c = -(-(r1 - r0) // fy), -(-(c1 - c0) // fx)
            parts.append(tr("pooled") + f" {fy}×{fx} ({how}) → {r}×{c}; "
                         + tr("zoom in (wheel) for cells"))
        if zoomed:
            parts.append(tr("rows {first}–{last}, columns {left}–{right} · right-click: all")
                         .format(first=r0, last=r1 - 1, left=c0, right=c1 - 1))
        text = "\n".join(parts)
        box = self.plot.vb.boundingRect()
        room = box.width() - 12
        metrics = QtGui.QFontMetrics(font(8))
        before, self._pool_hint = self._pool_hint, ""
        if any(metrics.horizontalAdvance(p) > room for p in parts):
            # a small view (the pipeline's) says the pooling only
            text = tr("pooled") + f" {fy}×{fx}" if self.pooled != (1, 1) else \
                tr("rows {first}–{last}").format(first=r0, last=r1 - 1)
            badge = (metrics.horizontalAdvance(text) + 8) * (metrics.height() + 4)
            if badge * 8 > box.width() * box.height():
                # a badge over more than an eighth of the matrix hides what it describes:
                # said under it instead, where the read-out goes
                self._pool_hint, text = text, ""
        if self.readout_text in ("", before) and self._pool_hint != before:
            self._show_readout(force=True)  # (no cell pointed at: the hint, or nothing)
        if text != self.note_text:
            self.note_text = text
            self.note.setText(text)
            self.note.setFont(font(8))
            self.note.setVisible(bool(text))
            self.note.setPos(2, 2)

    def _show_title(self) -> bool:
        """The title elided to the plot's width (whole in the tooltip); True if it changed."""
        metrics = QtGui.QFontMetrics(font(10))
        bar = int(self.colorbar.boundingRect().width()) or 50
        width = max(int(self.width()) - bar - 16, 60)  # the title spans the plot, not the bar
        title = self.title or ""
        lines = title_lines(title, metrics, width, self.title_rows)
        shown = "\n".join(lines)
        self.setToolTip(tip(title) if shown.replace("\n", " ") != title else "")
        if shown == self._shown_title and self.plot.titleLabel.opts.get("size") == pt(10):
            return False
        self._shown_title = shown
        self.plot.setTitle("<br>".join(escape(line) for line in lines), size=pt(10))
        # pyqtgraph gives a title a fixed 30 px: as tall as its lines at this zoom instead
        tall = max(30, int(self.plot.titleLabel.item.boundingRect().height()) + 2)
        self.plot.titleLabel.setMaximumHeight(tall)
        self.plot.layout.setRowFixedHeight(0, tall)
        return True

    def _set_ticks(self) -> None:
        """As many labels as fit: shortened (9, 6, then 4 characters) before every k-th one
        is left out; never cut in the middle of a number (numbers are not shortened)."""
        box = self.plot.vb.sceneBoundingRect()
        height, width = max(box.height(), 40.0), max(box.width(), 40.0)
        metrics = QtGui.QFontMetrics(font())
        line = metrics.height() + 1
        shown: dict[str, list[str]] = {}
        for axis, labels in (("left", self.row_labels), ("bottom", self.col_labels)):
            if axis == "bottom" and self.col_ticks is not None:
                ticks = [(i + 0.5, t) for i, t in enumerate(self.col_ticks) if t]
                need = sum(metrics.horizontalAdvance(t) + 12 for _, t in ticks)
                step = max(1, math.ceil(need / width))  # every k-th when they do not fit
                self._put_ticks(axis, ticks[::step])
                continue
            if self.zoomable:
                ticks = self._visible_ticks(axis, labels, metrics,
                                            height if axis == "left" else width)
                if axis == "left":
                    self._left_base = ticks, labels, LABEL_WIDTHS[1]
                    ticks = self._with_selected_row(ticks, labels, LABEL_WIDTHS[1])
                self._put_ticks(axis, ticks)
                shown[axis] = [t for _, t in ticks]
                continue
            for chars in LABEL_WIDTHS:
                texts = [fit(lab, chars) for lab in labels]
                if axis == "left":
                    need = line * len(labels)
                else:
                    need = sum(metrics.horizontalAdvance(t) + 12 for t in texts)
                if need <= (height if axis == "left" else width):
                    break
            room = (height if axis == "left" else width) / max(need / max(len(labels), 1), 1)
            # no more labels than fit: with room for 1.5 labels, one (two overlapped)
            step = max(1, math.ceil(len(labels) / max(int(room), 1)))
            ticks = [(i + 0.5, t) for i, t in enumerate(texts) if i % step == 0]
            if axis == "left":
                self._left_base = ticks, labels, chars
                ticks = self._with_selected_row(ticks, labels, chars)
            self._put_ticks(axis, ticks)
            shown[axis] = [t for _, t in ticks]
        # Axes sized here from the labels they will show: left to pyqtgraph, they size
        # themselves while painting and so every new set of labels cost a second paint.
        longest = max((metrics.horizontalAdvance(t) for t in shown["left"]), default=0)
        left, bottom = self.plot.getAxis("left"), self.plot.getAxis("bottom")
        # each re-set drops the axis's drawing (a hover re-ticks the selected row: only
        # what changed is drawn again, not both axes every time)
        if left.fixedWidth != longest + 12:
            left.setWidth(longest + 12)
        if bottom.fixedHeight != metrics.height() + 10:
            bottom.setHeight(metrics.height() + 10)

    def _tick_selected_row(self) -> None:
        """The row labels again with the selected row's (a hover): from the thinned labels
        `_set_ticks` chose, without measuring every label of both axes again."""
        if self._left_base is None:
            self._set_ticks()
            return
        ticks = self._with_selected_row(*self._left_base)
        self._put_ticks("left", ticks)
        metrics = QtGui.QFontMetrics(font())
        longest = max((metrics.horizontalAdvance(t) for _, t in ticks), default=0)
        left = self.plot.getAxis("left")
        if left.fixedWidth != longest + 12:
            left.setWidth(longest + 12)

    def _put_ticks(self, axis: str, ticks: list[tuple[float, str]]) -> None:
        """The axis's labels, re-set (and so drawn again) only when they changed."""
        item = self.plot.getAxis(axis)
        if axis == "left" and ticks:
            ticks = self._rows_inside(ticks)
        elif ticks:
            ticks = self._columns_inside(ticks)
        if item._tickLevels != [ticks, []]:
            item.setTicks([ticks, []])

    def _rows_inside(self, ticks: list[tuple[float, str]]) -> list[tuple[float, str]]:
        """Row labels kept inside the plot's height: on rows thinner than a line the first
        and last label, centred on their row, would reach into the title above or the
        column labels below, so they move in (a label spans several rows there anyway);
        a label that would then touch its neighbour makes way, unless it is the selected
        row's."""
        (_, _), (y0, y1) = self.plot.vb.viewRange()
        height = self.plot.vb.sceneBoundingRect().height()
        if height <= 0 or y1 <= y0:
            return ticks
        per_px = (y1 - y0) / height  # rows per pixel
        line = QtGui.QFontMetrics(font()).height()
        half = (0.4 * line + 1.5) * per_px  # pyqtgraph draws a label 0.8 of a line tall
        if y1 - y0 <= 2 * half:
            return ticks
        moved = [(min(max(y, y0 + half), y1 - half), t) for y, t in ticks]
        selected = None if self._selected_row is None else self._selected_row + 0.5
        kept: list[tuple[float, str]] = []
        for (y, t), (at, _) in zip(moved, ticks):
            if kept and y - kept[-1][0] < line * per_px:
                if at != selected:
                    continue
                kept.pop()  # the selected row's label stays; its neighbour goes
            kept.append((y, t))
        return kept

    def _columns_inside(self, ticks: list[tuple[float, str]]) -> list[tuple[float, str]]:
        """Column labels kept inside the plot's width: the first and last, centred on a
        narrow column, would reach past the plot, where pyqtgraph leaves out a label
        that reaches too far, unsaid; they move in, and a label that would then touch its
        neighbour makes way."""
        (x0, x1), _ = self.plot.vb.viewRange()
        width = self.plot.vb.sceneBoundingRect().width()
        if width <= 0 or x1 <= x0:
            return ticks
        per_px = (x1 - x0) / width  # columns per pixel
        metrics = QtGui.QFontMetrics(font())
        kept: list[tuple[float, str, float]] = []
        for x, t in ticks:
            half = (metrics.horizontalAdvance(t) / 2 + 1.5) * per_px
            if x1 - x0 > 2 * half:
                x = min(max(x, x0 + half), x1 - half)
            if kept and x - half < kept[-1][0] + kept[-1][2] + 4 * per_px:
                continue
            kept.append((x, t, half))
        return [(x, t) for x, t, _ in kept]

    def _with_selected_row(self, ticks: list[tuple[float, str]], labels: list[str],
                           chars: int) -> list[tuple[float, str]]:
        """The selected row always has its label: when thinning left it out, it takes the
        place of the neighbours it would overlap."""
        at = [int(y) for y, _ in ticks]
        self._rows_thinned = (len(at) < 2 and len(labels) > 1) or any(
            b - a > 1 for a, b in zip(at, at[1:]))
        row = self._selected_row
        if row is None or row >= len(labels) or row in at:
            return ticks
        step = ticks[1][0] - ticks[0][0] if len(ticks) > 1 else 1.0
        kept = [(y, t) for y, t in ticks if abs(y - (row + 0.5)) >= step]
        return sorted(kept + [(row + 0.5, fit(labels[row], chars))])

    def _visible_ticks(self, axis: str, labels: list[str], metrics: QtGui.QFontMetrics,
                       room: float) -> list[tuple[float, str]]:
        """A zoomable matrix: labels of the cells in view only, every k-th by index (so they
        stay put while panning), k such that two shown labels never overlap: the widest
        label in view plus a gap (a line, on the row axis) fits between neighbours."""
        r0, r1, c0, c1 = self.visible_cells()
        first, end = (r0, r1) if axis == "left" else (c0, c1)
        (x0, x1), (y0, y1) = self.plot.vb.viewRange()
        per_cell = room / max((y1 - y0) if axis == "left" else (x1 - x0), 1e-9)  # pixels
        end = min(end, len(labels))
        # the shortest labels first: when even they must be thinned (a long input seen
        # whole), the longer ones need not be measured
        texts, widths = self._fitted(axis, labels, LABEL_WIDTHS[-1], metrics)
        size = metrics.height() + 1 if axis == "left" else \
            float(widths[first:end].max(initial=0)) + 12
        step = max(1, math.ceil(size / per_cell))
        if step == 1:  # all shown: as long as they fit
            for chars in LABEL_WIDTHS:
                longer, widths = self._fitted(axis, labels, chars, metrics)
                if axis == "left" or float(widths[first:end].max(initial=0)) + 12 <= per_cell:
                    texts = longer
                    break
        return [(i + 0.5, texts[i]) for i in range(first - first % step, end, step)
                if i >= first]

    def _fitted(self, axis: str, labels: list[str], chars: int, metrics: QtGui.QFontMetrics
                ) -> tuple[list[str], np.ndarray]:
        """Labels shortened to `chars` and their widths in pixels, kept while the labels and
        the font stay (panning asks again at every step)."""
        key = (axis, chars, metrics.height())  # emptied when the labels change
        if key not in self._fit_cache:
            texts = [fit(label, chars) for label in labels]
            widths = (np.array([metrics.horizontalAdvance(t) for t in texts], float)
                      if axis == "bottom" else np.zeros(len(texts)))
            self._fit_cache[key] = texts, widths
        return self._fit_cache[key]

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        # (the tick labels follow the plot's own resize: sigResized)
        if getattr(self, "title", None) is not None:  # pyqtgraph resizes inside __init__
            self._show_title()
            self._fit_readout()

    # -- highlight -------------------------------------------------------------
    def set_highlight(self, row: int | None, col: int | None, locked: bool = False) -> None:
        rows, cols = self.data.shape
        row = row if row is not None and 0 <= row < rows else None
        col = col if col is not None and 0 <= col < cols else None
        if row != self._selected_row:
            self._selected_row = row
            if self._rows_thinned:  # (every row labelled: nothing to make room for)
                self._tick_selected_row()  # its label shown, where the others are thinned
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

    def _show_readout(self, row: int | None = None, col: int | None = None,
                      force: bool = False) -> None:
        if row is None and self._hover_cell:
            row, col = self._hover_cell
        text, parts = "", None
        rows, cols = self.data.shape
        if row is not None and col is not None and row < rows and col < cols:
            r = self.row_labels[row] if row < len(self.row_labels) else str(row)
            c = self.col_labels[col] if col < len(self.col_labels) else str(col)
            # the value first: if the line is too long, the labels are elided, not the number
            parts = (f"{self.data[row, col]:.4g}", f"[{row}, {col}]", r, c)
            text = f"{parts[0]}   {parts[1]}  {r} → {c}"
        elif self._pool_hint:
            text = self._pool_hint  # (a small view's pooling, said under it)
        if text != self.readout_text or force:
            self.readout_text, self._readout_parts = text, parts
        self._fit_readout(force)

    def _fit_readout(self, force: bool = False) -> None:
        """The read-out in the view's width, fitted again when the view is resized: the
        cell's indices go first, then each token is elided in its middle ('…'), so the
        value, both tokens' ends and the arrow between them stay readable."""
        metrics = QtGui.QFontMetrics(font(9))
        room = max(int(self.width()) - 16, 40)
        text, parts = self.readout_text, self._readout_parts
        if parts is not None and metrics.horizontalAdvance(text) > room:
            value, _, query, key = parts
            width = metrics.horizontalAdvance
            rest = room - width(f"{value}  ") - width(" → ")
            # the key keeps its whole text when it takes half the room at most
            keep = min(width(key), max(rest // 2, rest - width(query)))
            if width(key) > keep:
                key = metrics.elidedText(key, QtCore.Qt.ElideMiddle, max(keep, 0))
            if width(query) > rest - width(key):
                query = metrics.elidedText(query, QtCore.Qt.ElideMiddle,
                                           max(rest - width(key), 0))
            text = f"{value}  {query} → {key}"
        shown = metrics.elidedText(text, QtCore.Qt.ElideRight, room)
        if shown != self._readout_shown or force:  # the label reads HTML: "<eos>" must stay
            self._readout_shown = shown
            self.readout.setText(escape(shown), size=pt(9))

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
        self.setToolTip(tip(self.readout_text))

    def _mouse_clicked(self, event) -> None:
        if event.button() == QtCore.Qt.RightButton and self.zoomable:
            self.reset_view()
            return
        cell = self.cell_at(event.scenePos())
        if cell is not None and event.button() == QtCore.Qt.LeftButton:
            self.clicked.emit(*cell)

    def leaveEvent(self, event: QtCore.QEvent) -> None:
        self._hover_cell = None
        super().leaveEvent(event)
