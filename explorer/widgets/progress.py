"""How far a long run is, and a Stop button: shown in the status bar once a run has taken
about a second, hidden when it ends. The stages come from the worker (AppState.progress):
the blocks of the input's forward pass, then the generated tokens."""
from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from ..i18n import LANGUAGE, bind, tr

SHOW_AFTER_MS = 1000  # a shorter run shows only "running…"

STAGES = {"forward": "forward pass: block {done} of {total}",
          "generate": "generating: token {done} of {total}"}


class RunProgress(QtWidgets.QWidget):
    def __init__(self, state, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        layout = QtWidgets.QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.bar = QtWidgets.QProgressBar()
        self.bar.setRange(0, 0)  # busy until the run says how far it is
        self.bar.setTextVisible(True)
        self.bar.setMinimumWidth(200)
        self.stop_button = QtWidgets.QPushButton()
        bind(self.stop_button, "setText", "Stop")
        bind(self.stop_button, "setToolTip", "stop this run after its current step: the "
             "result on screen stays")
        self.stop_button.clicked.connect(self.stop)
        layout.addWidget(self.bar)
        layout.addWidget(self.stop_button)
        self._stage: tuple[str, int, int] | None = None
        self._timer = QtCore.QTimer(self, singleShot=True, interval=SHOW_AFTER_MS)
        self._timer.timeout.connect(self._reveal)
        state.busy_changed.connect(self._busy)
        state.progress.connect(self._progress)
        LANGUAGE.changed.connect(self._say)
        self.hide()

    def _busy(self, busy: bool) -> None:
        if busy:
            if not self._timer.isActive() and not self.isVisible():
                self._timer.start()
        else:
            self._timer.stop()
            self._stage = None
            self.hide()

    def _reveal(self) -> None:
        if not self.state.settled():
            self.stop_button.setEnabled(True)
            self._say()
            self.show()

    def _progress(self, stage: str, done: int, total: int) -> None:
        self._stage = (stage, done, total)
        if self.isVisible():
            self._say()

    def _say(self, *_: object) -> None:
        if self._stage is None or self._stage[0] not in STAGES:
            self.bar.setRange(0, 0)
            self.bar.setFormat(tr("running…"))
            return
        stage, done, total = self._stage
        self.bar.setRange(0, max(total, 1))
        self.bar.setValue(done)
        words = tr(STAGES[stage])
        self.bar.setFormat(words.format(done=done, total=total))
        widest = words.format(done=total, total=total)  # room for the whole text
        self.bar.setMinimumWidth(max(200, self.bar.fontMetrics().horizontalAdvance(widest)
                                     + 24))

    def text(self) -> str:
        """What the bar says."""
        return self.bar.format()

    def stop(self) -> None:
        self.stop_button.setEnabled(False)  # once: the run stops at its next step
        self.state.stop()
