"""The model's answer: the translation step by step with its top-5, a language model's top-5
next (or masked) tokens at every position and its greedy continuation, or class
probabilities — one page per form of prediction, chosen from `PAGES` by the trace's
meta["prediction_form"]; the headline above and the interventions box below are shared."""
from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

from models.trace import Trace

from .. import zoom
from ..compare import answers, compare_rows
from ..i18n import bind, tr
from ..state import Selection
from ..text import literal, plain
from .base import Panel
from .interventions import InterventionsBox
from .prediction_pages import Header, ImagePage, LanguagePage, Page, SentencePage

# a prediction form (models/tasks/task.py: Task.prediction) -> the page that shows it
PAGES: dict[str, type[Page]] = {
    "sentence": SentencePage, "characters": SentencePage,
    "digit": ImagePage, "class": ImagePage,
    "next-token": LanguagePage, "masked-token": LanguagePage,
}


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
        self.headline = plain(QtWidgets.QLabel())  # tokens: never read as HTML
        self.headline.setWordWrap(True)
        self.headline.setTextInteractionFlags(QtCore.Qt.TextSelectableByMouse)
        # wraps at spaces; one long unbroken word (an untrained model's output) is clipped
        # instead of widening the panel past its dock
        self.headline.setSizePolicy(QtWidgets.QSizePolicy.Ignored,
                                    QtWidgets.QSizePolicy.Preferred)
        self.notes = plain(QtWidgets.QLabel())
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
        # compare mode: both answers and how each of A's top-k probabilities changes in B
        self.ab = QtWidgets.QLabel()
        self.ab.setWordWrap(True)
        self.ab.setTextFormat(QtCore.Qt.RichText)
        # wraps to the dock; never widens it (a side scroll bar at 200%)
        self.ab.setSizePolicy(QtWidgets.QSizePolicy.Ignored, QtWidgets.QSizePolicy.Preferred)
        self.ab.hide()
        header = Header(self.headline, self.notes, self.reference, self.compare)
        # one page of each kind, in the stack in this order
        self.pages = {cls: cls(state, header, self._room) for cls in dict.fromkeys(PAGES.values())}
        self.page: Page = self.pages[SentencePage]
        self.stack = QtWidgets.QStackedWidget()
        for page in self.pages.values():
            self.stack.addWidget(page.widget)
        # a stack is as wide as its widest page: only the page shown may ask for room (the
        # language models' page must not widen the dock of a digit model at 200%)
        self.stack.currentChanged.connect(self._size_to_current_page)
        self._size_to_current_page()
        self.interventions_box = InterventionsBox(state, self._room)
        self.apply_zoom(zoom.ZOOM.factor)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.untrained)
        layout.addWidget(self.ab)
        layout.addWidget(self.headline)
        layout.addWidget(self.reference)
        layout.addWidget(self.notes)
        layout.addWidget(self.compare)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.interventions_box)
        # the pages' and the box's widgets by the names scripts and tests use
        sentence, image, language = (self.pages[cls] for cls in
                                     (SentencePage, ImagePage, LanguagePage))
        self.steps, self.step_slider = sentence.steps, sentence.step_slider
        self.step_label = sentence.step_label
        self.chart, self.bars, self.original_bars = image.chart, image.bars, image.original_bars
        self.positions, self.position_label = language.positions, language.position_label
        self.continue_row, self.generate = language.continue_row, language.generate
        box = self.interventions_box
        self.head_button, self.flags, self.active = box.head_button, box.flags, box.active
        self.ablation, self.mlp_button = box.mode, box.mlp_button
        self.go_to_step, self._step_pointed = sentence.go_to_step, sentence.step_pointed

    def _room(self) -> int:
        # in a scroll area the panel is never narrower than its minimum: ask the viewport
        return self.parentWidget().width() if self.parentWidget() else self.width()

    def apply_zoom(self, factor: float) -> None:
        self.headline.setFont(zoom.font(13, bold=True))
        # styled labels keep the font they were polished with unless told
        for label in (self.untrained, self.notes, self.reference, self.compare, self.ab):
            label.setFont(zoom.font())
        for page in self.pages.values():
            page.apply_zoom()
        self.interventions_box.fit_controls()

    def _size_to_current_page(self, *_) -> None:
        for index in range(self.stack.count()):
            page = self.stack.widget(index)
            policy = QtWidgets.QSizePolicy.Preferred if page is self.stack.currentWidget() \
                else QtWidgets.QSizePolicy.Ignored
            page.setSizePolicy(policy, policy)
        self.stack.updateGeometry()

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:
        super().resizeEvent(event)
        self.interventions_box.resized()
        for page in self.pages.values():
            page.resized()

    def retranslate(self) -> None:
        for page in self.pages.values():
            page.retranslate()
        self.interventions_box.retranslate()

    def update_trace(self, trace: Trace) -> None:
        meta = trace.meta
        self.untrained.setVisible(not meta.get("trained", True))
        self.interventions_box.enable_for(meta)
        self.headline.setToolTip("")
        self.page = self.pages[PAGES[meta["prediction_form"]]]
        self.stack.setCurrentWidget(self.page.widget)
        self.page.show(meta)
        self.show_ab()

    def show_ab(self) -> None:
        """Compare mode: A's and B's answers, and for each of A's top 5 its probability in
        A, in B and the change (— where B's run did not keep it)."""
        a, b = self.state.trace_a, self.state.trace_b
        if not self.state.compare or a is None or b is None:
            self.ab.hide()
            return
        rows = [f"<b>A:</b> {literal(a.meta.get('prediction', ''))}"
                f" &nbsp; <b>B:</b> {literal(b.meta.get('prediction', ''))}",
                "<br>" + tr("top 5 of A: probability in A → in B (change)")]
        for name, p, q, change in compare_rows(a.meta, b.meta):
            # a line each (no table: a line wraps in a narrow dock, a table cannot)
            colour = "#777" if change is None else "#b00000" if change < 0 else "#006000"
            then = "—" if q is None else f"{q:.3f}"
            moved = "—" if change is None else f"{change:+.3f}"
            rows.append(f"<br>{literal(name)}: {p:.3f} → {then} "
                        f"<span style='color:{colour}'>({moved})</span>")
        if not answers(a.meta):
            rows = rows[:1]
        self.ab.setText(rows[0] + "".join(rows[1:]))
        self.ab.show()

    def update_selection(self, sel: Selection) -> None:
        self.page.select(sel, self.state.trace.meta)
