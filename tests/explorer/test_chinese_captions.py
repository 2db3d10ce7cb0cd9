"""The Chinese interface reaches the panels' captions, titles, axis labels and read-outs and
what the model layer says (issue 20): every text the code hands to Qt's translation system,
and every constant message of models/, has a translation in zh_CN.ts; captions follow a
language switch at run time; a refused input is said in Chinese."""
import ast
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pyqtgraph as pg
import pytest
from PySide6 import QtWidgets

import explorer.i18n as i18n
from explorer.api import RunFailed
from explorer.i18n import set_language, translate_message
from explorer.main_window import DTYPE_LABELS, DTYPE_TIPS
from explorer.panels import patches, pipeline, rollout, windows
from explorer.widgets.inputs import IMAGE_FILTER
from explorer.widgets.matrix_view import MatrixView
from models.errors import InputError
from models.sites import KINDS

ROOT = Path(__file__).resolve().parents[2]
FIELD = re.compile(r"\{\w*\}")


def translations() -> dict[str, dict[str, str]]:
    """{context: {English source: Chinese}} as zh_CN.ts has them (unfinished ones left out)."""
    found: dict[str, dict[str, str]] = {}
    for context in ET.parse(i18n.HERE / "zh_CN.ts").getroot().iter("context"):
        words = found.setdefault(context.find("name").text, {})
        for message in context.iter("message"):
            translation = message.find("translation")
            if translation.get("type") != "unfinished" and translation.text:
                words[message.find("source").text] = translation.text
    return found


