"""The attention equation, laid out as it computes: softmax(Q·Kᵀ/√dh + B + M)·V, then W_o.

Every matrix is a MatrixView of the selected site, head and window, read from the trace.
Pointing at weights (i, j) lights row i of Q, column j of Kᵀ, row j of V, cell (i, j) of the
scores, bias and mask, and row i of the head output, the concat and the projection.
A step-through walks the stages for lectures.
"""
from __future__ import annotations

import math

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from models.sites import kind_of
from models.trace import Trace

from .. import zoom
from ..analyst import Request
from ..i18n import bind, bound, tr
from ..labels import axis_labels, site_title
from ..state import Selection
from ..widgets.flow import FlowLayout
from ..widgets.matrix_view import MatrixView
from ..zoom import ZOOM
from .base import Panel

# The equation's two lines: each matrix with the operator written before it.
EQUATION = ((("", "q"), ("·", "kT"), ("=", "scores"), ("+", "bias"), ("+", "mask")),
            (("", "weights"), ("·", "v"), ("=", "out"), ("→", "concat"), ("W_o →", "proj")))


def cell_width(factor: float) -> int:
    """A matrix's least width: its axis and colour bar at this text size, and a plot one
    can read (130 px at 100%, 215 at 200%)."""
    return int(45 + 85 * max(factor, 1.0))


def cell_height(factor: float) -> int:
    """A matrix's least height: its title, axis and read-out at this text size and a plot
    one can read (125 px at 100%, 190 at 200%; more rows than fit scroll down)."""
    return int(60 + 65 * max(factor, 1.0))


# (name, caption, matrices it shows)
STAGES = [
    ("Q, K", "Each token is projected to a query q = x·W_q and a key k = x·W_k "
     "(here per head, dh columns).", ("q", "kT")),
    ("scores", "Raw scores: every query dotted with every key, q·kᵀ.", ("q", "kT", "scores")),
    ("scale", "Divided by √dh so that the softmax does not saturate as dh grows.", ("scores",)),
    ("+ bias, mask", "", ("scores", "bias", "mask")),  # the caption depends on the site
    ("softmax", "Softmax over each row: the attention weights, each row sums to 1.",
     ("weights",)),
    ("· V", "Each query's output is the weighted average of the value vectors.",
     ("weights", "v", "out")),
    ("concat", "The outputs of all heads side by side: [N × H·dh].", ("out", "concat")),
    ("W_o", "A last linear layer W_o mixes the heads: the block's attention output.",
     ("concat", "proj")),
]
MATRICES = ("q", "kT", "scores", "bias", "mask", "weights", "v", "out", "concat", "proj")
SIGNED = {"q", "kT", "scores", "bias", "mask", "v", "out", "concat", "proj"}
ACTIVE_STYLE = "QFrame#cell { border: 3px solid rgb(255,140,0); border-radius: 4px; }"
IDLE_STYLE = "QFrame#cell { border: 3px solid transparent; }"


def kv_group(info: dict, head: int) -> str:
    """Grouped-query attention: which key/value head a query head reads, and which query
    heads share it ('' when every head has its own)."""
    heads, kv = info["heads"], info.get("kv_heads", info["heads"])
    if kv >= heads:
        return ""
    group = heads // kv
    first = head // group * group
    return " · " + tr("reads K/V head {kv_head} of {kv}, shared by query heads {first}–{last} "
                      "(grouped-query attention)").format(kv_head=head // group, kv=kv,
                                                           first=first, last=first + group - 1)


def kv_head_of(info: dict, head: int) -> int:
    """The key/value head query head `head` reads (itself when every head has its own)."""
    heads, kv = info["heads"], info.get("kv_heads", info["heads"])
    return head // (heads // kv) if kv < heads else head


