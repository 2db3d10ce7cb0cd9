"""Pictures of the app: a panel or the window as PNG (1×, 2×, 3×) or SVG (vector, with its
labels as text), from the GUI (File ▸ Export panel…), the API and the command line
(`shot`, `export`)."""
from __future__ import annotations

import os
from pathlib import Path

from PySide6 import QtCore

from models.tasks.text import InputError

from .main_window import PANEL_CLASSES, MainWindow
from .render import EXPORT_FILTERS, render  # noqa: F401  (the one place for pictures)
from .state import AppState, matrix_shape

PANEL_NAMES = [cls.name for cls in PANEL_CLASSES]


def paint_now(app, window) -> None:
    """Run the event loop until nothing is pending: pyqtgraph scenes process their changes
    from the event loop and post paint requests; the second pass paints them."""
    for _ in range(2):
        app.processEvents()
        app.sendPostedEvents()


def wait_for_run(state: AppState, timeout_s: float = 120.0) -> None:
    """Process events until the newest request has painted a trace; InputError if it failed."""
    loop = QtCore.QEventLoop()
    outcome: dict[str, str] = {}

    def done(*_):
        outcome.setdefault("ok", "")
        loop.quit()

    def failed(text: str):
        outcome.setdefault("error", text)
        loop.quit()

    state.trace_changed.connect(done)
    state.run_failed.connect(failed)
    QtCore.QTimer.singleShot(int(timeout_s * 1000), loop.quit)
    loop.exec()
    state.trace_changed.disconnect(done)
    state.run_failed.disconnect(failed)
    if "error" in outcome:
        raise InputError(outcome["error"])
    if "ok" not in outcome:
        raise InputError(f"no result within {timeout_s:.0f} s")


def select(window: MainWindow, site: str | None = None, layer: int | None = None,
           head: int | None = None, query: int | None = None, window_index: int | None = None,
           kind: str | None = None, key: int | None = None) -> None:
    """Apply a selection the way a user would: kind and layer, head, query (locked)."""
    state = window.state
    trace = state.trace
    if kind is not None or layer is not None:
        kind = kind or trace.meta["sites"][state.selection.site]["kind"]
        sites = trace.sites(kind)
        if not sites:
            raise InputError(f"no attention of kind '{kind}' in this preset")
        if layer is not None and not 0 <= layer < len(sites):
            raise InputError(f"layer {layer} is out of range: this model has {len(sites)}")
        site = sites[layer if layer is not None else 0]
    if site is not None:
        if site not in trace.meta["sites"]:
            raise InputError(f"no attention site '{site}'")
        state.set_selection(site=site)
    if head is not None:
        heads = state.site_info()["heads"]
        if not 0 <= head < heads:
            raise InputError(f"head {head} is out of range: this site has {heads}")
        state.set_selection(head=head)
    if window_index is not None:
        windows = state.site_info().get("num_windows", 1)
        if not 0 <= window_index < windows:
            raise InputError(f"window {window_index} is out of range: this site has {windows}")
        state.set_selection(window=window_index)
    if query is not None or key is not None:
        rows, cols = matrix_shape(trace, state.selection.site)
        if rows and not all(value is None or 0 <= value < top
                            for value, top in ((query, rows), (key, cols))):
            raise InputError(f"query {query} / key {key} is out of range: this site's "
                             f"matrices are {rows}×{cols}")
        state.lock(query, key)


def shot(output: str, preset: str, user_input: str | None = None, panel: str | None = None,
         device: str = "cpu", size: tuple[int, int] = (1400, 860),
         interventions: dict | None = None, **selection) -> Path:
    """Open the window offscreen, run, select, wait for paint, save a PNG."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from .app import application, create_window

    if panel is not None and panel not in PANEL_NAMES:
        raise InputError(f"unknown panel '{panel}' (choose from: {', '.join(PANEL_NAMES)})")
    app = application()
    window = create_window(preset, device, settings=None, initial_input=user_input)
    try:
        window.resize(*size)
        window.show()
        wait_for_run(window.state)
        if interventions:
            window.state.set_interventions(interventions)
            wait_for_run(window.state)
        if panel is not None:
            window.show_panel(panel)
        select(window, **selection)
        paint_now(app, window)
        widget = window if panel is None else window.panels[panel]
        widget.grab()  # axes size themselves to their labels while painting: paint twice
        paint_now(app, window)
        image = widget.grab()
        if not image.save(str(output)):
            raise InputError(f"could not write {output}")
    finally:
        window.close()
        window.deleteLater()
        app.processEvents()
    return Path(output)
