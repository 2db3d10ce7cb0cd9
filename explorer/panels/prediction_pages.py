"""The Prediction panel's pages: one per family of prediction forms (a trace's
meta["prediction_form"], from its task): a seq2seq model's output step by step with its
top-5, an image model's class probabilities, a language model's top-5 at every position.
Each page owns its widget in the panel's stack and draws the meta into it; the headline,
notes, reference and comparison above it (the `Header`) are shared by every page."""
from __future__ import annotations

from dataclasses import dataclass
from difflib import SequenceMatcher
from html import escape

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from models.runs.lm import MAX_GENERATE
from models.sites import kind_of

from .. import zoom
from ..i18n import bind, tr, translate_message
from ..state import Selection
from ..text import tip

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
        self._filled: tuple | None = None  # (room, font) the lists were laid out for
        self._measured: dict = {}  # number → its width, (token, room) → the token elided
        self._measured_font = ""
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
        self._filled = None
        for row, top in enumerate(lists):
            self.item(row, 1).setToolTip(tip("\n".join(f"{w}  {p:{number}}" for w, p in top)))
        self.fill_lists()

    def fill_lists(self) -> None:
        metrics = QtGui.QFontMetrics(self.font())
        room = self.columnWidth(1) - 6  # the cell's margins
        filled = (room, self.font().key())
        if filled == self._filled:  # (a resize that left the column's width as it was)
            return
        self._filled = filled
        if self._measured_font != filled[1]:
            self._measured, self._measured_font = {}, filled[1]
        if len(self._measured) > 4096:
            self._measured.clear()
        measured = self._measured  # the same tokens and numbers come back run after run
        for row, top in enumerate(self.lists):
            entries = []
            for word, p in top:
                number = f"\u00a0{p:{self.number}}"
                wide = measured.get(number)
                if wide is None:
                    wide = measured[number] = metrics.horizontalAdvance(number)
                key = (word, max(room - wide, 0))
                shown = measured.get(key)
                if shown is None:
                    shown = measured[key] = metrics.elidedText(word, QtCore.Qt.ElideRight,
                                                               key[1])
                entries.append(shown + number)
            self.item(row, 1).setText("   ".join(entries))
        self.resizeRowsToContents()

    def apply_zoom(self) -> None:
        # set now, not when Qt gets round to the application font: the first column is sized
        # to its words right after this (it kept the old zoom's width until the next run)
        self.setFont(zoom.font())
        self.verticalHeader().setDefaultSectionSize(QtGui.QFontMetrics(zoom.font()).height() + 6)
        self.resizeColumnToContents(0)
        self.fill_lists()  # the top-5 lists wrap anew at this size

    def show_rows(self, words: list[str], lists: list[list[tuple[str, float]]],
                  number: str) -> None:
        """A row per word, with its list (items and header made only when the count
        changes)."""
        if len(words) != self.rowCount():
            self.setRowCount(len(words))
            self.setVerticalHeaderLabels([str(i) for i in range(len(words))])
            for row in range(len(words)):
                for column in (0, 1):
                    if self.item(row, column) is None:
                        self.setItem(row, column, QtWidgets.QTableWidgetItem())
        for row, word in enumerate(words):
            self.item(row, 0).setText(word)
        self.set_lists(lists, number)
        self.resizeColumnToContents(0)


@dataclass(frozen=True)
class Header:
    """The panel's lines above every page: the answer, notes on it, the task's own answer
    (translation) and the answer with and without interventions."""
    headline: QtWidgets.QLabel
    notes: QtWidgets.QLabel
    reference: QtWidgets.QLabel
    compare: QtWidgets.QLabel


class Page:
    """One family of prediction forms: `widget` (its place in the panel's stack), drawn
    from a trace's meta by `show`; `select` follows the selection."""

    def __init__(self, state, header: Header, room) -> None:
        self.state, self.header = state, header
        self.room = room  # () -> the panel's width
        self.widget: QtWidgets.QWidget

    def show(self, meta: dict) -> None:
        raise NotImplementedError

    def select(self, sel: Selection, meta: dict) -> None:
        """The selection changed (nothing to follow by default)."""

    def apply_zoom(self) -> None:
        """The text size changed."""

    def retranslate(self) -> None:
        """The language changed (words set from code)."""

    def resized(self) -> None:
        """The panel's width changed."""


