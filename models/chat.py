"""A folder's chat template: the typed text as one user message with the generation prompt,
as an instruct model was trained to read it.

The template is Jinja text from a downloaded folder (`chat_template` in
tokenizer_config.json, or chat_template.jinja), so it is rendered in Jinja's immutable
sandbox: no attribute that starts with an underscore, no Python internals, no changing a
list or dict, ranges and repetitions bounded. A template that raises, reaches what it must
not or renders too much is refused with one line (InputError); the previous result stays.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError

MAX_TEMPLATE = 200_000  # characters of template text
MAX_RENDERED = 100_000  # characters a rendering may have
MAX_REPEAT = 100_000  # what `'x' * n` and `[…] * n` may build


@dataclass(frozen=True)
class ChatTemplate:
    text: str
    source: str  # where it was found: "tokenizer_config.json" or "chat_template.jinja"
    bos_token: str = ""
    eos_token: str = ""


def _token_text(value) -> str:
    if isinstance(value, dict):
        value = value.get("content")
    return value if isinstance(value, str) else ""


def find_template(folder: str | Path | None) -> tuple[ChatTemplate | None, str]:
    """(the folder's chat template, '') or (None, why there is none)."""
    if folder is None:
        return None, "a preset has no chat template"
    folder = Path(folder)
    if not folder.is_dir():
        return None, "a single weights file has no chat template"
    settings: dict = {}
    config = folder / "tokenizer_config.json"
    if config.is_file() and config.stat().st_size <= 50_000_000:
        try:
            settings = json.loads(config.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError, RecursionError):
            settings = {}
    if not isinstance(settings, dict):
        settings = {}
    text, source = settings.get("chat_template"), "tokenizer_config.json"
    if isinstance(text, list):  # named templates: the default one
        named = {t.get("name"): t.get("template") for t in text if isinstance(t, dict)}
        text = named.get("default")
    jinja = folder / "chat_template.jinja"
    if not isinstance(text, str) and jinja.is_file():
        if jinja.stat().st_size > MAX_TEMPLATE * 4:
            return None, "its chat template is too long"
        try:
            text, source = jinja.read_text(encoding="utf-8"), "chat_template.jinja"
        except (OSError, UnicodeDecodeError):
            return None, "its chat_template.jinja cannot be read"
    if not isinstance(text, str) or not text.strip():
        return None, "this folder has no chat template"
    if len(text) > MAX_TEMPLATE:
        return None, "its chat template is too long"
    return ChatTemplate(text, source, _token_text(settings.get("bos_token")),
                        _token_text(settings.get("eos_token"))), ""


def _environment():
    from jinja2.exceptions import SecurityError
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    class Bounded(ImmutableSandboxedEnvironment):
        """The immutable sandbox, with repetition bounded as well as range()."""
        intercepted_binops = frozenset(["*", "**"])

        def call_binop(self, context, operator, left, right):
            if operator == "**":
                if isinstance(right, (int, float)) and abs(right) > 64:
                    raise SecurityError("a power that large is not allowed")
            elif isinstance(left, (str, list, tuple)) or isinstance(right, (str, list, tuple)):
                sequence, times = (left, right) if isinstance(left, (str, list, tuple)) \
                    else (right, left)
                if isinstance(times, int) and len(sequence) * times > MAX_REPEAT:
                    raise SecurityError("a repetition that long is not allowed")
            return super().call_binop(context, operator, left, right)

    env = Bounded(trim_blocks=True, lstrip_blocks=True, autoescape=False)

    def raise_exception(message):
        raise ValueError(str(message))

    env.globals["raise_exception"] = raise_exception  # what templates call to refuse
    return env


def render(template: ChatTemplate, text: str) -> tuple[str, tuple[int, int]]:
    """(the rendered conversation, where the typed text is in it): one user message and the
    prompt of the assistant's turn. InputError for a template that cannot be used."""
    from jinja2.exceptions import SecurityError, TemplateError

    try:
        compiled = _environment().from_string(template.text)
        rendered = compiled.render(messages=[{"role": "user", "content": text}],
                                   add_generation_prompt=True, bos_token=template.bos_token,
                                   eos_token=template.eos_token, tools=None, documents=None)
    except SecurityError as error:
        raise InputError("the chat template tried something it must not ({reason})",
                         reason=one_line(error)) from None
    except (TemplateError, ValueError, TypeError, KeyError, IndexError, AttributeError,
            ZeroDivisionError, OverflowError, RecursionError, MemoryError) as error:
        raise InputError("the chat template cannot be used ({reason})",
                         reason=one_line(error)) from None
    if not isinstance(rendered, str) or len(rendered) > MAX_RENDERED:
        raise InputError("the chat template cannot be used ({reason})",
                         reason="it renders too much text")
    start = rendered.rfind(text) if text else -1
    if start < 0:
        raise InputError("the chat template cannot be used ({reason})",
                         reason="the typed text is not in what it renders")
    return rendered, (start, start + len(text))


def one_line(error: BaseException) -> str:
    words = " ".join(str(error).split()) or type(error).__name__
    return words[:200]


def encode(tokenizer, rendered: str, content: tuple[int, int]) -> tuple[list[int], list[bool],
                                                                         list[int]]:
    """(ids, special-token mask, the template's tokens: the indices outside the typed text)
    of a rendered conversation; no special token added beyond the template's own."""
    encoding = tokenizer.backend.encode(rendered, add_special_tokens=False)
    ids = list(encoding.ids)
    added = tokenizer.backend.get_added_tokens_decoder()  # id -> AddedToken
    special = [bool(s) or (i in added and added[i].special)
               for i, s in zip(ids, encoding.special_tokens_mask)]
    start, end = content
    template = [i for i, (a, b) in enumerate(encoding.offsets) if b <= start or a >= end
                or special[i]]
    bad = [i for i in ids if i >= tokenizer.vocab_size]
    if bad:
        raise InputError("the tokenizer gave id {id}, but the model has only {size} "
                         "embeddings", id=bad[0], size=tokenizer.vocab_size)
    return ids, special, template


def template_of(session) -> tuple[ChatTemplate | None, str]:
    """The session's folder's chat template and why there is none, read once per session."""
    found = getattr(session, "_chat_template", None)
    if found is None:
        source = getattr(session, "folder", None)
        found = find_template(source) if source else (None, "a preset has no chat template")
        session._chat_template = found
    return found
