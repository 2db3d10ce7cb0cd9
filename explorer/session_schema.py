"""The session file's fields as a table, and the one function that checks a file against it.

Each row is one rule about one field, with the message the user reads when the file breaks it:
the field's dotted name ("selection.head" is "head" inside "selection"), the JSON types it may
have (exactly: `true` is not a number), its bounds or choices, whether it must be there, and
what it is checked against (the window's panels, the tours, the model's presets and sites: a
name looked up in the context `check` is given). A field may have several rows, each with its
own message; `check` walks the table once, in order, and stops at the first rule broken. Rows
marked `model=True` come last: the context opens a model folder the file names when the first
of them asks, so a folder is only opened once nothing else in the file can refuse it.
"""
from __future__ import annotations

import json
import re
import string
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from models.errors import SessionError
from models.runs.lm import MAX_GENERATE
from models.session import DTYPES

from .compare import VIEWS

VERSION = 1
FLAGS = ("no_mask", "no_bias", "no_position", "bottleneck")
DEVICES = ("cpu", "cuda", "mps", "auto")
MISSING = object()  # a key the file does not have

# what counts as absent (an absent field is not checked; a required one is refused)
KEY = "key"  # only a missing key
NULL = "null"  # a missing key or null
EMPTY = "empty"  # a missing key or any false value: null, 0, "", [], {} (read as the default)
MISTYPED = "mistyped"  # anything not of the field's types (another row has checked for it)


@dataclass(frozen=True)
class Field:
    name: str  # dotted: a key inside the object above it; "" is the file itself
    message: str  # formatted with {file}, {value}, {json} (its JSON, cut at 40 characters),
    # {text} (its text, cut at 40), {nth} (a number counted from 1), {item} (a list's
    # refused item), {choices} (joined with ", ") and any attribute of the context: {preset}
    types: tuple = ()  # the JSON types it may have; () any
    required: bool = False
    absent: str = KEY  # what counts as absent: KEY, NULL, EMPTY or MISTYPED (above)
    default: Any = MISSING  # written into the file where absent (what `apply` then reads)
    low: float | None = None  # bounds, inclusive
    high: float | str | None = None  # a number, or a context name (inclusive)
    choices: tuple | str | None = None  # the values it may take, or a context name
    rule: Callable[[Any, Any], bool] | None = None  # any further rule: (value, context)
    each: Callable[[Any, Any], bool] | None = None  # a rule for each item of a list
    read: str | None = None  # the context's method that converts the value (with its own
    # messages); the result is kept in the context's `values` under the field's name
    when: Callable[[Any], bool] | None = None  # only checked where this holds of the context
    model: bool = False  # checked against the model (the context opens it at the first)


def whole(what: str) -> str:
    return f"{{file}}: {what} must be a whole number ≥ 0, not {{json}}"


MODEL = "{file}: 'model' must name a folder (source) and, for a timm file, its variant (arch)"
NOT_SESSION = "{file} is not a Transformer Explorer session"
HEADS_OFF = "{file}: heads_off must be a list of [site, head] pairs"
CORPUS = "{file}: 'corpus' must name a corpus result's folder"
HEADS_MEAN = "{file}: heads_mean must be a list of [site, head] pairs"
MLPS_OFF = "{file}: mlps_off must be a list of MLP names"


def text_or_image(value: dict, _) -> bool:
    return isinstance(value.get("text"), str) or isinstance(value.get("image_png"), str)


def site_and_head(pair, _) -> bool:
    return (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str)
            and type(pair[1]) is int and pair[1] >= 0)


