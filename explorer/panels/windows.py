"""Swin's shifted windows, step by step, for the selected block.

Top: the token grid (1) before the roll, (2) after torch.roll(-s, -s) with the nine regions
of the mask coloured, (3) the windows over the rolled grid, (4) rolled back: the new windows
straddle the old borders. Bottom: the selected window's mask and weights, and every stage
side by side with the 2×2 neighbourhoods that patch merging joins.
"""
from __future__ import annotations

from html import escape

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from models.sites import token_layout
from models.trace import Trace

from ..compare import signed_levels
from ..i18n import bound, tr
from ..labels import axis_labels, block_name, window_token_at, window_token_cell
from ..state import Selection
from ..widgets import ImageItem
from ..widgets.matrix_view import MatrixView, elastic, title_lines
from ..widgets.plots import focus_rect, still
from ..zoom import font, pt
from .base import Panel
from .tokens import grid_lines

REGION_COLOURS = np.array([(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40),
                           (148, 103, 189), (140, 86, 75), (227, 119, 194), (127, 127, 127),
                           (188, 189, 34)], np.float32) / 255
STEPS = [
    ("before the roll", "The token grid as the previous block left it: windows tile it."),
    ("roll (−s, −s)", "torch.roll moves every token up and left by s; the rows and columns "
     "pushed out re-enter at the bottom and right. Colours: the nine regions of the mask."),
    ("windows", "Windows are cut from the rolled grid as usual. A window at the border holds "
     "tokens from up to four regions: the mask keeps regions apart."),
    ("roll back (+s, +s)", "After attention the grid is rolled back: each new window straddles "
     "the borders of the previous block's windows, so information crosses them."),
]


def fit_title(plot: pg.PlotItem, title: str, width: int, size: float, **style) -> None:
    """`title` wrapped at spaces to `width` (words left out, never a number: title_lines),
    its row as tall as its lines: four grids side by side at 200% cut their titles."""
    label = plot.titleLabel
    if not getattr(label, "elastic", False):
        elastic(label)
        label.elastic = True
        label.item.document().setDocumentMargin(0)
    lines = title_lines(title, QtGui.QFontMetrics(font(size, style.get("bold", False))), width, 3)
    plot.setTitle("<br>".join(escape(line) for line in lines), size=pt(size), **style)
    tall = max(20, int(label.item.boundingRect().height()) + 2)
    label.setMaximumHeight(tall)
    plot.layout.setRowFixedHeight(0, tall)


def token_image(trace: Trace, res: int) -> np.ndarray:
    """The input image averaged down to one value per token (res × res)."""
    image = trace["input/image"]
    k = image.shape[0] // res
    return image.reshape(res, k, res, k).mean(axis=(1, 3))


