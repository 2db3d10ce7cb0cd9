"""Activation patching (models/patching.py): the clean input is A, the corrupted one B (compare
mode, the same token count). A sweep patches each activation of one kind — the residual stream,
an attention or MLP output, a head — from the clean run into the corrupted one, and scores how
much of the clean answer comes back (0: corrupted, 1: clean), as a heatmap. The path sweep
patches each earlier head's output only into one receiver head's queries, keys or values.

A sweep runs on the model's own worker thread, on the session of the window's run (its
device, the heads switched off and the other interventions: explorer/runner.py `Job`), so
the model is never held twice; the window's own runs go through between two of its forwards.
The newest request wins, with a progress bar from its first second and Cancel. A cancelled
sweep leaves the result before it on screen, marked. Clicking a cell selects its layer, head
and position everywhere and shows that one patched run in every panel (the state's
`show_patched`; the window's banner leads back); a path cell's run is the corrupted input
with only the receiver head's q, k or v fed the sender's clean output. The last results
stay in a list to step back to.
"""
from __future__ import annotations

import itertools
import threading
from typing import Any

from PySide6 import QtCore, QtWidgets

from models import patching
from models.errors import CheckpointError, InputError
from models.trace import Trace

from ..analyst import Request
from ..compare import positions
from ..i18n import bind, bound, said, tr, translate_message
from ..runner import JobStopped
from ..state import Selection
from ..widgets.matrix_view import MatrixView
from .base import Panel

HISTORY = 8  # results kept to step back to
# what a sweep's rows and columns are
AXES = {"resid": ("rows: layer", "columns: position"), "attn": ("rows: layer", "columns: position"),
        "mlp": ("rows: layer", "columns: position"), "heads": ("rows: layer", "columns: head"),
        "heads-by-pos": ("rows: layer and head", "columns: position"),
        "path": ("rows: sender layer", "columns: sender head")}
SWEEP_WORDS = {"resid": "residual stream (layer × position)",
               "attn": "attention outputs (layer × position)",
               "mlp": "MLP outputs (layer × position)",
               "heads": "heads (every position)",
               "heads-by-pos": "heads × position",
               "path": "path: each earlier head into one head's q, k or v"}


class Stopped(Exception):
    """Raised in a sweep's progress callback: cancelled, or overtaken."""


class _Relay(QtCore.QObject):
    """Progress from the analyst thread, queued to the GUI thread."""
    moved = QtCore.Signal(int, int, int)  # job, done, total


