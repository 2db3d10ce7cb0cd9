"""The interface's language through Qt's translation system.

Sources are Qt Linguist files in this folder (zh_CN.ts …); the compiled .qm is built from
them with PySide6's `pyside6-lrelease` the first time it is needed (next to the .ts when the
folder is writable, else in the user's cache), so nobody has to run a build step. If it
cannot be built the interface stays in English and `set_language` says why (once).

Widgets set their words through `bind(widget, "setText", "Clear all")`: the text is
translated now and again whenever the language changes; texts computed from a trace use
`tr()` and are recomputed on `LANGUAGE.changed` (panels redraw). Model tokens are not
translated. What the model layer says (`models/` never imports Qt) is English text; an error
that carries its English `template` and `params` is translated in the context "models" by
`translate_message`, where it is shown.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import weakref
from pathlib import Path

import shiboken6
from PySide6 import QtCore

HERE = Path(__file__).resolve().parent
CONTEXT = "explorer"
MODELS = "models"  # the context of what models/ says (InputError's templates)
QT_LOCALES = {"zh": "zh_CN"}  # our language codes (the tour's) -> the .ts file's name


def tr(text: str) -> str:
    return QtCore.QCoreApplication.translate(CONTEXT, text)


class ModelMessage(str):
    """What the model layer said: its English text (so `in`, `==` and logs work as with
    any str), and the English template and parameters it was made from, if it has them,
    so that it can be shown in the interface's language later, even after a switch."""

    template: str | None = None
    params: dict = {}
    context: str = MODELS  # where its template is translated


def say(template: str, **params) -> ModelMessage:
    """A message of the interface (context "explorer") kept as its template and values, so
    that it can be said again in another language after a switch; a value that is itself a
    message (a model's refusal) is translated with it."""
    message = ModelMessage(template.format(**{k: str(v) for k, v in params.items()}))
    message.template, message.params, message.context = template, params, CONTEXT
    return message


def said(error) -> ModelMessage:
    """A model error (or text) as a ModelMessage, keeping its template and parameters; a
    str to pass across threads in signals of `object`."""
    message = ModelMessage(str(error))
    template = getattr(error, "template", None)
    if isinstance(template, str):
        message.template, message.params = template, dict(getattr(error, "params", {}) or {})
        message.context = getattr(error, "context", MODELS)  # (a `say` message stays one)
    return message


def translate_message(message) -> str:
    """A model message in the interface's language: its template translated (context
    "models") and filled in; a message without one is looked up as it is (a constant
    message translates), else shown as it is."""
    template = getattr(message, "template", None)
    if isinstance(template, str):
        params = {k: translate_message(v) if getattr(v, "template", None) is not None else
                  _from_pattern(v) if isinstance(v, str) and " " in v and LANGUAGE.lang != "en"
                  else v for k, v in (getattr(message, "params", None) or {}).items()}
        words = QtCore.QCoreApplication.translate(getattr(message, "context", MODELS),
                                                  template)
        try:
            return words.format(**params) if params else words
        except (KeyError, IndexError, ValueError):  # a translation that lost a field
            return str(message)
    text = str(message)
    if not text:
        return text
    words = QtCore.QCoreApplication.translate(MODELS, text)
    if words != text or LANGUAGE.lang == "en":
        return words
    return _from_pattern(text)


def _from_pattern(text: str) -> str:
    """A model message that came without its template (a trace's notice or reason, a
    message that crossed a thread as text): found by the template it was made from, its
    values (themselves messages, perhaps) put into the template's translation; notices
    joined by " · " each on their own; else as it is."""
    return _explained(text)[0]


def _explained(text: str) -> tuple[str, int]:
    """(`text` translated, how many of its values with spaces in them stayed as they were).
    Of the templates that match, the one that explains most: "{folder}: {error}" and
    "{names} and {last}" both match a refusal; only one reading translates its values."""
    words = QtCore.QCoreApplication.translate(MODELS, text)  # a constant message
    if words != text:
        return words, 0
    if " · " in text:
        parts = [_explained(part) for part in text.split(" · ")]
        return " · ".join(w for w, _ in parts), sum(n for _, n in parts)
    best: tuple[str, int] | None = None
    for template, pattern in _patterns():
        found = pattern.fullmatch(text)
        if found is None:
            continue
        words = QtCore.QCoreApplication.translate(MODELS, template)
        if words == template:
            continue
        values, left = {}, 0
        for name, value in found.groupdict().items():
            values[name], n = _explained(value)
            left += n + (" " in value and values[name] == value)
        try:
            words = _SPEC.sub(r"{\1}", words).format(**values)
        except (KeyError, IndexError, ValueError):
            continue
        if best is None or left < best[1]:
            best = (words, left)
        if left == 0:
            break
    return best or (text, 0)


_SPEC = re.compile(r"\{(\w+)(?:![rsa])?(?::[^{}]*)?\}")
_FOUND: list = []


def _patterns() -> list:
    """(template, regular expression) of every template of the models' messages in the
    .ts file, those with most fixed words first; read once."""
    if not _FOUND:
        import xml.etree.ElementTree as ET
        templates = set()
        for context in ET.parse(HERE / "zh_CN.ts").getroot().iter("context"):
            if context.findtext("name") == MODELS:
                templates |= {m.findtext("source") for m in context.iter("message")}
        for template in sorted((t for t in templates if t and _SPEC.search(t)),
                               key=lambda t: -len(_SPEC.sub("", t))):
            parts, seen, at = [], set(), 0
            for field in _SPEC.finditer(template):
                parts.append(re.escape(template[at:field.start()]))
                name = field.group(1)
                parts.append(f"(?P={name})" if name in seen else f"(?P<{name}>.+?)")
                seen.add(name)
                at = field.end()
            parts.append(re.escape(template[at:]))
            _FOUND.append((template, re.compile("".join(parts), re.DOTALL)))
    return _FOUND