class WindowsPanel(Panel):
    name = "windows"
    title = "Shifted windows"

    def __init__(self, state, parent=None) -> None:
        super().__init__(state, parent)
        self.steps_view = pg.GraphicsLayoutWidget()
        self.grids = []  # per step: plot, image, border lines, focus rect
        for i in range(4):
            plot = still(self.steps_view.ci.addPlot(row=0, col=i))
            image = ImageItem()
            borders = pg.PlotDataItem(pen=pg.mkPen("w", width=2), connect="pairs")
            for item in (image, borders):
                plot.addItem(item)
            focus, window_box = focus_rect(plot), focus_rect(plot, "k")
            self.grids.append((plot, image, borders, focus, window_box))
        self.steps_view.scene().sigMouseMoved.connect(self._moved)
        self.caption = QtWidgets.QLabel()
        self.caption.setWordWrap(True)
        self.step_caption = QtWidgets.QLabel()
        self.step_caption.setWordWrap(True)
        self.step_caption.setStyleSheet("font-weight: bold")
        self.step = 0
        self.prev_button = bound(QtWidgets.QPushButton(), "◀")
        self.play_button = bound(QtWidgets.QPushButton(), "▶ animate")
        self.play_button.setCheckable(True)
        self.next_button = bound(QtWidgets.QPushButton(), "▶|")
        self.prev_button.clicked.connect(lambda: self.go_to_step(self.step - 1))
        self.next_button.clicked.connect(lambda: self.go_to_step(self.step + 1))
        self.timer = QtCore.QTimer(self, interval=1500)
        self.timer.timeout.connect(lambda: self.go_to_step((self.step + 1) % len(STEPS)))
        self.play_button.toggled.connect(
            lambda on: self.timer.start() if on else self.timer.stop())
        self.mask = MatrixView()
        self.weights = MatrixView()
        for view in (self.mask, self.weights):
            view.hovered.connect(lambda r, c: self.state.hover(query=r, key=c))
            # at 200% a third of the row is ~13 characters wide: "mask, window 0 (grey:
            # other region)" needs three lines, and the window's number is the point of it
            view.title_rows = 3
        self.stages_view = pg.GraphicsLayoutWidget()
        self.stage_plots: list[tuple] = []
        # the caption on a row of its own: beside the buttons it wrapped into a tall column
        # at large text and pushed the grids off screen
        controls = QtWidgets.QHBoxLayout()
        controls.addStretch(1)
        for button in (self.prev_button, self.play_button, self.next_button):
            controls.addWidget(button)
        # the pictures share the height there is: a scroll area asks a panel with wrapping
        # captions for its preferred height, and pyqtgraph's 640×480 made this one scroll
        for view in (self.steps_view, self.mask, self.weights, self.stages_view):
            view.setSizePolicy(QtWidgets.QSizePolicy.Preferred, QtWidgets.QSizePolicy.Ignored)
            view.setMinimumHeight(110)
        bottom = QtWidgets.QHBoxLayout()
        bottom.addWidget(self.mask, 2)
        bottom.addWidget(self.weights, 2)
        bottom.addWidget(self.stages_view, 3)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.caption)
        layout.addLayout(controls)
        layout.addWidget(self.step_caption)
        layout.addWidget(self.steps_view, 1)  # the matrices below need as much at 200%
        layout.addLayout(bottom, 1)
        self.geometry: dict = {}

    # -- step-through ----------------------------------------------------------------------
    def go_to_step(self, index: int) -> None:
        self.step = max(0, min(index, len(STEPS) - 1))
        title, text = STEPS[self.step]
        self.step_caption.setText(f"{self.step + 1}/4  {tr(title)}: {tr(text)}")
        for i, (plot, *_rest) in enumerate(self.grids):
            colour = "#ff8c00" if i == self.step else "#444"
            # wrapped to a quarter of the width: four titles side by side fit at 200% too
            fit_title(plot, f"{i + 1}. {tr(STEPS[i][0])}", self._cell_width(self.steps_view, 4),
                      10, color=colour, bold=i == self.step)

    @staticmethod
    def _cell_width(view: pg.GraphicsLayoutWidget, plots: int) -> int:
        return max(view.width() // max(plots, 1) - 12, 40)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.go_to_step(self.step)  # the titles wrap to the new width
        trace = self.state.trace
        if trace is not None and self.stage_plots and token_layout(trace.meta) == "windows":
            self._draw_stages(trace)

    # -- pointing ----------------------------------------------------------------------------
    def _moved(self, scene_pos) -> None:
        if not self.geometry:
            return
        res, shift = self.geometry["res"], self.geometry["shift"]
        for i, (plot, *_rest) in enumerate(self.grids):
            if plot.vb.sceneBoundingRect().contains(scene_pos):
                point = plot.vb.mapSceneToView(scene_pos)
                y, x = int(np.floor(point.y())), int(np.floor(point.x()))
                if not (0 <= y < res and 0 <= x < res):
                    return
                if i in (1, 2):  # rolled coordinates -> original
                    y, x = (y + shift) % res, (x + shift) % res
                self.state.hover(key=None, **window_token_at(self.state.trace,
                                                             self.geometry["site"], y, x))
                return

    # -- drawing -----------------------------------------------------------------------------
    def update_trace(self, trace: Trace) -> None:
        self.go_to_step(self.step)

    def update_selection(self, sel: Selection) -> None:
        trace = self.state.trace
        if trace is None or not sel.site or token_layout(trace.meta) != "windows":
            return
        if self._shown != (sel.site,):
            self._draw_grids(trace, sel.site)
        if self._shown != (sel.site, sel.head, sel.window):
            self._draw_window(trace, sel)
            self._shown = (sel.site, sel.head, sel.window)
        self._draw_focus(trace, sel)

    def _draw_grids(self, trace: Trace, site: str) -> None:
        info = trace.meta["sites"][site]
        res, ws, shift = info["resolution"][0], info["window_size"], info["shift"]
        block = block_name(site)
        window_of = trace[f"{block}/window_of_token"]
        regions = trace.get(f"{block}/regions", np.zeros((res, res), int))
        self.geometry = {"site": site, "res": res, "ws": ws, "shift": shift}
        shade = 0.35 + 0.65 * token_image(trace, res)[..., None]
        rolled_shade = np.roll(shade, (-shift, -shift), axis=(0, 1))
        checker = lambda w: REGION_COLOURS[(w // (res // ws) + w % (res // ws)) % 2 * 3]  # noqa
        previous = np.arange(res)[:, None] // ws * (res // ws) + np.arange(res)[None] // ws
        rolled_window = np.roll(window_of, (-shift, -shift), axis=(0, 1))
        images = [checker(previous) * shade,  # the previous block's windows
                  REGION_COLOURS[regions] * rolled_shade,
                  checker(rolled_window) * rolled_shade,
                  checker(window_of) * shade]
        borders = [grid_lines(res, ws, 0), grid_lines(res, ws, 0), grid_lines(res, ws, 0),
                   grid_lines(res, ws, shift)]
        for (plot, image, lines, _focus, _box), rgb, border in zip(self.grids, images, borders):
            image.setImage((np.clip(rgb, 0, 1) * 255).astype(np.ubyte), autoLevels=False)
            lines.setData(*border)
            plot.setRange(xRange=(0, res), yRange=(0, res), padding=0.02)
        how = tr("SW-MSA, shift {shift}").format(shift=shift) if shift else tr("W-MSA, no shift")
        self.caption.setText(
            f"{block} · {how} · " + tr("{res}×{res} tokens, {ws}×{ws}-token windows, {n} "
                                       "windows").format(res=res, ws=ws, n=(res // ws) ** 2)
            + ("" if shift else " — " + tr("pick an odd block to see the shift")))
        self._draw_stages(trace)

    def _draw_window(self, trace: Trace, sel: Selection) -> None:
        labels, _ = axis_labels(trace, sel.site, sel.window)
        weights = trace[f"{sel.site}/weights"][sel.window, sel.head]
        mask = trace.get(f"{sel.site}/mask")
        blocked = None if mask is None else mask[sel.window, 0] < -1
        shown_mask = (np.zeros_like(weights) if mask is None
                      else np.where(blocked, -1.0, 0.0).astype(np.float32))
        self.mask.set_matrix(shown_mask, labels, labels,
                             tr("mask, window {window} (grey: other region)").format(
                                 window=sel.window),
                             signed=True, levels=(-1, 1), blocked=blocked)
        title = tr("weights, window {window}, head {head}").format(window=sel.window,
                                                                   head=sel.head)
        if trace.meta.get("compare"):  # compare mode's A − B: signed, centred on 0
            self.weights.set_matrix(weights, labels, labels, "A − B  ·  " + title,
                                    blocked=blocked, signed=True,
                                    levels=signed_levels(weights))
        else:
            self.weights.set_matrix(weights, labels, labels, title, blocked=blocked)

    def _draw_focus(self, trace: Trace, sel: Selection) -> None:
        g = self.geometry
        res, ws, shift = g["res"], g["ws"], g["shift"]
        wy, wx = divmod(sel.window, res // ws)
        cell = None
        if sel.query is not None:
            cell = window_token_cell(trace, sel.site, sel.window, sel.query)
        for i, (_plot, _image, _lines, focus, box) in enumerate(self.grids):
            box.setVisible(i == 2)
            box.setRect(wx * ws, wy * ws, ws, ws)
            focus.setVisible(cell is not None)
            if cell is not None:
                y, x = cell
                if i in (1, 2):
                    y, x = (y - shift) % res, (x - shift) % res
                focus.setRect(x, y, 1, 1)
        self.mask.set_highlight(sel.query, sel.key)
        self.weights.set_highlight(sel.query, sel.key, sel.locked)
        self._focus_stages(trace, sel, cell)

    # -- patch merging ---------------------------------------------------------------------
    def _draw_stages(self, trace: Trace) -> None:
        stages = sorted({info["stage"] for info in trace.meta["sites"].values()})
        if len(self.stage_plots) != len(stages):
            self.stages_view.clear()
            self.stage_plots = []
            for s in stages:
                plot = still(self.stages_view.ci.addPlot(row=0, col=s))
                image = ImageItem()
                sources = pg.ScatterPlotItem(symbol="s", size=10, pen=pg.mkPen("c", width=2),
                                             brush=None, pxMode=True)
                plot.addItem(image)
                footprint = focus_rect(plot)
                plot.addItem(sources)
                self.stage_plots.append((plot, image, footprint, sources))
        for s, (plot, image, _footprint, _sources) in zip(stages, self.stage_plots):
            res = trace.meta["config"]["img_size"] // trace.meta["config"]["patch_size"] // 2**s
            image.setImage(token_image(trace, res).astype(np.float32), autoLevels=False,
                           levels=(0, 1))
            fit_title(plot, tr("stage {stage}").format(stage=s) + f": {res}×{res}",
                      self._cell_width(self.stages_view, len(self.stage_plots)), 9)
            plot.setRange(xRange=(0, res), yRange=(0, res), padding=0.02)

    def _focus_stages(self, trace: Trace, sel: Selection, cell) -> None:
        stage = trace.meta["sites"][sel.site]["stage"]
        for s, (_plot, image, footprint, sources) in enumerate(self.stage_plots):
            if cell is None:
                footprint.hide()
                sources.setData([], [])
                continue
            factor = 2.0 ** (stage - s)  # token size of the selected stage, in stage-s cells
            y, x = cell
            if factor >= 1:  # a finer stage: the token covers factor × factor cells
                top, left, size = y * factor, x * factor, factor
            else:  # a coarser stage: the cell the token was merged into
                top, left, size = np.floor(y * factor), np.floor(x * factor), 1.0
            footprint.setRect(float(left), float(top), size, size)
            footprint.show()
            # the 2×2 neighbourhood that merges into the selected token's next-stage token
            merge = trace.get(f"layers.{s + 1}.downsample/source")
            if s == stage and merge is not None:
                res = image.image.shape[0]
                flat = merge[int(y) // 2, int(x) // 2]
                ys, xs = np.divmod(flat, res)
                sources.setData(xs + 0.5, ys + 0.5)
            else:
                sources.setData([], [])
