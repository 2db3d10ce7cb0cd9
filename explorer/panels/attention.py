"""Attention weights of the selected site, head (and Swin window), linked to the selection.

A head's N × N not computed yet (a long input: 10–20 ms at 1,024 tokens) is computed on the
analyst thread; the view keeps the previous matrix until it arrives, and a newer choice
replaces a computation still waiting. One already at hand (a small run's matrices, or a
head seen before, kept by the trace's cache) is drawn at once."""
from __future__ import annotations

import numpy as np
from PySide6 import QtWidgets

from models.sites import kind_of
from models.trace import Trace

from ..analyst import Request
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
        # the central plot keeps its height at every zoom: a title of one line (the whole
        # in the tooltip), its numbers first so that only words are left out
        self.view.title_rows = 1
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view)
        self.view.hovered.connect(self._hovered)
        self.view.clicked.connect(self._clicked)
        self.request = Request("attention", lambda: self.state.trace)

    def _hovered(self, row: int, col: int) -> None:
        if not self.computing():  # (the matrix shown while one is computed may be another's)
            self.state.hover(query=row, key=col)

    def _clicked(self, row: int, col: int) -> None:
        if self.computing():
            return
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
        windowed = kind_of(trace.meta, sel.site).windowed
        window = sel.window if windowed else None
        masked = f"{sel.site}/mask" in trace
        self._shown = (sel.site, sel.head, sel.window)

        def job():  # this head's N × N only: at 1,024 tokens all heads' would be H × 4 MB
            matrix = trace.head_matrix(sel.site, "weights", sel.head, window)
            blocked = (trace.head_matrix(sel.site, "mask", sel.head, window) < -1.0
                       if masked else None)
            return matrix, blocked

        ready = trace.has_head_matrix(sel.site, "weights", sel.head, window) and (
            not masked or trace.has_head_matrix(sel.site, "mask", sel.head, window))
        self.request.ask(trace, self._shown, job, self._arrived, ready)

    def _arrived(self, result: tuple) -> None:
        sel = self.state.selection
        if (sel.site, sel.head, sel.window) == self._shown:
            self._draw(self.state.trace, sel, *result)
            self.view.set_highlight(sel.query, sel.key, sel.locked)

    def computing(self) -> bool:
        """This panel's head is being computed (on the analyst thread)."""
        return self.request.computing()

    def _draw(self, trace: Trace, sel: Selection, matrix: np.ndarray,
              blocked: np.ndarray | None) -> None:
        windowed = kind_of(trace.meta, sel.site).windowed
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
                 + tr("head {head}").format(head=sel.head) + where
                 + f"  ·  {site_title(trace, sel.site)}")
        if trace.meta.get("compare"):  # compare mode's A − B: signed, centred on 0
            peak = float(np.nanmax(np.abs(matrix))) if matrix.size else 1.0
            self.view.set_matrix(matrix, rows, cols, "A − B  ·  " + title, blocked=blocked,
                                 signed=True, levels=(-max(peak, 1e-6), max(peak, 1e-6)))
            return
        self.view.set_matrix(matrix, rows, cols, title, blocked=blocked,
                             levels=(0.0, top))
