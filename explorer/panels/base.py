"""Panel: subscribes to the AppState; hidden panels do no work until they are shown again."""
from __future__ import annotations

import pyqtgraph as pg
from PySide6 import QtWidgets

from models.trace import Trace

from ..i18n import LANGUAGE
from ..state import AppState, Selection
from ..zoom import ZOOM, font


class Panel(QtWidgets.QWidget):
    name = ""  # for `python main.py shot --panel NAME`
    title = ""

    def __init__(self, state: AppState, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self._stale = True  # the trace changed while hidden
        self._selection_stale = False  # the selection changed while hidden
        self.redraws = 0  # how often update_trace ran (tests check hidden panels idle)
        self._shown: tuple | None = None  # what is drawn (site, head, …); None: redraw
        state.trace_changed.connect(self._trace_changed)
        state.selection_changed.connect(self._selection_changed)
        ZOOM.changed.connect(self._zoom_changed)
        LANGUAGE.changed.connect(self._language_changed)

    def _zoom_changed(self, factor: float) -> None:
        """Every text is drawn again at the new size (now, or when shown)."""
        for view in self.findChildren(pg.GraphicsView):  # every axis of every plot
            for item in view.scene().items():
                if isinstance(item, pg.AxisItem):
                    item.setTickFont(font())
        self.apply_zoom(factor)
        if self.state.trace is not None:
            self._trace_changed(self.state.trace)

    def _language_changed(self, lang: str) -> None:
        """Captions and read-outs computed from the trace are drawn again in `lang`."""
        self.retranslate()
        if self.state.trace is not None:
            self._trace_changed(self.state.trace)

    def retranslate(self) -> None:
        """For subclasses: words set from code rather than `bind`."""

    def apply_zoom(self, factor: float) -> None:
        """For subclasses: fonts set explicitly (Qt widgets follow the application font)."""
    def _trace_changed(self, trace: Trace) -> None:
        if self.isVisible():
            self._redraw(trace)
        else:
            self._stale = True

    def _selection_changed(self, selection: Selection) -> None:
        if self.isVisible() and not self._stale:
            self._select(selection)
        else:
            self._selection_stale = True

    def _select(self, selection: Selection) -> None:
        if self.state.trace is not None and selection.site:
            self.update_selection(selection)

    def _redraw(self, trace: Trace) -> None:
        self._stale = self._selection_stale = False
        self.redraws += 1
        self._shown = None
        self.update_trace(trace)
        self._select(self.state.selection)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._stale and self.state.trace is not None:
            self._redraw(self.state.trace)
        elif self._selection_stale:
            self._selection_stale = False
            self._select(self.state.selection)

    # -- for subclasses ----------------------------------------------------------
    def update_trace(self, trace: Trace) -> None:
        """Redraw for a new trace (and a possibly new site/head/window)."""

    def update_selection(self, selection: Selection) -> None:
        """Move highlights (and redraw what `self._shown` says is out of date); must be cheap.
        Only called with a trace and a selected site."""
