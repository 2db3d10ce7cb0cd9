"""Corpus: a corpus result folder (`python main.py corpus`, docs/corpus.md) on screen.

Three views of the same heads over thousands of inputs:

- a layers × heads map of one statistic's mean over the inputs (a chooser picks the
  statistic); clicking a cell selects that head here and, when the result is of the model
  on screen, everywhere (the app's Selection);
- the selected head's distribution of that statistic across the inputs (a histogram);
- the AttentionViz view of the selected head (Yeh et al. 2023): its sampled queries and keys
  in one 2-D embedding (PCA, or UMAP when umap-learn is installed), the keys scaled and
  translated as AttentionViz does (corpus_result.attentionviz), coloured by position, token
  or role. Pointing at a point says its input and token; clicking it opens that input live,
  with the head and the token selected.

Queries over the Parquet files run on the analyst thread, the embeddings on a thread of their
own (UMAP takes minutes; the other panels' jobs do not wait for it), newest request wins; the
GUI thread only draws. A UMAP shows its progress and can be cancelled: the embedding shown
before stays, marked as such. Each head's embedding is kept (the last EMBEDDINGS), so going
back to a head draws it at once. A hidden panel asks for nothing.
"""
from __future__ import annotations

import time
import weakref
import zlib
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from models.presets import find

from ..analyst import Request
from ..i18n import bound, say, tr, translate_message
from ..state import Selection, same_input
from ..text import plain, tip
from ..zoom import pt
from . import corpus_result
from .base import Panel
from .corpus_result import CorpusError, CorpusResult

BINS = 40
COLOURS = ("position", "token", "query or key")
PROJECTIONS = ("PCA", "UMAP")
QUERY_COLOUR, KEY_COLOUR = (31, 158, 137), (214, 39, 120)  # AttentionViz's green and pink
TOKEN_COLOURS = 12  # the most frequent tokens each get a colour; the others grey
PALETTE = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
           (140, 86, 75), (227, 119, 194), (188, 189, 34), (23, 190, 207), (57, 59, 121),
           (255, 187, 120), (152, 223, 138)]
GREY = (190, 190, 190)
STEPS = 16  # position colours: steps of viridis
EMBEDDINGS = 24  # heads whose embedding is kept (without their vectors: ~1 MB each)


class PaletteScatter(pg.ScatterPlotItem):
    """One scatter item whose points each take one of a few brushes (a palette's), with one
    symbol, size and pen. pyqtgraph finds each point's place in its symbol atlas with a key
    made per point, in Python (0.2 s for 40,000 points); here it is found once per brush
    and spread with numpy."""

    _deferred = False

    def set_points(self, x: np.ndarray, y: np.ndarray, palette: np.ndarray,
                   colours: np.ndarray) -> None:
        """The points, point i with brush `palette[colours[i]]` (an object array of
        QBrushes, made once)."""
        if len(x) and len(x) == len(self.data):
            # as many points as before (a head's sample is --points of each role): the
            # record array is reused (setData makes a new one, its object fields filled
            # one by one: 45 ms for 40,000 points on a busy machine)
            self.data["x"], self.data["y"] = x, y
            self.data["item"][...] = None
            self.prepareGeometryChange()
            self.informViewBoundsChanged()
            self.bounds = [None, None]
        else:
            self._deferred = True
            try:
                self.setData(x=x, y=y)
            finally:
                self._deferred = False
        self.data["brush"] = palette[colours]  # (setData's brush list goes in item by item)
        self._place(np.arange(len(palette)), palette, colours)
        self.sigPlotChanged.emit(self)

    def _place(self, kinds: np.ndarray, brushes, which: np.ndarray,
               rows: np.ndarray | None = None) -> None:
        """Each point's place in the atlas: its brush is brushes[which[i]]."""
        styles = [(self.opts["symbol"], self.opts["size"], self.opts["pen"], brushes[k])
                  for k in kinds]
        rects = np.array([tuple(c) for c in self.fragmentAtlas[styles]],
                         dtype=self.data["sourceRect"].dtype) if styles else \
            np.zeros(0, self.data["sourceRect"].dtype)
        if rows is None:
            self.data["sourceRect"] = rects[which] if len(which) else 0
        else:
            self.data["sourceRect"][rows] = rects[which]
        self._maybeRebuildAtlas()
        self._updateMaxSpotSizes(data=self.data)
        self.invalidate()

    def updateSpots(self, dataSet=None) -> None:
        """After a change of size (the zoom): the brushes grouped by identity. (Symbol, size
        and pen are the item's, never a point's.)"""
        if self._deferred:
            return
        if (dataSet is not None and dataSet is not self.data) or \
                not (self.opts["pxMode"] and self.opts["useCache"]):
            super().updateSpots(dataSet)
            return
        rows = np.flatnonzero(self.data["sourceRect"]["w"] == 0)
        brushes = self.data["brush"][rows]
        ids = np.fromiter(map(id, brushes), np.int64, len(rows))
        _, first, inverse = np.unique(ids, return_index=True, return_inverse=True)
        unique = [b if b is not None else self.opts["brush"] for b in brushes[first]]
        self._place(np.arange(len(unique)), unique, inverse.reshape(-1), rows)


