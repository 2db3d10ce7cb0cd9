"""Saved demos: what is on screen, as a versioned JSON file.

    {"app": "transformer-explorer", "version": 1, "preset": "translate", "device": "cpu",
     "input": {"text": "the cat sleeps"}   or   {"image_png": "<base64>", "name": "7.png"},
     "selection": {"site": …, "head": 0, "window": 0, "query": 3, "key": null,
                   "locked": true},
     "panel": "pipeline", "interventions": {…}, "zoom": 1.0,
     "generate": 0,   (tokens a causal language model adds greedily; absent: 0)
     "tour": {"lang": "en", "step": 4} or null,
     "model": {"source": "/path/to/folder", "arch": null}}   (an opened model only)

A decoding step is the selection's query at a decoder site. The whole file is checked before
anything changes (a model folder it names is opened last, once nothing else can refuse it):
a file that is not JSON, of a newer version, with a value of the wrong type, naming an unknown
preset, site, head, panel or tour language, or holding an image that does not decode or is
over 25 million pixels, or asking for a continuation longer than MAX_GENERATE tokens is a
SessionError with one clear message, and the app stays as it was;
so does one whose input the model refuses (it runs first, before anything else is applied).
"""
from __future__ import annotations

import base64
import io
import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, UnidentifiedImageError

from models.errors import CheckpointError, InputError
from models.opening import open_model
from models.presets import find, get_preset, preset_names
from models.runs.lm import MAX_GENERATE
from models.session import site_heads
from models.tasks.digits import MAX_PIXELS, open_image

from .state import RunFailed
from .tour import languages, load_tour

VERSION = 1
MAX_BYTES = 20_000_000  # a session with an embedded image is far smaller


class SessionError(InputError):
    """A session file that cannot be opened; the message is meant for the user."""


PNG_MODES = ("1", "L", "LA", "I", "I;16", "P", "RGB", "RGBA")  # what a PNG can hold
FLAGS = ("no_mask", "no_bias", "no_position", "bottleneck")
DEVICES = ("cpu", "cuda", "mps", "auto")


def image_png(value: Any) -> tuple[str, str]:
    """(base64 PNG, name) of an image input: a file path or an array. A file goes through
    the app's own reader (the 25-megapixel limit; InputError when refused)."""
    if isinstance(value, np.ndarray):
        array = value
        if array.dtype != np.uint8:
            span = float(array.max() - array.min()) or 1.0
            array = ((array - array.min()) / span * 255).astype(np.uint8)
        image, name = Image.fromarray(array), "drawing"
    else:
        image, name = open_image(value), Path(value).name
        if image.mode not in PNG_MODES:  # CMYK, YCbCr, …: colour, as the app reads them
            image = image.convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii"), name


def capture(explorer) -> dict:
    """What is on screen: the request whose result is shown (never a refused one typed
    after it), its selection, panel, tour step and zoom."""
    state = explorer.state
    shown = state.shown
    preset = shown.preset if shown is not None else state.preset
    value = shown.input if shown is not None else state.input
    interventions = (shown.interventions or {}) if shown is not None else state.interventions
    generate = shown.generate if shown is not None else state.generate
    if get_preset(preset).input_kind == "text":
        user_input: dict = {"text": value}
    else:
        png, name = image_png(value)
        user_input = {"image_png": png, "name": name}
    sel = state.selection
    tour = explorer.window.tour_player
    return {"app": "transformer-explorer", "version": VERSION, "preset": preset,
            "device": state.device.split(":")[0], "input": user_input,
            "selection": {"site": sel.site, "head": sel.head, "window": sel.window,
                          "query": sel.query, "key": sel.key, "locked": sel.locked},
            "panel": explorer.window.current_panel(),
            "interventions": interventions, "zoom": explorer.zoom, "generate": generate,
            "tour": {"lang": tour.lang, "step": tour.index} if tour is not None else None,
            **({"model": {"source": get_preset(preset).source,
                          "arch": get_preset(preset).source_arch}}
               if get_preset(preset).source else {})}


def save(explorer, path: str | Path) -> Path:
    path = Path(path)
    text = json.dumps(capture(explorer), indent=1, ensure_ascii=False)
    path.write_text(text)
    return path


