"""Saved demos: what is on screen, as a versioned JSON file.

    {"app": "transformer-explorer", "version": 1, "preset": "translate", "device": "cpu",
     "input": {"text": "the cat sleeps"}   or   {"image_png": "<base64>", "name": "7.png"},
     "selection": {"site": …, "head": 0, "window": 0, "query": 3, "key": null,
                   "locked": true},
     "panel": "pipeline", "interventions": {…}, "zoom": 1.0,
     "tour": {"lang": "en", "step": 4} or null,
     "model": {"source": "/path/to/folder", "arch": null}}   (an opened model only)

A decoding step is the selection's query at a decoder site. Everything is checked before
anything changes: a file that is not JSON, of a newer version, naming an unknown preset, site
or panel, or holding an image that does not decode is a SessionError with one clear message,
and the app stays as it was.
"""
from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, UnidentifiedImageError

from models.checkpoints import CheckpointError
from models.presets import PRESETS, open_model, site_names
from models.tasks.text import InputError

VERSION = 1
MAX_BYTES = 20_000_000  # a session with an embedded image is far smaller


class SessionError(InputError):
    """A session file that cannot be opened; the message is meant for the user."""


def image_png(value: Any) -> tuple[str, str]:
    """(base64 PNG, name) of an image input: a file path or an array."""
    if isinstance(value, np.ndarray):
        array = value
        if array.dtype != np.uint8:
            span = float(array.max() - array.min()) or 1.0
            array = ((array - array.min()) / span * 255).astype(np.uint8)
        image, name = Image.fromarray(array), "drawing"
    else:
        image, name = Image.open(value), Path(value).name
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii"), name


def capture(explorer) -> dict:
    state = explorer.state
    if PRESETS[state.preset].input_kind == "text":
        user_input: dict = {"text": state.input}
    else:
        png, name = image_png(state.input)
        user_input = {"image_png": png, "name": name}
    sel = state.selection
    tour = explorer.window.tour_player
    return {"app": "transformer-explorer", "version": VERSION, "preset": state.preset,
            "device": state.device.split(":")[0], "input": user_input,
            "selection": {"site": sel.site, "head": sel.head, "window": sel.window,
                          "query": sel.query, "key": sel.key, "locked": sel.locked},
            "panel": explorer.window.current_panel(),
            "interventions": state.interventions, "zoom": explorer.zoom,
            "tour": {"lang": tour.lang, "step": tour.index} if tour is not None else None,
            **({"model": {"source": PRESETS[state.preset].source,
                          "arch": PRESETS[state.preset].source_arch}}
               if PRESETS[state.preset].source else {})}


def save(explorer, path: str | Path) -> Path:
    path = Path(path)
    path.write_text(json.dumps(capture(explorer), indent=1, ensure_ascii=False))
    return path