SCHEMA: tuple[Field, ...] = (
    Field("", NOT_SESSION, (dict,), required=True),
    Field("app", NOT_SESSION, required=True, choices=("transformer-explorer",)),
    # (true has always read as version 1)
    Field("version", "{file} has no valid version number", (int, bool), required=True, low=1),
    Field("version", "{file} was saved by a newer Transformer Explorer (session version "
          "{value}; this one reads up to {newest})", high=VERSION),
    Field("model", MODEL, (dict,), absent=NULL),
    Field("model.source", MODEL, (str,), required=True),
    Field("model.arch", MODEL, (str, type(None))),
    Field("preset", "{file}: 'preset' must be a preset's name", (str,), required=True),
    Field("device", "{file}: 'device' must be one of {choices}", choices=DEVICES),
    Field("input", "{file}: 'input' must hold a text or an embedded image", (dict,),
          required=True, rule=text_or_image),
    Field("input.image_png", "", (str,), absent=MISTYPED, read="decode_image"),
    # compare mode (absent in files saved before it, and when it is off)
    Field("compare", "{file}: 'compare' must be an object", (dict,), absent=NULL),
    Field("compare.input", "{file}: 'compare' must hold input B: a text or an embedded image",
          (dict,), required=True, rule=text_or_image),
    Field("compare.input.image_png", "", (str,), absent=MISTYPED, read="decode_image"),
    Field("compare.view", "{file}: compare view must be one of {choices}", choices=VIEWS),
    Field("selection", "{file}: 'selection' must be an object", (dict,), absent=EMPTY),
    Field("selection.site", "{file}: selection 'site' must be a site's name", (str,),
          absent=NULL),
    *(Field(f"selection.{key}", whole(f"selection '{key}'"), (int,), absent=NULL, low=0)
      for key in ("head", "window", "query", "key")),
    Field("selection.locked", "{file}: selection 'locked' must be true or false", (bool,)),
    Field("panel", "{file} names an unknown panel {text!r}", absent=NULL, choices="panels"),
    Field("zoom", "{file}: zoom must be a number from 0.5 to 3", (int, float), low=0.5,
          high=3.0),
    Field("generate", "{file}: 'generate' must be a whole number of tokens from 0 to "
          "{most}, not {json}", (int,), low=0, high=MAX_GENERATE),
    # a causal language model's input as a chat turn; what bf16/fp16 weights compute in
    # (both absent in files saved before them: off, float32)
    Field("chat", "{file}: 'chat' must be true or false, not {json}", (bool,)),
    Field("dtype", "{file}: 'dtype' must be one of {choices}, not {json}", choices=tuple(DTYPES)),
    Field("interventions", "{file}: unknown interventions", (dict,), absent=EMPTY,
          rule=lambda value, _: set(value) <= {"heads_off", "heads_mean", "mlps_off", *FLAGS}),
    *(Field(f"interventions.{flag}", f"{{file}}: interventions {', '.join(FLAGS)} are true "
            "or false", (bool,)) for flag in FLAGS),
    Field("interventions.heads_off", HEADS_OFF, (list,), absent=EMPTY, each=site_and_head),
    # (absent in files saved before a head could be replaced by its mean, an MLP switched off)
    Field("interventions.heads_mean", HEADS_MEAN, (list,), absent=EMPTY, each=site_and_head),
    Field("interventions.mlps_off", MLPS_OFF, (list,), absent=EMPTY,
          each=lambda name, _: isinstance(name, str)),
    Field("tour", "{file}: 'tour' must name a step", (dict,), absent=NULL),
    Field("tour.step", whole("the tour's step"), (int,), required=True, low=0),
    # a shipped language by name only, never a path
    Field("tour.lang", "{file}: the tour's language must be one of {choices}, not {text!r}",
          default="en", choices="languages"),
    Field("tour.step", "{file}: the tour has {tour_steps} steps, not {nth}",
          high="last_tour_step"),  # (the context's, of the language above)
    # the corpus result open in the Corpus tab (a folder gone since is said when it opens,
    # and the rest of the session still loads)
    Field("corpus", CORPUS, (dict,), absent=NULL),
    Field("corpus.folder", CORPUS, (str,), required=True),
    Field("corpus.site", "{file}: corpus 'site' must be a site's name", (str,), absent=NULL),
    Field("corpus.head", whole("corpus 'head'"), (int,), absent=NULL, low=0),
    Field("corpus.statistic", "{file}: corpus 'statistic' must be a statistic's name",
          (str,), absent=NULL),
    # against the model: a folder the file names is opened first (the context's message)
    Field("preset", "{file} names an unknown preset {text!r} (known: {choices})",
          choices="presets", model=True),
    Field("input.text", "{file}: the {preset} preset needs a text input", (str,),
          required=True, when=lambda context: context.input_kind == "text", model=True),
    Field("input.text", "{file}: its text is empty", rule=lambda text, _: bool(text.strip()),
          when=lambda context: context.input_kind == "text", model=True),
    Field("input.image_png", "{file}: the {preset} preset needs an embedded image", (str,),
          required=True, when=lambda context: context.input_kind != "text", model=True),
    Field("compare.input.text", "{file}: the {preset} preset needs a text input B", (str,),
          required=True, when=lambda context: context.input_kind == "text", model=True),
    Field("compare.input.image_png", "{file}: the {preset} preset needs an embedded image B",
          (str,), required=True, when=lambda context: context.input_kind != "text",
          model=True),
    Field("selection.site", "{file} names an attention site '{value:.60}' that {preset} does "
          "not have", absent=EMPTY, choices="sites", model=True),
    Field("interventions.heads_off", "{file}: heads_off names head {item[1]} of "
          "'{item[0]:.60}', which {preset} does not have", absent=EMPTY,
          each=lambda pair, context: pair[0] in context.sites
          and pair[1] < context.sites[pair[0]], model=True),
    Field("interventions.heads_mean", "{file}: heads_mean names head {item[1]} of "
          "'{item[0]:.60}', which {preset} does not have", absent=EMPTY,
          each=lambda pair, context: pair[0] in context.sites
          and pair[1] < context.sites[pair[0]], model=True),
    Field("interventions.mlps_off", "{file}: mlps_off names an MLP '{item:.60}' that {preset} "
          "does not have", absent=EMPTY, each=lambda name, context: name in context.mlps,
          model=True),
)