def decode_image(encoded: str, name: str) -> np.ndarray:
    """An embedded PNG as an array, under the same 25-megapixel limit as files (from its
    header, before decoding); transparency kept, so the app composites it as it does a
    file's and the answer does not change on reopening."""
    try:
        raw = base64.b64decode(encoded, validate=True)
        with warnings.catch_warnings():  # the size is refused below, with a clear message
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(raw))  # the header only
        width, height = image.size
        if width * height > MAX_PIXELS:
            raise SessionError(f"{name}: its image is too large: {width}×{height} is over "
                               f"{MAX_PIXELS:,} pixels")
        with image:
            image.load()
            if image.mode in ("LA", "PA") or (image.mode == "P" and
                                               "transparency" in image.info):
                image = image.convert("RGBA")
            elif image.mode == "1":
                image = image.convert("L")
            elif image.mode not in ("L", "I;16", "I", "RGB", "RGBA"):
                image = image.convert("RGB")  # grey stays grey, colour stays colour
            array = np.asarray(image)
    except SessionError:
        raise
    except (ValueError, OSError, UnidentifiedImageError, Image.DecompressionBombError,
            SyntaxError) as error:
        raise SessionError(f"{name}: its image does not decode ({error})") from None
    return np.ascontiguousarray(array)


def whole(value, what: str, name: str, optional: bool = True) -> None:
    if (value is None and optional) or (type(value) is int and value >= 0):
        return
    raise SessionError(f"{name}: {what} must be a whole number ≥ 0, not "
                       f"{json.dumps(value)[:40]}")