def read(path: str | Path, panels: list[str], opener=open_model) -> dict:
    """A session file, parsed and checked; SessionError says what is wrong with it.
    `opener(folder, arch) -> Preset` opens a model folder the session names (the window's
    reads it off the UI thread)."""
    path = Path(path)
    try:
        if path.stat().st_size > MAX_BYTES:
            raise SessionError(f"{path.name} is too large for a session file")
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SessionError(f"no session file at {path}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise SessionError(f"{path.name} is not a session file (not JSON: {error})") from None
    if not isinstance(data, dict) or data.get("app") != "transformer-explorer":
        raise SessionError(f"{path.name} is not a Transformer Explorer session")
    version = data.get("version")
    if not isinstance(version, int) or version < 1:
        raise SessionError(f"{path.name} has no valid version number")
    if version > VERSION:
        raise SessionError(f"{path.name} was saved by a newer Transformer Explorer (session "
                           f"version {version}; this one reads up to {VERSION})")
    preset = data.get("preset")
    model = data.get("model")
    if preset not in PRESETS and isinstance(model, dict) and isinstance(model.get("source"), str):
        try:  # an opened model: opened again from where it was (it joins PRESETS)
            preset = data["preset"] = opener(model["source"], model.get("arch")).name
        except (CheckpointError, InputError, OSError) as error:
            raise SessionError(f"{path.name}: its model {model['source']} cannot be opened "
                               f"({error})") from None
    if preset not in PRESETS:
        raise SessionError(f"{path.name} names an unknown preset '{preset}' "
                           f"(known: {', '.join(PRESETS)})")
    user_input = data.get("input")
    text_model = PRESETS[preset].input_kind == "text"
    if text_model:
        if not isinstance(user_input, dict) or not isinstance(user_input.get("text"), str):
            raise SessionError(f"{path.name}: the {preset} preset needs a text input")
        data["value"] = user_input["text"]
    else:
        if not isinstance(user_input, dict) or not isinstance(user_input.get("image_png"), str):
            raise SessionError(f"{path.name}: the {preset} preset needs an embedded image")
        try:
            raw = base64.b64decode(user_input["image_png"], validate=True)
            with Image.open(io.BytesIO(raw)) as image:
                image.load()
                # grey stays grey, colour stays colour (an opened photo model sees colour;
                # the digit presets make their own grey)
                if image.mode not in ("L", "I;16", "I"):
                    image = image.convert("L" if image.mode in ("1", "LA") else "RGB")
                array = np.asarray(image)
        except (ValueError, OSError, UnidentifiedImageError, Image.DecompressionBombError) \
                as error:
            raise SessionError(f"{path.name}: its image does not decode ({error})") from None
        data["value"] = np.ascontiguousarray(array)
    selection = data.get("selection") or {}
    if not isinstance(selection, dict):
        raise SessionError(f"{path.name}: 'selection' must be an object")
    site = selection.get("site")
    if site and site not in site_names(preset):
        raise SessionError(f"{path.name} names an attention site '{site}' that {preset} "
                           "does not have")
    for key in ("head", "window", "query", "key"):
        value = selection.get(key)
        if value is not None and (type(value) is not int or value < 0):
            raise SessionError(f"{path.name}: selection '{key}' must be a whole number ≥ 0")
    panel = data.get("panel")
    if panel is not None and panel not in panels:
        raise SessionError(f"{path.name} names an unknown panel '{panel}'")
    zoom = data.get("zoom", 1.0)
    if type(zoom) not in (int, float) or not 0.5 <= zoom <= 3.0:
        raise SessionError(f"{path.name}: zoom must be a number from 0.5 to 3")
    interventions = data.get("interventions") or {}
    if not isinstance(interventions, dict) or not set(interventions) <= {
            "heads_off", "no_mask", "no_bias", "no_position", "bottleneck"}:
        raise SessionError(f"{path.name}: unknown interventions")
    tour = data.get("tour")
    if tour is not None and (not isinstance(tour, dict) or type(tour.get("step")) is not int):
        raise SessionError(f"{path.name}: 'tour' must name a step")
    return data


def apply(explorer, data: dict) -> None:
    """Put a checked session (from `read`) on screen, through the scripting API."""
    explorer.set_zoom(data.get("zoom", 1.0))
    explorer.set_device(data.get("device", "cpu"))
    explorer.set_preset(data["preset"], data["value"])
    explorer.wait()
    if data.get("interventions"):
        explorer.set_interventions(**data["interventions"])
        explorer.wait()
    selection = data.get("selection") or {}
    trace = explorer.trace
    if selection.get("site") in trace.meta["sites"]:
        explorer.select(site=selection["site"])
    info = explorer.state.site_info()
    head, window = selection.get("head"), selection.get("window")
    explorer.select(head=head if head is not None and head < info["heads"] else None,
                    window=window if window is not None and
                    window < info.get("num_windows", 1) else None)
    query, key = selection.get("query"), selection.get("key")
    if query is not None or key is not None:
        try:
            explorer.select(query=query, key=key, locked=bool(selection.get("locked", True)))
        except ValueError:
            pass  # the input changed the sequence length: nothing to point at
    if data.get("panel"):
        explorer.show(data["panel"])
    tour = data.get("tour")
    if tour:
        explorer.tour(tour.get("lang", "en")).go(tour["step"], apply_state=False)