def _lookup(data: Any, name: str) -> tuple[Any, dict | None]:
    """A field's value (MISSING where it or an object above it is absent) and the object
    holding it."""
    if not name:
        return data, None
    holder = data
    *parents, key = name.split(".")
    for parent in parents:
        holder = holder.get(parent, MISSING) if isinstance(holder, dict) else MISSING
    if not isinstance(holder, dict):
        return MISSING, None
    return holder.get(key, MISSING), holder


def _is_absent(field: Field, value: Any) -> bool:
    if value is MISSING:
        return True
    if field.absent == NULL:
        return value is None
    if field.absent == EMPTY:
        return not value
    if field.absent == MISTYPED:
        return type(value) not in field.types
    return False


def _named(context, value):
    return getattr(context, value) if isinstance(value, str) else value


def _breaks(field: Field, value: Any, context) -> dict | None:
    """None where `value` keeps every rule of its row, else what the message needs."""
    if field.types and type(value) not in field.types:
        return {}
    high = _named(context, field.high)
    # (`not low <= value`: a NaN, which Python's JSON reads, is out of every bound)
    if (field.low is not None and not field.low <= value) or \
            (high is not None and not value <= high):
        return {}
    if field.choices is not None and value not in _named(context, field.choices):
        return {}
    if field.rule is not None and not field.rule(value, context):
        return {}
    if field.each is not None:
        for item in value:
            if not field.each(item, context):
                return {"item": item}
    return None


def _names(template: str) -> set[str]:
    """The values a message's template names ({item[1]} names `item`)."""
    return {re.match(r"\w*", name).group() for _, name, _, _ in
            string.Formatter().parse(template) if name}


class _Params(dict):
    """A message's values; any other name is the context's (its {preset}, {tour_steps})."""

    def __init__(self, context, values: dict) -> None:
        super().__init__(values)
        self.context = context

    def __missing__(self, key: str):
        return getattr(self.context, key)


def check(data: Any, context, schema: tuple[Field, ...] = SCHEMA) -> None:
    """Check a parsed session file against `schema` in one pass; SessionError with the first
    broken rule's message. `context` has what the rows name (`panels`, `presets`, `sites`,
    …), `file` (the file's name for messages), `open_model()` (called at the first row that
    needs the model) and `values` (where converted values are kept)."""
    for field in schema:
        if field.model:
            context.open_model()
        if field.when is not None and not field.when(context):
            continue
        value, holder = _lookup(data, field.name)
        if holder is None and field.name:
            continue  # the object it belongs in is absent
        if _is_absent(field, value):
            if not field.required:
                if field.default is not MISSING:
                    holder[field.name.rsplit(".", 1)[-1]] = field.default
                continue
            value, found = None, {}  # (a missing value reads as null in its message)
        else:
            found = _breaks(field, value, context)
            if found is None:
                if field.read is not None:
                    context.values[field.name] = getattr(context, field.read)(value)
                continue
        choices = _named(context, field.choices)
        params = _Params(context, {
            "file": context.file, "value": value, "json": json.dumps(value)[:40],
            "text": str(value)[:40], "nth": value + 1 if type(value) is int else value,
            "choices": ", ".join(map(str, choices)) if choices is not None else "",
            "newest": VERSION, "most": MAX_GENERATE, **found})
        # the template and the values it names: the window says it in its own language
        raise SessionError(field.message, **{name: params[name]
                                             for name in _names(field.message)})
