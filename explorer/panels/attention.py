"""Attention weights of the selected site, head (and Swin window), linked to the selection."""
from __future__ import annotations

import numpy as np
from PySide6 import QtWidgets

from models.trace import Trace

from ..i18n import tr
from ..labels import axis_labels, site_title
from ..state import Selection
from ..widgets.matrix_view import MatrixView
from .base import Panel

LEVEL_STEPS = (0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0)


class AttentionPanel(Panel):
    name = "attention"
    title = "Attention weights"

    def __init__(self, state, parent=None) -> None:
        super().__init__(state, parent)
        self.view = MatrixView()
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view)
        self.view.hovered.connect(lambda r, c: self.state.hover(query=r, key=c))
        self.view.clicked.connect(self._clicked)

    def _clicked(self, row: int, col: int) -> None:
        sel = self.state.selection
        if sel.locked and (sel.query, sel.key) == (row, col):
            self.state.unlock()
        else:
            self.state.lock(row, col)

    def update_selection(self, sel: Selection) -> None:
        trace = self.state.trace
        if self._shown != (sel.site, sel.head, sel.window):
            self._show_matrix(trace, sel)
        self.view.set_highlight(sel.query, sel.key, sel.locked)

    def _show_matrix(self, trace: Trace, sel: Selection) -> None:
        info = trace.meta["sites"][sel.site]
        windowed = info["kind"] == "window"
        window = sel.window if windowed else None
        # this head's N × N only: at 1,024 tokens all heads' would be H × 4 MB to compute
        matrix = trace.head_matrix(sel.site, "weights", sel.head, window)
        blocked = None
        if f"{sel.site}/mask" in trace:
            blocked = trace.head_matrix(sel.site, "mask", sel.head, window) < -1.0
        rows, cols = axis_labels(trace, sel.site, sel.window)
        where = "  " + tr("window {window}").format(window=sel.window) if windowed else ""
        # Colours span 0 … the largest weight: over 65 or 256 keys a row's weights are small,
        # and a fixed 0–1 scale would paint every matrix uniformly dark. The colour bar
        # shows the scale (not the title: a new title re-lays out the plot).
        # Rounded up to a step of a short ladder, so that the next input mostly keeps the
        # bar as it is (a new scale re-lays out the bar's axis).
        top = float(np.nanmax(matrix)) if matrix.size else 1.0
        top = next((step for step in LEVEL_STEPS if top <= step), 1.0)
        title = (tr("weights") + f" [{matrix.shape[0]}×{matrix.shape[1]}]  "
                 f"{site_title(trace, sel.site)}  " + tr("head {head}").format(head=sel.head)
                 + where)
        self.view.set_matrix(matrix, rows, cols, title, blocked=blocked,
                             levels=(0.0, top))
        self._shown = (sel.site, sel.head, sel.window)