class Language(QtCore.QObject):
    changed = QtCore.Signal(str)

    def __init__(self) -> None:
        super().__init__()
        self.lang = "en"
        self.problem = ""  # why the chosen language could not be shown, once said
        self._translator: QtCore.QTranslator | None = None
        self._bindings: dict[tuple[int, str], tuple] = {}
        self._kept = 256  # the bindings of deleted widgets go when there are twice as many


LANGUAGE = Language()


def bind(obj: QtCore.QObject, setter, text: str, **fields) -> None:
    """Call `obj.setter(tr(text).format(**fields))` now and after every language change;
    `setter` is a method name of `obj`, or a function of the words (e.g. a tab's text)
    that lives as long as `obj`, given with a name: (name, function)."""
    key = (id(obj), setter if isinstance(setter, str) else setter[0])
    LANGUAGE._bindings[key] = (weakref.ref(obj), setter, text, fields)
    _apply(obj, setter, text, fields)
    if len(LANGUAGE._bindings) > 2 * LANGUAGE._kept:
        forget_deleted()


def forget_deleted() -> None:
    """Drop the bindings of widgets that are gone: a setter's function can hold a whole panel
    (and through it the state and its models) long after its window closed or the panel
    rebuilt its widgets."""
    for key, (ref, *_) in list(LANGUAGE._bindings.items()):
        obj = ref()
        if obj is None or not shiboken6.isValid(obj):
            del LANGUAGE._bindings[key]
    LANGUAGE._kept = max(256, len(LANGUAGE._bindings))


def _apply(obj, setter, text: str, fields: dict) -> None:
    words = tr(text)
    words = words.format(**fields) if fields else words
    if isinstance(setter, str):
        getattr(obj, setter)(words)
    else:
        setter[1](words)


def qm_file(lang: str) -> tuple[Path | None, str]:
    """The compiled translation for `lang` (built from its .ts when missing or older), or
    None and the reason."""
    name = QT_LOCALES.get(lang)
    if name is None:
        return None, f"no interface translation for '{lang}'"
    source = HERE / f"{name}.ts"
    cache = Path(QtCore.QStandardPaths.writableLocation(
        QtCore.QStandardPaths.CacheLocation) or Path.home() / ".cache") / "i18n"
    for folder in (HERE, cache):
        built = folder / f"{name}.qm"
        if built.is_file() and built.stat().st_mtime >= source.stat().st_mtime:
            return built, ""
    tool = shutil.which("pyside6-lrelease") or shutil.which("lrelease")
    if tool is None:
        return None, ("cannot build the Chinese interface: pyside6-lrelease (part of PySide6) "
                      "was not found")
    problem = ""
    for folder in (HERE, cache):
        # built beside, then renamed into place: another process (a second window, a test
        # worker) never reads a half-written file
        partial = folder / f"{name}.{os.getpid()}.qm.partial"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            done = subprocess.run([tool, "-silent", str(source), "-qm", str(partial)],
                                  capture_output=True, text=True, timeout=60)
            if done.returncode == 0 and partial.is_file():
                os.replace(partial, folder / f"{name}.qm")
                return folder / f"{name}.qm", ""
        except (OSError, subprocess.SubprocessError) as error:
            problem = str(error)
            continue
        finally:
            partial.unlink(missing_ok=True)
        problem = (done.stderr or done.stdout).strip()[:200]
    return None, f"cannot build the Chinese interface ({problem})"


def set_language(lang: str) -> str:
    """Show the interface in `lang` ("en", "zh"); '' or why it stays in English."""
    app = QtCore.QCoreApplication.instance()
    problem = ""
    if LANGUAGE._translator is not None:
        app.removeTranslator(LANGUAGE._translator)
        LANGUAGE._translator = None
    if lang != "en":
        path, problem = qm_file(lang)
        if path is not None:
            translator = QtCore.QTranslator(app)
            if translator.load(str(path)):
                app.installTranslator(translator)
                LANGUAGE._translator = translator
            else:
                problem = f"cannot read {path.name}"
    shown = lang if not problem else "en"
    changed = shown != LANGUAGE.lang
    LANGUAGE.lang = shown
    for key, (ref, setter, text, fields) in list(LANGUAGE._bindings.items()):
        obj = ref()
        try:
            if obj is None:
                raise RuntimeError
            _apply(obj, setter, text, fields)
        except RuntimeError:  # its widget is gone
            del LANGUAGE._bindings[key]
    if changed:
        LANGUAGE.changed.emit(shown)
    said, LANGUAGE.problem = LANGUAGE.problem, problem
    return problem if problem != said else ""


def bound(widget, text: str, setter: str = "setText", control: bool = False):
    """`widget` with `text` bound (see `bind`): `bound(QtWidgets.QLabel(), "opacity")`;
    `control`: the label belongs to a panel's controls (left out of an exported picture)."""
    bind(widget, setter, text)
    if control:
        widget.setProperty("control", True)
    return widget
