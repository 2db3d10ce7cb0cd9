"""Saved demos: what is on screen, as a versioned JSON file.

    {"app": "transformer-explorer", "version": 1, "preset": "translate", "device": "cpu",
     "input": {"text": "the cat sleeps"}   or   {"image_png": "<base64>", "name": "7.png"},
     "selection": {"site": …, "head": 0, "window": 0, "query": 3, "key": null,
                   "locked": true},
     "panel": "pipeline", "interventions": {…}, "zoom": 1.0,
     "generate": 0,   (tokens a causal language model adds greedily; absent: 0)
     "chat": false,   (a causal language model's input as a turn of its chat template)
     "dtype": "float32",   (or "bfloat16"/"float16": what an opened folder's weights
                            stored in that dtype compute in, as --dtype; absent: float32)
     "tour": {"lang": "en", "step": 4} or null,
     "compare": {"input": {"text": …} or {"image_png": …}, "view": "A-B"},   (compare mode)
     "model": {"source": "/path/to/folder", "arch": null},   (an opened model only)
     "corpus": {"folder": "/path/to/result", "site": …, "head": 3, "statistic": "entropy"}}
                                                     (a corpus result open in the Corpus tab)

A decoding step is the selection's query at a decoder site. The whole file is checked before
anything changes (a model folder it names is opened last, once nothing else can refuse it):
a file that is not JSON, of a newer version, with a value of the wrong type, naming an unknown
preset, site, head, panel or tour language, or holding an image that does not decode or is
over 25 million pixels, or asking for a continuation longer than MAX_GENERATE tokens is a
SessionError with one clear message, and the app stays as it was;
so does one whose input the model refuses (it runs first, before anything else is applied).
A corpus result folder that is gone or cannot be read is not a refusal: the status bar says
so in one line, and the rest of the session is on screen.
"""
from __future__ import annotations

import base64
import functools
import io
import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, UnidentifiedImageError

from models.errors import CheckpointError, InputError, SessionError
from models.opening import open_model
from models.presets import find, get_preset, preset_names
from models.session import mlp_names, site_heads
from models.tasks.digits import MAX_PIXELS, open_image

from .i18n import said, say
from .session_schema import VERSION, check
from .state import RunFailed
from .tour import languages, load_tour

MAX_BYTES = 20_000_000  # a session with an embedded image is far smaller


PNG_MODES = ("1", "L", "LA", "I", "I;16", "P", "RGB", "RGBA")  # what a PNG can hold


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
    chat = shown.chat if shown is not None else state.chat
    dtype = shown.dtype if shown is not None else state.dtype
    user_input = input_field(preset, value)
    value_b = shown.input_b if shown is not None else (state.input_b if state.compare else None)
    compare = None
    if value_b is not None and not state.b_refused:  # (a refused B is not what is shown)
        try:
            compare = {"input": input_field(preset, value_b), "view": state.view}
        except InputError:
            compare = None
    sel = state.selection
    tour = explorer.window.tour_player
    corpus = explorer.window.panels["corpus"].session_state() \
        if "corpus" in explorer.window.panels else None
    return {"app": "transformer-explorer", "version": VERSION, "preset": preset,
            "device": state.device.split(":")[0], "input": user_input,
            "selection": {"site": sel.site, "head": sel.head, "window": sel.window,
                          "query": sel.query, "key": sel.key, "locked": sel.locked},
            "panel": explorer.window.current_panel(),
            "interventions": interventions, "zoom": explorer.zoom, "generate": generate,
            "chat": chat, "dtype": dtype,
            "tour": {"lang": tour.lang, "step": tour.index} if tour is not None else None,
            **({"compare": compare} if compare is not None else {}),
            **({"corpus": corpus} if corpus is not None else {}),
            **({"model": {"source": get_preset(preset).source,
                          "arch": get_preset(preset).source_arch}}
               if get_preset(preset).source else {})}


def input_field(preset: str, value: Any) -> dict:
    """An input as the file holds it: its text, or its image as an embedded PNG."""
    if get_preset(preset).input_kind == "text":
        return {"text": value}
    png, name = image_png(value)
    return {"image_png": png, "name": name}


def save(explorer, path: str | Path) -> Path:
    """Write what is on screen, once the newest run (a head just switched off, say) has been
    answered: saved while it was still running, the file held the result before it."""
    path = Path(path)
    if not explorer.state.settled():
        try:
            explorer.state.settle(60.0)
        except TimeoutError:
            pass  # what is on screen is saved
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
            raise SessionError("{file}: its image is too large: {width}×{height} is over "
                               "{limit:,} pixels", file=name, width=width, height=height,
                               limit=MAX_PIXELS)
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
        raise SessionError("{file}: its image does not decode ({error})", file=name,
                           error=str(error)) from None
    return np.ascontiguousarray(array)