def constant_strings(node: ast.AST) -> list[str]:
    """The string constants an argument can be: "…", or either side of `"…" if c else "…"`;
    anything else (an f-string, a name) is not a template and is skipped."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return constant_strings(node.body) + constant_strings(node.orelse)
    return []


def called_with(folder: str, arguments: dict[str, int]) -> set[str]:
    """Constant strings passed as argument `arguments[name]` to calls of `name`."""
    texts = set()
    for path in (ROOT / folder).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            index = arguments.get(name)
            if index is not None and len(node.args) > index:
                texts.update(constant_strings(node.args[index]))
    return texts


def test_every_interface_text_has_a_chinese_translation():
    texts = called_with("explorer", {"tr": 0, "bind": 2, "bound": 1, "say": 0})
    # texts held in tables and shown through tr(name)
    for name, caption, _ in pipeline.STAGES:
        texts.update(t for t in (name, caption) if t)
    for name, caption in windows.STEPS:
        texts.update((name, caption))
    texts.update(patches.MODES + rollout.FUSIONS + (patches.SEQUENCE_TITLE, IMAGE_FILTER))
    texts.update((*DTYPE_LABELS.values(), *DTYPE_TIPS.values()))  # the Device menu's dtypes
    for kind in KINDS.values():  # the attention kinds' titles and tool bar names: tr(field)
        texts.update(kind.titles)
    assert len(texts) > 150  # the scan found the calls
    chinese = translations()["explorer"]
    missing = sorted(texts - set(chinese))
    assert missing == []
    for source in texts:  # the same fields, so .format() fills the translation too
        assert set(FIELD.findall(source)) == set(FIELD.findall(chinese[source])), source


def test_every_site_kind_is_named_in_chinese():
    """A kind's words reach Qt as tr(kind.title), tr(kind.menu_name): data, not constants
    the scan above sees. A new kind in models.sites without its Chinese fails here."""
    chinese = translations()["explorer"]
    assert {"encoder_self", "cross", "window", "causal"} <= set(KINDS)
    for kind in KINDS.values():
        assert kind.title and kind.menu_name, kind.key
        assert (kind.shifted_title != "") == kind.windowed, kind.key
        assert [t for t in kind.titles if t not in chinese] == [], kind.key
        assert all(chinese[t] != t for t in kind.titles), kind.key


def test_every_constant_model_message_has_a_chinese_translation():
    """A new InputError("…") in models/ without a translation fails here."""
    messages = called_with("models", {"InputError": 0})
    assert "the input is empty: type a sentence" in messages
    chinese = translations()["models"]
    assert sorted(messages - set(chinese)) == []
    for source, words in chinese.items():
        assert set(FIELD.findall(source)) == set(FIELD.findall(words)), source


def test_a_model_message_is_translated_from_its_template(qapp):
    error = InputError("the input has {n} tokens; this model takes at most {limit}",
                       n=60, limit=47)
    assert str(error) == "the input has 60 tokens; this model takes at most 47"
    assert translate_message(error) == str(error)  # English
    assert set_language("zh") == ""
    try:
        assert translate_message(error) == "输入有 60 个词元；这个模型最多接受 47 个"
        assert translate_message(i18n.said(error)) == translate_message(error)
        # a message without a template: a constant one is still found; any other stays
        empty = "the input is empty: type a sentence"
        assert translate_message(empty) == "输入为空：请输入一个句子"
        assert translate_message("no rule for 'two'") == "no rule for 'two'"
    finally:
        set_language("en")


def test_a_refused_input_is_said_in_chinese_and_again_in_english(make_explorer):
    e = make_explorer("translate")
    e.window.switch_tour_language("zh")
    with pytest.raises(RunFailed):
        e.set_input("")
        e.wait()
    assert e.error == "the input is empty: type a sentence"  # the API keeps the English
    banner = e.window.banners[0]
    assert banner.isVisible() and "输入为空：请输入一个句子" in banner.text()
    assert "输入为空" in e.window.message_label.text()


@pytest.mark.parametrize("preset, panel", [("translate", "pipeline"), ("translate", "model"),
                                           ("swin-digits", "windows"),
                                           ("vit-digits", "rollout")])
def test_captions_follow_the_language_at_run_time(make_explorer, preset, panel):
    e = make_explorer(preset)
    e.show(panel)
    e.paint()
    widget = e.window.panels[panel]

    def captions() -> str:
        """The panel's labels, matrix titles and plot titles."""
        texts = [label.text() for label in widget.findChildren(QtWidgets.QLabel)]
        texts += [view.title for view in widget.findChildren(MatrixView)]
        for view in widget.findChildren(pg.GraphicsView):
            texts += [item.titleLabel.text for item in view.scene().items()
                      if isinstance(item, pg.PlotItem)]
        return " ".join(t for t in texts if t)

    english = captions()
    e.window.switch_tour_language("zh")
    e.paint()
    chinese = captions()
    assert re.search(r"[\u4e00-\u9fff]", chinese) and chinese != english
    e.window.switch_tour_language("en")
    e.paint()
    assert captions() == english


def test_choices_and_axis_labels_follow_the_language(make_explorer):
    e = make_explorer("induction")
    e.show("positional")
    e.paint()
    page = e.window.panels["positional"].sequence
    e.window.switch_tour_language("zh")
    assert page.distance.getAxis("left").labelText == "分数"
    assert page.wavelengths.getAxis("bottom").labelText == "维度对 i"
    e.set_preset("vit-digits")
    e.wait()
    e.show("rollout")
    e.paint()
    rollout_panel = e.window.panels["rollout"]
    assert rollout_panel.fusion.currentText() == "平均"
    assert "平均合并" in rollout_panel.picture.caption.text
    e.window.switch_tour_language("en")
    assert rollout_panel.fusion.currentText() == "mean"
    assert page.distance.getAxis("left").labelText == "score"


def test_the_lock_and_the_attention_kind_follow_the_language(make_explorer):
    e = make_explorer("induction")
    e.select(query=3, key=1)  # locked
    toolbar = e.window.toolbar
    assert toolbar.lock_label.text() == "locked — Esc to unlock"
    e.window.switch_tour_language("zh")
    assert toolbar.lock_label.text() == "已锁定 — 按 Esc 解锁"
    assert toolbar.kind_box.currentText() == "自注意力（因果）"
    e.window.switch_tour_language("en")
    assert toolbar.lock_label.text() == "locked — Esc to unlock"
    assert toolbar.kind_box.currentText() == "self (causal)"
