"""The File menu's models, sessions and traces: Open model folder / file, drag and drop,
open and save sessions, Recent models and Recent sessions, Save trace. A model's files
(hundreds of MB for a real checkpoint) are read and checked on a model-reader thread, and
a trace (~50 MB for Swin-Tiny) is written on a thread of its own, so the window stays live;
only the newest Open model switches the model."""
from __future__ import annotations

import threading
from pathlib import Path

from PySide6 import QtCore, QtGui, QtWidgets

from models.checkpoints.registry import read_model
from models.errors import CheckpointError, InputError
from models.opening import build_opened, register_opened
from models.presets import get_preset

from .i18n import said, say, tr
from .session import SessionError, save
from .state import RunFailed
from .tour import TourError

WEIGHTS_SUFFIXES = ("safetensors", "pth", "bin")
WEIGHTS_FILTER = "Weights (*.safetensors *.pth *.bin)"


class ModelOpener(QtCore.QObject):
    model_read = QtCore.Signal(int, str, object, object, object)  # from the model-reader thread
    model_opened = QtCore.Signal(int, str, str)  # ticket, preset name or "", error or ""
    trace_saved = QtCore.Signal(str, str)  # path, error ("" when written): from a thread

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window  # its status bar, banners, preset switch and menus
        self.state = window.state
        self.settings = window.settings
        self.model_read.connect(self._model_read)
        self.trace_saved.connect(self._trace_saved)
        self._open_ticket = 0  # the newest File > Open model: only it switches the model
        self._choices = 0  # models chosen (presets, folders): a folder read switches only
        # if nothing was chosen after it
        self.last_error = ""  # why the last folder could not be opened, with its template
        # (`model_opened` carries its words only)

    def chose(self) -> None:
        """A model was chosen some other way (a preset, a tour step): a folder still being
        read no longer switches to itself."""
        self._choices += 1

    # -- models ------------------------------------------------------------------------
    def open_model_dialog(self) -> None:
        path = QtWidgets.QFileDialog.getExistingDirectory(
            self.window, "Open a model folder (Hugging Face or timm: config.json + weights)")
        if path:
            self.open_model(path)

    def open_model_file_dialog(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(
            self.window, "Open a timm weights file (the variant in its name, e.g. "
            "vit_tiny_patch16_224.safetensors)", "", WEIGHTS_FILTER)
        if path:
            self.open_model(path)

    def open_model(self, path: str, arch: str | None = None, switch: bool = True) -> int:
        """Open a model folder (or timm file) and switch to it; it joins the preset box under
        "Opened". The files (hundreds of MB for a real checkpoint) are read and checked on a
        thread of their own, so the window stays live; `model_opened` tells the outcome
        (the reason is shown when it cannot be opened). Returns the request's ticket: only
        the newest request switches the model. `switch=False`: only register it (a session
        being opened switches to it with its own input)."""
        self._open_ticket += 1
        self._choices += 1
        ticket, choice = self._open_ticket, self._choices

        def read() -> None:
            try:  # read, then built: a folder that reads but cannot build is refused here
                opened = read_model(Path(path).resolve(), arch)
                opened, error = (opened, build_opened(path, arch, opened)), ""
            except (CheckpointError, InputError, OSError) as problem:
                opened, error = None, said(problem)  # translated where it is shown
            except Exception as problem:  # a reader bug must still be reported, not lost
                opened, error = None, f"{type(problem).__name__}: {problem}"
            try:
                self.model_read.emit(ticket, path, (arch, switch, choice), opened, error)
            except RuntimeError:  # the window was closed while the files were read
                pass

        self.window.statusBar().showMessage(tr("opening {path}…").format(path=path))
        threading.Thread(target=read, name="model-reader", daemon=True).start()
        return ticket

    def _model_read(self, ticket: int, path: str, request, opened, error: str) -> None:
        arch, switch, choice = request
        if ticket != self._open_ticket:  # the user opened another model since
            self.model_opened.emit(ticket, "", "another model was opened since")
            return
        self.window.statusBar().clearMessage()
        if error:
            self.last_error = error
            self.window.show_message(say("cannot open {path}: {reason}", path=path,
                                         reason=error))
            self.window.say_stale(say("Still showing {model} — cannot open {path}: {reason}",
                                      model=self.state.preset, path=path, reason=error))
            self.model_opened.emit(ticket, "", error)
            return
        read, session = opened
        preset = register_opened(path, arch, read)
        if not switch or choice == self._choices:  # (one chosen since is not run now: it is
            # built again from its folder when chosen, not kept built all the while)
            self.state.offer_ready(preset.name, session)  # its first run loads it, not the files
        if switch and choice == self._choices:
            self.window.select_preset(preset.name)  # its entry joins the box on preset_changed
        elif switch:  # a preset or a tour step was chosen while it was read: that one wins
            self.window.add_opened(preset.name)
            self.window.statusBar().showMessage(tr("opened {model}: in the preset box").format(
                model=preset.name), 10_000)
        if switch:  # a session's folder joins Recent models when the session opens
            self.remember("recentModels", preset.source)
        self.model_opened.emit(ticket, preset.name, "")

    # -- drag and drop -----------------------------------------------------------------
    def drag_enter(self, event: QtGui.QDragEnterEvent) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def drop(self, event: QtGui.QDropEvent) -> None:
        urls = [u for u in event.mimeData().urls() if u.isLocalFile()]
        if urls:
            path = urls[0].toLocalFile()
            info = QtCore.QFileInfo(path)
            if info.isDir() or info.suffix().lower() in WEIGHTS_SUFFIXES:  # a model
                self.open_model(path)
            else:
                self.window.load_image_file(path)
            event.acceptProposedAction()

    # -- sessions ----------------------------------------------------------------------
    def save_session_dialog(self) -> None:
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self.window, tr("Save session"),
                                                        "demo.json", tr("Sessions (*.json)"))
        if path:
            try:
                save(self.window.explorer, path)
            except (OSError, InputError) as error:
                self.window.show_message(say("could not save the session: {reason}",
                                             reason=said(error)))
                return
            self._remember_session(path)
            self.window.show_message(say("saved the session to {path}", path=path))

    def open_session_dialog(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self.window, tr("Open session"), "",
                                                        tr("Sessions (*.json);;All files (*)"))
        if path:
            self.open_session(path)

    def open_session(self, path: str) -> bool:
        """Open a session file; a bad one is reported and nothing changes."""
        try:
            self.window.explorer.open_session(path)
        except (SessionError, TourError, RunFailed, TimeoutError) as error:
            self.window.show_message(said(error))  # said again after a language switch
            return False
        self._remember_session(path)
        if get_preset(self.state.preset).source:
            self.remember("recentModels", get_preset(self.state.preset).source)
        return True

    # -- traces ------------------------------------------------------------------------
    def save_trace_dialog(self) -> None:
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self.window, tr("Save trace"), "trace.npz",
                                                        tr("Traces (*.npz)"))
        if path:
            self.save_trace(path)

    def save_trace(self, path: str) -> threading.Thread | None:
        """Write the trace on screen as .npz on a thread of its own: a Swin-Tiny trace is
        ~50 MB, and the window stays live while it is written. `trace_saved` says when."""
        trace = self.state.trace
        if trace is None:
            self.window.show_message(tr("nothing to save yet"))
            return None
        if not trace.residual:  # a live run without the residual stream: a file has it all
            self.state.request_run(residual=True)
            try:
                self.state.settle(120.0)
            except TimeoutError:
                pass  # what is on screen is saved
            trace = self.state.trace
        self.window.statusBar().showMessage(tr("saving the trace to {path}…").format(path=path))

        def write() -> None:
            try:
                trace.save_npz(path)
                self.trace_saved.emit(path, "")
            except OSError as error:
                self.trace_saved.emit(path, str(error))

        thread = threading.Thread(target=write, name="trace-writer", daemon=True)
        thread.start()
        return thread

    def _trace_saved(self, path: str, error: str) -> None:
        if error:
            self.window.show_message(f"cannot save the trace to {path}: {error}")
        else:
            size = QtCore.QFileInfo(path).size() / 1e6
            self.window.statusBar().showMessage(f"saved the trace to {path} ({size:.1f} MB)",
                                                10_000)

    # -- Recent models, Recent sessions ------------------------------------------------
    def _remember_session(self, path: str) -> None:
        self.remember("recentSessions", path)

    def recent(self, key: str) -> list[str]:
        recent = (self.settings.value(key) or []) if self.settings else []
        return recent if isinstance(recent, list) else [recent]  # one entry reads as a str

    def remember(self, key: str, path: str) -> None:
        if self.settings is not None:
            self.settings.setValue(key, [path, *[p for p in self.recent(key) if p != path]][:8])

    def fill_recent(self, sessions: QtWidgets.QMenu, models: QtWidgets.QMenu) -> None:
        for menu, key, opener in ((sessions, "recentSessions", self.open_session),
                                  (models, "recentModels", self.open_model)):
            menu.clear()
            for path in self.recent(key):
                menu.addAction(path, lambda p=path, o=opener: o(p))
            if menu.isEmpty():
                menu.addAction(tr("(none yet)")).setEnabled(False)