class PatchingPanel(Panel):
    name = "patching"
    title = "Patching"

    def __init__(self, state, parent=None) -> None:
        super().__init__(state, parent)
        self.caption = QtWidgets.QLabel()
        self.caption.setTextFormat(QtCore.Qt.PlainText)
        self.caption.setWordWrap(True)
        self.sweep_box = QtWidgets.QComboBox()
        for kind in (*patching.SWEEPS, "path"):
            self.sweep_box.addItem(kind, kind)
        self.sweep_box.currentIndexChanged.connect(self._kind_changed)
        # path patching: the receiver head and which of its inputs
        self.receiver_box = QtWidgets.QComboBox()
        bind(self.receiver_box, "setToolTip", "the receiver: the head whose queries, keys or "
             "values get each earlier head's clean output")
        self.part_box = QtWidgets.QComboBox()
        for part in patching.PARTS:
            self.part_box.addItem(part, part)
        self.part_box.setCurrentIndex(1)  # keys: the induction head's
        self._receivers: tuple = ()  # the sites the receiver box lists
        self.target_a = QtWidgets.QLineEdit()
        self.target_b = QtWidgets.QLineEdit()
        bind(self.target_a, "setPlaceholderText", "clean answer")
        bind(self.target_b, "setPlaceholderText", "corrupted answer")
        bind(self.target_a, "setToolTip", "the metric is logit(this) − logit(the other): one "
             "token; empty: the clean run's prediction")
        bind(self.target_b, "setToolTip", "one token; empty: the corrupted run's prediction")
        self.run_button = bound(QtWidgets.QPushButton(), "Run")
        self.cancel_button = bound(QtWidgets.QPushButton(), "Cancel")
        self.run_button.clicked.connect(self.run)
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_button.setEnabled(False)
        self.progress = QtWidgets.QProgressBar()
        self.progress.setTextVisible(True)
        self.progress.hide()
        self.history = QtWidgets.QComboBox()
        bind(self.history, "setToolTip", "the last results: choose one to see it again")
        self.history.activated.connect(self._history_chosen)
        self.status = QtWidgets.QLabel()
        self.status.setTextFormat(QtCore.Qt.PlainText)
        self.status.setWordWrap(True)
        self.status.setStyleSheet("color: #b00000")
        self.heatmap = MatrixView()
        # the captions above wrap at large zoom: the heatmap gives way rather than being
        # pushed out of a short tab (an image model's at F5)
        self.heatmap.setMinimumHeight(40)
        self.heatmap.hovered.connect(self._hovered)
        self.heatmap.clicked.connect(self._clicked)
        for box in (self.sweep_box, self.history, self.receiver_box):  # (a tab at 200%)
            box.setSizeAdjustPolicy(QtWidgets.QComboBox.AdjustToMinimumContentsLengthWithIcon)
            box.setMinimumContentsLength(6)
        for edit in (self.target_a, self.target_b):
            edit.setMinimumWidth(40)
        grid = QtWidgets.QGridLayout()  # one control a row: the tab wraps, never scrolls
        words = [bound(QtWidgets.QLabel(), text) for text in
                 ("Sweep", "metric: logit of", "Results", "into head")]
        for label in words:
            label.setWordWrap(True)
        targets = QtWidgets.QHBoxLayout()
        targets.addWidget(self.target_a, 1)
        targets.addWidget(bound(QtWidgets.QLabel(), "minus"))
        targets.addWidget(self.target_b, 1)
        buttons = QtWidgets.QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.progress, 1)
        path = QtWidgets.QHBoxLayout()
        path.addWidget(self.receiver_box, 1)
        path.addWidget(self.part_box)
        self.path_row = (words[3], self.receiver_box, self.part_box)
        grid.addWidget(words[0], 0, 0)
        grid.addWidget(self.sweep_box, 0, 1)
        grid.addWidget(words[3], 1, 0)
        grid.addLayout(path, 1, 1)
        grid.addWidget(words[1], 2, 0)
        grid.addLayout(targets, 2, 1)
        grid.addLayout(buttons, 3, 0, 1, 2)
        grid.addWidget(words[2], 4, 0)
        grid.addWidget(self.history, 4, 1)
        grid.setColumnStretch(1, 1)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.caption)
        layout.addLayout(grid)
        layout.addWidget(self.status)
        layout.addWidget(self.heatmap, 1)
        self.request = Request("patching", lambda: self.state.trace_a)
        self.shown_request = Request("patched-run", lambda: self.state.trace_a)
        self.relay = _Relay()
        self.relay.moved.connect(self._moved)
        self._jobs = itertools.count(1)
        self._job = 0  # the sweep running (0: none)
        self._stop: threading.Event | None = None
        self.results: list[dict] = []  # newest first: {"result", "clean", "corrupt", …}
        self.result: dict | None = None  # on screen
        self.marked = ""  # "cancelled" (or why the last sweep stopped) over the result
        state.compare_changed.connect(self._inputs_changed)
        # a new result stops a sweep of the old inputs, shown or not
        state.trace_changed.connect(self._overtaken)
        self._kind_changed()
        self.retranslate()

    # -- what can run ------------------------------------------------------------------
    def pair(self) -> tuple[Any, Any] | None:
        """(clean, corrupted) inputs of the traces on screen, or None, said in the caption."""
        state = self.state
        a, b = state.trace_a, state.trace_b
        if not state.compare or b is None or a is None or state.shown is None:
            return None
        if positions(a) != positions(b) or a.meta.get("preset") != b.meta.get("preset"):
            return None
        return state.shown.input, state.shown.input_b

    def why_not(self) -> str:
        state = self.state
        a, b = state.trace_a, state.trace_b
        if not state.compare or a is None:
            return tr("Patching needs two inputs: turn on Compare (clean = A, corrupted = B).")
        if b is None:
            return tr("Input B has not run yet.")
        if positions(a) != positions(b):
            return tr("A has {a} tokens and B has {b}: patching needs the same count in "
                      "both.").format(a=positions(a), b=positions(b))
        return ""

    def _kind_changed(self, *_) -> None:
        for widget in self.path_row:
            widget.setVisible(self.sweep_box.currentData() == "path")

    def _fill_receivers(self, trace: Trace | None) -> None:
        """Every head of every attention site but the first, as site · head (the choice
        kept where the new trace has it)."""
        sites = tuple((site, int(info.get("heads", 0))) for site, info in
                      (trace.meta.get("sites", {}) if trace is not None else {}).items())
        if sites == self._receivers:
            return
        self._receivers = sites
        chosen = self.receiver_box.currentData()
        self.receiver_box.blockSignals(True)
        self.receiver_box.clear()
        for site, heads in sites[1:]:
            for h in range(heads):
                self.receiver_box.addItem(f"{site} · {h}", (site, h))
        found = self.receiver_index(chosen)
        self.receiver_box.setCurrentIndex(found if found >= 0 else 0)
        self.receiver_box.blockSignals(False)

    def receiver_index(self, receiver) -> int:
        """The receiver box's row of (site, head), -1 if none (findData cannot compare a
        tuple)."""
        items = [self.receiver_box.itemData(i) for i in range(self.receiver_box.count())]
        return items.index(receiver) if receiver in items else -1

    def retranslate(self) -> None:
        for i in range(self.sweep_box.count()):
            kind = self.sweep_box.itemData(i)
            self.sweep_box.setItemText(i, tr(SWEEP_WORDS[kind]))
        self._caption()
        self._fill_history()
        if self.result is not None:
            self._show(self.result)

    def _caption(self) -> None:
        why = self.why_not()
        self.run_button.setEnabled(not why and self._job == 0)
        self.caption.setText(why or tr(
            "clean = A, corrupted = B. Each cell patches one activation from the clean run "
            "into the corrupted one: 1 = the clean answer back, 0 = no change. Click a cell "
            "to see that patched run in every panel."))

    def _inputs_changed(self, *_) -> None:
        self._caption()

    def update_trace(self, trace: Trace) -> None:
        self._fill_receivers(self.state.trace_a)
        self._caption()

    def _overtaken(self, _trace) -> None:
        if self._job and self._ticket_input != self._inputs_now():
            self._stopped(tr("overtaken by a new input: the sweep stopped"))

    def _inputs_now(self) -> tuple:
        shown = self.state.shown
        return (id(self.state.trace_a), id(self.state.trace_b),
                None if shown is None else shown.preset)

    # -- a sweep -----------------------------------------------------------------------
    def run(self) -> None:
        pair = self.pair()
        if pair is None:
            self._caption()
            return
        kind = self.sweep_box.currentData()
        receiver, part = self.receiver_box.currentData(), self.part_box.currentData()
        if kind == "path" and receiver is None:
            self.status.setText(tr("This model has no head after another one: nothing to "
                                   "patch a path into."))
            return
        if self._stop is not None:
            self._stop.set()
        clean, corrupt = pair
        texts = (self.target_a.text().strip(), self.target_b.text().strip())
        shown = self.state.shown
        preset, untrained = shown.preset, shown.untrained
        interventions = dict(shown.interventions or {})
        job = self._job = next(self._jobs)
        stop = self._stop = threading.Event()
        relay = self.relay
        self._ticket_input = self._inputs_now()

        def work(session, check) -> dict:
            def told(done: int, total: int) -> None:
                check()  # (the window's runs go through here)
                if stop.is_set():
                    raise Stopped
                relay.moved.emit(job, done, total)

            try:
                told(0, 0)
                targets = None
                if any(texts):
                    defaults = patching.default_targets(session, clean, corrupt)
                    targets = tuple(patching.target_id(session, t) if t else d
                                    for t, d in zip(texts, defaults))
                if kind == "path":
                    result = patching.path_sweep(session, clean, corrupt, tuple(receiver),
                                                 part, targets=targets, progress=told)
                else:
                    result = patching.sweep(session, clean, corrupt, kind, targets=targets,
                                            progress=told)
                return {"job": job, "result": result, "clean": clean, "corrupt": corrupt,
                        "preset": preset, "untrained": untrained,
                        "interventions": interventions, "device": str(session.device)}
            except (Stopped, JobStopped):
                return {"job": job, "stopped": True}
            except (InputError, CheckpointError) as error:
                return {"job": job, "error": said(error)}

        self.status.clear()
        self.progress.setRange(0, 0)  # busy until the first forward says how many
        self.progress.setFormat(tr("starting…"))
        self.progress.show()
        self.cancel_button.setEnabled(True)
        self.run_button.setEnabled(False)
        self.request.ask(self.state.trace_a, (job,), work, self._done, ready=False,
                         elsewhere=self.state.run_on_model)

    def cancel(self) -> None:
        if self._job:
            self._stopped(tr("cancelled"))

    def _stopped(self, why: str) -> None:
        if self._stop is not None:
            self._stop.set()
        self._job = 0
        self.marked = why
        self._end()
        if self.result is not None:
            self._show(self.result)
        else:
            self.status.setText(why)

    def _end(self) -> None:
        self.progress.hide()
        self.cancel_button.setEnabled(False)
        self._caption()

    def _moved(self, job: int, done: int, total: int) -> None:
        if job != self._job:
            return
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        self.progress.setFormat(tr("patched runs: {done} of {total}").format(
            done=done, total=total))

    def _done(self, outcome: Any) -> None:
        if not isinstance(outcome, dict):  # the worker stopped it: the window moved on
            if self._job:
                self._stopped(tr("overtaken by a new input: the sweep stopped"))
            return
        if outcome["job"] != self._job:
            return  # cancelled or overtaken: told already
        self._job = 0
        self._end()
        if outcome.get("stopped"):
            return
        if "result" in outcome and not self.current(outcome):
            self._stopped(tr("overtaken by a new input: the sweep stopped"))
            return
        if "error" in outcome:
            self.status.setText(translate_message(outcome["error"]))
            return
        self.marked = ""
        self.results.insert(0, outcome)
        del self.results[HISTORY:]
        self._fill_history()
        self.history.setCurrentIndex(0)
        self._show(outcome)

    # -- the result ----------------------------------------------------------------------
    def _label(self, outcome: dict) -> str:
        result = outcome["result"]
        sweep = result.sweep
        if sweep == "path":
            cell = result.cells[0]
            sweep += f" → {cell['receiver']} · {cell['receiver_head']} {cell['part']}"
        off = len(outcome.get("interventions", {}).get("heads_off", []))
        heads = " · " + tr("{n} heads off").format(n=off) if off else ""
        return f"{sweep} · {result.target_names[0]} − {result.target_names[1]}{heads}"

    def _fill_history(self) -> None:
        self.history.blockSignals(True)
        current = self.history.currentIndex()
        self.history.clear()
        for i, outcome in enumerate(self.results):
            self.history.addItem(f"{i + 1}. {self._label(outcome)}")
        self.history.setCurrentIndex(min(max(current, 0), self.history.count() - 1))
        self.history.blockSignals(False)

    def _history_chosen(self, index: int) -> None:
        if 0 <= index < len(self.results):
            self.marked = ""
            self._show(self.results[index])

    def _show(self, outcome: dict) -> None:
        self.result = outcome
        result = outcome["result"]
        title = tr("{sweep}: logit({a}) − logit({b}), clean {clean:.3g}, corrupted "
                   "{corrupt:.3g}").format(sweep=tr(SWEEP_WORDS[result.sweep]),
                                           a=result.target_names[0],
                                           b=result.target_names[1], clean=result.clean,
                                           corrupt=result.corrupt)
        if result.sweep == "path":
            cell = result.cells[0]
            title += " · " + tr("into {site} head {head}'s {part}").format(
                site=cell["receiver"], head=cell["receiver_head"], part=cell["part"])
        rows, columns = AXES[result.sweep]
        title += f" · {tr(rows)}, {tr(columns)}"
        off = outcome.get("interventions", {}).get("heads_off", [])
        if off:
            title += " · " + tr("with {n} heads off, as the window's run").format(n=len(off))
        if self.marked:
            title = f"[{self.marked}] {title}"
        self.status.setText(self.marked)
        finite = result.scores[result.scores == result.scores]
        peak = max(1.0, float(abs(finite).max()) if finite.size else 1.0)
        self.heatmap.set_matrix(result.scores, list(result.rows), list(result.columns),
                                title, signed=True, levels=(-peak, peak))

    def _hovered(self, row: int, col: int) -> None:
        pass  # the heatmap's read-out says the score under the pointer

    def cell(self, row: int, col: int) -> dict | None:
        if self.result is None:
            return None
        result = self.result["result"]
        rows, cols = result.scores.shape
        if not (0 <= row < rows and 0 <= col < cols):
            return None
        return result.cells[row * cols + col]

    def _clicked(self, row: int, col: int) -> None:
        cell = self.cell(row, col)
        if cell is None or cell.get("score") != cell.get("score"):  # NaN: nothing patched
            return
        self.select_cell(cell)  # (a path's cell: its sender head)
        self.show_patched(cell)

    def select_cell(self, cell: dict) -> None:
        """The cell's site and head (and position, as the selected query) everywhere."""
        trace = self.state.trace_a
        if trace is None:
            return
        changes: dict[str, Any] = {}
        site = cell.get("site")
        if site in trace.meta.get("sites", {}):
            changes["site"] = site
            if cell.get("head") is not None:
                changes["head"] = int(cell["head"])
        if changes:
            self.state.set_selection(**changes, query=None, key=None, locked=False)
        if cell.get("position") is not None:
            self.state.lock(int(cell["position"]), None)

    def show_patched(self, cell: dict) -> None:
        """That one patched run (computed on the model's worker thread) on every panel."""
        outcome = self.result
        if outcome is None:
            return
        if not self.current(outcome):
            # a result kept from another model or other inputs: its cells do not fit the
            # model on screen, so its patched run cannot be made here
            self.status.setText(tr("this result is of other inputs or another model: sweep "
                                   "again to see its patched runs"))
            return
        clean, corrupt = outcome["clean"], outcome["corrupt"]
        plain = {k: v for k, v in cell.items() if k != "score"}

        def work(session, check) -> Any:
            try:
                return patching.patched_run(session, clean, corrupt, plain)
            except (InputError, CheckpointError) as error:
                return said(error)

        def draw(found: Any) -> None:
            if not self.current(outcome):
                return  # the inputs on screen changed meanwhile: not their patched run
            if isinstance(found, Trace):
                self.state.show_patched(found, cell)
            elif not isinstance(found, JobStopped):
                self.status.setText(translate_message(found))

        self.shown_request.ask(self.state.trace_a, ("patched", id(cell)), work, draw,
                               ready=False, elsewhere=self.state.run_on_model)

    def current(self, outcome: dict) -> bool:
        """The result is of the run on screen: its preset, its interventions and both of its
        inputs (by identity: a trace's id may be reused once it is freed, an input held here
        is not)."""
        shown = self.state.shown
        return shown is not None and shown.preset == outcome["preset"] and \
            shown.input is outcome["clean"] and shown.input_b is outcome["corrupt"] and \
            dict(shown.interventions or {}) == outcome.get("interventions", {})

    def update_selection(self, selection: Selection) -> None:
        pass


