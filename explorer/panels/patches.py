"""How an image becomes tokens: the patch grid, the flattened sequence, the patch
embedding [N×D] and the first-layer filters; and the attention of CLS or of the pointed
patch laid over the image, with adjustable opacity."""
from __future__ import annotations

from html import escape

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from models.analysis import prefix_tokens
from models.sites import token_layout
from models.trace import Trace

from ..i18n import bound, tr
from ..labels import picture, query_heat, window_token_at, window_token_cell
from ..state import Selection
from ..widgets import ImageItem
from ..widgets.flow import FlowLayout
from ..widgets.matrix_view import SIGNED, MatrixView, elastic, title_lines
from ..widgets.plots import focus_rect, still
from ..zoom import ZOOM, font, pt
from .base import Panel
from .tokens import ImageTokens


def filter_mosaic(filters: np.ndarray) -> np.ndarray:
    """(D, P, P) -> one image of the filters in a near-square grid, NaN gaps between."""
    d, p, _ = filters.shape
    cols = int(np.ceil(np.sqrt(d)))
    rows = int(np.ceil(d / cols))
    mosaic = np.full((rows * (p + 1) - 1, cols * (p + 1) - 1), np.nan, np.float32)
    for i, f in enumerate(filters):
        r, c = divmod(i, cols)
        mosaic[r * (p + 1): r * (p + 1) + p, c * (p + 1): c * (p + 1) + p] = f
    return mosaic


def patch_sequence(image: np.ndarray, grid: int, per_line: int) -> np.ndarray:
    """The image cut into grid×grid patches, in flattening order, `per_line` patches to a
    line (the sequence wrapped like text)."""
    p = image.shape[0] // grid
    colour = image.shape[2:]  # () for grey, (3,) for colour
    patches = image.reshape(grid, p, grid, p, *colour).swapaxes(1, 2).reshape(-1, p, p, *colour)
    lines = int(np.ceil(len(patches) / per_line))
    gap = 1.0 if colour else np.nan  # colour has no "no data" value: white, like the page
    strip = np.full((lines * (p + 2) - 2, per_line * (p + 1) - 1, *colour), gap, np.float32)
    for i, patch in enumerate(patches):
        r, c = divmod(i, per_line)
        strip[r * (p + 2): r * (p + 2) + p, c * (p + 1): c * (p + 1) + p] = patch
    return strip


MODES = ("attention of the pointed patch", "attention of CLS")
SEQUENCE_TITLE = "the sequence: patch 0, 1, 2, … (row-major), wrapped"
FILTERS_TITLE = "first-layer filters"


