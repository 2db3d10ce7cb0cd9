"""Every layer × head of one attention kind at a glance, with per-head statistics.

One raster (a mosaic image) holds all thumbnails, so 12 layers × 12 heads of 197 tokens
stay one ImageItem: no graphics object per head or per edge. Thumbnails are max-pooled (a
one-token stripe stays visible at 1,024 tokens). A long input's thumbnails and statistics are
computed on the analyst thread, one head at a time (models.analysis.site_overview); a small
run's matrices are at hand and drawn at once.
"""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from models.analysis import head_figures, site_overview
from models.head_roles import (
    PRIORITY,
    head_scores,
    probes,
    roles,
    session_probe,
    session_scores,
)
from models.sites import KINDS
from models.trace import Trace

from ..analyst import Request, analyst
from ..compare import runs_of, signed_levels
from ..i18n import tr
from ..state import Selection
from ..widgets import ImageItem
from ..widgets.matrix_view import PROBABILITY, SIGNED
from ..widgets.plots import focus_rect, still
from ..zoom import font as zoom_font
from .base import Panel
from .lens import session_for

THUMB = 40  # pixels per thumbnail side in the mosaic
GAP = 4


class NumberItem(QtWidgets.QTableWidgetItem):
    """Sorts by value; NaN shows as a dash and sorts last."""

    def __init__(self, value: float, digits: int = 2) -> None:
        super().__init__("—" if math.isnan(value) else f"{value:.{digits}f}")
        self.value = value
        self.setTextAlignment(QtCore.Qt.AlignRight | QtCore.Qt.AlignVCenter)

    def __lt__(self, other) -> bool:
        a = self.value if not math.isnan(self.value) else math.inf
        b = other.value if not math.isnan(other.value) else math.inf
        return a < b


# the roles of models/head_roles.py, as the table and the thumbnails name them
ROLE_NAMES = {"induction": "induction", "previous_token": "previous token",
              "duplicate_token": "duplicate token", "first_token": "first token",
              "class_token": "class token", "local": "local"}
ROLE_MARKS = {"induction": "I", "previous_token": "P", "duplicate_token": "D",
              "first_token": "F", "class_token": "C", "local": "L"}


class RoleItem(QtWidgets.QTableWidgetItem):
    """A head's role and its score; sorts by role (head_roles.PRIORITY order), the highest
    score first within a role, heads without one last."""

    def __init__(self, role: str | None, score: float) -> None:
        super().__init__("—" if role is None else f"{tr(ROLE_NAMES[role])} {score:.2f}")
        self.role, self.score = role, score
        self.key = (PRIORITY.index(role) if role in PRIORITY else len(PRIORITY), -score)

    def __lt__(self, other) -> bool:
        return self.key < getattr(other, "key", (len(PRIORITY) + 1, 0.0))


def head_roles_of(session, trace: Trace, sites: list[str], probed=None) -> dict:
    """(On the analyst thread.) {site: [(role or None, its score) per head]} for `sites`:
    the roles of models/head_roles.py, with the induction probe when the model that made
    the trace is at hand (a language model: `probed`, the probe's run, made on the model's
    worker thread)."""
    scores = session_scores(session, trace, probed) if session is not None else \
        head_scores(trace)
    named = roles(scores)
    out = {}
    for site in sites:
        if site not in scores:
            continue
        out[site] = [(role, scores[site][role][h] if role else max(
            (v[h] for v in scores[site].values()), default=0.0))
            for h, role in enumerate(named[site])]
    return out