class KvGroups(QtWidgets.QWidget):
    """Grouped-query attention at a glance: a row of query heads over a row of key/value
    heads, each K/V head as wide as the group of query heads that share it. The selected
    query head, the heads of its group and the K/V head they read are lit; clicking a query
    head selects it."""
    chosen = QtCore.Signal(int)
    SELECTED, GROUP, IDLE = QtGui.QColor(255, 140, 0), QtGui.QColor(255, 214, 170), \
        QtGui.QColor(232, 232, 232)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.heads, self.kv_heads, self.head = 1, 1, 0
        self.setMouseTracking(True)
        self.setSizePolicy(QtWidgets.QSizePolicy.Expanding, QtWidgets.QSizePolicy.Fixed)

    def show_groups(self, heads: int, kv_heads: int, head: int) -> None:
        if (heads, kv_heads, head) != (self.heads, self.kv_heads, self.head):
            self.heads, self.kv_heads, self.head = heads, kv_heads, head
            self.update()

    @property
    def group(self) -> int:
        return self.heads // self.kv_heads

    def lit(self) -> tuple[list[int], int]:
        """The query heads lit (the selected head's group) and the K/V head they read."""
        kv = self.head // self.group
        return list(range(kv * self.group, (kv + 1) * self.group)), kv

    def _names(self) -> tuple[str, str]:
        return tr("query heads"), tr("K, V heads")

    def _label_width(self) -> int:
        return max(self.fontMetrics().horizontalAdvance(n) for n in self._names()) + 10

    def _chip_height(self) -> int:
        return self.fontMetrics().height() + 6

    def sizeHint(self) -> QtCore.QSize:
        return QtCore.QSize(self._label_width() + 24 * self.heads, 2 * self._chip_height() + 4)

    def minimumSizeHint(self) -> QtCore.QSize:  # chips shrink; their numbers go to tooltips
        return QtCore.QSize(self._label_width() + 4 * self.heads, self.sizeHint().height())

    def query_rect(self, head: int) -> QtCore.QRectF:
        left = self._label_width()
        width = (self.width() - left) / self.heads
        return QtCore.QRectF(left + head * width + 1, 0, width - 2, self._chip_height())

    def kv_rect(self, kv: int) -> QtCore.QRectF:
        first, last = self.query_rect(kv * self.group), self.query_rect((kv + 1) * self.group - 1)
        top = self._chip_height() + 4
        return QtCore.QRectF(first.left(), top, last.right() - first.left(), self._chip_height())

    def head_at(self, point: QtCore.QPointF) -> int | None:
        return next((h for h in range(self.heads) if self.query_rect(h).contains(point)), None)

    def paintEvent(self, event) -> None:
        painter = QtGui.QPainter(self)
        painter.setRenderHint(QtGui.QPainter.Antialiasing)
        metrics = self.fontMetrics()
        chip = self._chip_height()
        for row, name in enumerate(self._names()):
            painter.setPen(QtGui.QColor(70, 70, 70))
            painter.drawText(QtCore.QRectF(0, row * (chip + 4), self._label_width(), chip),
                             QtCore.Qt.AlignVCenter | QtCore.Qt.AlignLeft, name)
        group, mine = self.lit()
        boxes = [(self.query_rect(h), str(h), h == self.head, h in group)
                 for h in range(self.heads)]
        boxes += [(self.kv_rect(g), str(g), g == mine, g == mine) for g in range(self.kv_heads)]
        for rect, text, selected, lit in boxes:
            colour = self.SELECTED if selected else self.GROUP if lit else self.IDLE
            painter.setPen(QtGui.QPen(self.SELECTED if lit else QtGui.QColor(190, 190, 190)))
            painter.setBrush(colour)
            painter.drawRoundedRect(rect, 3, 3)
            if metrics.horizontalAdvance(text) + 4 <= rect.width():  # else in the tooltip
                painter.setPen(QtGui.QColor(255, 255, 255) if selected else
                               QtGui.QColor(40, 40, 40))
                painter.drawText(rect, QtCore.Qt.AlignCenter, text)
        painter.end()

    def mouseMoveEvent(self, event) -> None:
        head = self.head_at(event.position())
        if head is None:
            self.setToolTip("")
            return
        kv = head // self.group
        first = kv * self.group
        self.setToolTip(tr("query head {head} reads K/V head {kv}, shared by query heads "
                           "{first}–{last}").format(head=head, kv=kv, first=first,
                                                    last=first + self.group - 1))

    def mousePressEvent(self, event) -> None:
        head = self.head_at(event.position())
        if head is not None:
            self.chosen.emit(head)