class PatchesPanel(Panel):
    name = "patches"
    title = "Patches"

    def __init__(self, state, parent=None) -> None:
        super().__init__(state, parent)
        self.picture = ImageTokens()
        self.numbers: list[pg.TextItem] = []
        self._numbers_zoom = 0.0  # the zoom they were made for
        # CLS is token 0, a learned vector that belongs to no patch: drawn beside the grid
        self.cls_label = pg.TextItem("CLS", color=(0, 0, 0), fill=(255, 220, 120),
                                     border=pg.mkPen((255, 140, 0), width=2), anchor=(1, 0))
        self.picture.plot.addItem(self.cls_label)
        self.mode = QtWidgets.QComboBox()
        self.mode.addItems([tr(MODES[0]), tr(MODES[1])])
        self.mode.currentIndexChanged.connect(lambda _: self._overlay())
        self.opacity = QtWidgets.QSlider(QtCore.Qt.Horizontal, minimum=0, maximum=100, value=60)
        self.opacity.setMinimumWidth(60)
        self.opacity.valueChanged.connect(lambda _: self._overlay())
        self.show_numbers = bound(QtWidgets.QCheckBox(), "patch numbers")
        self.show_numbers.setChecked(True)
        self.show_numbers.toggled.connect(lambda on: [t.setVisible(on) for t in self.numbers])
        self.sequence = pg.PlotWidget(title=tr(SEQUENCE_TITLE))
        still(self.sequence.getPlotItem())
        self.sequence_image = ImageItem()
        self.sequence.addItem(self.sequence_image)
        self.sequence_focus = focus_rect(self.sequence.getPlotItem())
        self.embedding = MatrixView()
        self.filters = pg.PlotWidget(title=tr(FILTERS_TITLE))
        still(self.filters.getPlotItem())
        self.filter_image = ImageItem()
        self.filter_image.setLookupTable(SIGNED.getLookupTable(nPts=256))
        self.filters.addItem(self.filter_image)
        for view in (self.sequence, self.filters):  # titles fit their plot (_fit_titles)
            elastic(view.getPlotItem().titleLabel)
        self.picture.hovered.connect(self._cell_hovered)
        self.embedding.hovered.connect(lambda r, c: self._patch_pointed(r))
        # the plots share the height there is (pyqtgraph's preferred 640×480 would make the
        # scroll area scroll once the controls wrap)
        for view in (self.picture, self.sequence, self.embedding, self.filters):
            view.setSizePolicy(QtWidgets.QSizePolicy.Preferred, QtWidgets.QSizePolicy.Ignored)
        controls = FlowLayout()  # one line, or more when the text is large
        controls.addWidget(self.mode)
        controls.addWidget(bound(QtWidgets.QLabel(), "opacity", control=True))
        controls.addWidget(self.opacity)
        controls.addWidget(self.show_numbers)
        left = QtWidgets.QVBoxLayout()
        left.addLayout(controls)
        left.addWidget(self.picture, 1)
        right = QtWidgets.QVBoxLayout()
        right.addWidget(self.sequence, 1)
        lower = QtWidgets.QHBoxLayout()
        lower.addWidget(self.embedding, 3)
        lower.addWidget(self.filters, 2)
        right.addLayout(lower, 3)
        layout = QtWidgets.QHBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(left, 1)
        layout.addLayout(right, 1)

    def apply_zoom(self, factor: float) -> None:
        self.retranslate()

    def retranslate(self) -> None:
        self._fit_titles()
        for i, words in enumerate(MODES):
            self.mode.setItemText(i, tr(words))

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit_titles()

    def _fit_titles(self) -> None:
        """Each plot's title wrapped or shortened to its plot's width (whole in the tooltip):
        pyqtgraph would otherwise widen the plot past its view and cut picture and title."""
        metrics = QtGui.QFontMetrics(font(11))
        for view, title in ((self.sequence, tr(SEQUENCE_TITLE)), (self.filters, tr(FILTERS_TITLE))):
            lines = title_lines(title, metrics, max(view.width() - 16, 40))
            view.setToolTip(title if " ".join(lines) != title else "")
            view.setTitle("<br>".join(escape(line) for line in lines), size=pt(11))
            # pyqtgraph gives a title a fixed 30 px: as tall as its lines at this zoom instead
            label = view.getPlotItem().titleLabel
            tall = max(30, int(label.item.boundingRect().height()) + 2)
            label.setMaximumHeight(tall)
            view.getPlotItem().layout.setRowFixedHeight(0, tall)

    # -- geometry ------------------------------------------------------------------------
    def grid(self) -> int:
        return self.state.trace.meta["patch_grid"][1]

    def has_cls(self) -> bool:
        return prefix_tokens(self.state.trace.meta) > 0

    def _patch_pointed(self, patch: int) -> None:
        if self.has_cls():
            self.state.hover(query=patch + prefix_tokens(self.state.trace.meta), key=None)
        else:
            g = self.grid()
            self._cell_hovered(*divmod(patch, g))

    def _cell_hovered(self, y: int, x: int) -> None:
        trace = self.state.trace
        if trace is None:
            return
        if self.has_cls():
            self.state.hover(query=prefix_tokens(trace.meta) + y * self.grid() + x, key=None)
            return
        site = self.state.selection.site  # Swin: the site's own grid, which may be coarser
        scale = self.grid() // trace.meta["sites"][site]["resolution"][0]
        self.state.hover(key=None, **window_token_at(trace, site, y // scale, x // scale))

    # -- drawing ---------------------------------------------------------------------------
    def update_trace(self, trace: Trace) -> None:
        if token_layout(trace.meta) == "text":
            return
        g = self.grid()
        image = trace["input/image"]
        self.picture.set_image(picture(trace), g)
        size = image.shape[0] / g
        if len(self.numbers) != g * g or self._numbers_zoom != ZOOM.factor:
            self._numbers_zoom = ZOOM.factor
            for item in self.numbers:
                self.picture.plot.removeItem(item)
            self.numbers = []
            # White on a dark tag: readable on bright ink and dark paper alike; smaller
            # for the fine Swin grid, so that all numbers fit their cells.
            for p in range(g * g):
                r, c = divmod(p, g)
                text = pg.TextItem(str(p), color=(255, 255, 255), fill=pg.mkBrush(0, 0, 0, 150),
                                   anchor=(0, 0))
                font = text.textItem.font()
                font.setPointSizeF((8.0 if g <= 8 else 5.5) * ZOOM.factor)
                text.setFont(font)
                text.setPos(c * size, r * size)
                text.setVisible(self.show_numbers.isChecked())
                self.picture.plot.addItem(text)
                self.numbers.append(text)
        self.sequence_image.setImage(patch_sequence(picture(trace), g, 2 * g), autoLevels=False,
                                     levels=(0, 1))
        self.cls_label.setVisible(self.has_cls())
        if self.has_cls():
            self.cls_label.setPos(-1, 0)
            self.picture.plot.setRange(xRange=(-image.shape[0] / 4, image.shape[0]),
                                       yRange=(0, image.shape[0]), padding=0.02)
        tokens = trace["patch_embed/tokens"].reshape(g * g, -1)
        self.embedding.set_matrix(tokens, [str(i) for i in range(g * g)],
                                  [str(i) for i in range(tokens.shape[1])],
                                  tr("patch embedding") + f" [{g * g}×{tokens.shape[1]}]",
                                  signed=True)
        filters = trace["patch_embed/filters"]
        peak = float(np.abs(filters).max()) or 1.0
        self.filter_image.setImage(filter_mosaic(filters), autoLevels=False, levels=(-peak, peak))
        prefix = trace.meta.get("tokens", [])[: prefix_tokens(trace.meta)]
        self.cls_label.setText(" ".join(prefix))
        before = tr("{names} is token 0, before patch 0" if len(prefix) == 1 else
                    "{names} are tokens 0–{last}, before patch 0").format(
            names=" / ".join(prefix), last=len(prefix) - 1)
        self.picture.caption.setText(
            tr("{g}×{g} patches of {size}×{size} px").format(g=g, size=int(size)) + "; "
            + (before if self.has_cls() else
               tr("no CLS token: Swin pools all tokens at the end")))

    def update_selection(self, sel: Selection) -> None:
        if self.state.trace is None or token_layout(self.state.trace.meta) == "text":
            return
        self._overlay()

    def _overlay(self) -> None:
        trace, sel = self.state.trace, self.state.selection
        if trace is None or not sel.site or token_layout(trace.meta) == "text":
            return
        g = self.grid()
        p = trace["input/image"].shape[0] // g
        cls_mode = self.mode.currentIndex() == 1 and self.has_cls()
        query = 0 if cls_mode else sel.query
        patch = None
        if self.has_cls() and sel.query is not None and sel.query >= prefix_tokens(trace.meta):
            patch = sel.query - prefix_tokens(trace.meta)
        elif not self.has_cls() and sel.query is not None:
            cell = window_token_cell(trace, sel.site, sel.window, sel.query)
            if cell is not None and trace.meta["sites"][sel.site]["resolution"][0] == g:
                patch = cell[0] * g + cell[1]
        if query is None:
            self.picture.set_attention(None)
        else:
            self.picture.set_attention(query_heat(trace, sel.site, sel.window, sel.head, query),
                                       self.opacity.value() / 100)
        self.picture.set_focus(None if patch is None else divmod(patch, g))
        self.embedding.set_highlight(patch, None)
        self.sequence_focus.setVisible(patch is not None)
        if patch is not None:
            r, c = divmod(patch, 2 * g)
            self.sequence_focus.setRect(c * (p + 1), r * (p + 2), p, p)
