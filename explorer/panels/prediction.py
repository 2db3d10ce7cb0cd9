"""The model's answer: the translation step by step with its top-5, a language model's top-5
next (or masked) tokens at every position and its greedy continuation, or class
probabilities."""
from __future__ import annotations

from difflib import SequenceMatcher
from html import escape

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from models.runs.lm import MAX_GENERATE
from models.sites import token_layout
from models.trace import Trace

from .. import zoom
from ..i18n import bind, tr
from ..state import Selection
from .base import Panel

CHOSEN = QtGui.QColor(255, 140, 0)
PLAIN = QtGui.QColor(120, 120, 200)
ORIGINAL = QtGui.QColor(170, 170, 170)


def marked_words(words: list[str], other: list[str]) -> str:
    """HTML of `words` with the ones that `other` does not have in that place in red."""
    same = set()
    for block in SequenceMatcher(a=words, b=other, autojunk=False).get_matching_blocks():
        same.update(range(block.a, block.a + block.size))
    return " ".join(escape(w) if i in same else f"<b style='color:#c00000'>{escape(w)}</b>"
                    for i, w in enumerate(words)) or "(nothing)"


class TopListTable(QtWidgets.QTableWidget):
    """A word and its top-5 list per row. The lists wrap in their cells between entries,
    never inside one: each token is glued to its probability by a no-break space, and a
    token too long for the cell's width is elided — never its number; the tooltip has the
    whole list. Laid out again whenever the column's width or the font changes."""

    def __init__(self) -> None:
        super().__init__(0, 2)
        self.horizontalHeader().setStretchLastSection(True)
        # a header wider than its column at large text: cut at its end with "…", from the
        # left (centred, both ends were cut: "op-5 next tokens")
        self.horizontalHeader().setTextElideMode(QtCore.Qt.ElideRight)
        self.horizontalHeader().setDefaultAlignment(QtCore.Qt.AlignLeft | QtCore.Qt.AlignVCenter)
        self.setWordWrap(True)
        self.setTextElideMode(QtCore.Qt.ElideNone)
        self.lists: list[list[tuple[str, float]]] = []
        self.number = ".1%"
        self._refill = QtCore.QTimer(self, singleShot=True, interval=0)
        self._refill.timeout.connect(self.fill_lists)
        self.horizontalHeader().sectionResized.connect(lambda *_: self._refill.start())

    def setHorizontalHeaderLabels(self, labels: list[str]) -> None:
        super().setHorizontalHeaderLabels(labels)
        for column, words in enumerate(labels):  # the whole header, where it is cut
            self.horizontalHeaderItem(column).setToolTip(words)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._refill.start()  # once the stretched column has its new width

    def set_lists(self, lists: list[list[tuple[str, float]]], number: str) -> None:
        """Column 1 of each row: its (token, probability) list, `number` the format."""
        self.lists, self.number = lists, number
        for row, top in enumerate(lists):
            self.item(row, 1).setToolTip("\n".join(f"{w}  {p:{number}}" for w, p in top))
        self.fill_lists()

    def fill_lists(self) -> None:
        metrics = QtGui.QFontMetrics(self.font())
        room = self.columnWidth(1) - 6  # the cell's margins
        for row, top in enumerate(self.lists):
            entries = []
            for word, p in top:
                number = f"\u00a0{p:{self.number}}"
                word = metrics.elidedText(word, QtCore.Qt.ElideRight,
                                          max(room - metrics.horizontalAdvance(number), 0))
                entries.append(word + number)
            self.item(row, 1).setText("   ".join(entries))
        self.resizeRowsToContents()


def two_lines(text: str) -> str:
    """`text` broken at the space nearest its middle."""
    spaces = [i for i, c in enumerate(text) if c == " "]
    if not spaces:
        return text
    cut = min(spaces, key=lambda i: abs(i - len(text) / 2))
    return text[:cut] + "\n" + text[cut + 1:]