def table(pointed, clicked) -> TopListTable:
    """A top-5 table whose rows are selected whole; pointing at a row and clicking it call
    `pointed(row)` and `clicked(row)`."""
    found = TopListTable()
    found.setEditTriggers(QtWidgets.QAbstractItemView.NoEditTriggers)
    found.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectRows)
    found.setSelectionMode(QtWidgets.QAbstractItemView.SingleSelection)
    found.setMouseTracking(True)
    found.cellEntered.connect(lambda row, _: pointed(row))
    found.cellClicked.connect(lambda row, _: clicked(row))
    return found


class SentencePage(Page):
    """A seq2seq model (sentence, characters): the output step by step, each step's top-5,
    a slider over the decoding steps; the grammar's own translation where there is one."""

    def __init__(self, state, header: Header, room) -> None:
        super().__init__(state, header, room)
        self.steps = table(self.step_pointed, self.step_clicked)
        self.retranslate()
        self.steps.apply_zoom()  # the rows' height
        self.step_slider = QtWidgets.QSlider(QtCore.Qt.Horizontal, minimum=0, maximum=0)
        bind(self.step_slider, "setToolTip",
             "decoding step: the decoder as it was when it chose a word")
        self.step_slider.valueChanged.connect(self.go_to_step)
        self.step_label = QtWidgets.QLabel()
        self.step_label.setWordWrap(True)
        self.step_label.setTextFormat(QtCore.Qt.RichText)
        self.widget = QtWidgets.QWidget()
        layout = QtWidgets.QVBoxLayout(self.widget)
        layout.setContentsMargins(0, 0, 0, 0)
        slider_row = QtWidgets.QHBoxLayout()
        step_name = QtWidgets.QLabel()
        bind(step_name, "setText", "decoding step")
        step_name.setProperty("control", True)  # left out of an exported picture
        slider_row.addWidget(step_name)
        slider_row.addWidget(self.step_slider, 1)
        layout.addLayout(slider_row)
        layout.addWidget(self.step_label)
        layout.addWidget(self.steps, 1)

    def apply_zoom(self) -> None:
        self.steps.apply_zoom()

    def retranslate(self) -> None:
        self.steps.setHorizontalHeaderLabels([tr("output"), tr("top-5 next-token probabilities")])

    def decoding_steps(self) -> bool:
        """Whether the selected site's rows are the decoder's steps."""
        trace, site = self.state.trace, self.state.selection.site
        return trace is not None and site in trace.meta["sites"] and \
            kind_of(trace.meta, site).decoding_steps

    def step_pointed(self, row: int) -> None:
        if self.decoding_steps():
            self.state.hover(query=row, key=None)

    def step_clicked(self, row: int) -> None:
        if self.decoding_steps():
            self.state.lock(row, None)

    def go_to_step(self, step: int) -> None:
        """Show the decoder at decoding step `step` (switching to the site that reads the
        encoder from an encoder site, where steps do not exist)."""
        if self.state.trace is None:
            return
        if not self.decoding_steps():
            meta = self.state.trace.meta
            reading = [site for site in meta["sites"] if kind_of(meta, site).reads_encoder]
            if not reading:  # an encoder-only or image model has no decoding steps
                return
            self.state.set_selection(site=reading[-1])
        self.state.lock(step, None)

    def show(self, meta: dict) -> None:
        header = self.header
        self.step_slider.blockSignals(True)
        self.step_slider.setMaximum(max(0, len(meta["output_tokens"]) - 1))
        self.step_slider.blockSignals(False)
        header.headline.setText(meta["prediction"] or tr("(nothing)"))
        unknown = meta.get("unknown") or []
        # (translation says so in its outside-the-grammar notice)
        notes = [tr("unknown: ") + ", ".join(unknown)] if unknown and "outside" not in meta \
            else []
        if meta.get("notice"):
            notes.append(translate_message(meta["notice"]))
        header.notes.setText(" · ".join(notes))
        self.show_reference(meta)
        original = meta.get("original")
        if original:
            now, before = meta["prediction"].split(), original["prediction"].split()
            # lines that wrap, not a table: a table is as wide as its longest row
            header.compare.setText(
                f"{tr('with interventions:')} <b>{marked_words(now, before)}</b><br>"
                f"{tr('without:')} {marked_words(before, now)}")
        header.compare.setVisible(bool(original))
        self.steps.show_rows(meta["output_tokens"], meta["top5"], ".2f")

    def show_reference(self, meta: dict) -> None:
        """Outside the grammar: why, plainly. Inside: the grammar's own translation, with
        the words where the model differs marked (or a tick when they agree)."""
        reference = self.header.reference
        if "outside" not in meta:  # a task without a reference translator
            reference.hide()
            return
        if meta["outside"]:
            reference.setText(
                "<div style='background:#fff3cd; color:#664d03'>&#9888; " + tr(
                    "<b>Outside what the model learned</b>: {reason}. Its answer is a guess; "
                    "the grammar has no translation to compare it with.").format(
                    reason=escape(translate_message(meta["outside"]))) + "</div>")
        elif meta["matches_reference"]:
            same = tr("the same as the grammar's own translation")
            reference.setText(f"<span style='color:#1a7f37'>&#10003; {same}</span>")
        else:
            model, grammar = meta["prediction"].split(), meta["reference_tokens"]
            reference.setText(f"{tr('model:')} {marked_words(model, grammar)}<br>"
                              f"{tr('grammar:')} {marked_words(grammar, model)}")
        reference.show()

    def select(self, sel: Selection, meta: dict) -> None:
        row = sel.query if self.decoding_steps() else None
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