# what a path patch replaces in its receiver head
PART_WORDS = {"q": "queries", "k": "keys", "v": "values"}


def describe(cell: dict) -> str:
    """A patched run in words, for the banner over the panels."""
    if cell.get("receiver") is not None:  # a path: one sender head into one receiver's part
        text = tr("path-patched run: input B, with A's {site} head {head} → {receiver} head "
                  "{receiver_head}'s {part} (no other head reads it)").format(
            site=cell.get("site"), head=cell.get("head"), receiver=cell["receiver"],
            receiver_head=cell.get("receiver_head"),
            part=tr(PART_WORDS.get(cell.get("part"), str(cell.get("part")))))
        return _scored(text, cell)
    parts = []
    if cell.get("site"):
        parts.append(str(cell["site"]))
    elif cell.get("point"):
        parts.append(str(cell["point"]))
    if cell.get("head") is not None:
        parts.append(tr("head {head}").format(head=cell["head"]))
    if cell.get("position") is not None:
        parts.append(tr("position {position}").format(position=cell["position"]))
    text = tr("patched run: input B, with {where} taken from A's run").format(
        where=", ".join(parts))
    return _scored(text, cell)


def _scored(text: str, cell: dict) -> str:
    score = cell.get("score")
    if isinstance(score, float) and score == score:
        text += " · " + tr("score {score:.2f} (1 = A's answer back)").format(score=score)
    return text

