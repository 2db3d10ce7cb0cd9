"""Explorer: the one way to drive the app from outside its panels.

Tour steps, session files, the `shot`, `export` and `soak` commands, the project's tests and
a user's own scripts all go through these methods, which call AppState and MainWindow
methods; nothing here reaches into a panel's widgets.

    e = Explorer.open("vit-digits")        # or make_explorer("vit-digits") in pytest
    e.set_input("seven.png"); e.wait()
    assert e.prediction.label == "7"
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from models.errors import CheckpointError
from models.presets import DEFAULT_PRESET, find, get_preset, preset_names
from models.trace import Trace

from . import session as sessions
from .main_window import MainWindow
from .qapp import application
from .render import render
from .state import AppState, RunFailed, Selection, matrix_shape
from .tour import system_language
from .zoom import ZOOM


@dataclass(frozen=True)
class Prediction:
    label: str  # the translation, or the class ("7")
    confidence: float | None = None  # images: probability of `label`
    probs: list[float] = field(default_factory=list)  # images: every class
    labels: list[str] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)  # text: the output tokens, step by step


class Explorer:
    def __init__(self, window) -> None:
        self.window = window
        self.state = window.state
        self.app = QtWidgets.QApplication.instance()
        window.explorer = self  # the window's tour steps and sessions go through it

    @classmethod
    def create(cls, preset: str | None = None, device: str | None = None,
               settings: QtCore.QSettings | None = None, initial_input=None,
               untrained: bool = False, generate: int = 0, ready=None) -> Explorer:
        """The window on a preset (last used, else the default), built with its Explorer,
        its first run started (not waited for) and not shown; `untrained`: the presets with
        random weights instead of their trained ones; `generate`: a causal language model's
        continuation (tokens); `ready`: the opened model's Session already built
        (`models.opening.open_model_ready`), so its files are read once."""
        application()
        if preset is None and settings is not None:
            preset = settings.value("preset", None)
        if find(preset) is None:
            preset = DEFAULT_PRESET
        if device is None and settings is not None:
            device = settings.value("device", "cpu")
        state = AppState(preset, "cpu", untrained=untrained)
        state.generate = generate  # --generate K: a causal language model's continuation
        state.offer_ready(preset, ready)
        window = MainWindow(state, settings)
        explorer = cls(window)
        # the interface speaks the tour's language (chosen before, else the system's)
        window.set_language(str(settings.value("tourLanguage", system_language()))
                            if settings is not None else system_language())
        window.restore_settings()
        if get_preset(preset).source:  # an opened model (--weights FOLDER): in the box at once
            window.add_opened(preset)
        window.select_device(device or "cpu")
        window.select_preset(preset, initial_input)
        return explorer

    @classmethod
    def open(cls, preset: str | None = None, device: str = "cpu", show: bool = True,
             size: tuple[int, int] = (1280, 800), settings: QtCore.QSettings | None = None,
             wait: bool = True, untrained: bool = False, initial_input=None,
             ready=None) -> Explorer:
        """A new window on `preset` (the default one when None), its first run waited for;
        `untrained`: the presets with random weights (what training changes);
        `initial_input`: its first input instead of the preset's sample; `ready`: an opened
        model's Session already built (`models.opening.open_model_ready`)."""
        explorer = cls.create(preset, device, settings, initial_input, untrained=untrained,
                              ready=ready)
        explorer.window.resize(*size)
        if show:
            explorer.window.show()
        if wait:
            explorer.wait()
        return explorer

    def close(self) -> None:
        self.window.close()
        self.window.deleteLater()
        self.app.processEvents()

    # -- what is on screen ---------------------------------------------------------
    @property
    def preset(self) -> str:
        return self.state.preset

    @property
    def trace(self) -> Trace | None:
        return self.state.trace

    @property
    def selection(self) -> Selection:
        return self.state.selection

    @property
    def input(self) -> Any:
        return self.state.input

    @property
    def error(self) -> str:
        """Why the newest run failed ('' when it did not)."""
        return self.state.error

    @property
    def prediction(self) -> Prediction | None:
        trace = self.state.trace
        if trace is None:
            return None
        meta = trace.meta
        if "probs" in meta:
            return Prediction(meta["prediction"], meta.get("confidence"), list(meta["probs"]),
                              list(meta.get("labels", [])))
        return Prediction(meta["prediction"], tokens=list(meta.get("output_tokens", [])))

    # -- driving -----------------------------------------------------------------
    def open_model(self, path: str | Path, arch: str | None = None) -> str:
        """Open a Hugging Face or timm model folder (or a timm file with `arch`) as the
        window's model, waited for; its preset name. RunFailed says why it cannot."""
        name, error = self._read_model(path, arch, switch=True)
        if not name:
            raise RunFailed(self.window.message_label.text() or error)
        self.wait()
        return name

    def _read_model(self, path: str | Path, arch: str | None, switch: bool) -> tuple[str, str]:
        """(preset name or "", error or ""): the files read on the window's model-reader
        thread while events are processed, so the window stays live."""
        outcome: list[tuple[str, str]] = []

        def opened(ticket: int, name: str, error: str) -> None:
            if ticket == request:
                outcome.append((name, error))

        self.window.model_opened.connect(opened)
        try:
            request = self.window.open_model(str(path), arch, switch)
            self.state.settle(120.0, lambda: not outcome)
        finally:
            self.window.model_opened.disconnect(opened)
        return outcome[0]

    def _session_model(self, path: str, arch: str | None):
        """For a session naming a model folder: open it (off the UI thread), do not switch."""
        name, error = self._read_model(path, arch, switch=False)
        if not name:
            reason = self.window.opener.last_error  # the same, with its template
            raise CheckpointError(error) if reason != error else CheckpointError(
                getattr(reason, "template", None) or error, **getattr(reason, "params", {}))
        return get_preset(name)

    def open_corpus(self, path: str | Path) -> None:
        """Open a corpus result folder (`python main.py corpus`) in the Corpus tab, its first
        head drawn; RunFailed (one line) for a folder that is not one or cannot be read,
        and the result on screen stays."""
        why = self.window.open_corpus(str(path))
        if why:
            raise RunFailed(why)
        self.wait()

    def set_preset(self, name: str, value: Any = None) -> None:
        if find(name) is None:
            raise ValueError(f"unknown preset '{name}' (choose from: {', '.join(preset_names())})")
        self.window.select_preset(name, value)

    def set_device(self, name: str) -> None:
        self.window.select_device(name)

    def set_dtype(self, name: str) -> None:
        """What an opened folder's bf16/fp16 weights compute in, as the Device menu chooses:
        "float32", or "bfloat16"/"float16" for weights stored in it (--dtype's rule)."""
        self.state.set_dtype(name)

    def set_input(self, value: str | Path | np.ndarray) -> None:
        """Text, an image path (str or Path) or an image array, for the current preset."""
        if isinstance(value, Path):
            value = str(value)
        if get_preset(self.state.preset).input_kind == "image" and isinstance(value, str):
            value = str(Path(value).expanduser())
        self.state.set_input(value)  # the input widgets follow through input_changed

    def set_compare(self, on: bool = True, value_b: Any = None) -> None:
        """Compare mode: a second input B (default: A with one word changed) run beside A."""
        self.state.set_compare(on, value_b)

    def set_input_b(self, value: str | Path | np.ndarray) -> None:
        """Input B of compare mode (which turns on)."""
        self.state.set_input_b(str(value) if isinstance(value, Path) else value)

    def set_view(self, view: str) -> None:
        """What the panels show in compare mode: "A", "B" or "A-B"."""
        self.state.set_view(view)
        self.paint()

    def patch_sweep(self, kind: str, targets: tuple[str, str] = ("", "")):
        """A sweep of the Patching tab (clean = A, corrupted = B; compare mode on, the same
        token count): its PatchResult, on screen; RunFailed says why there is none."""
        panel = self.window.panels["patching"]
        panel.target_a.setText(targets[0])
        panel.target_b.setText(targets[1])
        panel.sweep_box.setCurrentIndex(panel.sweep_box.findData(kind))
        if panel.sweep_box.currentData() != kind:
            raise ValueError(f"unknown sweep '{kind}'")
        before = panel.result
        panel.run()
        self.wait()
        if panel.result is before or panel.result is None:
            raise RunFailed(panel.status.text() or panel.caption.text())
        return panel.result["result"]

    def show_patched(self, **cell: Any) -> Trace:
        """One patched run of the Patching tab's result on every panel: the cell that
        names `site` (or the stream's `point`), `head` and `position` as the sweep did."""
        panel = self.window.panels["patching"]
        if panel.result is None:
            raise RunFailed("no sweep on screen: patch_sweep() first")
        for found in panel.result["result"].cells:
            if all(found.get(k) == v for k, v in cell.items()):
                panel.select_cell(found)
                panel.show_patched(found)
                self.wait()
                if self.state.patched is None:
                    raise RunFailed(panel.status.text() or "the patched run failed")
                return self.state.patched["trace"]
        raise ValueError(f"no cell {cell} in the {panel.result['result'].sweep} sweep")

    def set_interventions(self, **interventions: Any) -> None:
        """heads_off=[[site, head], …], no_mask=, no_bias=, no_position=, bottleneck=
        (see Session.set_interventions)."""
        self.state.set_interventions(interventions)

    def select(self, site: str | None = None, head: int | None = None,
               window: int | None = None, query: int | None = None, key: int | None = None,
               locked: bool | None = None) -> Selection:
        """Point at something; out-of-range values are a ValueError that says the range."""
        trace = self.state.trace
        if trace is None:
            raise RuntimeError("nothing is shown yet: wait() first")
        if site is not None:
            if site not in trace.meta["sites"]:
                raise ValueError(f"no attention site '{site}' (sites: "
                                 f"{', '.join(trace.sites())})")
            self.state.set_selection(site=site, query=None, key=None, locked=False)
        info = self.state.site_info()
        for name, value, top in (("head", head, info["heads"]),
                                 ("window", window, info.get("num_windows", 1))):
            if value is not None and not 0 <= value < top:
                raise ValueError(f"{name} {value} is out of range: this site has {top}")
        rows, cols = matrix_shape(trace, self.state.selection.site)
        for name, value, top in (("query", query, rows), ("key", key, cols)):
            if value is not None and not 0 <= value < top:
                raise ValueError(f"{name} {value} is out of range: 0 to {top - 1}")
        changes = {k: v for k, v in (("head", head), ("window", window)) if v is not None}
        if changes:
            self.state.set_selection(**changes)
        if query is not None or key is not None:
            if locked is False:
                self.state.unlock()
                self.state.hover(query=query, key=key)
            else:
                self.state.lock(query, key)
        elif locked is False:
            self.state.unlock()
        elif locked:
            self.state.set_selection(locked=True)
        return self.state.selection

    def show(self, panel: str) -> None:
        if panel not in self.window.panels:
            raise ValueError(f"unknown panel '{panel}' (panels: "
                             f"{', '.join(self.window.panels)})")
        self.window.show_panel(panel)
        self.paint()

    @property
    def zoom(self) -> float:
        return ZOOM.factor

    def set_zoom(self, factor: float) -> None:
        """Every text in every panel, 0.5 to 3 (1 = 100%)."""
        self.window.set_zoom(factor)
        self.paint()

    def export(self, panel: str | None, path: str | Path, scale: float = 1) -> Path:
        """A panel (None: the whole window) as PNG (`scale` 1–4) or SVG, by the suffix."""
        if panel is not None:
            self.show(panel)
        widget = self.window if panel is None else self.window.panels[panel]
        self.paint()
        return render(widget, path, scale)

    def grab(self, panel: str | None = None) -> QtGui.QPixmap:
        """A panel (None: the whole window) as it is on screen, its controls included."""
        widget = self.window if panel is None else self.window.panels[panel]
        self.paint()
        widget.grab()  # axes size themselves to their labels while painting: paint twice
        self.paint()
        return widget.grab()

    def save_trace(self, path: str | Path, timeout: float = 60.0) -> Path:
        """Write the trace on screen to an .npz (on the window's writer thread, waited for
        here); RunFailed says why it could not be written."""
        thread = self.window.save_trace(str(path))
        if thread is None:
            raise RunFailed("nothing to save yet")
        deadline = time.monotonic() + timeout
        while thread.is_alive() and time.monotonic() < deadline:
            self.app.processEvents(QtCore.QEventLoop.AllEvents, 50)
            thread.join(0.01)
        self.app.processEvents()
        if not Path(path).is_file():
            raise RunFailed(self.window.message_label.text() or f"{path} was not written")
        return Path(path)

    def save_session(self, path: str | Path) -> Path:
        return sessions.save(self, path)

    def open_session(self, path: str | Path) -> None:
        """Check the file, then put it on screen; SessionError (nothing changed) if bad."""
        data = sessions.read(path, list(self.window.panels), opener=self._session_model)
        sessions.apply(self, data)

    def tour(self, lang: str | None = None):
        """The guided tour in `lang` (default: the system's), shown in its card; returns
        the player: `steps`, `go(i)`, `next()`, `previous()`."""
        return self.window.start_tour(lang)

    def wait(self, timeout: float = 60.0) -> Explorer:
        """Until the newest request is answered and painted; RunFailed if it failed."""
        from .analyst import computing  # (a panel's matrices may be on the analyst thread)

        self.state.settle(timeout, lambda: self.window.text_input.timer.isActive() or
                          computing())
        self.paint()
        if self.state.error:
            raise RunFailed(self.state.error)
        return self

    def paint(self) -> None:
        """Let the event loop finish: pyqtgraph applies changes, then Qt paints them."""
        for _ in range(2):
            self.app.processEvents()
            self.app.sendPostedEvents()