def read(path: str | Path, panels: list[str], opener=open_model) -> dict:
    """A session file, parsed and checked as a whole; SessionError says what is wrong with
    it. `opener(folder, arch) -> Preset` opens a model folder the session names (the
    window's reads it off the UI thread); it is called last."""
    path = Path(path)
    name = path.name
    try:
        if path.stat().st_size > MAX_BYTES:
            raise SessionError(f"{name} is too large for a session file")
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SessionError(f"no session file at {path}") from None
    except RecursionError:
        raise SessionError(f"{name} is nested too deeply to be a session file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise SessionError(f"{name} is not a session file (not JSON: {error})") from None
    if not isinstance(data, dict) or data.get("app") != "transformer-explorer":
        raise SessionError(f"{name} is not a Transformer Explorer session")
    version = data.get("version")
    if not isinstance(version, int) or version < 1:
        raise SessionError(f"{name} has no valid version number")
    if version > VERSION:
        raise SessionError(f"{name} was saved by a newer Transformer Explorer (session "
                           f"version {version}; this one reads up to {VERSION})")
    # 1. everything that needs no model
    model = data.get("model")
    if model is not None and not (isinstance(model, dict) and isinstance(model.get("source"),
                                                                          str)
                                  and isinstance(model.get("arch"), (str, type(None)))):
        raise SessionError(f"{name}: 'model' must name a folder (source) and, for a timm "
                           f"file, its variant (arch)")
    if not isinstance(data.get("preset"), str):
        raise SessionError(f"{name}: 'preset' must be a preset's name")
    if data.get("device", "cpu") not in DEVICES:
        raise SessionError(f"{name}: 'device' must be one of {', '.join(DEVICES)}")
    user_input = data.get("input")
    if not isinstance(user_input, dict) or not (isinstance(user_input.get("text"), str) or
                                                isinstance(user_input.get("image_png"), str)):
        raise SessionError(f"{name}: 'input' must hold a text or an embedded image")
    image = decode_image(user_input["image_png"], name) \
        if isinstance(user_input.get("image_png"), str) else None
    selection = data.get("selection") or {}
    if not isinstance(selection, dict):
        raise SessionError(f"{name}: 'selection' must be an object")
    site = selection.get("site")
    if site is not None and not isinstance(site, str):
        raise SessionError(f"{name}: selection 'site' must be a site's name")
    for key in ("head", "window", "query", "key"):
        whole(selection.get(key), f"selection '{key}'", name)
    if type(selection.get("locked", False)) is not bool:
        raise SessionError(f"{name}: selection 'locked' must be true or false")
    panel = data.get("panel")
    if panel is not None and panel not in panels:
        raise SessionError(f"{name} names an unknown panel {str(panel)[:40]!r}")
    zoom = data.get("zoom", 1.0)
    if type(zoom) not in (int, float) or not 0.5 <= zoom <= 3.0:
        raise SessionError(f"{name}: zoom must be a number from 0.5 to 3")
    generate = data.get("generate", 0)
    if type(generate) is not int or not 0 <= generate <= MAX_GENERATE:
        raise SessionError(f"{name}: 'generate' must be a whole number of tokens from 0 to "
                           f"{MAX_GENERATE}, not {json.dumps(generate)[:40]}")
    interventions = data.get("interventions") or {}
    if not isinstance(interventions, dict) or not set(interventions) <= {"heads_off", *FLAGS}:
        raise SessionError(f"{name}: unknown interventions")
    if any(type(interventions.get(flag, False)) is not bool for flag in FLAGS):
        raise SessionError(f"{name}: interventions {', '.join(FLAGS)} are true or false")
    heads_off = interventions.get("heads_off") or []
    if not isinstance(heads_off, list) or not all(
            isinstance(h, list) and len(h) == 2 and isinstance(h[0], str) and
            type(h[1]) is int and h[1] >= 0 for h in heads_off):
        raise SessionError(f"{name}: heads_off must be a list of [site, head] pairs")
    tour = data.get("tour")
    if tour is not None:
        if not isinstance(tour, dict):
            raise SessionError(f"{name}: 'tour' must name a step")
        whole(tour.get("step"), "the tour's step", name, optional=False)
        lang = tour.setdefault("lang", "en")
        if lang not in languages():  # a language's name, never a path
            raise SessionError(f"{name}: the tour's language must be one of "
                               f"{', '.join(languages())}, not {str(lang)[:40]!r}")
        steps = len(load_tour(lang))
        if tour["step"] >= steps:
            raise SessionError(f"{name}: the tour has {steps} steps, not {tour['step'] + 1}")
    # 2. the model: a folder it names is opened last (it joins the catalog)
    preset = data["preset"]
    if find(preset) is None and model is not None:
        try:
            preset = data["preset"] = opener(model["source"], model.get("arch")).name
        except (CheckpointError, InputError, OSError) as error:
            raise SessionError(f"{name}: its model {model['source']} cannot be opened "
                               f"({error})") from None
    if find(preset) is None:
        raise SessionError(f"{name} names an unknown preset {preset[:40]!r} "
                           f"(known: {', '.join(preset_names())})")
    # 3. what depends on the model
    if get_preset(preset).input_kind == "text":
        if not isinstance(user_input.get("text"), str):
            raise SessionError(f"{name}: the {preset} preset needs a text input")
        if not user_input["text"].strip():
            raise SessionError(f"{name}: its text is empty")
        data["value"] = user_input["text"]
    else:
        if image is None:
            raise SessionError(f"{name}: the {preset} preset needs an embedded image")
        data["value"] = image
    heads = site_heads(preset)
    if site and site not in heads:
        raise SessionError(f"{name} names an attention site '{site[:60]}' that {preset} "
                           "does not have")
    for where, head in heads_off:
        if where not in heads or head >= heads[where]:
            raise SessionError(f"{name}: heads_off names head {head} of '{where[:60]}', which "
                               f"{preset} does not have")
    return data


def apply(explorer, data: dict) -> None:
    """Put a checked session (from `read`) on screen, through the scripting API. Its run goes
    first: if the model refuses its input, the app goes back to what it showed (SessionError)
    and nothing else is applied."""
    try:
        # (a continuation is part of the run: an input plus it may be too long)
        explorer.state.set_generate(data.get("generate", 0))
        explorer.set_preset(data["preset"], data["value"])
        explorer.wait()
        if data.get("interventions"):
            explorer.set_interventions(**data["interventions"])
            explorer.wait()
    except RunFailed as error:
        explorer.state.restore_shown()
        raise SessionError(f"the session's input is refused: {error}") from None
    explorer.set_zoom(data.get("zoom", 1.0))
    explorer.set_device(data.get("device", "cpu"))
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
    elif selection.get("locked"):
        explorer.select(locked=True)  # a lock with no cell is a lock too
    if data.get("panel"):
        explorer.show(data["panel"])
    tour = data.get("tour")
    if tour:
        explorer.tour(tour["lang"]).go(tour["step"], apply_state=False)