class PredictionPanel(Panel):
    name = "prediction"
    title = "Prediction"

    def __init__(self, state, parent=None) -> None:
        super().__init__(state, parent)
        # --untrained: the answer of random weights must not pass for the model's
        self.untrained = QtWidgets.QLabel()
        bind(self.untrained, "setText",
             "untrained: random weights (--untrained) — what the model does before training")
        self.untrained.setWordWrap(True)
        self.untrained.setStyleSheet("background: #fff3cd; color: #664d03; padding: 2px")
        self.untrained.hide()
        self.headline = QtWidgets.QLabel()
        self.headline.setWordWrap(True)
        self.headline.setTextInteractionFlags(QtCore.Qt.TextSelectableByMouse)
        # wraps at spaces; one long unbroken word (an untrained model's output) is clipped
        # instead of widening the panel past its dock
        self.headline.setSizePolicy(QtWidgets.QSizePolicy.Ignored,
                                    QtWidgets.QSizePolicy.Preferred)
        self.notes = QtWidgets.QLabel()
        self.notes.setWordWrap(True)
        self.notes.setStyleSheet("color: #555")
        # translation: the grammar's own translation beside the model's, or why there is none
        self.reference = QtWidgets.QLabel()
        self.reference.setWordWrap(True)
        self.reference.setTextFormat(QtCore.Qt.RichText)
        self.reference.hide()
        # with and without interventions, side by side; hidden when there are none
        self.compare = QtWidgets.QLabel()
        self.compare.setWordWrap(True)
        self.compare.setTextFormat(QtCore.Qt.RichText)
        self.compare.hide()
        self.steps = TopListTable()
        self.retranslate()
        self.apply_zoom(zoom.ZOOM.factor)  # the headline's font and the rows' height
        self.steps.setEditTriggers(QtWidgets.QAbstractItemView.NoEditTriggers)
        self.steps.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectRows)
        self.steps.setSelectionMode(QtWidgets.QAbstractItemView.SingleSelection)
        self.steps.setMouseTracking(True)
        self.steps.cellEntered.connect(lambda row, _: self._step_pointed(row))
        self.steps.cellClicked.connect(lambda row, _: self._step_clicked(row))
        self.chart = pg.PlotWidget()
        self.chart.setMenuEnabled(False)
        self.chart.setMouseEnabled(False, False)
        self.chart.hideButtons()
        self.chart.setYRange(0, 1)
        self.chart.setXRange(-0.6, 9.6)
        self.chart.disableAutoRange()  # fixed axes: no tick re-layout on every run
        bind(self.chart, ("axis", lambda w: self.chart.setLabel("left", w)), "probability")
        self._ticks = tuple(str(i) for i in range(10))
        self._top = 1.0  # the probability axis's top
        self.chart.getAxis("bottom").setTicks([list(enumerate(self._ticks)), []])
        # the probability axis's ticks and name follow the room it has (_fit_chart)
        self.chart.getViewBox().sigResized.connect(lambda _: self._fit_chart())
        self.chart.setMinimumHeight(8 * QtGui.QFontMetrics(zoom.font()).height())
        self.bars = pg.BarGraphItem(x=np.arange(10), height=np.zeros(10), width=0.7,
                                    brushes=[pg.mkBrush(PLAIN)] * 10)
        self.original_bars = pg.BarGraphItem(x=np.arange(10) + 0.2, height=np.zeros(10),
                                             width=0.36, brush=pg.mkBrush(ORIGINAL))
        self.chart.addItem(self.bars)
        self.chart.addItem(self.original_bars)
        self.original_bars.hide()
        self.step_slider = QtWidgets.QSlider(QtCore.Qt.Horizontal, minimum=0, maximum=0)
        bind(self.step_slider, "setToolTip",
             "decoding step: the decoder as it was when it chose a word")
        self.step_slider.valueChanged.connect(self.go_to_step)
        self.step_label = QtWidgets.QLabel()
        self.step_label.setWordWrap(True)
        self.step_label.setTextFormat(QtCore.Qt.RichText)
        steps_page = QtWidgets.QWidget()
        steps_layout = QtWidgets.QVBoxLayout(steps_page)
        steps_layout.setContentsMargins(0, 0, 0, 0)
        slider_row = QtWidgets.QHBoxLayout()
        step_name = QtWidgets.QLabel()
        bind(step_name, "setText", "decoding step")
        step_name.setProperty("control", True)  # left out of an exported picture
        slider_row.addWidget(step_name)
        slider_row.addWidget(self.step_slider, 1)
        steps_layout.addLayout(slider_row)
        steps_layout.addWidget(self.step_label)
        steps_layout.addWidget(self.steps, 1)
        self.steps_page = steps_page
        self.stack = QtWidgets.QStackedWidget()
        self.stack.addWidget(steps_page)
        self.stack.addWidget(self.chart)
        self.stack.addWidget(self._build_language_page())
        # a stack is as wide as its widest page: only the page shown may ask for room (the
        # language models' page must not widen the dock of a digit model at 200%)
        self.stack.currentChanged.connect(self._size_to_current_page)
        self._size_to_current_page()
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.untrained)
        layout.addWidget(self.headline)
        layout.addWidget(self.reference)
        layout.addWidget(self.notes)
        layout.addWidget(self.compare)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self._build_interventions())
        state.interventions_changed.connect(self._show_interventions)

    def apply_zoom(self, factor: float) -> None:
        self.headline.setFont(zoom.font(13, bold=True))
        # styled labels keep the font they were polished with unless told
        for label in (self.untrained, self.notes, self.reference, self.compare):
            label.setFont(zoom.font())
        # set now, not when Qt gets round to the application font: the first column is sized
        # to its words right after this (it kept the old zoom's width until the next run)
        self.steps.setFont(zoom.font())
        self.steps.verticalHeader().setDefaultSectionSize(
            QtGui.QFontMetrics(zoom.font()).height() + 6)
        self.steps.resizeColumnToContents(0)
        self.steps.fill_lists()  # the top-5 lists wrap anew at this size
        if hasattr(self, "positions"):
            self.positions.setFont(zoom.font())
            self.positions.verticalHeader().setDefaultSectionSize(
                QtGui.QFontMetrics(zoom.font()).height() + 6)
            self.positions.resizeColumnToContents(0)
            self.positions.fill_lists()
        if hasattr(self, "flags"):
            self._fit_controls()
        if hasattr(self, "chart"):
            # at least a few lines of text tall: at 200% the dock's rows squashed it flat
            self.chart.setMinimumHeight(8 * QtGui.QFontMetrics(zoom.font()).height())
            self._fit_chart()

    # -- language models ---------------------------------------------------------------
    def _build_language_page(self) -> QtWidgets.QWidget:
        """A language model: every position's top-5 (next token, or the word BERT guesses
        there), the selected position in words, and a causal model's greedy continuation."""
        page = QtWidgets.QWidget()
        layout = QtWidgets.QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        self.continue_row = QtWidgets.QWidget()
        row = QtWidgets.QHBoxLayout(self.continue_row)
        row.setContentsMargins(0, 0, 0, 0)
        continue_label = QtWidgets.QLabel()
        bind(continue_label, "setText", "continue greedily by")
        continue_label.setWordWrap(True)
        row.addWidget(continue_label, 1)
        self.generate = QtWidgets.QSpinBox(minimum=0, maximum=MAX_GENERATE)
        bind(self.generate, "setSuffix", " tokens")
        bind(self.generate, "setToolTip", "greedy decoding: the most likely token, then the most "
             "likely after it, … (0: none)")
        self.generate.setKeyboardTracking(False)  # one run when the number is typed
        self.generate.valueChanged.connect(self.state.set_generate)
        self.state.generate_changed.connect(self._show_generate)
        row.addWidget(self.generate)
        row.addStretch(1)
        self.position_label = QtWidgets.QLabel()
        self.position_label.setWordWrap(True)
        self.position_label.setTextFormat(QtCore.Qt.RichText)
        self.positions = TopListTable()
        self.positions.setEditTriggers(QtWidgets.QAbstractItemView.NoEditTriggers)
        self.positions.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectRows)
        self.positions.setSelectionMode(QtWidgets.QAbstractItemView.SingleSelection)
        self.positions.setMouseTracking(True)
        self.positions.cellEntered.connect(lambda r, _: self.state.hover(query=r, key=None))
        self.positions.cellClicked.connect(lambda r, _: self.state.lock(r, None))
        layout.addWidget(self.continue_row)
        layout.addWidget(self.position_label)
        layout.addWidget(self.positions, 1)
        self.language_page = page
        return page

    def _size_to_current_page(self, *_) -> None:
        for index in range(self.stack.count()):
            page = self.stack.widget(index)
            policy = QtWidgets.QSizePolicy.Preferred if page is self.stack.currentWidget() \
                else QtWidgets.QSizePolicy.Ignored
            page.setSizePolicy(policy, policy)
        self.stack.updateGeometry()

    def _show_generate(self, steps: int) -> None:
        if self.generate.value() != steps:
            self.generate.blockSignals(True)
            self.generate.setValue(steps)
            self.generate.blockSignals(False)

    def _show_language_model(self, meta: dict) -> None:
        causal = meta.get("prediction_form") == "next-token"
        self.stack.setCurrentWidget(self.language_page)
        self.reference.hide()
        self.continue_row.setVisible(causal)
        self._show_generate(self.state.generate)
        tokens, topk = meta["tokens"], meta["topk"]
        if causal:
            best, p = topk[-1][0]
            headline = tr("next: {token}").format(token=best) + f"  ({p:.1%})"
            if meta["continuation"]:
                headline += "   ·   " + tr("continued: ") + meta["prediction"]
        elif meta.get("masked"):
            headline = meta["prediction"]
        else:
            headline = tr("(no [MASK] in the input)")
        self.headline.setText(headline)
        self.headline.setToolTip(headline)
        self.notes.setText(meta.get("notice", ""))
        original = meta.get("original")
        if original:
            self.compare.setText(f"{tr('with interventions:')} <b>{escape(meta['prediction'])}"
                                 f"</b> · {tr('without:')} "
                                 f"{escape(original['prediction'] or '')}")
        self.compare.setVisible(bool(original))
        self.positions.setHorizontalHeaderLabels(
            [tr("token"), tr("top-5 next tokens" if causal else "top-5 guesses for this position")])
        if len(tokens) != self.positions.rowCount():
            self.positions.setRowCount(len(tokens))
            self.positions.setVerticalHeaderLabels([str(i) for i in range(len(tokens))])
            for r in range(len(tokens)):
                for c in (0, 1):
                    if self.positions.item(r, c) is None:
                        self.positions.setItem(r, c, QtWidgets.QTableWidgetItem())
        self.positions.set_lists(topk, ".1%")
        for r, token in enumerate(tokens):
            self.positions.item(r, 0).setText(token)
        self.positions.resizeColumnToContents(0)

    def _show_position(self, meta: dict, row: int | None) -> None:
        if row is None or row >= self.positions.rowCount():
            self.positions.clearSelection()
            self.position_label.setText(tr("point at a token (here or in any panel)"))
            return
        if self.positions.currentRow() != row:
            self.positions.selectRow(row)
        tokens, (best, *others) = meta["tokens"], meta["topk"][row]
        rest = ", ".join(f"{escape(w)} {p:.1%}" for w, p in others)
        if meta.get("prediction_form") == "next-token":
            seen = escape(meta.get("joiner", "").join(tokens[max(0, row - 11): row + 1]))
            more = "…" if row > 11 else ""
            text = tr("after “{seen}”: next <b>{best}</b> ({p}); then {rest}").format(
                seen=more + seen, best=escape(best[0]), p=f"{best[1]:.1%}", rest=rest)
        else:
            text = tr("position {row} ({token}): BERT's guess <b>{best}</b> ({p}); then "
                      "{rest}").format(row=row, token=escape(tokens[row]), best=escape(best[0]),
                                       p=f"{best[1]:.1%}", rest=rest)
        self.position_label.setText(text)

    # -- interventions -----------------------------------------------------------------
    def _build_interventions(self) -> QtWidgets.QGroupBox:
        box = QtWidgets.QGroupBox()
        bind(box, "setTitle", "Interventions")  # short: it never widens the dock
        bind(box, "setToolTip", "the model re-runs with what is switched off here")
        self.head_button = QtWidgets.QPushButton()
        self.head_button.setProperty("words", "Switch off / on the selected head")
        self.head_button.clicked.connect(
            lambda: self.state.toggle_head(self.state.selection.site, self.state.selection.head))
        self.flags = {}
        for key, text in (("no_mask", "no attention mask"), ("no_bias", "no relative bias"),
                          ("no_position", "no positional encoding"),
                          ("bottleneck", "seq2seq bottleneck")):
            check = QtWidgets.QCheckBox()
            check.setProperty("words", text)  # the English source; shown through tr()
            check.toggled.connect(lambda on, k=key: self.state.set_interventions(
                {**self.state.interventions, k: on}))
            self.flags[key] = check
        self.active = QtWidgets.QLabel(tr("none"))
        self.active.setWordWrap(True)
        self.clear = clear = QtWidgets.QPushButton()
        bind(clear, "setText", "Clear all")
        clear.clicked.connect(self.state.clear_interventions)
        bind(self.flags["bottleneck"], "setToolTip",
             "every decoding step sees one context vector, the mean of the encoder states, "
             "instead of attending: seq2seq before attention")
        self._fit_controls()
        self.grid = QtWidgets.QGridLayout(box)
        self.grid.addWidget(self.head_button, 0, 0, 1, 2)
        self.columns = 0
        self._place_flags(2)
        return box

    def _place_flags(self, columns: int) -> None:
        """The check boxes in two columns, or one when the dock is narrow (two columns made
        the panel wider than an image preset's dock: it scrolled sideways, the chart cut)."""
        if columns == self.columns:
            return
        self.columns = columns
        for widget in (*self.flags.values(), self.active, self.clear):
            self.grid.removeWidget(widget)
        for i, check in enumerate(self.flags.values()):
            self.grid.addWidget(check, 1 + i // columns, i % columns, 1, 3 - columns)
        rows = 1 + -(-len(self.flags) // columns)
        self.grid.addWidget(self.active, rows, 0, 1, 2)  # its own row: it may be long
        self.grid.addWidget(self.clear, rows + 1, 1)

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:
        super().resizeEvent(event)
        # in a scroll area the panel is never narrower than its minimum: ask the viewport
        self._fit_controls()
        self._set_chart_ticks()
        room = self.parentWidget().width() if self.parentWidget() else self.width()
        widest = max(check.sizeHint().width() for check in self.flags.values())
        self._place_flags(2 if room >= 2 * widest + 60 else 1)

    def _set_chart_ticks(self) -> None:
        """Every class's tick when they fit side by side, else every k-th (three-digit
        ImageNet class numbers overlapped)."""
        metrics = QtGui.QFontMetrics(zoom.font())
        need = sum(metrics.horizontalAdvance(t) + 10 for t in self._ticks)
        room = max(self.chart.getViewBox().width(), self.width() - 80, 60)
        step = max(1, -(-int(need) // int(room)))
        ticks = [(i, t) for i, t in enumerate(self._ticks) if i % step == 0]
        self.chart.getAxis("bottom").setTicks([ticks, []])

    def _fit_chart(self) -> None:
        """The probability axis: its name at the text size, shortened to 'p' where the axis is
        shorter than the word; as many ticks as fit a line of text apart (at 200% pyqtgraph's
        own ticks overlapped and the name was cut to 'probabilit')."""
        axis = self.chart.getAxis("left")
        metrics = QtGui.QFontMetrics(zoom.font())
        height = self.chart.getViewBox().height()
        name = tr("probability")
        if metrics.horizontalAdvance(name) + 8 > height:
            name = "p"
        if (axis.labelText, axis.labelStyle.get("font-size")) != (name, zoom.pt(9)):
            axis.setLabel(name, **{**axis.labelStyle, "font-size": zoom.pt(9)})
        axis.setTickFont(zoom.font())
        fit = max(1, int(height // (1.5 * metrics.height())))  # tick labels that fit
        step = next((s for s in (0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5, 1.0)
                     if self._top / s <= fit), 1.0)
        values = np.arange(0, self._top + step / 2, step)
        digits = 0 if step >= 1 else 1 if step >= 0.1 and step != 0.25 else 2
        axis.setTicks([[(v, f"{v:.{digits}f}") for v in values], []])

    def _fit_controls(self) -> None:
        """At 175–200% a long button or box label goes onto two lines instead of widening
        the panel past its dock."""
        room = self.parentWidget().width() if self.parentWidget() else self.width()
        metrics = QtGui.QFontMetrics(zoom.font())
        for button in (self.head_button, *self.flags.values()):
            words = tr(button.property("words"))
            # + the group's frame and margins (+ the box of a check box)
            extra = 90 if isinstance(button, QtWidgets.QCheckBox) else 60
            wide = metrics.horizontalAdvance(words) + extra > room
            button.setText(two_lines(words) if wide else words)

    def retranslate(self) -> None:
        self.steps.setHorizontalHeaderLabels([tr("output"), tr("top-5 next-token probabilities")])
        if hasattr(self, "flags"):
            self._fit_controls()
            self._show_interventions(self.state.interventions)

    def _show_interventions(self, interventions: dict) -> None:
        for key, check in self.flags.items():
            check.blockSignals(True)
            check.setChecked(bool(interventions.get(key)))
            check.blockSignals(False)
        parts = [tr("{site} head {head} off").format(site=site, head=head)
                 for site, head in interventions.get("heads_off", [])]
        parts += [tr(self.flags[k].property("words")) for k in self.flags if interventions.get(k)]
        # a site name may break after its dots: it never widens the dock
        self.active.setText("; ".join(parts).replace(".", ".\u200b") or tr("none"))

    def _decoder_site(self) -> bool:
        return self.state.site_info().get("kind") in ("decoder_self", "cross")

    def _step_pointed(self, row: int) -> None:
        if self._decoder_site():
            self.state.hover(query=row, key=None)

    def _step_clicked(self, row: int) -> None:
        if self._decoder_site():
            self.state.lock(row, None)

    def go_to_step(self, step: int) -> None:
        """Show the decoder at decoding step `step` (switching to cross-attention from an
        encoder site, where steps do not exist)."""
        if self.state.trace is None:
            return
        if not self._decoder_site():
            cross = self.state.trace.sites("cross")
            if not cross:  # an encoder-only or image model has no decoding steps
                return
            self.state.set_selection(site=cross[-1])
        self.state.lock(step, None)

    def update_trace(self, trace: Trace) -> None:
        meta = trace.meta
        self.untrained.setVisible(not meta.get("trained", True))
        # only the switches this model has something to switch off for
        kinds = {info["kind"] for info in meta["sites"].values()}
        applies = {"no_mask": bool(kinds & {"decoder_self", "window", "causal"}),
                   "no_bias": "window" in kinds, "no_position": True,
                   "bottleneck": "cross" in kinds}
        for key, check in self.flags.items():
            check.setEnabled(applies[key] or check.isChecked())
        self.headline.setToolTip("")
        if "topk" in meta:  # a language model (causal-lm, masked-lm)
            self._show_language_model(meta)
        elif token_layout(meta) == "text":
            self.stack.setCurrentWidget(self.steps_page)
            self.step_slider.blockSignals(True)
            self.step_slider.setMaximum(max(0, len(meta["output_tokens"]) - 1))
            self.step_slider.blockSignals(False)
            self.headline.setText(meta["prediction"] or tr("(nothing)"))
            unknown = meta.get("unknown") or []
            # (translation says so in its outside-the-grammar notice)
            notes = [tr("unknown: ") + ", ".join(unknown)] if unknown and "outside" not in meta \
                else []
            if meta.get("notice"):
                notes.append(meta["notice"])
            self.notes.setText(" · ".join(notes))
            self._show_reference(meta)
            original = meta.get("original")
            if original:
                now, before = meta["prediction"].split(), original["prediction"].split()
                # lines that wrap, not a table: a table is as wide as its longest row
                self.compare.setText(
                    f"{tr('with interventions:')} <b>{marked_words(now, before)}</b><br>"
                    f"{tr('without:')} {marked_words(before, now)}")
            self.compare.setVisible(bool(original))
            rows = len(meta["output_tokens"])
            if rows != self.steps.rowCount():  # items and header only when the count changes
                self.steps.setRowCount(rows)
                self.steps.setVerticalHeaderLabels([str(i) for i in range(rows)])
                for step in range(rows):
                    for column in (0, 1):
                        if self.steps.item(step, column) is None:
                            self.steps.setItem(step, column, QtWidgets.QTableWidgetItem())
            for step, word in enumerate(meta["output_tokens"]):
                self.steps.item(step, 0).setText(word)
            self.steps.set_lists(meta["top5"], ".2f")
            self.steps.resizeColumnToContents(0)
        else:
            self.reference.hide()
            self.stack.setCurrentWidget(self.chart)
            probs = np.asarray(meta["probs"])
            digits = meta.get("prediction_form") == "digit"
            # digits: all ten classes; an opened model: its ten most likely, best first
            shown = np.arange(len(probs)) if digits else np.argsort(-probs)[:10]
            # digits: the digit; an opened model: the class number (its names can be long:
            # the five best are named in the notes)
            ticks = tuple(meta["labels"][c] if digits else str(c) for c in shown)
            if ticks != self._ticks:  # axes are only rebuilt when the names change
                self._ticks = ticks
                self._set_chart_ticks()
            # digits: 0–1; an opened model's thousand classes: up to its best, else a 1%
            # bar is invisible on a 0–1 axis
            top = 1.0 if digits else min(1.0, max(0.02, float(probs[shown].max()) * 1.15))
            if top != self._top:
                self._top = top
                self.chart.setYRange(0, top)
                self._fit_chart()
            best = int(probs.argmax())
            brushes = [pg.mkBrush(CHOSEN if c == best else PLAIN) for c in shown]
            original = meta.get("original")
            x = np.arange(len(shown), dtype=float)
            if original:  # the two answers side by side: coloured with, grey without
                self.bars.setOpts(x=x - 0.2, width=0.36, height=probs[shown], brushes=brushes)
                self.original_bars.setOpts(x=x + 0.2,
                                           height=np.asarray(original["probs"])[shown])
            else:
                self.bars.setOpts(x=x, width=0.7, height=probs[shown], brushes=brushes)
            self.original_bars.setVisible(bool(original))
            kind = tr("digit ") if digits else ""  # an opened model's classes name themselves
            image = meta.get("image", {})
            guess = f"{kind}{meta['prediction']}  ({meta['confidence']:.1%})"
            # a blank canvas has no answer: say that in the headline, the guess below it
            self.headline.setText(tr("blank image: nothing to recognise") if image.get("blank")
                                  else guess)
            notes = [f"{image.get('original_size', ['?'])[0]}×"
                     f"{image.get('original_size', ['?', '?'])[1]} {image.get('conversion', '')}"]
            if image.get("inverted"):
                notes.append(tr("inverted (light background)"))
            if image.get("blank"):
                notes.append(tr("the model's guess anyway: {guess}").format(guess=guess))
            if digits:
                notes.append(tr("cropped to the ink, scaled to fit 24×24 in a 32×32 frame"))
            else:
                notes.append(tr("best: ") + ", ".join(f"{c} {meta['labels'][c]} {probs[c]:.1%}"
                                                  for c in shown[:5]))
            self.notes.setText(" · ".join(notes))
            if original:
                self.compare.setText(
                    f"{tr('with interventions (coloured):')} <b>{kind}"
                    f"{escape(meta['prediction'])}</b> ({meta['confidence']:.1%}) · "
                    f"{tr('without (grey):')} {kind}"
                    f"{escape(original['prediction'])} ({original['confidence']:.1%})")
            self.compare.setVisible(bool(original))

    def _show_reference(self, meta: dict) -> None:
        """Outside the grammar: why, plainly. Inside: the grammar's own translation, with
        the words where the model differs marked (or a tick when they agree)."""
        if "outside" not in meta:  # a task without a reference translator
            self.reference.hide()
            return
        if meta["outside"]:
            self.reference.setText(
                "<div style='background:#fff3cd; color:#664d03'>&#9888; " + tr(
                    "<b>Outside what the model learned</b>: {reason}. Its answer is a guess; "
                    "the grammar has no translation to compare it with.").format(
                    reason=escape(meta["outside"])) + "</div>")
        elif meta["matches_reference"]:
            same = tr("the same as the grammar's own translation")
            self.reference.setText(f"<span style='color:#1a7f37'>&#10003; {same}</span>")
        else:
            model, grammar = meta["prediction"].split(), meta["reference_tokens"]
            self.reference.setText(f"{tr('model:')} {marked_words(model, grammar)}<br>"
                                   f"{tr('grammar:')} {marked_words(grammar, model)}")
        self.reference.show()

    def update_selection(self, sel: Selection) -> None:
        if self.stack.currentWidget() is self.language_page:
            self._show_position(self.state.trace.meta, sel.query)
            return
        if self.stack.currentWidget() is not self.steps_page:
            return
        row = sel.query if self._decoder_site() else None
        meta = self.state.trace.meta
        if row is not None and row < self.steps.rowCount():
            if self.steps.currentRow() != row:
                self.steps.selectRow(row)
            self.step_slider.blockSignals(True)
            self.step_slider.setValue(row)
            self.step_slider.blockSignals(False)
            word, (best, *others) = meta["output_tokens"][row], meta["top5"][row]
            seen = " ".join(meta["target_tokens"][: row + 1])
            self.step_label.setText(
                tr("step {step}: having read “{seen}”, chose <b>{word}</b> ({p}); "
                   "alternatives: ").format(step=row, seen=escape(seen), word=escape(word),
                                            p=f"{best[1]:.2f}")
                + ", ".join(f"{escape(w)} {p:.2f}" for w, p in others))
        else:  # no step chosen: the slider at the start, not where an earlier one left it
            self.steps.clearSelection()
            if self.step_slider.value() != 0:
                self.step_slider.blockSignals(True)
                self.step_slider.setValue(0)
                self.step_slider.blockSignals(False)
            self.step_label.setText(tr("move the slider or point at a step"))
