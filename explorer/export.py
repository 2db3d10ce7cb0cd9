"""Pictures of the app: a panel or the window as PNG (1×, 2×, 3×) or SVG (vector, with its
labels as text), from the GUI (File ▸ Export panel…), the API and the command line
(`shot`, `export`)."""
from __future__ import annotations

import os
from pathlib import Path

from models.tasks.text import InputError

from .main_window import PANEL_CLASSES, MainWindow
from .render import EXPORT_FILTERS, render  # noqa: F401  (the one place for pictures)
from .state import AppState

PANEL_NAMES = [cls.name for cls in PANEL_CLASSES]


def paint_now(app, window) -> None:
    """Run the event loop until nothing is pending: pyqtgraph scenes process their changes
    from the event loop and post paint requests; the second pass paints them."""
    for _ in range(2):
        app.processEvents()
        app.sendPostedEvents()


def wait_for_run(state: AppState, timeout_s: float = 120.0) -> None:
    """Process events until the newest request is answered; InputError if it failed."""
    try:
        state.settle(timeout_s)
    except TimeoutError as error:
        raise InputError(str(error)) from None
    if state.error:
        raise InputError(state.error)


def select(window: MainWindow, site: str | None = None, layer: int | None = None,
           head: int | None = None, query: int | None = None, window_index: int | None = None,
           kind: str | None = None, key: int | None = None) -> None:
    """Apply a selection the way a user would: kind and layer (to a site), then the
    scripting API's `select` (which checks every range), query and key locked."""
    from .api import Explorer

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
    try:
        Explorer(window).select(site=site, head=head, window=window_index, query=query,
                                key=key)
    except ValueError as error:
        raise InputError(str(error)) from None


def shot(output: str, preset: str, user_input: str | None = None, panel: str | None = None,
         device: str = "cpu", size: tuple[int, int] = (1400, 860),
         interventions: dict | None = None, untrained: bool = False, ready=None,
         **selection) -> Path:
    """Open the window offscreen, run, select, wait for paint, save a PNG."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from .app import application, create_window

    if panel is not None and panel not in PANEL_NAMES:
        raise InputError(f"unknown panel '{panel}' (choose from: {', '.join(PANEL_NAMES)})")
    app = application()
    window = create_window(preset, device, settings=None, initial_input=user_input,
                           untrained=untrained, ready=ready)
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