class ImagePage(Page):
    """An image model: a bar per class (a digit model's ten digits; an opened model's ten
    most likely classes), the answer with and without interventions side by side."""

    def __init__(self, state, header: Header, room) -> None:
        super().__init__(state, header, room)
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
        # the probability axis's ticks and name follow the room it has (fit_chart)
        self.chart.getViewBox().sigResized.connect(lambda _: self.fit_chart())
        self.chart.setMinimumHeight(8 * QtGui.QFontMetrics(zoom.font()).height())
        self.bars = pg.BarGraphItem(x=np.arange(10), height=np.zeros(10), width=0.7,
                                    brushes=[pg.mkBrush(PLAIN)] * 10)
        self.original_bars = pg.BarGraphItem(x=np.arange(10) + 0.2, height=np.zeros(10),
                                             width=0.36, brush=pg.mkBrush(ORIGINAL))
        self.chart.addItem(self.bars)
        self.chart.addItem(self.original_bars)
        self.original_bars.hide()
        self.widget = self.chart

    def apply_zoom(self) -> None:
        # at least a few lines of text tall: at 200% the dock's rows squashed it flat
        self.chart.setMinimumHeight(8 * QtGui.QFontMetrics(zoom.font()).height())
        self.fit_chart()

    def resized(self) -> None:
        self.set_chart_ticks()

    def set_chart_ticks(self) -> None:
        """Every class's tick when they fit side by side, else every k-th (three-digit
        ImageNet class numbers overlapped)."""
        metrics = QtGui.QFontMetrics(zoom.font())
        need = sum(metrics.horizontalAdvance(t) + 10 for t in self._ticks)
        room = max(self.chart.getViewBox().width(), self.room() - 80, 60)
        step = max(1, -(-int(need) // int(room)))
        ticks = [(i, t) for i, t in enumerate(self._ticks) if i % step == 0]
        self.chart.getAxis("bottom").setTicks([ticks, []])

    def fit_chart(self) -> None:
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

    def show(self, meta: dict) -> None:
        header = self.header
        header.reference.hide()
        probs = np.asarray(meta["probs"])
        digits = meta["prediction_form"] == "digit"
        # digits: all ten classes; an opened model: its ten most likely, best first
        shown = np.arange(len(probs)) if digits else np.argsort(-probs)[:10]
        # digits: the digit; an opened model: the class number (its names can be long:
        # the five best are named in the notes)
        ticks = tuple(meta["labels"][c] if digits else str(c) for c in shown)
        if ticks != self._ticks:  # axes are only rebuilt when the names change
            self._ticks = ticks
            self.set_chart_ticks()
        # digits: 0–1; an opened model's thousand classes: up to its best, else a 1%
        # bar is invisible on a 0–1 axis
        top = 1.0 if digits else min(1.0, max(0.02, float(probs[shown].max()) * 1.15))
        if top != self._top:
            self._top = top
            self.chart.setYRange(0, top)
            self.fit_chart()
        best = int(probs.argmax())
        brushes = [pg.mkBrush(CHOSEN if c == best else PLAIN) for c in shown]
        original = meta.get("original")
        x = np.arange(len(shown), dtype=float)
        if original:  # the two answers side by side: coloured with, grey without
            self.bars.setOpts(x=x - 0.2, width=0.36, height=probs[shown], brushes=brushes)
            self.original_bars.setOpts(x=x + 0.2, height=np.asarray(original["probs"])[shown])
        else:
            self.bars.setOpts(x=x, width=0.7, height=probs[shown], brushes=brushes)
        self.original_bars.setVisible(bool(original))
        kind = tr("digit ") if digits else ""  # an opened model's classes name themselves
        image = meta.get("image", {})
        guess = f"{kind}{meta['prediction']}  ({meta['confidence']:.1%})"
        # a blank canvas has no answer: say that in the headline, the guess below it
        header.headline.setText(tr("blank image: nothing to recognise") if image.get("blank")
                                else guess)
        notes = [f"{image.get('original_size', ['?'])[0]}×"
                 f"{image.get('original_size', ['?', '?'])[1]} "
                 f"{translate_message(image.get('conversion', ''))}"]
        if image.get("inverted"):
            notes.append(tr("inverted (light background)"))
        if image.get("blank"):
            notes.append(tr("the model's guess anyway: {guess}").format(guess=guess))
        if digits:
            notes.append(tr("cropped to the ink, scaled to fit 24×24 in a 32×32 frame"))
        else:
            notes.append(tr("best: ") + ", ".join(f"{c} {meta['labels'][c]} {probs[c]:.1%}"
                                              for c in shown[:5]))
        header.notes.setText(" · ".join(notes))
        if original:
            header.compare.setText(
                f"{tr('with interventions (coloured):')} <b>{kind}"
                f"{escape(meta['prediction'])}</b> ({meta['confidence']:.1%}) · "
                f"{tr('without (grey):')} {kind}"
                f"{escape(original['prediction'])} ({original['confidence']:.1%})")
        header.compare.setVisible(bool(original))


class LanguagePage(Page):
    """A language model: every position's top-5 (next token, or the word BERT guesses
    there), the selected position in words, and a causal model's greedy continuation."""

    def __init__(self, state, header: Header, room) -> None:
        super().__init__(state, header, room)
        self.widget = QtWidgets.QWidget()
        layout = QtWidgets.QVBoxLayout(self.widget)
        layout.setContentsMargins(0, 0, 0, 0)
        self.continue_row = QtWidgets.QWidget()
        lines = QtWidgets.QVBoxLayout(self.continue_row)  # the continuation, the chat turn
        lines.setContentsMargins(0, 0, 0, 0)
        row = QtWidgets.QHBoxLayout()
        lines.addLayout(row)
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
        self.state.generate_changed.connect(self.show_generate)
        row.addWidget(self.generate)
        row.addStretch(1)
        row = QtWidgets.QHBoxLayout()
        lines.addLayout(row)
        # the input as one user message in the folder's chat template (off, saying why,
        # where the folder has none)
        self.chat = QtWidgets.QCheckBox()
        bind(self.chat, "setText", "chat turn")
        self.chat.toggled.connect(self.state.set_chat)
        self.state.chat_changed.connect(self.show_chat)
        row.addWidget(self.chat)
        self.hide_template = QtWidgets.QCheckBox()
        bind(self.hide_template, "setText", "hide template tokens")
        bind(self.hide_template, "setToolTip", "hide the rows of the tokens the chat template "
             "added (they stay in the model's input)")
        self.hide_template.toggled.connect(lambda _: self.mark_template(self._template))
        row.addWidget(self.hide_template)
        row.addStretch(1)
        self._template: list[int] = []  # the rows of the chat template's tokens
        self.position_label = QtWidgets.QLabel()
        self.position_label.setWordWrap(True)
        self.position_label.setTextFormat(QtCore.Qt.RichText)
        self.positions = table(lambda r: self.state.hover(query=r, key=None),
                               lambda r: self.state.lock(r, None))
        layout.addWidget(self.continue_row)
        layout.addWidget(self.position_label)
        layout.addWidget(self.positions, 1)

    def apply_zoom(self) -> None:
        self.positions.apply_zoom()

    def show_generate(self, steps: int) -> None:
        if self.generate.value() != steps:
            self.generate.blockSignals(True)
            self.generate.setValue(steps)
            self.generate.blockSignals(False)

    def show_chat(self, on: bool) -> None:
        if self.chat.isChecked() != on:
            self.chat.blockSignals(True)
            self.chat.setChecked(on)
            self.chat.blockSignals(False)

    def show_chat_state(self, chat: dict) -> None:
        """The toggle: on or off as the state says; where the folder has no template, off
        and disabled, its tooltip saying why."""
        self.show_chat(self.state.chat)
        available = bool(chat.get("available"))
        self.chat.setEnabled(available or self.state.chat)
        if available:
            self.chat.setToolTip(tr("the input as one user message with the assistant's turn "
                                    "to follow, in the folder's chat template; the "
                                    "template's tokens are marked"))
        else:
            self.chat.setToolTip(tr("no chat template: {why}").format(
                why=translate_message(chat.get("why", ""))))

    def show(self, meta: dict) -> None:
        header = self.header
        causal = meta["prediction_form"] == "next-token"
        header.reference.hide()
        self.continue_row.setVisible(causal)
        self.show_generate(self.state.generate)
        self.show_chat_state(meta.get("chat", {}))
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
        header.headline.setText(breakable(headline))  # wrapped, never clipped mid-token
        header.headline.setToolTip(tip(headline))
        header.notes.setText(translate_message(meta.get("notice", "")))
        original = meta.get("original")
        if original:
            header.compare.setText(f"{tr('with interventions:')} "
                                   f"<b>{escape(meta['prediction'])}</b> · {tr('without:')} "
                                   f"{escape(original['prediction'] or '')}")
        header.compare.setVisible(bool(original))
        self.positions.setHorizontalHeaderLabels(
            [tr("token"), tr("top-5 next tokens" if causal else "top-5 guesses for this position")])
        self.positions.show_rows(tokens, topk, ".1%")
        self.mark_template(meta.get("chat", {}).get("template_tokens", []))

    def mark_template(self, rows: list[int]) -> None:
        """The chat template's tokens: grey and italic in the table, or hidden."""
        self._template = list(rows)
        self.hide_template.setVisible(bool(rows))
        marked = set(rows)
        hide = self.hide_template.isChecked()
        grey = QtGui.QBrush(QtGui.QColor("#808080"))
        for row in range(self.positions.rowCount()):
            item = self.positions.item(row, 0)
            if item is None:
                continue
            font = item.font()
            font.setItalic(row in marked)
            item.setFont(font)
            item.setForeground(grey if row in marked else QtGui.QBrush())
            self.positions.setRowHidden(row, hide and row in marked)

    def select(self, sel: Selection, meta: dict) -> None:
        row = sel.query
        if row is None or row >= self.positions.rowCount():
            self.positions.clearSelection()
            self.position_label.setText(tr("point at a token (here or in any panel)"))
            return
        if self.positions.currentRow() != row:
            self.positions.selectRow(row)
        tokens, (best, *others) = meta["tokens"], meta["topk"][row]
        rest = ", ".join(f"{escape(w)} {p:.1%}" for w, p in others)
        if meta["prediction_form"] == "next-token":
            # (a zero-width space between tokens: the line wraps between them even where
            # they carry no space, as a byte-level BPE's do, instead of widening the dock)
            seen = escape((meta.get("joiner", "") + "\u200b").join(
                tokens[max(0, row - 11): row + 1]))
            more = "…" if row > 11 else ""
            text = tr("after “{seen}”: next <b>{best}</b> ({p}); then {rest}").format(
                seen=more + seen, best=escape(best[0]), p=f"{best[1]:.1%}", rest=rest)
        else:
            text = tr("position {row} ({token}): BERT's guess <b>{best}</b> ({p}); then "
                      "{rest}").format(row=row, token=escape(tokens[row]), best=escape(best[0]),
                                       p=f"{best[1]:.1%}", rest=rest)
        self.position_label.setText(text)


def breakable(text: str, longest: int = 16) -> str:
    """`text` with a zero-width space inside each word longer than `longest` characters
    (a continuation without spaces, an untrained model's output), so that a wrapping label
    breaks it at its edge instead of cutting it there."""
    def split(word: str) -> str:
        return "\u200b".join(word) if len(word) > longest else word
    return " ".join(split(word) for word in text.split(" "))
