"""Compare mode's controls, under input A in the input dock: input B (typed, drawn, a sample,
or "A with one word changed"), what the panels show (A, B or A − B) and, in red, why they show
something else (A and B of different lengths: A − B cannot be, A is shown)."""
from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from models.presets import get_preset

from ..compare import VIEWS
from ..i18n import LANGUAGE, bind, bound, translate_message
from .inputs import ImageInput, TextInput

VIEW_WORDS = {"A": "A", "B": "B", "A-B": "A − B"}


class CompareBar(QtWidgets.QWidget):
    def __init__(self, state, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.title = bound(QtWidgets.QLabel(), "Input B:")
        self.text_b = TextInput()
        self.text_b.edited.connect(self._edited)
        self.image_b = ImageInput()
        self.image_b.chosen.connect(self._edited)
        self.image_b.open_button.hide()  # (File > Open image opens A)
        self.inputs = QtWidgets.QStackedWidget()
        self.inputs.addWidget(self.text_b)
        self.inputs.addWidget(self.image_b)
        self.one_word = bound(QtWidgets.QPushButton(), "A with one word changed")
        bind(self.one_word, "setToolTip", "B becomes A with one word replaced by another word "
             "the model knows")
        self.one_word.clicked.connect(self.one_word_changed)
        self.view_buttons: dict[str, QtWidgets.QRadioButton] = {}
        group = QtWidgets.QButtonGroup(self)
        views = QtWidgets.QHBoxLayout()
        views.addWidget(bound(QtWidgets.QLabel(), "Panels show:"))
        for view in VIEWS:
            button = QtWidgets.QRadioButton(VIEW_WORDS[view])
            button.toggled.connect(lambda on, view=view: on and self.state.set_view(view))
            group.addButton(button)
            views.addWidget(button)
            self.view_buttons[view] = button
        views.addWidget(self.one_word)
        views.addStretch(1)
        self.note = QtWidgets.QLabel()
        self.note.setTextFormat(QtCore.Qt.PlainText)
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: #b00000")
        self.note.hide()
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 4)
        top = QtWidgets.QHBoxLayout()
        top.addWidget(self.title)
        top.addWidget(self.inputs, 1)
        layout.addLayout(top)
        layout.addLayout(views)
        layout.addWidget(self.note)
        state.compare_changed.connect(self.setVisible)
        state.input_b_changed.connect(self.show_input)
        state.view_changed.connect(self._view_changed)
        state.compare_note_changed.connect(self._note)
        state.preset_changed.connect(self._preset_changed)
        LANGUAGE.changed.connect(self._retranslate)  # a method: disconnected when deleted
        self._view_changed(state.view)
        self._preset_changed(state.preset)
        self.setVisible(state.compare)

    def _edited(self, value) -> None:
        if self.state.compare:
            self.state.set_input_b(value)

    def one_word_changed(self) -> None:
        self.state.set_input_b(self.state.variant_of(self.state.input))

    def _preset_changed(self, name: str) -> None:
        preset = get_preset(name)
        text = preset.input_kind == "text"
        self.inputs.setCurrentWidget(self.text_b if text else self.image_b)
        for page in (self.text_b, self.image_b):  # sized to the page shown, not the largest
            policy = QtWidgets.QSizePolicy.Preferred if page is self.inputs.currentWidget() \
                else QtWidgets.QSizePolicy.Ignored
            page.setSizePolicy(policy, policy)
        self.inputs.adjustSize()
        self.setSizePolicy(QtWidgets.QSizePolicy.Preferred, QtWidgets.QSizePolicy.Fixed
                           if text else QtWidgets.QSizePolicy.Preferred)
        self.one_word.setVisible(text)
        if text:
            self.text_b.set_samples(preset.samples)
        else:
            self.image_b.set_samples(preset.task_info.sample_folder)
        self.show_input(self.state.input_b)

    def show_input(self, value) -> None:
        if value is None:
            return
        if isinstance(value, str) and self.inputs.currentWidget() is self.text_b:
            self.text_b.set_text(value)
        elif self.inputs.currentWidget() is self.image_b:
            self.image_b.show_input(value)

    def _view_changed(self, view: str) -> None:
        button = self.view_buttons[view]
        if not button.isChecked():
            button.blockSignals(True)
            button.setChecked(True)
            button.blockSignals(False)

    def _retranslate(self, _lang: str) -> None:
        self._note(self.state.compare_note)

    def _note(self, note: str) -> None:
        self.note.setText(translate_message(note))
        self.note.setVisible(bool(note))