def signed_thumbnail(matrix: np.ndarray, size: int) -> np.ndarray:
    """(size, size) picture of a signed matrix, NOT scaled (the thumbnails of A − B share
    one scale): each block's value of the largest magnitude; smaller: cells repeated."""
    rows = (np.arange(size) * matrix.shape[0] // size)
    cols = (np.arange(size) * matrix.shape[1] // size)
    hi = np.maximum.reduceat(np.maximum.reduceat(matrix, rows, axis=0), cols, axis=1)
    lo = np.minimum.reduceat(np.minimum.reduceat(matrix, rows, axis=0), cols, axis=1)
    return np.where(hi >= -lo, hi, lo).astype(np.float32)


def difference_overview(a: Trace, b: Trace, site: str, window: int, size: int
                        ) -> tuple[np.ndarray, list[dict]]:
    """Compare mode's A − B of `site_overview`: each head's thumbnail of W_A − W_B, and
    each statistic of A minus the same statistic of B."""
    heads = a.meta["sites"][site]["heads"]
    pictures = np.zeros((heads, size, size), np.float32)
    stats = []
    for head in range(heads):
        wa, wb = _weights(a, site, head), _weights(b, site, head)
        shown = (wa - wb)[min(window, wa.shape[0] - 1)] if wa.ndim == 3 else wa - wb
        pictures[head] = signed_thumbnail(shown, size)
        fa, fb = head_figures(a, site, head, wa), head_figures(b, site, head, wb)
        stats.append({k: (fa[k] - fb[k] if k != "head" else fa[k]) for k in fa})
    return pictures, stats


def _weights(trace: Trace, site: str, head: int) -> np.ndarray:
    from models.analysis import _head_weights

    return _head_weights(trace, site, head)


class ModelPanel(Panel):
    name = "model"
    title = "Model view"

    def __init__(self, state, parent=None) -> None:
        super().__init__(state, parent)
        self.canvas = pg.GraphicsLayoutWidget()
        self.plot = still(self.canvas.addPlot(), axes=True)
        self.mosaic = ImageItem()
        self.mosaic.setLookupTable(PROBABILITY.getLookupTable(nPts=256))
        self._signed = False  # the mosaic's colours: A − B's diverging scale
        self.levels: tuple[float, float] = (0, 1)
        self.mosaic_data: np.ndarray | None = None  # what the mosaic shows (tests read it)
        self.plot.addItem(self.mosaic)
        self.focus = focus_rect(self.plot)
        # while a long run's overview computes: said on the plot, no empty axes and no
        # selection box round nothing
        self.waiting = pg.TextItem("", color=(60, 60, 60), anchor=(0.5, 0.5))
        self.waiting.setParentItem(self.plot.vb)
        self.waiting.hide()
        self.table = QtWidgets.QTableWidget(0, 7)
        # columns as wide as their numbers and names (at every zoom), never squeezed to '0.…'
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.horizontalHeader().setDefaultAlignment(QtCore.Qt.AlignLeft |
                                                          QtCore.Qt.AlignVCenter)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.NoEditTriggers)
        self.table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectRows)
        self.table.setSortingEnabled(True)
        # each head's role (models/head_roles.py): a letter on its thumbnail, a table column
        self.by_role = QtWidgets.QCheckBox()
        self.by_role.toggled.connect(self._sort_by_role)
        self.retranslate()
        self.table.cellClicked.connect(self._row_clicked)
        self.marks: list[pg.TextItem] = []  # made as needed, then moved and reused
        self.roles: dict = {}
        self.roles_request = Request("model-roles", lambda: self.state.trace)
        self.caption = QtWidgets.QLabel()
        self.caption.setWordWrap(True)  # at 200% a line would be wider than the panel
        self.split = split = QtWidgets.QSplitter()
        split.addWidget(self.canvas)
        split.addWidget(self.table)
        split.setSizes([600, 360])
        split.setChildrenCollapsible(False)
        split.setStretchFactor(0, 1)  # more room goes to the mosaic
        split.setStretchFactor(1, 0)
        # the mosaic and the table share the height there is: a scroll area asks a panel with
        # a wrapping caption for its preferred height, and theirs would make it scroll
        split.setSizePolicy(QtWidgets.QSizePolicy.Preferred, QtWidgets.QSizePolicy.Ignored)
        split.setMinimumHeight(120)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        top = QtWidgets.QHBoxLayout()
        top.addWidget(self.caption, 1)
        top.addWidget(self.by_role, 0, QtCore.Qt.AlignTop)
        layout.addLayout(top)
        layout.addWidget(split, 1)
        self.canvas.scene().sigMouseClicked.connect(self._mosaic_clicked)
        self.sites: list[str] = []
        self.heads = 1
        self._ticket: tuple | None = None  # the overview being computed for this panel
        analyst().done.connect(self._overview_done)
        analyst().failed.connect(self._overview_failed)

    def retranslate(self) -> None:
        self.table.setHorizontalHeaderLabels([tr(w) for w in ("layer", "head", "entropy",
                                                              "distance", "special", "first",
                                                              "role")])
        self.by_role.setText(tr("sort by role"))
        self.by_role.setToolTip(tr("roles, on the thumbnails: I induction · P previous token "
                                   "· D duplicate token · F first token · C class token · "
                                   "L local (a score of 0.4 or more)"))
        self.table.setToolTip(tr("entropy: nats, mean over queries · distance: mean attention "
                                 "distance (tokens or pixels) · special: weight on "
                                 "CLS/<bos>/<eos> (a language model's [CLS], [SEP], <s>) · "
                                 "first: weight on the first token, the 'attention sink' of "
                                 "language models"))

    def update_selection(self, sel: Selection) -> None:
        trace = self.state.trace
        kind = trace.meta["sites"][sel.site]["kind"]
        if self._shown != (kind, sel.window):
            self._draw(trace, kind, sel.window)
        layer = self.sites.index(sel.site)
        step = THUMB + GAP
        self.focus.setRect(sel.head * step - 2, layer * step - 2, THUMB + 4, THUMB + 4)

    def _draw(self, trace: Trace, kind: str, window: int) -> None:
        self.sites = trace.sites(kind)
        self.heads = max(trace.meta["sites"][s]["heads"] for s in self.sites)
        self._shown = (kind, window)
        sites = list(self.sites)
        runs = runs_of(trace)
        if runs is None:
            job = lambda: [site_overview(trace, site, window, THUMB)  # noqa: E731
                           for site in sites]
        else:  # compare mode's A − B: of each run's matrices and figures
            job = lambda: [difference_overview(*runs, site, window, THUMB)  # noqa: E731
                           for site in sites]
        if all(f"{site}/weights" in trace.records for site in sites):
            self._paint(kind, job())  # a small run: its matrices are at hand
            return
        self._ticket = (id(trace), kind, window)
        self.caption.setText(tr("computing {layers} layers × {heads} heads of {tokens} tokens, "
                                "one head at a time…").format(
            layers=len(sites), heads=self.heads, tokens=trace[f"{sites[0]}/k"].shape[-2]))
        self.mosaic.setImage(np.full((THUMB, THUMB), np.nan, np.float32), autoLevels=False,
                             levels=(0, 1))
        self.table.setRowCount(0)
        self._computing(True)
        analyst().submit("model-view", self._ticket, job)

    def _overview_done(self, slot: str, ticket, overviews) -> None:
        trace = self.state.trace
        if slot == "model-view" and ticket == self._ticket and trace is not None and \
                ticket[0] == id(trace):
            self._ticket = None
            self._paint(ticket[1], overviews)

    def _overview_failed(self, slot: str, ticket, message: str) -> None:
        if slot == "model-view" and ticket == self._ticket:
            self.caption.setText(tr("the overview failed: {reason}").format(reason=message))

    def _computing(self, on: bool) -> None:
        for axis in ("left", "bottom"):
            self.plot.showAxis(axis, not on)
        self.focus.setVisible(not on)
        self.waiting.setText(tr("computing…") if on else "")
        self.waiting.setFont(zoom_font(12))
        self.waiting.setVisible(on)
        if on:
            box = self.plot.vb.boundingRect()
            self.waiting.setPos(box.width() / 2, box.height() / 2)

    def _paint(self, kind: str, overviews: list) -> None:
        self._computing(False)
        step = THUMB + GAP
        mosaic = np.full((len(self.sites) * step - GAP, self.heads * step - GAP), np.nan,
                         np.float32)
        self.table.setSortingEnabled(False)
        self.table.setRowCount(0)
        for layer, (pictures, stats) in enumerate(overviews):
            for head, picture in enumerate(pictures):
                mosaic[layer * step: layer * step + THUMB, head * step: head * step + THUMB] = \
                    picture
            for figures in stats:
                row = self.table.rowCount()
                self.table.insertRow(row)
                self.table.setItem(row, 0, NumberItem(layer, 0))
                self.table.setItem(row, 1, NumberItem(figures["head"], 0))
                for column, key in enumerate(("entropy", "distance", "special", "first"), 2):
                    self.table.setItem(row, column, NumberItem(figures[key]))
                self.table.setItem(row, 6, RoleItem(None, 0.0))  # (until they come)
        self.table.setSortingEnabled(True)
        self._fit_table()
        difference = runs_of(self.state.trace) is not None
        if difference != self._signed:  # compare mode's A − B: diverging, centred on 0
            self._signed = difference
            self.mosaic.setLookupTable((SIGNED if difference else PROBABILITY)
                                       .getLookupTable(nPts=256))
        self.levels = signed_levels(mosaic) if difference else (0, 1)
        self.mosaic_data = mosaic
        self.mosaic.setImage(mosaic, autoLevels=False, levels=self.levels)
        self._ask_roles(kind)
        self.plot.getAxis("left").setTicks(
            [[(i * step + THUMB / 2, f"L{i}") for i in range(len(self.sites))], []])
        self.plot.getAxis("bottom").setTicks(
            [[(h * step + THUMB / 2, f"h{h}") for h in range(self.heads)], []])
        if difference:
            self.caption.setText(tr("A − B: {layers} layers × {heads} heads of {kind}, one "
                                    "scale for all — red: A higher, blue: B higher, full "
                                    "colour at ±{peak:.3g} (larger matrices: the largest "
                                    "difference of each block); the table: A's figure minus "
                                    "B's, the roles A's").format(
                layers=len(self.sites), heads=self.heads, kind=tr(KINDS[kind].title),
                peak=self.levels[1]))
            return
        self.caption.setText(tr("{layers} layers × {heads} heads of {kind} — each "
                                "thumbnail scaled to its maximum (larger matrices: the maximum "
                                "of each block); click one to select it everywhere").format(
            layers=len(self.sites), heads=self.heads, kind=tr(KINDS[kind].title)))

    # -- head roles ---------------------------------------------------------------------
    def _ask_roles(self, kind: str) -> None:
        """Each head's role, off the GUI thread: on the model's worker when an induction probe
        runs the model, else (numpy on the trace) on the analyst thread."""
        trace = self.state.trace
        for mark in self.marks:
            mark.hide()
        self.roles = {}
        if trace is None:
            return
        session, sites = session_for(self.state, trace), list(self.sites)
        runs = runs_of(trace)
        read = trace if runs is None else runs[0]  # (A − B: a head's role is A's)
        if session is not None and probes(session, read):
            # the induction probe is a forward of the model: on the model's worker thread,
            # with the session it runs (its device, its interventions), never beside it;
            # the scores (numpy on the two traces) then on the analyst thread
            self.roles_request.ask(
                trace, ("probe", kind), lambda running, check: session_probe(running, read),
                lambda probed: self._probed(trace, kind, session, read, sites, probed),
                ready=False, elsewhere=self.state.run_on_model)
            return
        self._ask_scores(trace, kind, session, read, sites, None)

    def _probed(self, trace: Trace, kind: str, session, read: Trace, sites: list[str],
                probed) -> None:
        """The probe's run arrived (for the trace still shown): its scores. Else the probe
        stopped (the window's next run asks again) or failed (said on the model's thread):
        no roles drawn."""
        if isinstance(probed, tuple):
            self._ask_scores(trace, kind, session, read, sites, probed)

    def _ask_scores(self, trace: Trace, kind: str, session, read: Trace, sites: list[str],
                    probed) -> None:
        self.roles_request.ask(trace, ("roles", kind),
                               lambda: head_roles_of(session, read, sites, probed),
                               self._draw_roles, ready=False)

    def _draw_roles(self, found: dict) -> None:
        self.roles = found
        self.table.setSortingEnabled(False)
        for row in range(self.table.rowCount()):
            layer = int(self.table.item(row, 0).value)
            head = int(self.table.item(row, 1).value)
            site = self.sites[layer] if layer < len(self.sites) else None
            role, score = (found.get(site) or [])[head] if site in found and \
                head < len(found[site]) else (None, 0.0)
            self.table.setItem(row, 6, RoleItem(role, score))
        self.table.setSortingEnabled(True)
        self._sort_by_role(self.by_role.isChecked())
        self._fit_table()
        step, used = THUMB + GAP, 0
        for layer, site in enumerate(self.sites):
            for head, (role, score) in enumerate(found.get(site, [])):
                if role is None:
                    continue
                if used == len(self.marks):
                    mark = pg.TextItem("", color=(255, 255, 255), fill=(0, 0, 0, 150),
                                       anchor=(0, 0))
                    self.plot.addItem(mark)
                    self.marks.append(mark)
                mark = self.marks[used]
                mark.setText(f"{ROLE_MARKS[role]} {score:.2f}")
                mark.setFont(zoom_font(7))
                mark.setPos(head * step, layer * step)
                mark.show()
                used += 1
        for mark in self.marks[used:]:
            mark.hide()

    def _sort_by_role(self, on: bool) -> None:
        """The heads grouped by role, the strongest first; off: in model order."""
        if on:
            self.table.sortItems(6, QtCore.Qt.AscendingOrder)
        else:
            self.table.sortItems(1, QtCore.Qt.AscendingOrder)
            self.table.sortItems(0, QtCore.Qt.AscendingOrder)

    def apply_zoom(self, factor: float) -> None:
        # the table takes the new font after this signal: measured once it has
        QtCore.QTimer.singleShot(0, self._fit_table)

    def _fit_table(self) -> None:
        """Every column as wide as its widest number or name at this text size; the splitter
        never gives the table less (the mosaic takes what is left)."""
        metrics = self.table.horizontalHeader().fontMetrics()
        arrow = metrics.height() + 12  # a name (at the left) and the sort arrow at the right
        widths = [max(self.table.sizeHintForColumn(c), metrics.horizontalAdvance(
            self.table.horizontalHeaderItem(c).text()) + arrow)
            for c in range(self.table.columnCount())]
        for c, width in enumerate(widths):
            self.table.setColumnWidth(c, width)
        columns = sum(widths)  # (not the columns' widths: the last one stretches)
        scroll = self.style().pixelMetric(QtWidgets.QStyle.PM_ScrollBarExtent)
        need = columns + scroll + 2 * self.table.frameWidth() + 2
        # beside the mosaic while that leaves the mosaic room, else below it (at 200% in an
        # image preset's narrower centre the table beside it made the panel scroll sideways)
        beside = need <= 0.6 * self.width()
        self.split.setOrientation(QtCore.Qt.Horizontal if beside else QtCore.Qt.Vertical)
        self.table.setMinimumWidth(need if beside else 0)
        total = sum(self.split.sizes())
        if beside and total > need:
            self.split.setSizes([total - need, need])  # the mosaic takes the rest
        elif not beside and total > 0:
            self.split.setSizes([total // 2, total - total // 2])

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self.table.rowCount():
            self._fit_table()

    def select(self, layer: int, head: int) -> None:
        if 0 <= layer < len(self.sites):
            info = self.state.site_info(self.sites[layer])
            self.state.set_selection(site=self.sites[layer], head=min(head, info["heads"] - 1))

    def _mosaic_clicked(self, event) -> None:
        point = self.plot.vb.mapSceneToView(event.scenePos())
        step = THUMB + GAP
        layer, head = int(point.y() // step), int(point.x() // step)
        if point.x() >= 0 and point.y() >= 0 and head < self.heads:
            self.select(layer, head)

    def _row_clicked(self, row: int, _column: int) -> None:
        self.select(int(self.table.item(row, 0).value), int(self.table.item(row, 1).value))
