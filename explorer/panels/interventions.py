"""The Prediction panel's interventions box, shared by every page: switch the selected head
off (by zero, or by its mean over the input's positions), switch the MLP of the selected
head's layer off, the switches that apply to the model's kinds of attention site, what is
active."""
from __future__ import annotations

from collections.abc import Callable

from PySide6 import QtGui, QtWidgets

from models.session import mlp_names
from models.sites import SiteKind, kinds_in

from .. import zoom
from ..i18n import bind, say, tr

# each switch: its key in the interventions, its words, and whether a kind of site gives it
# something to switch off (None: every model has it)
SWITCHES: tuple[tuple[str, str, Callable[[SiteKind], bool] | None], ...] = (
    ("no_mask", "no attention mask", lambda kind: kind.masked),
    ("no_bias", "no relative bias", lambda kind: kind.has_bias),
    ("no_position", "no positional encoding", None),
    ("bottleneck", "seq2seq bottleneck", lambda kind: kind.reads_encoder),
)


# how the head button switches a head off: the mode's key (AppState.toggle_head), its words
MODES = (("zero", "off by zero"), ("mean", "off by its mean over positions"))


def mlp_of(site: str | None, mlps: list[str]) -> str | None:
    """The MLP sublayer in the same layer as attention site `site` (its name but the last
    part: `layers.3.attn` -> `layers.3.mlp`, `decoder.layers.0.cross_attn` ->
    `decoder.layers.0.ff`); None where the layer has none."""
    if not site:
        return None
    block = site.rsplit(".", 1)[0]
    return next((m for m in mlps if m.rsplit(".", 1)[0] == block), None)


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
            lambda: state.toggle_head(state.selection.site, state.selection.head,
                                      self.mode.currentData()))
        self.mode = QtWidgets.QComboBox()  # how the head button switches a head off
        for key, words in MODES:
            self.mode.addItem(tr(words), key)
        bind(self.mode, "setToolTip",
             "zero: the head writes nothing; mean: at every position it writes its average "
             "output over this input's positions (what it says about the whole input stays, "
             "what it says about each token goes)")
        self.mlps: list[str] = []  # the model's MLP sublayers (enable_for), and whose
        self.mlps_of: str | None = None
        self.mlp_button = QtWidgets.QPushButton()
        self.mlp_button.setProperty("words", "Switch off / on this layer's MLP")
        bind(self.mlp_button, "setToolTip",
             "the MLP in the selected head's layer writes nothing into the residual stream "
             "(a post-norm model still normalises the stream after it)")
        self.mlp_button.clicked.connect(self._toggle_mlp)
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
        self.grid.addWidget(self.mode, 1, 0, 1, 2)
        self.grid.addWidget(self.mlp_button, 2, 0, 1, 2)
        self.columns = 0
        self.place_flags(2)
        state.interventions_changed.connect(self.show_interventions)

    def enable_for(self, meta: dict) -> None:
        """Only the switches this model has something to switch off for (and any that is
        on, so it can be switched off)."""
        kinds = kinds_in(meta)
        if meta.get("preset") is not None and meta["preset"] != self.mlps_of:
            self.mlps, self.mlps_of = mlp_names(meta["preset"]), meta["preset"]
        self.mlp_button.setEnabled(bool(self.mlps))
        for key, _, applies in SWITCHES:
            check = self.flags[key]
            check.setEnabled(applies is None or any(applies(k) for k in kinds)
                             or check.isChecked())

    def _toggle_mlp(self) -> None:
        point = mlp_of(self.state.selection.site, self.mlps)
        if point is None:
            self.state.message.emit(say("the selected head's layer has no MLP"))
        else:
            self.state.toggle_mlp(point)

    def place_flags(self, columns: int) -> None:
        """The check boxes in two columns, or one when the dock is narrow (two columns made
        the panel wider than an image preset's dock: it scrolled sideways, the chart cut)."""
        if columns == self.columns:
            return
        self.columns = columns
        for widget in (*self.flags.values(), self.active, self.clear):
            self.grid.removeWidget(widget)
        for i, check in enumerate(self.flags.values()):
            self.grid.addWidget(check, 3 + i // columns, i % columns, 1, 3 - columns)
        rows = 3 + -(-len(self.flags) // columns)
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
        for button in (self.head_button, self.mlp_button, *self.flags.values()):
            words = tr(button.property("words"))
            # + the group's frame and margins (+ the box of a check box)
            extra = 90 if isinstance(button, QtWidgets.QCheckBox) else 60
            wide = metrics.horizontalAdvance(words) + extra > room
            button.setText(two_lines(words) if wide else words)

    def retranslate(self) -> None:
        for i, (_, words) in enumerate(MODES):
            self.mode.setItemText(i, tr(words))
        self.fit_controls()
        self.show_interventions(self.state.interventions)

    def show_interventions(self, interventions: dict) -> None:
        for key, check in self.flags.items():
            check.blockSignals(True)
            check.setChecked(bool(interventions.get(key)))
            check.blockSignals(False)
        parts = [tr("{site} head {head} off").format(site=site, head=head)
                 for site, head in interventions.get("heads_off", [])]
        parts += [tr("{site} head {head} at its mean").format(site=site, head=head)
                  for site, head in interventions.get("heads_mean", [])]
        parts += [tr("{mlp} off").format(mlp=mlp) for mlp in interventions.get("mlps_off", [])]
        parts += [tr(self.flags[k].property("words")) for k in self.flags if interventions.get(k)]
        # a site name may break after its dots: it never widens the dock
        self.active.setText("; ".join(parts).replace(".", ".\u200b") or tr("none"))
