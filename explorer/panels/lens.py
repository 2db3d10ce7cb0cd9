"""Logit lens: what the model would answer if it stopped at each point of its residual stream.

A points × positions grid (the embeddings at the top, the output at the bottom): each cell is
the top token (or class) of the model's own read-out applied to the stream there, with its
probability, coloured by the probability of the position's final prediction. Beside it, for
the selected position: that prediction's probability and rank by point, and the direct logit
attribution of it (the largest parts). Everything over the vocabulary is computed on the
model's worker thread (models/lens.py, with the model's own norm and output head: the one
thread that touches the model); the GUI thread only draws the numbers.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from models.errors import InputError
from models.sites import kind_of
from models.trace import Trace

from ..analyst import Request
from ..compare import runs_of
from ..i18n import bind, bound, said, tr, translate_message
from ..runner import JobStopped
from ..state import Selection
from ..widgets.matrix_view import MatrixView
from .base import Panel

MAX_COLUMNS = 256  # positions in the grid: the last ones of a longer input


def colour(p: float) -> QtGui.QColor:
    """White (0) to a deep blue (1)."""
    p = min(max(p, 0.0), 1.0)
    return QtGui.QColor(int(255 - 200 * p), int(255 - 150 * p), 255)


def session_for(state: Any, trace: Trace) -> Any:
    """The runner's session, when it is the one that made `trace` (its model reads out)."""
    runner = getattr(state, "runner", None)
    session = getattr(runner, "session", None)
    if session is None or session.preset.name != trace.meta.get("preset"):
        return None
    return session


def compute(session: Any, trace: Trace, position: int | None, grid: dict | None = None,
            target: int | None = None, minus: int | None = None, rows: Any = None) -> dict:
    """On the model's worker thread: the grid (unless given whole: it does not depend on the
    position; `rows`: only those points' rows, the rest filled by a later call given this
    grid), the column of `position` and the attribution of `target` (None: the prediction
    there), minus `minus`'s logit when given; its heads' parts as a layers × heads table."""
    from models.lens import (
        attribution,
        default_position,
        head_table,
        lens_column,
        lens_grid,
        reader,
    )

    read = reader(session.model)
    n = trace[f"{read.points[0]}/resid"].shape[0]
    positions = list(range(max(0, n - MAX_COLUMNS), n)) if read.per_token else [0]
    if position is None or not read.per_token or not 0 <= position < n:
        position = default_position(session, trace)
    if grid is None or not grid["filled"].all():
        grid = lens_grid(session.model, trace, positions=positions, rows=rows, earlier=grid)
    column = lens_column(session.model, trace, position, target)
    choices = [i for i, _ in column[-1]["top"]]  # the output's top 5 there
    dla = attribution(session.model, trace, position,
                      choices[0] if target is None else target, minus)
    names = {}
    ids = {int(i) for row in grid["top"] for i in row} | {
        i for layer in column for i, _ in layer["top"]} | {dla["target"]} | (
        set() if minus is None else {minus})
    for i in ids:
        names[i] = output_name(session, i)
    return {"grid": grid, "column": column, "dla": dla, "names": names, "stack": read.stack,
            "position": position, "per_token": read.per_token, "notes": read.notes,
            "heads": head_table(dla), "choices": choices}


def output_name(session: Any, i: int) -> str:
    model = session.model
    if model.input_kind == "image":
        return str(session.labels[i]) if i < len(session.labels) else str(i)
    if model.form == "seq2seq":  # the decoder's own vocabulary
        return session.tgt_vocab.words[i]
    return "".join(session.tokenizer.tokens([i]))


def site_label(site: str) -> str:
    """A site named short for the heads' rows: its stack's initial (encoder, decoder), its
    numbers and its last part ("d.1 cross", Swin "1.0 attn"); the full name is in the
    read-out under the map."""
    parts = site.split(".")
    numbers = [p for p in parts if p.isdigit()]
    if not numbers:
        return site
    stack = next((p[0] + "." for p in parts if p in ("encoder", "decoder")), "")
    return f"{stack}{'.'.join(numbers)} {parts[-1].removesuffix('_attn')}"


