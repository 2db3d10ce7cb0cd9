"""Pictures of the app: a panel or the window as PNG (1×, 2×, 3×) or SVG (vector, with its
labels as text), from the GUI (File ▸ Export panel…), the API and the command line
(`shot`, `export`)."""
from __future__ import annotations

import os
from pathlib import Path

from models.errors import InputError

from .api import Explorer
from .main_window import PANEL_CLASSES
from .render import EXPORT_FILTERS, render  # noqa: F401  (the one place for pictures)
from .state import RunFailed

PANEL_NAMES = [cls.name for cls in PANEL_CLASSES]


def wait_for_run(explorer: Explorer, timeout_s: float = 120.0) -> None:
    """Until the newest request is answered and painted; InputError (the command line's
    error) if it failed or took longer than `timeout_s`."""
    try:
        explorer.wait(timeout_s)
    except (RunFailed, TimeoutError) as error:
        raise InputError(str(error)) from None


def select(explorer: Explorer, site: str | None = None, layer: int | None = None,
           head: int | None = None, query: int | None = None, window_index: int | None = None,
           kind: str | None = None, key: int | None = None) -> None:
    """Apply a selection the way a user would: kind and layer (to a site), then the
    scripting API's `select` (which checks every range), query and key locked."""
    state = explorer.state
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
        explorer.select(site=site, head=head, window=window_index, query=query, key=key)
    except ValueError as error:
        raise InputError(str(error)) from None


def shot(output: str, preset: str, user_input: str | None = None, panel: str | None = None,
         device: str = "cpu", size: tuple[int, int] = (1400, 860),
         interventions: dict | None = None, untrained: bool = False, ready=None,
         **selection) -> Path:
    """Open the window offscreen, run, select, wait for paint, save a PNG."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    if panel is not None and panel not in PANEL_NAMES:
        raise InputError(f"unknown panel '{panel}' (choose from: {', '.join(PANEL_NAMES)})")
    explorer = Explorer.open(preset, device, size=size, wait=False, untrained=untrained,
                             initial_input=user_input, ready=ready)
    try:
        wait_for_run(explorer)
        if interventions:
            explorer.set_interventions(**interventions)
            wait_for_run(explorer)
        if panel is not None:
            explorer.show(panel)
        select(explorer, **selection)
        image = explorer.grab(panel)
        if not image.save(str(output)):
            raise InputError(f"could not write {output}")
    finally:
        explorer.close()
    return Path(output)