class Against:
    """What a session file's rows are checked against: the window's panels, the shipped tours,
    the presets and the sites of the preset it names. A model folder the file names is
    opened (by `opener`) when the first row that needs the model is reached: last."""

    def __init__(self, data: dict, file: str, panels: list[str], opener) -> None:
        self.data, self.file, self.panels, self.opener = data, file, panels, opener
        self.values: dict = {}  # the embedded image, decoded
        self._opened = False

    @property
    def languages(self) -> list[str]:
        return languages()

    @property
    def tour_steps(self) -> int:
        return len(load_tour(self.data["tour"]["lang"]))

    @property
    def last_tour_step(self) -> int:
        return self.tour_steps - 1

    def decode_image(self, encoded: str) -> np.ndarray:
        return decode_image(encoded, self.file)

    def open_model(self) -> None:
        """A folder the file names where its preset is not known: it joins the catalog."""
        if self._opened:
            return
        self._opened = True
        model = self.data.get("model")
        if find(self.data["preset"]) is None and model is not None:
            try:
                self.data["preset"] = self.opener(model["source"], model.get("arch")).name
            except (CheckpointError, InputError, OSError) as error:
                raise SessionError("{file}: its model {source} cannot be opened ({error})",
                                   file=self.file, source=model["source"],
                                   error=said(error)) from None

    @property
    def preset(self) -> str:
        return self.data["preset"]

    @property
    def presets(self) -> list[str]:
        return preset_names()

    @property
    def input_kind(self) -> str:
        return get_preset(self.preset).input_kind

    @functools.cached_property
    def sites(self) -> dict[str, int]:
        return site_heads(self.preset)

    @functools.cached_property
    def mlps(self) -> list[str]:
        return mlp_names(self.preset)


def read(path: str | Path, panels: list[str], opener=open_model) -> dict:
    """A session file, parsed and checked as a whole against the schema (session_schema);
    SessionError says what is wrong with it. `opener(folder, arch) -> Preset` opens a model
    folder the session names (the window's reads it off the UI thread); it is called last."""
    path = Path(path)
    name = path.name
    try:
        if path.stat().st_size > MAX_BYTES:
            raise SessionError("{file} is too large for a session file", file=name)
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SessionError("no session file at {path}", path=str(path)) from None
    except RecursionError:
        raise SessionError("{file} is nested too deeply to be a session file",
                           file=name) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise SessionError("{file} is not a session file (not JSON: {error})", file=name,
                           error=str(error)) from None
    against = Against(data, name, panels, opener)
    check(data, against)
    data["value"] = (data["input"]["text"] if against.input_kind == "text"
                     else against.values["input.image_png"])
    if data.get("compare"):
        data["value_b"] = (data["compare"]["input"]["text"] if against.input_kind == "text"
                           else against.values["compare.input.image_png"])
    return data


def apply(explorer, data: dict) -> None:
    """Put a checked session (from `read`) on screen, through the scripting API. Its run goes
    first: if the model refuses its input, the app goes back to what it showed (SessionError)
    and nothing else is applied."""
    try:
        # (a continuation is part of the run: an input plus it may be too long)
        explorer.state.set_generate_of(data["preset"], data.get("generate", 0))
        explorer.state.set_chat_of(data["preset"], data.get("chat", False))
        explorer.state.set_dtype(data.get("dtype", "float32"), run=False)
        explorer.set_preset(data["preset"], data["value"])
        if data.get("value_b") is not None:  # both inputs in one request (newest wins)
            explorer.state.set_compare(True, data["value_b"])
            explorer.state.set_view(data["compare"].get("view", "A"))
        else:
            explorer.state.set_compare(False)
        explorer.wait()
        if data.get("interventions"):
            explorer.set_interventions(**data["interventions"])
            explorer.wait()
    except RunFailed as error:
        explorer.state.restore_shown()
        raise SessionError("the session's input is refused: {error}",
                           error=said(error.args[0] if error.args else error)) from None
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
    if data.get("corpus"):
        open_corpus(explorer, data["corpus"])
    if data.get("panel"):
        explorer.show(data["panel"])
    tour = data.get("tour")
    if tour:
        explorer.tour(tour["lang"]).go(tour["step"], apply_state=False)


def open_corpus(explorer, corpus: dict) -> None:
    """The session's corpus result in the Corpus tab, its head and statistic chosen; a
    folder that is gone or cannot be read: one line in the status bar, and nothing else
    changes (the session goes on)."""
    window = explorer.window
    panel = window.panels["corpus"]
    why = panel.open(corpus["folder"])
    if why:
        window.show_message(say("the session's corpus result was not opened: {reason}",
                                reason=why))
        return
    window.tabs.setTabVisible(window.tabs.indexOf(window.pages["corpus"]), True)
    panel.restore(corpus)
    explorer.wait()