class PipelinePanel(Panel):
    name = "pipeline"
    title = "Pipeline: softmax(Q·Kᵀ/√dh + B + M)·V"

    def __init__(self, state, parent=None) -> None:
        super().__init__(state, parent)
        self.request = Request("pipeline", lambda: self.state.trace)
        self._asked: tuple | None = None  # the head whose matrices were asked for last
        self.views: dict[str, MatrixView] = {}
        self.cells: dict[str, QtWidgets.QFrame] = {}
        self.operator_labels: list[QtWidgets.QLabel] = []
        self.grid = QtWidgets.QVBoxLayout()  # rows of the equation (see _arrange)
        self.grid.setSpacing(2)
        self.before: dict[str, QtWidgets.QLabel] = {}  # the operator before each matrix
        for line in EQUATION:
            for op, name in line:
                view = MatrixView()
                frame = QtWidgets.QFrame(objectName="cell")
                frame.setStyleSheet(IDLE_STYLE)
                # the rows share the height there is (a scroll area asks the panel for its
                # preferred height, and a view's preferred height would make it scroll)
                frame.setSizePolicy(QtWidgets.QSizePolicy.Preferred,
                                    QtWidgets.QSizePolicy.Ignored)
                box = QtWidgets.QVBoxLayout(frame)
                box.setContentsMargins(1, 1, 1, 1)
                box.addWidget(view)
                self.views[name], self.cells[name] = view, frame
                view.hovered.connect(lambda r, c, n=name: self._hovered(n, r, c))
                view.clicked.connect(lambda r, c, n=name: self._clicked(n, r, c))
                label = QtWidgets.QLabel(op)
                label.setAlignment(QtCore.Qt.AlignCenter)
                label.setStyleSheet(f"font-size: {zoom.pt(16)}; color: #444")
                self.operator_labels.append(label)
                self.before[name] = label
        self._arranged: tuple | None = None  # (rows, matrices shown) laid out
        self._arranged_rows: tuple | None = None
        self.raw_scores = bound(QtWidgets.QCheckBox(), "raw scores (before ÷√dh)")
        self.log_weights = bound(QtWidgets.QCheckBox(), "log scale weights")
        self.shared_levels = bound(QtWidgets.QCheckBox(), "shared colour levels")
        # Qwen3, Gemma 3: Q and Kᵀ as q_proj and k_proj gave them, before the per-head norm
        self.before_norm = bound(QtWidgets.QCheckBox(), "Q, K before their norm")
        bind(self.before_norm, "setToolTip",
             "this model normalises each head's q and k (RMSNorm) before the rotation: "
             "tick to see them as the projections gave them")
        self.before_norm.hide()
        for box in (self.raw_scores, self.log_weights, self.shared_levels, self.before_norm):
            box.toggled.connect(lambda _: self._redraw_matrices())
        self.prev_button = bound(QtWidgets.QPushButton(), "◀")
        self.play_button = bound(QtWidgets.QPushButton(), "▶ play")
        self.play_button.setCheckable(True)
        self.next_button = bound(QtWidgets.QPushButton(), "▶|")
        self.speed = QtWidgets.QSlider(QtCore.Qt.Horizontal, minimum=1, maximum=10, value=4)
        self.speed.setMaximumWidth(90)
        bind(self.speed, "setToolTip", "step-through speed")
        self.caption = QtWidgets.QLabel()
        self.caption.setWordWrap(True)
        self.caption.setStyleSheet("font-weight: bold")
        self.prev_button.clicked.connect(lambda: self.go_to_stage(self.stage - 1))
        self.next_button.clicked.connect(lambda: self.go_to_stage(self.stage + 1))
        self.play_button.toggled.connect(self._play)
        self.timer = QtCore.QTimer(self)
        self.timer.timeout.connect(lambda: self.go_to_stage((self.stage + 1) % len(STAGES)))
        self.speed.valueChanged.connect(lambda _: self._play(self.play_button.isChecked()))
        controls = FlowLayout()  # one line, or more when the text is large
        for widget in (self.raw_scores, self.log_weights, self.shared_levels,
                       self.before_norm):
            controls.addWidget(widget)
        stepper = QtWidgets.QWidget()  # the step-through controls wrap as one
        steps = QtWidgets.QHBoxLayout(stepper)
        steps.setContentsMargins(0, 0, 0, 0)
        steps.addWidget(bound(QtWidgets.QLabel(), "step through:", control=True))
        for widget in (self.prev_button, self.play_button, self.next_button, self.speed):
            steps.addWidget(widget)
        controls.addWidget(stepper)
        for button in (self.prev_button, self.next_button):
            button.setMaximumWidth(self.fontMetrics().horizontalAdvance("▶|") + 24)
        outer = QtWidgets.QVBoxLayout(self)
        outer.setContentsMargins(2, 2, 2, 2)
        outer.addLayout(controls)
        outer.addWidget(self.caption)
        self.kv_groups = KvGroups()  # grouped-query attention only
        self.kv_groups.hide()
        self.kv_groups.chosen.connect(lambda head: self.state.set_selection(head=head))
        outer.addWidget(self.kv_groups)
        outer.addLayout(self.grid, 1)
        self.stage = -1  # -1: no step-through, everything shown plainly
        self._link: dict[str, tuple[str, str]] = {}

    def apply_zoom(self, factor: float) -> None:
        for label in self.operator_labels:
            label.setStyleSheet(f"font-size: {zoom.pt(16)}; color: #444")
        self._arrange()

    # -- layout: the equation in rows that fit the width ---------------------------------
    def _scroll_area(self) -> QtWidgets.QAbstractScrollArea | None:
        viewport = self.parentWidget()
        area = viewport.parentWidget() if viewport is not None else None
        return area if isinstance(area, QtWidgets.QAbstractScrollArea) else None

    def _room(self) -> int:
        """The width the matrices may take: the scroll area's (less a vertical scroll bar:
        many rows may need one), not the panel's own, which is never less than what the
        current arrangement needs."""
        area = self._scroll_area()
        margins = self.layout().contentsMargins()
        if area is None:
            return self.width() - margins.left() - margins.right()
        bar = area.style().pixelMetric(QtWidgets.QStyle.PM_ScrollBarExtent)
        return area.width() - 2 * area.frameWidth() - bar - margins.left() - margins.right()

    def _arrange(self, shown: tuple[str, ...] | None = None) -> None:
        """Each line of the equation on as few rows as the width allows at this text size:
        a line that does not fit goes on below, its next operator first, as a formula breaks.
        Never wider than the room: the pipeline does not scroll sideways."""
        if shown is None:
            shown = self._arranged[1] if self._arranged else tuple(self.views)
        cell = cell_width(ZOOM.factor)
        room = self._room()
        rows: list[list[str]] = []
        for line in EQUATION:
            names = [name for _, name in line if name in shown]
            rows.append([])
            used = 0
            for name in names:
                need = cell + (self.before[name].sizeHint().width() + 4 if used else 0)
                if rows[-1] and used + need > room:
                    rows.append([])
                    used = 0
                    need = cell + self.before[name].sizeHint().width() + 4
                rows[-1].append(name)
                used += need
        arranged = (tuple(map(tuple, rows)), shown, cell)
        if arranged == self._arranged_rows:
            return
        self._arranged, self._arranged_rows = (len(rows), shown), arranged
        while self.grid.count():  # the rows of the last arrangement
            row = self.grid.takeAt(0).layout()
            while row.count():
                row.takeAt(0)
            row.deleteLater()
        firsts = {[name for _, name in line if name in shown][0] for line in EQUATION}
        for names in rows:
            row = QtWidgets.QHBoxLayout()
            row.setSpacing(2)
            for name in names:
                if name not in firsts:
                    row.addWidget(self.before[name])
                row.addWidget(self.cells[name], 1)
            self.grid.addLayout(row, 1)
        for name, frame in self.cells.items():
            frame.setMinimumSize(cell, cell_height(ZOOM.factor))
            frame.setVisible(name in shown)
            self.before[name].setVisible(name in shown and name not in firsts)

    def eventFilter(self, watched, event) -> bool:
        if event.type() == QtCore.QEvent.Resize and watched is self._scroll_area():
            self._arrange()
        return False

    def showEvent(self, event) -> None:
        area = self._scroll_area()
        if area is not None and self.property("watching") is not True:
            area.installEventFilter(self)  # its width, not the panel's, says what fits
            self.setProperty("watching", True)
        self._arrange()
        super().showEvent(event)

    # -- step-through ----------------------------------------------------------------
    def bias_mask_caption(self) -> str:
        """Stage 4 says what this site adds: bias and mask exist only at some sites."""
        trace, site = self.state.trace, self.state.selection.site
        has_bias = trace is not None and f"{site}/bias" in trace
        has_mask = trace is not None and f"{site}/mask" in trace
        if has_bias and has_mask:
            return tr("Add the relative position bias B and the mask M: -100 where a query may "
                      "not look (a token from another region of the rolled grid).")
        if has_bias:
            return tr("Add the relative position bias B (by relative offset); this block has no "
                      "mask.")
        window = trace.meta["sites"][site].get("window") if has_mask else None
        if window:  # a sliding-window site: the band
            return tr("Add the mask M: -inf where a query may not look: a later word, or one "
                      "{window} or more tokens back (a sliding window: each token sees "
                      "itself and the {before} before it).").format(window=window,
                                                                    before=window - 1)
        if has_mask:
            return tr("Add the mask M: -inf where a query may not look (a later word: the "
                      "decoder must not see the future).")
        return tr("Nothing to add here: this site has neither a position bias nor a mask "
                  "(every query may look at every key).")

    def stage_caption(self) -> str:
        name, caption, _ = STAGES[self.stage]
        caption = tr(caption) if caption else self.bias_mask_caption()
        trace = self.state.trace
        if self.stage == 0 and trace is not None and \
                trace.meta.get("config", {}).get("qk_norm"):  # Qwen3, Gemma 3
            caption += " " + tr("Then each head's q and k are normalised (RMSNorm over its dh "
                                "numbers, times a learned weight) before the rotation: Q and "
                                "Kᵀ here are after the norm.")
        return f"{self.stage + 1}/{len(STAGES)}  {tr(name)}:  {caption}"

    def go_to_stage(self, index: int) -> None:
        self.stage = max(0, min(index, len(STAGES) - 1))
        active = STAGES[self.stage][2]
        self.caption.setText(self.stage_caption())
        for matrix, frame in self.cells.items():
            frame.setStyleSheet(ACTIVE_STYLE if matrix in active else IDLE_STYLE)
        scaled = self.stage >= 2
        if self.raw_scores.isChecked() == scaled:
            self.raw_scores.setChecked(not scaled)  # stage "scores" shows them raw

    def _play(self, playing: bool) -> None:
        self.play_button.setText(tr("❚❚ pause") if playing else tr("▶ play"))
        if playing:
            self.timer.start(int(4000 / self.speed.value()))
            if self.stage < 0:
                self.go_to_stage(0)
        else:
            self.timer.stop()

    # -- pointing --------------------------------------------------------------------
    def _cell_to_selection(self, name: str, row: int, col: int) -> dict:
        sel = self.state.selection
        query_axis, key_axis = self._link.get(name, ("row", "col"))
        fields = {"query": sel.query, "key": sel.key}
        for axis, value in (("row", row), ("col", col)):
            if query_axis == axis:
                fields["query"] = value
            if key_axis == axis:
                fields["key"] = value
        return fields

    def _hovered(self, name: str, row: int, col: int) -> None:
        self.state.hover(**self._cell_to_selection(name, row, col))

    def _clicked(self, name: str, row: int, col: int) -> None:
        fields = self._cell_to_selection(name, row, col)
        self.state.lock(fields["query"], fields["key"])

    # -- drawing ---------------------------------------------------------------------
    def update_selection(self, sel: Selection) -> None:
        if self._shown != (sel.site, sel.head, sel.window):
            self._redraw_matrices()
        else:
            self._highlight(sel)

    def matrices(self, trace: Trace, sel: Selection, before_norm: bool = False
                 ) -> dict[str, np.ndarray]:
        """The arrays on screen, straight from the trace (tests compare against these);
        `before_norm`: Q and Kᵀ before a QK-norm model's per-head norm, where recorded."""
        site = sel.site
        windowed = kind_of(trace.meta, site).windowed
        pick = (lambda a: a[sel.window]) if windowed else (lambda a: a)
        q, k, v = (pick(trace[f"{site}/{x}"]) for x in "qkv")  # (H, N, dh)
        out = pick(trace[f"{site}/out"])
        proj = trace[f"{site}/proj"]
        proj = proj[sel.window] if windowed else proj
        h = sel.head
        window = sel.window if windowed else None
        # the N × N matrices of this head only (computed on demand for long inputs)
        found = {"q": q[h], "kT": k[h].T, "v": v[h],
                 "scores": trace.head_matrix(site, "scores", h, window),
                 "weights": trace.head_matrix(site, "weights", h, window), "out": out[h],
                 "concat": np.concatenate(list(out), axis=-1), "proj": proj}
        if f"{site}/bias" in trace:
            found["bias"] = trace[f"{site}/bias"][h]
        if f"{site}/mask" in trace:
            found["mask"] = trace.head_matrix(site, "mask", h, window)
        if before_norm and f"{site}/q_before_norm" in trace:
            info = trace.meta["sites"][site]
            found["q"] = trace[f"{site}/q_before_norm"][h]
            found["kT"] = trace[f"{site}/k_before_norm"][kv_head_of(info, h)].T
        return found

    def _redraw_matrices(self) -> None:
        """The selected head's matrices, drawn at once when its N × N are at hand (cached),
        else computed on the analyst thread (at 1,024 tokens, tens of ms) and drawn when
        they arrive, if that head is still the one selected."""
        trace, sel = self.state.trace, self.state.selection
        if trace is None or not sel.site:
            return
        before_norm = self.before_norm.isChecked()  # (read here: the job runs elsewhere)
        key = (sel.site, sel.head, sel.window, before_norm)
        if self.request.computing() and self._asked == key:
            return  # (a hover while the matrices are computed: they are on their way)
        windowed = kind_of(trace.meta, sel.site).windowed
        window = sel.window if windowed else None
        derived = ["scores", "weights"] + (["mask"] if f"{sel.site}/mask" in trace else [])
        ready = all(trace.has_head_matrix(sel.site, name, sel.head, window)
                    for name in derived)
        self._asked = key
        self.request.ask(trace, key, lambda: self.matrices(trace, sel, before_norm),
                         lambda data: self._draw_matrices(trace, sel, data), ready)

    def computing(self) -> bool:
        """This panel's head is being computed (on the analyst thread)."""
        return self.request.computing()

    def _draw_matrices(self, trace: Trace, sel: Selection, data: dict) -> None:
        rows, cols = axis_labels(trace, sel.site, sel.window)
        dh = data["q"].shape[1]
        heads = data["concat"].shape[1] // dh
        dims = [str(i) for i in range(dh)]
        labels = {"q": (rows, dims), "kT": (dims, cols), "scores": (rows, cols),
                  "bias": (rows, cols), "mask": (rows, cols), "weights": (rows, cols),
                  "v": (cols, dims), "out": (rows, dims),
                  "concat": (rows, [f"head {i // dh} dim {i % dh}" for i in range(heads * dh)]),
                  "proj": (rows, [str(i) for i in range(data["proj"].shape[1])])}
        self._link = {"q": ("row", None), "kT": (None, "col"), "v": (None, "row"),
                      "out": ("row", None), "concat": ("row", None), "proj": ("row", None),
                      "scores": ("row", "col"), "bias": ("row", "col"), "mask": ("row", "col"),
                      "weights": ("row", "col")}
        if self.raw_scores.isChecked():
            data["scores"] = data["scores"] * math.sqrt(dh)
        shared = None
        if self.shared_levels.isChecked():
            peak = max(float(np.abs(data[n]).max()) for n in ("q", "kT", "v", "out"))
            shared = (-peak, peak)
        info = trace.meta["sites"][sel.site]
        windowed = kind_of(trace.meta, sel.site).windowed
        where = " " + tr("window {window}").format(window=sel.window) if windowed else ""
        grouped = info.get("kv_heads", info["heads"]) < info["heads"]
        self.kv_groups.setVisible(grouped)
        if grouped:
            self.kv_groups.show_groups(info["heads"], info["kv_heads"], sel.head)
        self.before_norm.setVisible(f"{sel.site}/q_before_norm" in trace)
        self._arrange(tuple(name for name in self.views if name in data))
        for name, view in self.views.items():
            if name not in data:
                continue
            matrix = data[name]
            blocked = None
            levels = shared if name in ("q", "kT", "v", "out") else None
            title = name
            if name == "weights":
                blocked = data.get("mask", np.zeros_like(matrix)) < -1
                if self.log_weights.isChecked():
                    matrix = np.log10(np.maximum(matrix, 1e-6))
                    levels = (-6.0, 0.0)
                    title = tr("log10 weights")
            if name == "mask":
                matrix = np.where(matrix < -1, -1.0, 0.0).astype(np.float32)
                levels = (-1.0, 1.0)
                blocked = data["mask"] < -1
                title = tr("mask (grey: blocked)")
            if name == "scores":
                title = tr("q·kᵀ (raw)") if self.raw_scores.isChecked() else "q·kᵀ/√dh"
            if name in ("q", "kT") and self.before_norm.isChecked() and \
                    f"{sel.site}/q_before_norm" in trace:
                title = tr("{matrix} before norm").format(matrix="Q" if name == "q" else "Kᵀ")
            if title == name:  # (weights, bias, concat, proj)
                title = {"kT": "Kᵀ", "q": "Q", "v": "V"}.get(name) or tr(
                    "head out" if name == "out" else name)
            # concat: one tick per head where its columns start ("h1", not "h1.9")
            ticks = [f"h{i // dh}" if i % dh == 0 else "" for i in range(matrix.shape[1])] \
                if name == "concat" else None
            title = f"{title} [{matrix.shape[0]}×{matrix.shape[1]}]"
            if name in ("kT", "v") and grouped:  # the group's shared K/V head
                title += " (" + tr("K/V head {kv}").format(
                    kv=kv_head_of(info, sel.head)).replace(" ", "\u00a0") + ")"
            difference = bool(trace.meta.get("compare")) and name != "mask"
            if difference:  # compare mode's A − B: signed, centred on 0
                title, levels = "A − B: " + title, None
            view.set_matrix(matrix, *labels[name], title,
                            signed=name in SIGNED or difference, levels=levels,
                            blocked=blocked, col_ticks=ticks)
        self.caption.setText(self.stage_caption() if self.stage >= 0 else
                             f"{site_title(trace, sel.site)} · "
                             + tr("head {head}").format(head=sel.head) + where +
                             f"{kv_group(trace.meta['sites'][sel.site], sel.head)}")
        self._shown = (sel.site, sel.head, sel.window)
        self._highlight(self.state.selection)  # (where the pointer is now)

    def _highlight(self, sel: Selection) -> None:
        for name, view in self.views.items():
            query_axis, key_axis = self._link.get(name, (None, None))
            row = sel.query if query_axis == "row" else sel.key if key_axis == "row" else None
            col = sel.key if key_axis == "col" else sel.query if query_axis == "col" else None
            view.set_highlight(row, col, sel.locked)
