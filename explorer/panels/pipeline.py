"""The attention equation, laid out as it computes: softmax(Q·Kᵀ/√dh + B + M)·V, then W_o.

Every matrix is a MatrixView of the selected site, head and window, read from the trace.
Pointing at weights (i, j) lights row i of Q, column j of Kᵀ, row j of V, cell (i, j) of the
scores, bias and mask, and row i of the head output, the concat and the projection.
A step-through walks the stages for lectures.
"""
from __future__ import annotations

import math

import numpy as np
from PySide6 import QtCore, QtWidgets

from models.trace import Trace

from .. import zoom
from ..i18n import bind, bound, tr
from ..labels import axis_labels, site_title
from ..state import Selection
from ..widgets.matrix_view import MatrixView
from .base import Panel

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


class PipelinePanel(Panel):
    name = "pipeline"
    title = "Pipeline: softmax(Q·Kᵀ/√dh + B + M)·V"

    def __init__(self, state, parent=None) -> None:
        super().__init__(state, parent)
        self.views: dict[str, MatrixView] = {}
        self.cells: dict[str, QtWidgets.QFrame] = {}
        self.operators: dict[tuple[int, int], QtWidgets.QLabel] = {}
        self.operator_labels: list[QtWidgets.QLabel] = []
        grid = QtWidgets.QGridLayout()
        grid.setSpacing(2)
        layout = [  # (matrix, row, column); operators between them
            ("q", 0, 0), ("·", 0, 1), ("kT", 0, 2), ("=", 0, 3), ("scores", 0, 4), ("+", 0, 5),
            ("bias", 0, 6), ("+", 0, 7), ("mask", 0, 8),
            ("weights", 1, 0), ("·", 1, 1), ("v", 1, 2), ("=", 1, 3), ("out", 1, 4), ("→", 1, 5),
            ("concat", 1, 6), ("W_o →", 1, 7), ("proj", 1, 8)]
        for name, row, col in layout:
            if name in MATRICES:
                view = MatrixView()
                frame = QtWidgets.QFrame(objectName="cell")
                frame.setStyleSheet(IDLE_STYLE)
                box = QtWidgets.QVBoxLayout(frame)
                box.setContentsMargins(1, 1, 1, 1)
                box.addWidget(view)
                grid.addWidget(frame, row, col)
                grid.setColumnStretch(col, 1)
                self.views[name], self.cells[name] = view, frame
                view.hovered.connect(lambda r, c, n=name: self._hovered(n, r, c))
                view.clicked.connect(lambda r, c, n=name: self._clicked(n, r, c))
            else:
                label = QtWidgets.QLabel(name)
                label.setStyleSheet(f"font-size: {zoom.pt(16)}; color: #444")
                self.operator_labels.append(label)
                grid.addWidget(label, row, col, QtCore.Qt.AlignCenter)
                if (row, col) in ((0, 5), (0, 7)):  # the "+" before bias and before mask
                    self.operators[(row, col)] = label
        self.raw_scores = bound(QtWidgets.QCheckBox(), "raw scores (before ÷√dh)")
        self.log_weights = bound(QtWidgets.QCheckBox(), "log scale weights")
        self.shared_levels = bound(QtWidgets.QCheckBox(), "shared colour levels")
        for box in (self.raw_scores, self.log_weights, self.shared_levels):
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
        controls = QtWidgets.QHBoxLayout()
        for widget in (self.raw_scores, self.log_weights, self.shared_levels):
            controls.addWidget(widget)
        controls.addStretch(1)
        controls.addWidget(bound(QtWidgets.QLabel(), "step through:", control=True))
        for widget in (self.prev_button, self.play_button, self.next_button, self.speed):
            controls.addWidget(widget)
        for button in (self.prev_button, self.next_button):
            button.setMaximumWidth(self.fontMetrics().horizontalAdvance("▶|") + 24)
        outer = QtWidgets.QVBoxLayout(self)
        outer.setContentsMargins(2, 2, 2, 2)
        outer.addLayout(controls)
        outer.addWidget(self.caption)
        outer.addLayout(grid, 1)
        self.stage = -1  # -1: no step-through, everything shown plainly
        self._link: dict[str, tuple[str, str]] = {}

    def apply_zoom(self, factor: float) -> None:
        for label in self.operator_labels:
            label.setStyleSheet(f"font-size: {zoom.pt(16)}; color: #444")

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
        if has_mask:
            return tr("Add the mask M: -inf where a query may not look (a later word: the "
                      "decoder must not see the future).")
        return tr("Nothing to add here: this site has neither a position bias nor a mask "
                  "(every query may look at every key).")

    def stage_caption(self) -> str:
        name, caption, _ = STAGES[self.stage]
        caption = tr(caption) if caption else self.bias_mask_caption()
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

    def matrices(self, trace: Trace, sel: Selection) -> dict[str, np.ndarray]:
        """The arrays on screen, straight from the trace (tests compare against these)."""
        site = sel.site
        windowed = trace.meta["sites"][site]["kind"] == "window"
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
        return found

    def _redraw_matrices(self) -> None:
        trace, sel = self.state.trace, self.state.selection
        if trace is None or not sel.site:
            return
        data = self.matrices(trace, sel)
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
        windowed = trace.meta["sites"][sel.site]["kind"] == "window"
        where = " " + tr("window {window}").format(window=sel.window) if windowed else ""
        self.operators[(0, 5)].setVisible("bias" in data)
        self.operators[(0, 7)].setVisible("mask" in data)
        for name, view in self.views.items():
            frame = self.cells[name]
            if name not in data:
                frame.hide()
                continue
            frame.show()
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
            if title == name:  # (weights, bias, concat, proj)
                title = {"kT": "Kᵀ", "q": "Q", "v": "V"}.get(name) or tr(
                    "head out" if name == "out" else name)
            # concat: one tick per head where its columns start ("h1", not "h1.9")
            ticks = [f"h{i // dh}" if i % dh == 0 else "" for i in range(matrix.shape[1])] \
                if name == "concat" else None
            view.set_matrix(matrix, *labels[name], f"{title} [{matrix.shape[0]}×{matrix.shape[1]}]",
                            signed=name in SIGNED, levels=levels, blocked=blocked,
                            col_ticks=ticks)
        self.caption.setText(self.stage_caption() if self.stage >= 0 else
                             f"{site_title(trace, sel.site)} · "
                             + tr("head {head}").format(head=sel.head) + where +
                             f"{kv_group(trace.meta['sites'][sel.site], sel.head)}")
        self._shown = (sel.site, sel.head, sel.window)
        self._highlight(sel)

    def _highlight(self, sel: Selection) -> None:
        for name, view in self.views.items():
            query_axis, key_axis = self._link.get(name, (None, None))
            row = sel.query if query_axis == "row" else sel.key if key_axis == "row" else None
            col = sel.key if key_axis == "col" else sel.query if query_axis == "col" else None
            view.set_highlight(row, col, sel.locked)