class CellImage(pg.ImageItem):
    """The map: a click reports its (row, column)."""

    def __init__(self, clicked) -> None:
        super().__init__(axisOrder="row-major")
        self.clicked = clicked

    def mouseClickEvent(self, event) -> None:
        if event.button() == QtCore.Qt.LeftButton and self.image is not None:
            pos = event.pos()
            row, column = int(np.floor(pos.y())), int(np.floor(pos.x()))
            if 0 <= row < self.image.shape[0] and 0 <= column < self.image.shape[1]:
                event.accept()
                self.clicked(row, column)


class CorpusPanel(Panel):
    name = "corpus"
    title = "Corpus"

    def __init__(self, state, parent=None) -> None:
        super().__init__(state, parent)
        self.result: CorpusResult | None = None
        self.layer, self.head = 0, 0  # the head selected here
        self.points = None  # its sample (corpus_result.Points)
        # drawn: {"index", "xy", "method", "layer", "head"}
        self.shown_points: dict | None = None
        self.embedded: OrderedDict = OrderedDict()  # (layer, head, method) -> embedding
        self.distributions: OrderedDict = OrderedDict()  # (layer, head, statistic) -> values
        self.cancelled = False  # the embedding shown is the one before a cancelled UMAP
        self._asked_at = 0.0
        self.values = np.zeros(0)  # its distribution of the chosen statistic
        self.pending: dict | None = None  # an input opened from a point: its selection
        self._head_stale = False  # asked while hidden: asked again when shown
        self.hovered = -1
        self._fingerprinted: tuple = (lambda: None, "")  # (session's weakref, fingerprint)
        self.note = plain(QtWidgets.QLabel())
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: #b00000")
        self.note.hide()
        self.caption = plain(QtWidgets.QLabel())
        self.caption.setWordWrap(True)
        self.stat_box = QtWidgets.QComboBox()
        self.stat_box.currentIndexChanged.connect(self._statistic_chosen)
        self.colour_box = QtWidgets.QComboBox()
        self.colour_box.currentIndexChanged.connect(lambda _: self._recolour())
        self.projection_box = QtWidgets.QComboBox()
        self.projection_box.currentIndexChanged.connect(lambda _: self._ask_head())
        # the map's chooser over the map, the embedding's over the embedding: each row fits
        # its column at 200%
        self.stat_label = bound(QtWidgets.QLabel(), "statistic:")
        self.colour_label = bound(QtWidgets.QLabel(), "colour:")
        self.projection_label = bound(QtWidgets.QLabel(), "projection:")
        # a UMAP's progress (busy: umap-learn does not say how far it is) and its Cancel
        self.progress = QtWidgets.QProgressBar()
        self.progress.setTextVisible(False)
        self.progress.setMaximumHeight(12)
        self.cancel_button = QtWidgets.QPushButton()
        self.cancel_button.clicked.connect(self.cancel_embedding)
        map_controls, embed_controls = QtWidgets.QHBoxLayout(), QtWidgets.QHBoxLayout()
        for row, label, box in ((map_controls, self.stat_label, self.stat_box),
                                (embed_controls, self.colour_label, self.colour_box),
                                (embed_controls, self.projection_label, self.projection_box)):
            box.setSizeAdjustPolicy(QtWidgets.QComboBox.AdjustToContents)
            box.setSizePolicy(QtWidgets.QSizePolicy.Minimum, QtWidgets.QSizePolicy.Fixed)
            row.addWidget(label)
            row.addWidget(box)
        map_controls.addStretch(1)
        embed_controls.addStretch(1)
        progress_row = QtWidgets.QHBoxLayout()
        progress_row.addWidget(self.progress, 1)
        progress_row.addWidget(self.cancel_button)
        self.progress_row = (self.progress, self.cancel_button)
        for widget in self.progress_row:
            widget.hide()
        # the map: layers (rows, top first) × heads
        self.map_plot = pg.PlotWidget()
        self.map_plot.setMenuEnabled(False)
        self.map_plot.setMouseEnabled(False, False)
        self.map_plot.hideButtons()
        self.map_plot.invertY(True)
        self.image = CellImage(self._cell_clicked)
        self.image.setLookupTable(pg.colormap.get("viridis").getLookupTable(nPts=256))
        self.map_plot.addItem(self.image)
        self.cell = QtWidgets.QGraphicsRectItem(0, 0, 1, 1)
        self.cell.setPen(pg.mkPen((255, 40, 40), width=3, cosmetic=True))
        self.map_plot.addItem(self.cell)
        # the distribution of the selected head
        self.hist_plot = pg.PlotWidget()
        self.hist_plot.setMenuEnabled(False)
        self.hist_plot.hideButtons()
        self.hist = pg.PlotDataItem(stepMode="center", fillLevel=0,
                                    brush=(70, 130, 180, 160), pen=pg.mkPen((40, 90, 140)))
        self.hist_plot.addItem(self.hist)
        self.mean_line = pg.InfiniteLine(angle=90, pen=pg.mkPen((200, 30, 30), width=2))
        self.hist_plot.addItem(self.mean_line)
        self.hist_caption = plain(QtWidgets.QLabel())
        self.hist_caption.setWordWrap(True)
        self.map_caption = plain(QtWidgets.QLabel())
        self.map_caption.setWordWrap(True)
        # the AttentionViz embedding of the selected head
        self.embed_plot = pg.PlotWidget()
        self.embed_plot.setMenuEnabled(False)
        self.embed_plot.hideButtons()
        self.embed_plot.setAspectLocked(True)
        self.embed_plot.getAxis("left").hide()
        self.embed_plot.getAxis("bottom").hide()
        # one item, created once: each point's brush from the palette's (made once)
        self.scatter = PaletteScatter(size=5, pen=None, symbol="o", antialias=False,
                                      pxMode=True)
        self.embed_plot.addItem(self.scatter)
        self.colours = np.zeros(0, int)  # per drawn point: its colour in the palette
        self.marker = pg.ScatterPlotItem(size=14, pen=pg.mkPen((0, 0, 0), width=2),
                                         brush=None, symbol="o")
        self.embed_plot.addItem(self.marker)
        self.embed_plot.scene().sigMouseMoved.connect(self._moved)
        self.embed_plot.scene().sigMouseClicked.connect(self._embed_clicked)
        self.embed_caption = plain(QtWidgets.QLabel())
        self.embed_caption.setWordWrap(True)
        self.hover_line = plain(QtWidgets.QLabel())
        self.hover_line.setWordWrap(True)
        for plot in (self.map_plot, self.hist_plot, self.embed_plot):
            plot.setMinimumSize(160, 140)
        left = QtWidgets.QVBoxLayout()
        left.addLayout(map_controls)
        left.addWidget(self.map_caption)
        left.addWidget(self.map_plot, 3)
        left.addWidget(self.hist_caption)
        left.addWidget(self.hist_plot, 2)
        right = QtWidgets.QVBoxLayout()
        right.addLayout(embed_controls)
        right.addLayout(progress_row)
        right.addWidget(self.embed_caption)
        right.addWidget(self.embed_plot, 1)
        right.addWidget(self.hover_line)
        row = QtWidgets.QHBoxLayout()
        row.addLayout(left, 2)
        row.addLayout(right, 3)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.note)
        layout.addWidget(self.caption)
        layout.addLayout(row, 1)
        self.hist_request = Request("corpus-hist", lambda: self.result)
        self.embed_request = Request("corpus-embed", lambda: self.result, thread="corpus")
        self._brushes: dict[tuple, np.ndarray] = {}  # palette -> its QBrushes
        state.trace_changed.connect(self._apply_pending)
        state.input_changed.connect(self._input_changed)
        self.retranslate()
        self._show_empty()

    # -- words -------------------------------------------------------------------------
    def retranslate(self) -> None:
        for box, words in ((self.colour_box, COLOURS), (self.projection_box, PROJECTIONS)):
            index = max(box.currentIndex(), 0)
            box.blockSignals(True)
            box.clear()
            for word in words:
                box.addItem(tr(word), word)
            box.setCurrentIndex(index)
            box.blockSignals(False)
        model = self.projection_box.model()
        available = corpus_result.umap_available()
        model.item(1).setEnabled(available)  # UMAP: with umap-learn only, and says so
        if not available:
            self.projection_box.setItemText(1, tr("UMAP (needs umap-learn)"))
            self.projection_box.setItemData(1, tr("needs umap-learn (pip install umap-learn)"),
                                            QtCore.Qt.ToolTipRole)
        self.cancel_button.setText(tr("Cancel"))
        self.note.setText(translate_message(getattr(self, "_note", "")))
        self._fill_statistics()
        self._axis_labels()
        if self.result is not None:
            self._caption_result()
            self._draw_map()
            self._draw_histogram()
            self._caption_embedding()
            self._hover_text(self.hovered)
        else:
            self._show_empty()

    def _show_empty(self) -> None:
        if self.result is None:
            self.caption.setText(tr("no corpus result open: File ▸ Open corpus result…, "
                                    "a folder written by `python main.py corpus`"))

    def _fill_statistics(self) -> None:
        chosen = self.stat_box.currentData()
        self.stat_box.blockSignals(True)
        self.stat_box.clear()
        for name in (self.result.statistics if self.result is not None else []):
            self.stat_box.addItem(tr(name.replace("_", " ")), name)
        index = self.stat_box.findData(chosen)
        self.stat_box.setCurrentIndex(max(index, 0))
        self.stat_box.blockSignals(False)

    def tell(self, message) -> None:
        """One line over the panel ('' clears it); not in the status bar, which says how
        the newest run went."""
        self._note = message
        self.note.setText(translate_message(message))
        self.note.setVisible(bool(message))

    def apply_zoom(self, factor: float) -> None:
        self._axis_labels()
        size = max(5, round(5 * factor))
        self.scatter.setSize(size)
        self.marker.setSize(3 * size)
        for plot in (self.map_plot, self.hist_plot, self.embed_plot):
            plot.setMinimumSize(round(160 * factor), round(140 * factor))

    # -- opening -------------------------------------------------------------------------
    def open(self, folder: str | Path) -> str:
        """Open a result folder; '' when it opened, else the one line that says why not
        (the result on screen stays)."""
        try:
            result = CorpusResult(folder)
        except CorpusError as error:
            self.tell(error.message)
            return error.message  # (a str that keeps its template: said in either language)
        if self.result is not None:
            self.result.close()
        self.result = result
        self.tell("")
        self.points, self.shown_points, self.values, self.hovered = None, None, np.zeros(0), -1
        self.embed_request.cancel()
        self.embedded.clear()
        self.distributions.clear()
        self.cancelled = False
        self._show_progress(False)
        self.scatter.setData([], [])
        self.marker.setData([], [])
        self.hover_line.setText("")
        self._fill_statistics()
        self._caption_result()
        self.layer, self.head = 0, 0
        selection = self.state.selection
        if self.same_model() and selection.site in self._site_rows():
            self.layer, self.head = self._site_rows()[selection.site], selection.head
        self.layer = min(self.layer, len(result.layers) - 1)
        self.head = min(self.head, int(result.layers[self.layer]["heads"]) - 1)
        self._draw_map()
        self._ask_head()
        return ""

    def session_state(self) -> dict | None:
        """What a saved session keeps of this tab: the open result's folder (absolute), the
        selected head (by its site) and statistic; None when no result is open."""
        if self.result is None:
            return None
        return {"folder": str(self.result.folder.resolve()),
                "site": self.result.layers[self.layer]["site"], "head": self.head,
                "statistic": self.statistic()}

    def restore(self, saved: dict) -> None:
        """A session's head and statistic on the result just opened (ones it does not
        have are left as opening chose)."""
        index = self.stat_box.findData(saved.get("statistic"))
        if index >= 0:
            self.stat_box.setCurrentIndex(index)
        rows = self._site_rows()
        if saved.get("site") in rows and saved.get("head") is not None:
            self.select_head(rows[saved["site"]], int(saved["head"]))

    def _caption_result(self) -> None:
        result = self.result
        meta = result.meta
        self.caption.setText(tr("{inputs} inputs of {model} ({source}) · {folder}").format(
            inputs=f"{int(meta.get('inputs', len(result.row_of))):,}",
            model=result.model_name(), source=meta.get("source", ""), folder=result.folder))

    def _axis_labels(self) -> None:
        """Axis titles at the zoom's size (pyqtgraph draws them itself)."""
        style = {"font-size": pt(9)}
        self.map_plot.setLabel("left", tr("layer"), **style)
        self.map_plot.setLabel("bottom", tr("head"), **style)
        self.hist_plot.setLabel("left", tr("inputs"), **style)

    def _site_rows(self) -> dict[str, int]:
        return {layer["site"]: i for i, layer in enumerate(self.result.layers)} \
            if self.result is not None else {}

    def same_model(self) -> bool:
        """The result is of the model on screen, so its inputs can run live: the same
        fingerprint (models.corpus: its name, a hash of its config and weights) when the
        runner holds the model on screen; else the same preset, or the same folder."""
        trace = self.state.trace
        if self.result is None or trace is None:
            return False
        meta = self.result.meta
        shown = trace.meta.get("preset")
        session = getattr(getattr(self.state, "runner", None), "session", None)
        if meta.get("model") and session is not None and session.preset.name == shown:
            return self._fingerprint(session) == meta["model"]
        if meta.get("preset"):
            return meta["preset"] == shown
        preset = find(shown) if shown else None
        source = getattr(preset, "source", None)
        if meta.get("weights") and source:
            try:
                return Path(meta["weights"]).expanduser().resolve() == \
                    Path(source).expanduser().resolve()
            except OSError:
                return False
        return False

    def _fingerprint(self, session) -> str:
        """models.corpus.fingerprint of the runner's model (once per model)."""
        if self._fingerprinted[0]() is not session:
            from models.corpus import fingerprint

            # held weakly: the panel must not keep a model the app has let go
            self._fingerprinted = (weakref.ref(session), fingerprint(session))
        return self._fingerprinted[1]

    # -- the map -------------------------------------------------------------------------
    def statistic(self) -> str:
        return self.stat_box.currentData() or (self.result.statistics[0] if self.result
                                               else "")

    def _statistic_chosen(self, _index: int) -> None:
        self._axis_labels()
        if self.result is not None:
            self._caption_result()
            self._draw_map()
            self._ask_histogram()

    def _draw_map(self) -> None:
        result = self.result
        grid = result.means[self.statistic()]
        finite = np.isfinite(grid)
        lo, hi = (float(grid[finite].min()), float(grid[finite].max())) if finite.any() \
            else (0.0, 1.0)
        hi = hi if hi > lo else lo + 1e-6
        self.image.setImage(np.where(finite, grid, lo).astype(np.float32), levels=(lo, hi))
        self.image.setRect(QtCore.QRectF(0, 0, grid.shape[1], grid.shape[0]))
        rows = [layer["row"] for layer in result.layers]
        step = max(1, len(rows) // 12)
        self.map_plot.getAxis("left").setTicks(
            [[(i + 0.5, str(r)) for i, r in enumerate(rows) if i % step == 0]])
        step = max(1, grid.shape[1] // 12)
        self.map_plot.getAxis("bottom").setTicks(
            [[(h + 0.5, str(h)) for h in range(grid.shape[1]) if h % step == 0]])
        self.map_plot.setXRange(0, grid.shape[1], padding=0)
        self.map_plot.setYRange(0, grid.shape[0], padding=0)
        self.map_caption.setText(tr("mean {statistic} by layer and head: {lo} (dark) to {hi} "
                                    "(bright); click a head").format(
            statistic=tr(self.statistic().replace("_", " ")), lo=f"{lo:.3g}", hi=f"{hi:.3g}"))
        self.cell.setRect(self.head, self.layer, 1, 1)

    def _cell_clicked(self, row: int, column: int) -> None:
        if self.result is None or column >= int(self.result.layers[row]["heads"]):
            return
        self.select_head(row, column, tell=True)

    def select_head(self, layer: int, head: int, tell: bool = False) -> None:
        """Select a head here; `tell`: in the app too, when the result is of the model on
        screen and its trace has the site."""
        if self.result is None or not 0 <= layer < len(self.result.layers) \
                or not 0 <= head < int(self.result.layers[layer]["heads"]):
            return
        changed = (layer, head) != (self.layer, self.head)
        self.layer, self.head = layer, head
        self.cell.setRect(head, layer, 1, 1)
        if changed or self.points is None:
            self._ask_head()
        if tell and self.same_model():
            site = self.result.layers[layer]["site"]
            if site in self.state.trace.meta.get("sites", {}):
                self.state.set_selection(site=site, head=head, query=None, key=None,
                                         locked=False)

    def update_selection(self, selection: Selection) -> None:
        """The head chosen elsewhere (the tool bar, the heads panel) is the head shown
        here, when the result is of the model on screen."""
        rows = self._site_rows()
        if selection.site in rows and self.same_model() and \
                (rows[selection.site], selection.head) != (self.layer, self.head) and \
                selection.head < int(self.result.layers[rows[selection.site]]["heads"]):
            self.select_head(rows[selection.site], selection.head)

    # -- one head: its distribution and its embedding ------------------------------------
    def method(self) -> str:
        """The projection asked for: "umap" when chosen and installed, else "pca"."""
        return "umap" if self.projection_box.currentData() == "UMAP" \
            and corpus_result.umap_available() else "pca"

    def _ask_head(self) -> None:
        if self.result is None:
            return
        if not self.isVisible():
            self._head_stale = True  # asked for when shown
            return
        self._head_stale = False
        self._ask_histogram()
        result, layer, head, method = self.result, self.layer, self.head, self.method()
        kept = self.embedded.get((layer, head, method))
        if kept is not None:  # a head seen before: at once (a UMAP still running stops)
            self.embed_request.cancel()
            self._show_progress(False)
            self.embedded.move_to_end((layer, head, method))
            self._draw_embedding(kept)
            return

        def job(task=None) -> dict:
            try:
                points = result.points(layer, head)
            except Exception as error:  # a damaged points.parquet: said, not raised
                return {"error": str(error).splitlines()[0][:300]}
            found = corpus_result.embed(points, method, task=task)
            # kept without the vectors: the drawing needs only the points' labels
            return {"points": points.without_vectors(), **found, "layer": layer,
                    "head": head}

        self._asked_at = time.monotonic()
        if method == "pca":
            self._show_progress(False)
            self.embed_caption.setText(tr("computing the embedding…"))
            self.embed_request.ask(result, ("embed", layer, head, method), job,
                                   self._draw_embedding, ready=False)
        else:
            self._show_progress(True)
            self._embed_progress(None)
            self.embed_request.ask(result, ("embed", layer, head, method), job,
                                   self._draw_embedding, ready=False,
                                   progress=self._embed_progress)

    def _show_progress(self, shown: bool) -> None:
        for widget in self.progress_row:
            widget.setVisible(shown)

    def _embed_progress(self, fraction: float | None) -> None:
        """A UMAP's progress: a busy bar where how far is not known, and the seconds."""
        if fraction is None:
            self.progress.setRange(0, 0)
        else:
            self.progress.setRange(0, 100)
            self.progress.setValue(round(100 * fraction))
        self.embed_caption.setText(tr("computing UMAP (seconds to minutes)…") + " " + tr(
            "{seconds} s").format(seconds=f"{time.monotonic() - self._asked_at:.0f}"))

    def cancel_embedding(self) -> None:
        """Cancel the UMAP being computed: the embedding on screen stays, marked as the
        one before."""
        if not self.embed_request.computing():
            return
        self.embed_request.cancel()
        self._show_progress(False)
        self.cancelled = True
        self._caption_embedding()

    def _ask_histogram(self) -> None:
        if self.result is None or not self.isVisible():
            self._head_stale = self._head_stale or self.result is not None
            return
        result, layer, head, statistic = self.result, self.layer, self.head, self.statistic()
        key = (layer, head, statistic)
        if key in self.distributions:  # a head seen before
            self.distributions.move_to_end(key)
            self.hist_request.ask(result, ("hist", *key), lambda: self.distributions[key],
                                  self._draw_histogram_of, ready=True)
            return

        def job() -> dict:
            try:
                return {"values": result.distribution(layer, head, statistic), "key": key}
            except Exception as error:  # a file damaged since it was opened
                return {"error": str(error).splitlines()[0][:300]}

        self.hist_request.ask(result, ("hist", *key), job, self._draw_histogram_of,
                              ready=False)

    def _failed(self, reason: str) -> None:
        self.tell(say("{folder}: a file cannot be read ({reason})",
                     folder=str(self.result.folder), reason=reason))

    def _draw_histogram_of(self, found: dict) -> None:
        if "error" in found:
            self._failed(found["error"])
            return
        self.distributions[found["key"]] = found
        while len(self.distributions) > 4 * EMBEDDINGS:
            self.distributions.popitem(last=False)
        self.values = found["values"]
        self._draw_histogram()

    def _draw_histogram(self) -> None:
        values, result = self.values, self.result
        site = result.layers[self.layer]
        words = tr("{statistic} of layer {row}, head {head} ({site}) across {n} inputs").format(
            statistic=tr(self.statistic().replace("_", " ")), head=self.head, row=site["row"],
            site=site["site"], n=f"{len(values):,}")
        if len(values):
            counts, edges = np.histogram(values, bins=BINS)
            self.hist.setData(edges, counts.astype(float))
            mean = float(values.mean())
            self.mean_line.setValue(mean)
            self.mean_line.show()
            words += " · " + tr("mean {mean} (red line)").format(mean=f"{mean:.3g}")
        else:
            self.hist.setData([0, 1], [0.0])
            self.mean_line.hide()
        self.hist_caption.setText(words)

    def _draw_embedding(self, found: dict) -> None:
        self._show_progress(False)
        if "error" in found:
            self._failed(found["error"])
            return
        self.embedded[(found["layer"], found["head"], found["method"])] = found
        while len(self.embedded) > EMBEDDINGS:
            self.embedded.popitem(last=False)
        self.cancelled = False
        self.points = found["points"]
        self.shown_points = {k: found[k] for k in ("index", "xy", "method", "layer", "head")}
        self.hovered = -1
        self.marker.setData([], [])
        self._draw_points()
        self.embed_plot.autoRange()
        self._caption_embedding()
        self.hover_line.setText(tr("point at a query or key: its input and token; click: "
                                   "open that input"))

    def _caption_embedding(self) -> None:
        shown, result = self.shown_points, self.result
        self.embed_caption.setStyleSheet("color: #b00000" if self.cancelled else "")
        if self.cancelled and shown is None:
            self.embed_caption.setText(tr("UMAP cancelled: nothing drawn yet"))
            return
        if shown is None or result is None:
            return
        role = self.points.role[shown["index"]]
        site = result.layers[shown["layer"]]
        colour = self.colour_box.currentData()
        how = {"position": tr("colour: position (dark: first, bright: last)"),
               "token": tr("colour: the {n} most frequent tokens; grey: the others").format(
                   n=TOKEN_COLOURS),
               "query or key": tr("colour: green queries, pink keys")}[colour]
        words = tr(
            "layer {row}, head {head} ({site}): {queries} queries and {keys} keys by {method}; "
            "keys scaled and moved onto the queries as AttentionViz does · {how}").format(
                head=shown["head"], row=site["row"], site=site["site"],
                queries=f"{int(role.sum()):,}", keys=f"{int((~role).sum()):,}",
                method=shown["method"].upper(), how=how)
        if self.cancelled:  # marked: not what was asked for last
            words = tr("UMAP cancelled; shown, the embedding before:") + " " + words
        self.embed_caption.setText(words)

    # -- colours -------------------------------------------------------------------------
    def colour_keys(self) -> np.ndarray:
        """Per drawn point, the index of its colour in `self._palette()`."""
        points, index = self.points, self.shown_points["index"]
        colour = self.colour_box.currentData()
        if colour == "query or key":
            return np.where(points.role[index], 0, 1)
        if colour == "position":
            position = points.position[index].astype(np.float64)
            top = max(float(position.max()), 1.0) if len(position) else 1.0
            return np.minimum((position / top * STEPS).astype(int), STEPS - 1)
        codes = points.token_code[index]
        counts = np.bincount(codes, minlength=len(points.token_names))
        frequent = np.argsort(-counts, kind="stable")[:TOKEN_COLOURS]
        frequent = frequent[counts[frequent] > 0]
        # each frequent token keeps its colour from head to head: by its text's checksum
        colour_of = np.full(len(points.token_names), len(PALETTE))
        colour_of[frequent] = [zlib.crc32(str(points.token_names[c]).encode()) % len(PALETTE)
                               for c in frequent]
        return colour_of[codes]

    def _palette(self) -> list[tuple]:
        colour = self.colour_box.currentData()
        if colour == "query or key":
            return [QUERY_COLOUR, KEY_COLOUR]
        if colour == "position":
            lut = pg.colormap.get("viridis").getLookupTable(nPts=STEPS)
            return [tuple(int(c) for c in rgb[:3]) for rgb in lut]
        return PALETTE + [GREY]

    def _palette_brushes(self) -> np.ndarray:
        """The palette's brushes, made once (an object array, indexed by colour)."""
        palette = tuple(self._palette())
        brushes = self._brushes.get(palette)
        if brushes is None:
            brushes = np.empty(len(palette), object)
            brushes[:] = [QtGui.QBrush(QtGui.QColor(*rgb, 200)) for rgb in palette]
            self._brushes[palette] = brushes
        return brushes

    def _draw_points(self) -> None:
        """The points into the one scatter item, each with its colour's brush."""
        xy = self.shown_points["xy"]
        self.colours = self.colour_keys()
        self.scatter.set_points(xy[:, 0], xy[:, 1], self._palette_brushes(), self.colours)

    def _recolour(self) -> None:
        if self.shown_points is not None:
            self._draw_points()
            self._caption_embedding()

    # -- pointing and clicking -----------------------------------------------------------
    def point_at(self, scene_pos) -> int:
        """The drawn point under `scene_pos` (within 8 pixels), or -1."""
        if self.shown_points is None or not len(self.shown_points["xy"]):
            return -1
        box = self.embed_plot.getPlotItem().vb
        if not box.sceneBoundingRect().contains(scene_pos):
            return -1
        at = box.mapSceneToView(scene_pos)
        pixel = box.viewPixelSize()
        xy = self.shown_points["xy"]
        d = ((xy[:, 0] - at.x()) / pixel[0]) ** 2 + ((xy[:, 1] - at.y()) / pixel[1]) ** 2
        nearest = int(np.argmin(d))
        return nearest if d[nearest] <= 64 else -1

    def _moved(self, scene_pos) -> None:
        found = self.point_at(scene_pos)
        if found != self.hovered:
            self.hover(found)

    def hover(self, i: int) -> None:
        """Point at drawn point `i` (-1: none): its input and token under the plot."""
        self.hovered = i
        if i < 0:
            self.marker.setData([], [])
            self.embed_plot.setToolTip("")
            return
        xy = self.shown_points["xy"][i]
        self.marker.setData([xy[0]], [xy[1]])
        self._hover_text(i)

    def _hover_text(self, i: int) -> None:
        if i < 0 or self.shown_points is None:
            return
        row = int(self.shown_points["index"][i])
        points = self.points
        found = self.result.input(points.input_id[row]) or {}
        text = str(found.get("text", "?"))
        short = text if len(text) <= 160 else text[:157] + "…"
        words = tr("{role} · token {token} at {position} · input {input}: {text}").format(
            role=tr("query") if points.role[row] else tr("key"), token=repr(points.token[row]),
            position=int(points.position[row]), input=points.input_id[row], text=short)
        self.hover_line.setText(words)  # plain text: a token like <s> shows as itself
        self.embed_plot.setToolTip(tip(words))

    def _embed_clicked(self, event) -> None:
        if event.button() != QtCore.Qt.LeftButton:
            return
        found = self.point_at(event.scenePos())
        if found >= 0:
            self.open_point(found)

    def open_point(self, i: int) -> str:
        """Open the input of drawn point `i` live, with this head and the point's token
        selected (when the trace comes); '' when it did, else why not (said too)."""
        if self.shown_points is None or not 0 <= i < len(self.shown_points["index"]):
            return ""
        row = int(self.shown_points["index"][i])
        points = self.points
        if not self.same_model():
            message = say("this corpus result is of {model}: open that model to run its "
                          "inputs live", model=self.result.model_name())
            self.tell(message)
            return str(message)
        found = self.result.input(points.input_id[row])
        if found is None:
            message = say("input {input} is not in the corpus result's inputs",
                          input=points.input_id[row])
            self.tell(message)
            return str(message)
        value = found["text"]
        if self.result.meta.get("input_kind") == "image":
            path = Path(value).expanduser()
            # a path the command wrote relative to where it ran: from here, beside the
            # result, or in the source folder
            source = Path(str(self.result.meta.get("source") or "")).expanduser()
            path = next((p for p in (path, self.result.folder.parent / path,
                                     source / path.name) if p.is_file()), path)
            if not path.is_file():
                message = say("input {input}'s image {path} is not there: it cannot run "
                              "live", input=points.input_id[row], path=value)
                self.tell(message)
                return str(message)
            value = str(path)
        self.tell("")
        position = int(points.position[row])
        query = bool(points.role[row])
        shown = self.shown_points  # (the head drawn: a cancelled UMAP's may be another)
        self.pending = {"input": value, "site": self.result.layers[shown["layer"]]["site"],
                        "head": shown["head"], "query": position if query else None,
                        "key": None if query else position}
        self.state.set_input(value)
        return ""

    def _input_changed(self, value) -> None:
        """Another input than the point's (typed meanwhile): its selection is dropped."""
        if self.pending is not None and not same_input(value, self.pending["input"]):
            self.pending = None

    def _apply_pending(self, trace) -> None:
        """The trace of an input opened from a point: its head and token selected (after
        every panel has drawn the trace)."""
        pending = self.pending
        shown = self.state.shown
        if pending is None or shown is None or not same_input(shown.input, pending["input"]):
            return
        self.pending = None
        QtCore.QTimer.singleShot(0, lambda: self._select_pending(pending))

    def _select_pending(self, pending: dict) -> None:
        trace = self.state.trace
        if trace is None or pending["site"] not in trace.meta.get("sites", {}):
            return
        self.state.set_selection(site=pending["site"], head=pending["head"], query=None,
                                 key=None, locked=False)
        self.state.lock(pending["query"], pending["key"])

    # -- shown and hidden ----------------------------------------------------------------
    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._head_stale:
            self._ask_head()