class LensPanel(Panel):
    name = "lens"
    title = "Logit lens"

    def __init__(self, state, parent=None) -> None:
        super().__init__(state, parent)
        self.caption = QtWidgets.QLabel()
        self.caption.setTextFormat(QtCore.Qt.PlainText)
        self.caption.setWordWrap(True)
        self.grid = QtWidgets.QTableWidget()
        self.grid.setEditTriggers(QtWidgets.QAbstractItemView.NoEditTriggers)
        self.grid.setSelectionMode(QtWidgets.QAbstractItemView.SingleSelection)
        self.grid.cellClicked.connect(self._clicked)
        self.grid.setMouseTracking(True)
        self.grid.cellEntered.connect(self._pointed)
        self.by_layer = QtWidgets.QTableWidget(0, 3)
        self.by_layer.setEditTriggers(QtWidgets.QAbstractItemView.NoEditTriggers)
        self.parts = QtWidgets.QTableWidget(0, 2)
        self.parts.setEditTriggers(QtWidgets.QAbstractItemView.NoEditTriggers)
        # what is attributed: one of the output's top 5 there, or a word or token typed in,
        # minus another's logit or not
        self.target_box = QtWidgets.QComboBox()
        self.minus_box = QtWidgets.QComboBox()
        for box in (self.target_box, self.minus_box):
            box.setEditable(True)
            box.setInsertPolicy(QtWidgets.QComboBox.NoInsert)
            box.setSizeAdjustPolicy(QtWidgets.QComboBox.AdjustToContents)
            box.setMinimumContentsLength(6)
            box.activated.connect(self._chose)
            box.lineEdit().returnPressed.connect(lambda b=box: self.typed(b))
        bind(self.target_box, "setToolTip",
             "one of the top 5 here, or type a word or token and press Enter (it must be one "
             "token of the model; a leading space counts; #id for an id)")
        self.typed_note = QtWidgets.QLabel()  # why a typed word was not taken
        self.typed_note.setTextFormat(QtCore.Qt.PlainText)
        self.typed_note.setWordWrap(True)
        self.typed_note.setStyleSheet("color: #b00020")
        self.typed_note.setVisible(False)
        choose = QtWidgets.QHBoxLayout()
        self.target_word = bound(QtWidgets.QLabel(), "target")
        self.minus_word = bound(QtWidgets.QLabel(), "minus")
        for widget in (self.target_word, self.target_box, self.minus_word, self.minus_box):
            choose.addWidget(widget)
        choose.addStretch(1)
        # each head's direct logit attribution, layers × heads: a click selects that head
        self.heads_view = MatrixView()
        self.heads_view.clicked.connect(self._head_clicked)
        side = QtWidgets.QVBoxLayout()
        side.addLayout(choose)
        side.addWidget(self.typed_note)
        self.target_label = bound(QtWidgets.QLabel(), "the prediction by layer")
        side.addWidget(self.target_label)
        side.addWidget(self.by_layer, 1)
        who = bound(QtWidgets.QLabel(), "who wrote it (direct logit attribution)")
        for label in (self.target_label, who):  # wrapped: the grid keeps its share at 200%
            label.setWordWrap(True)
        side.addWidget(who)
        side.addWidget(self.parts, 1)
        left = QtWidgets.QVBoxLayout()
        left.addWidget(self.grid, 1)
        left.addWidget(self.heads_view, 1)
        row = QtWidgets.QHBoxLayout()
        row.addLayout(left, 3)
        row.addLayout(side, 2)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.caption)
        layout.addLayout(row, 1)
        self.request = Request("lens", lambda: self.state.trace)
        self._fit_tables()
        self.result: dict | None = None
        self.position: int | None = None
        self.target: int | None = None  # None: the prediction at the position
        self.minus: int | None = None  # another output whose logit is subtracted
        self.retranslate()

    def apply_zoom(self, factor: float) -> None:
        # the tables take the new font after this signal: measured once they have
        QtCore.QTimer.singleShot(0, self._fit_tables)

    def _fit_tables(self) -> None:
        """Each side table keeps room for its header and two rows at any text size (at 200%
        on a small screen the column squeezed them below their own header)."""
        for table in (self.by_layer, self.parts):
            # their columns scroll inside them: the grid, whose layer names take a third of
            # it at 200%, keeps its share of the width
            table.setSizePolicy(QtWidgets.QSizePolicy.Ignored, QtWidgets.QSizePolicy.Expanding)
            table.resizeColumnsToContents()  # its numbers whole at the new text size
            line = table.fontMetrics().height() + 8
            table.setMinimumHeight(table.horizontalHeader().sizeHint().height() + 2 * line
                                   + 2 * table.frameWidth())

    def retranslate(self) -> None:
        self.by_layer.setHorizontalHeaderLabels([tr("point"), tr("probability"), tr("rank")])
        self.parts.setHorizontalHeaderLabels([tr("part"), tr("logit")])

    def showEvent(self, event) -> None:
        self.state.want_residual(True)  # the live runs record the stream while it is shown
        super().showEvent(event)

    def hideEvent(self, event) -> None:
        super().hideEvent(event)
        self.state.want_residual(False)

    def update_trace(self, trace: Trace) -> None:
        self.position, self.result = None, None
        self.target = self.minus = None
        self.typed_note.setVisible(False)
        self.ask(trace)

    def clear(self) -> None:
        """Nothing of an earlier trace left on screen."""
        self.result = None
        self.grid.clear()
        self.grid.setRowCount(0)
        self.grid.setColumnCount(0)
        self.by_layer.setRowCount(0)
        self.parts.setRowCount(0)
        self.target_box.clear()
        self.minus_box.clear()
        self.heads_view.setVisible(False)
        self.target_label.setText(tr("the prediction by layer"))

    def visible_rows(self) -> range:
        """The grid's rows in view (two lines each): computed first on a long model."""
        first = max(self.grid.rowAt(0), 0)
        line = self.grid.fontMetrics().height()
        return range(first, first + max(1, self.grid.viewport().height() // (2 * line + 6))
                     + 1)

    def ask(self, trace: Trace, rows: Any = "visible") -> None:
        session = session_for(self.state, trace)
        if session is not None and not trace.residual:  # a live run made while hidden
            self.clear()
            self.caption.setText(tr("recording the residual stream…"))
            self.state.want_residual(True)  # run again with it: it comes as a new trace
            return
        if session is None or not any(k.endswith("/resid") for k in trace.records):
            self.clear()
            self.caption.setText(tr("the logit lens needs the model that made this trace"))
            return
        self.caption.setText(tr("reading the stream at every layer…"))
        position, target, minus = self.position, self.target, self.minus
        grid = self.result["grid"] if self.result is not None and \
            self.result.get("trace") == id(trace) else None
        rows = list(self.visible_rows()) if rows == "visible" else rows
        runs = runs_of(trace)  # A − B: a lens reads one run (its top tokens do not subtract)
        read = trace if runs is None else runs[0]
        # the read-out applies the model's own norm and output head: on the model's worker
        # thread, with the session it runs (the window's runs wait for it, never share it)
        self.request.ask(trace, ("lens", position, target, minus, rows is None),
                         lambda running, check: {**compute(running, read, position, grid,
                                                           target, minus, rows),
                                                  "trace": id(trace)},
                         self._arrived, ready=False, elsewhere=self.state.run_on_model)

    def _arrived(self, result: Any) -> None:
        """The worker's answer: the lens; else it stopped (a new run of the window asks
        again) or the model refused (said in the caption, the last lens kept)."""
        if isinstance(result, dict):
            self.draw(result)
        elif not isinstance(result, JobStopped):
            self.caption.setText(translate_message(result))

    def _chose(self, _index: int = 0) -> None:
        """A target or a difference chosen: the attribution (and the by-layer column) again."""
        self.typed_note.setVisible(False)
        target, minus = self.target_box.currentData(), self.minus_box.currentData()
        if target == minus:
            minus = None  # (a logit minus itself is 0)
        if (target, minus) != (self.target, self.minus) and self.state.trace is not None:
            self.target, self.minus = target, minus
            self.ask(self.state.trace)

    def typed(self, box: QtWidgets.QComboBox) -> None:
        """A word or token typed into the target (or minus) box and Enter: attributed when
        it is one output of the model; else the reason (how the tokenizer splits it) is
        shown and the previous attribution stays."""
        from models.lens import output_size, typed_output

        trace, text = self.state.trace, box.currentText()
        session = session_for(self.state, trace) if trace is not None else None
        if session is None or self.result is None:
            return
        at = box.findText(text)
        if at >= 0:  # an entry of the list, as shown
            value = box.itemData(at)
        elif box is self.minus_box and not text.strip():
            value = None
        else:
            try:
                value = typed_output(session, text, output_size(session.model))
            except InputError as error:
                self.typed_note.setText(translate_message(said(error)))
                self.typed_note.setVisible(True)
                self._draw_choices(self.result)  # the boxes show what is attributed
                return
        self.typed_note.setVisible(False)
        target = value if box is self.target_box else self.target_box.currentData()
        minus = value if box is self.minus_box else self.minus_box.currentData()
        if target is None:
            target = self.result["dla"]["target"]
        if target == minus:
            minus = None
        if (target, minus) != (self.target, self.minus):
            self.target, self.minus = target, minus
            self.ask(trace)

    def _head_clicked(self, row: int, column: int) -> None:
        """A head's cell selects that site and head everywhere."""
        if self.result is None:
            return
        table = self.result["heads"]
        if row < len(table["sites"]) and column < table["values"].shape[1] and \
                np.isfinite(table["values"][row, column]):
            self.state.set_selection(site=table["sites"][row], head=column)

    def _same_tokens(self) -> bool:
        """The selected site's query rows are the lens's positions (a language model's
        self-attention, a translation decoder's steps)."""
        trace, site = self.state.trace, self.state.selection.site
        if trace is None or not site or site not in trace.meta.get("sites", {}):
            return False
        kind = kind_of(trace.meta, site)
        stack = self.result.get("stack") if self.result else None
        return kind.sequence or (kind.decoding_steps and stack == "decoder")

    def _pointed(self, row: int, column: int) -> None:
        """Pointing at a column points at that token everywhere."""
        if self.result is not None and self.result["per_token"] and self._same_tokens():
            self.state.hover(query=self.result["grid"]["positions"][column], key=None)

    def _clicked(self, row: int, column: int) -> None:
        if self.result is None or not self.result["per_token"]:
            return
        position = self.result["grid"]["positions"][column]
        if position != self.position:
            self.position = position
            self.target = self.minus = None  # that position's own prediction
            if self.state.trace is not None:
                self.ask(self.state.trace)

    def draw(self, result: dict) -> None:
        self.result = result
        grid, names = result["grid"], result["names"]
        points, positions = grid["points"], grid["positions"]
        trace = self.state.trace
        tokens = (trace.meta.get("tokens") or trace.meta.get("output_tokens") or []) \
            if trace is not None else []
        self.grid.clear()
        self.grid.setRowCount(len(points))
        self.grid.setColumnCount(len(positions))
        self.grid.setVerticalHeaderLabels(points)
        if result["per_token"]:
            self.grid.setHorizontalHeaderLabels([
                f"{p}" + (f" {tokens[p]}" if p < len(tokens) else "") for p in positions])
        else:
            self.grid.setHorizontalHeaderLabels([tr("the classifier's read-out")])
        for r in range(len(points)):
            for c in range(len(positions)):
                if not grid["filled"][r]:  # (filled next: the rows in view came first)
                    self.grid.setItem(r, c, QtWidgets.QTableWidgetItem("…"))
                    continue
                item = QtWidgets.QTableWidgetItem(
                    f"{names.get(int(grid['top'][r, c]), '?')}\n{grid['top_prob'][r, c]:.2f}")
                item.setBackground(colour(float(grid["target_prob"][r, c])))
                self.grid.setItem(r, c, item)
        self.grid.resizeColumnsToContents()
        self.grid.resizeRowsToContents()
        column, target = result["column"], result["dla"]["target"]
        self.target_label.setText(tr("{target} at position {position}, by layer").format(
            target=names.get(target, str(target)),
            position=result["position"] if result["per_token"] else tr(
                "the classifier's read-out")))
        self.by_layer.setRowCount(len(column))
        for r, layer in enumerate(column):
            for c, text in enumerate((layer["name"], f"{layer['target_prob']:.3f}",
                                      str(layer["target_rank"] + 1))):
                self.by_layer.setItem(r, c, QtWidgets.QTableWidgetItem(text))
        parts = sorted(result["dla"]["parts"], key=lambda p: -abs(p["value"]))[:12]
        self.parts.setRowCount(len(parts))
        for r, part in enumerate(parts):
            self.parts.setItem(r, 0, QtWidgets.QTableWidgetItem(part["name"]))
            self.parts.setItem(r, 1, QtWidgets.QTableWidgetItem(f"{part['value']:+.3f}"))
        self.by_layer.resizeColumnsToContents()
        self.parts.resizeColumnsToContents()
        self._draw_choices(result)
        self._draw_heads(result)
        notes = "; ".join(f"{k}: {v}" for k, v in result["notes"].items())
        said = tr("the model's read-out at every point of its residual stream; colour: the "
                  "probability of each position's prediction") + (f" ({notes})" if notes else "")
        if trace is not None and runs_of(trace) is not None:
            said = tr("A − B is not shown here: a lens's top tokens and probabilities do not "
                      "subtract — this is A's run. ") + said
        self.caption.setText(said)
        if not grid["filled"].all() and trace is not None and \
                result.get("trace") == id(trace):
            self.ask(trace, rows=None)  # the rest of the grid, the rows in view kept
            self.caption.setText(tr("reading the stream at the other layers…"))

    def _draw_choices(self, result: dict) -> None:
        names, dla = result["names"], result["dla"]
        for box, first in ((self.target_box, None), (self.minus_box, tr("nothing"))):
            box.blockSignals(True)
            box.clear()
            if first is not None:
                box.addItem(first, None)
            for i in result["choices"]:
                box.addItem(names.get(i, str(i)), i)
            box.blockSignals(False)
        at = self.target_box.findData(dla["target"])
        if at < 0:  # (a target given by id that is not in the top 5)
            self.target_box.addItem(names.get(dla["target"], str(dla["target"])), dla["target"])
            at = self.target_box.count() - 1
        self.target_box.setCurrentIndex(at)
        at = self.minus_box.findData(dla["minus"]) if dla["minus"] is not None else 0
        if at < 0:  # (a typed one, not in the top 5)
            self.minus_box.addItem(names.get(dla["minus"], str(dla["minus"])), dla["minus"])
            at = self.minus_box.count() - 1
        self.minus_box.setCurrentIndex(at)

    def heads_title(self, result: dict) -> str:
        names, dla = result["names"], result["dla"]
        target = names.get(dla["target"], str(dla["target"]))
        if dla["minus"] is None:
            return tr("each head's direct logit attribution to {target}").format(target=target)
        return tr("each head's direct logit attribution to {target} − {minus}").format(
            target=target, minus=names.get(dla["minus"], str(dla["minus"])))

    def _draw_heads(self, result: dict) -> None:
        table = result["heads"]
        values = table["values"]
        self.heads_view.setVisible(values.size > 0)
        if values.size == 0:
            return
        self.heads_view.set_matrix(values, [site_label(site) for site in table["sites"]],
                                   [f"{tr('head')} {h}" for h in range(values.shape[1])],
                                   self.heads_title(result), signed=True,
                                   blocked=~np.isfinite(values),
                                   col_ticks=[str(h) for h in range(values.shape[1])])
        self._highlight_head(self.state.selection)

    def _highlight_head(self, selection: Selection) -> None:
        sites = self.result["heads"]["sites"] if self.result is not None else []
        if selection.site in sites:
            self.heads_view.set_highlight(sites.index(selection.site), selection.head,
                                          locked=True)
        else:
            self.heads_view.set_highlight(None, None)

    def update_selection(self, selection: Selection) -> None:
        """A query picked elsewhere (a text token) becomes the lens's position; the selected
        head is marked in the heads' attribution."""
        if self.result is not None:
            self._highlight_head(selection)
        if self.result is None or not self.result["per_token"] or selection.query is None \
                or not selection.locked:
            return
        if selection.query != self.position and selection.query in \
                self.result["grid"]["positions"]:
            if self._same_tokens():
                self.position = selection.query
                self.target = self.minus = None
                if self.state.trace is not None:
                    self.ask(self.state.trace)
