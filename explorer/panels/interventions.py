"""The Prediction panel's interventions box, shared by every page: switch the selected head
off, the switches that apply to the model's kinds of attention site, what is active."""
from __future__ import annotations

from collections.abc import Callable

from PySide6 import QtGui, QtWidgets

from models.sites import SiteKind, kinds_in

from .. import zoom
from ..i18n import bind, tr

# each switch: its key in the interventions, its words, and whether a kind of site gives it
# something to switch off (None: every model has it)
SWITCHES: tuple[tuple[str, str, Callable[[SiteKind], bool] | None], ...] = (
    ("no_mask", "no attention mask", lambda kind: kind.masked),
    ("no_bias", "no relative bias", lambda kind: kind.has_bias),
    ("no_position", "no positional encoding", None),
    ("bottleneck", "seq2seq bottleneck", lambda kind: kind.reads_encoder),
)


def two_lines(text: str) -> str:
    """`text` broken at the space nearest its middle."""
    spaces = [i for i, c in enumerate(text) if c == " "]
    if not spaces:
        return text
    cut = min(spaces, key=lambda i: abs(i - len(text) / 2))
    return text[:cut] + "\n" + text[cut + 1:]


class InterventionsBox(QtWidgets.QGroupBox):
    def __init__(self, state, room: Callable[[], int]) -> None:
        super().__init__()
        self.state = state
        self.room = room  # () -> the width the panel has
        bind(self, "setTitle", "Interventions")  # short: it never widens the dock
        bind(self, "setToolTip", "the model re-runs with what is switched off here")
        self.head_button = QtWidgets.QPushButton()
        self.head_button.setProperty("words", "Switch off / on the selected head")
        self.head_button.clicked.connect(
            lambda: state.toggle_head(state.selection.site, state.selection.head))
        self.flags: dict[str, QtWidgets.QCheckBox] = {}
        for key, text, _ in SWITCHES:
            check = QtWidgets.QCheckBox()
            check.setProperty("words", text)  # the English source; shown through tr()
            check.toggled.connect(lambda on, k=key: state.set_interventions(
                {**state.interventions, k: on}))
            self.flags[key] = check
        self.active = QtWidgets.QLabel(tr("none"))
        self.active.setWordWrap(True)
        self.clear = QtWidgets.QPushButton()
        bind(self.clear, "setText", "Clear all")
        self.clear.clicked.connect(state.clear_interventions)
        bind(self.flags["bottleneck"], "setToolTip",
             "every decoding step sees one context vector, the mean of the encoder states, "
             "instead of attending: seq2seq before attention")
        self.fit_controls()
        self.grid = QtWidgets.QGridLayout(self)
        self.grid.addWidget(self.head_button, 0, 0, 1, 2)
        self.columns = 0
        self.place_flags(2)
        state.interventions_changed.connect(self.show_interventions)

    def enable_for(self, meta: dict) -> None:
        """Only the switches this model has something to switch off for (and any that is
        on, so it can be switched off)."""
        kinds = kinds_in(meta)
        for key, _, applies in SWITCHES:
            check = self.flags[key]
            check.setEnabled(applies is None or any(applies(k) for k in kinds)
                             or check.isChecked())

    def place_flags(self, columns: int) -> None:
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

    def resized(self) -> None:
        self.fit_controls()
        widest = max(check.sizeHint().width() for check in self.flags.values())
        self.place_flags(2 if self.room() >= 2 * widest + 60 else 1)

    def fit_controls(self) -> None:
        """At 175–200% a long button or box label goes onto two lines instead of widening
        the panel past its dock."""
        room = self.room()
        metrics = QtGui.QFontMetrics(zoom.font())
        for button in (self.head_button, *self.flags.values()):
            words = tr(button.property("words"))
            # + the group's frame and margins (+ the box of a check box)
            extra = 90 if isinstance(button, QtWidgets.QCheckBox) else 60
            wide = metrics.horizontalAdvance(words) + extra > room
            button.setText(two_lines(words) if wide else words)

    def retranslate(self) -> None:
        self.fit_controls()
        self.show_interventions(self.state.interventions)

    def show_interventions(self, interventions: dict) -> None:
        for key, check in self.flags.items():
            check.blockSignals(True)
            check.setChecked(bool(interventions.get(key)))
            check.blockSignals(False)
        parts = [tr("{site} head {head} off").format(site=site, head=head)
                 for site, head in interventions.get("heads_off", [])]
        parts += [tr(self.flags[k].property("words")) for k in self.flags if interventions.get(k)]
        # a site name may break after its dots: it never widens the dock
        self.active.setText("; ".join(parts).replace(".", ".\u200b") or tr("none"))
