"""Tokens are text, never HTML: a token that looks like a tag (`<s>`, `<b>`, `<i>`,
`<|endoftext|>`, `&amp;`) shows as itself in every label, title, tooltip, table and export.

Language-model folders built here with tokenizers that have such tokens (the Llama one puts
`<s>` before every input) are opened and driven through every panel; what each text element
shows (a label's text as Qt renders it, a plot title's document, a tooltip, a table cell) is
read back: the tokens are found as they are, and nothing is struck through or set in italics
(what `<s>` and `<i>` read as HTML do)."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import pyqtgraph as pg
import pytest
from PySide6 import QtGui, QtWidgets
from PySide6.QtGui import Qt

from explorer.export import PANEL_NAMES
from explorer.text import literal, tip
from models.catalog import CATALOG
from models.opening import open_model
from tests.models import lm_folders

pytest.importorskip("transformers")
pytest.importorskip("tokenizers")

TAGS = ["<b>", "<i>", "&amp;", "<|endoftext|>"]  # added to each tokenizer (Llama's has <s>)
TYPED = "<b> The quick &amp; brown <i> fox<|endoftext|>"


def with_tags(make):
    def tokenizer(*args):
        tok = make(*args)
        tok.add_special_tokens(TAGS)
        return tok
    return tokenizer


@pytest.fixture(scope="module")
def folders(tmp_path_factory, request):
    """A GPT-2 and a Llama folder whose tokenizers cut tag-like tokens, opened as presets."""
    root = tmp_path_factory.mktemp("tag-tokens")
    patch = pytest.MonkeyPatch()
    patch.setattr(lm_folders, "byte_level_tokenizer", with_tags(lm_folders.byte_level_tokenizer))
    patch.setattr(lm_folders, "sentencepiece_tokenizer",
                  with_tags(lm_folders.sentencepiece_tokenizer))
    names = {}
    try:
        for family in ("gpt2", "llama"):
            lm_folders.build(family, root / family)
            names[family] = open_model(root / family).name
    finally:
        patch.undo()
    yield names
    for name in names.values():
        CATALOG.remove(name)


def document(text: str, rich: bool) -> QtGui.QTextDocument:
    doc = QtGui.QTextDocument()
    doc.setHtml(text) if rich else doc.setPlainText(text)
    return doc


def marks(doc: QtGui.QTextDocument) -> list[str]:
    """Fragments struck through or in italics: what an unescaped <s> or <i> does."""
    found = []
    block = doc.begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            fragment = it.fragment()
            style = fragment.charFormat()
            if style.fontStrikeOut() or style.fontItalic():
                found.append(fragment.text())
            it += 1
        block = block.next()
    return found


def label_rich(label: QtWidgets.QLabel) -> bool:
    form = label.textFormat()
    return form == Qt.RichText or (form == Qt.AutoText and Qt.mightBeRichText(label.text()))


def shown_texts(window) -> list[tuple[str, str, list[str]]]:
    """(where, text as shown, marked fragments) of every text element of the window."""
    found = []

    def add(where, text, rich):
        if text:
            doc = document(text, rich)
            found.append((where, doc.toPlainText(), marks(doc)))

    for label in window.findChildren(QtWidgets.QLabel):
        add(f"label {label.objectName() or type(label).__name__}", label.text(),
            label_rich(label))
    for widget in window.findChildren(QtWidgets.QWidget):
        add(f"tooltip of {type(widget).__name__}", widget.toolTip(),
            Qt.mightBeRichText(widget.toolTip()))
    for table in window.findChildren(QtWidgets.QTableWidget):
        for r in range(table.rowCount()):
            for c in range(table.columnCount()):
                item = table.item(r, c)
                if item is not None:
                    add(f"cell {r},{c}", item.text(), False)
                    add(f"cell tooltip {r},{c}", item.toolTip(),
                        Qt.mightBeRichText(item.toolTip()))
    for view in window.findChildren(pg.GraphicsView):
        for item in view.scene().items():
            if isinstance(item, QtWidgets.QGraphicsTextItem):
                doc = item.document()
                found.append((f"plot text {type(item.parentItem()).__name__}",
                              doc.toPlainText(), marks(doc)))
            if item.toolTip():
                add("item tooltip", item.toolTip(), Qt.mightBeRichText(item.toolTip()))
    return found


def test_the_helpers_keep_text_as_it_is(qapp):
    for token in ("<s>", "<b>", "&amp;", "<|endoftext|>", "a < b", "plain"):
        assert document(literal(token), True).toPlainText() == token
        shown = tip(token)
        assert document(shown, Qt.mightBeRichText(shown)).toPlainText() == token
    assert tip("no tags here") == "no tags here"
    two = tip("<s>\nline two")
    assert document(two, True).toPlainText() == "<s>\nline two"


@pytest.mark.parametrize("family", ["llama", "gpt2"])
def test_tag_like_tokens_show_as_text_in_every_panel(make_explorer, folders, family, tmp_path):
    e = make_explorer(folders[family], initial_input=TYPED)
    tokens = e.trace.meta["tokens"]
    for token in TAGS + (["<s>"] if family == "llama" else []):
        assert token in tokens, (token, tokens)
    wanted = [t for t in tokens if "<" in t or "&" in t]
    where = [tokens.index(t) for t in dict.fromkeys(wanted)]
    site = e.trace.sites()[-1]
    problems = []
    for key, query in zip(where[0::2], where[1::2] + where[-1:]):  # (a causal key <= query)
        key, query = min(key, query), max(key, query)
        e.select(site=site, head=0, query=query, key=key)
        selected = {tokens[query], tokens[key]}
        for panel in PANEL_NAMES:
            e.show(panel)
            e.paint()
            shown = shown_texts(e.window.panels[panel])
            problems += [f"{panel} · {place}: {text!r} marks {marked}"
                         for place, text, marked in shown if marked]
            found = {t for t in wanted if any(t in text for _, text, _ in shown)}
            # the panels that name the selected tokens name them as they are
            if panel == "attention" or (panel == "positional" and family == "llama"):
                assert selected <= found, (panel, selected, found)
            if panel == "pipeline":
                assert tokens[query] in found, (panel, tokens[query], found)
            if panel == "prediction":  # every position's row in its table
                assert found == set(wanted), found
        problems += [f"window · {place}: {text!r} marks {marked}"
                     for place, text, marked in shown_texts(e.window) if marked]
    assert problems == [], "\n".join(sorted(set(problems)))
    if family == "llama":  # the title the report was about
        # (wrapped to the plot's width: its lines read as one)
        titles = [" ".join(text.split()) for _, text, _ in
                  shown_texts(e.window.panels["positional"])]
        assert any(f"key {key} ({tokens[key]}) moved" in t for t in titles), titles
    # exports: a panel as SVG keeps its labels as text
    e.show("attention")
    e.paint()
    svg = e.export("attention", tmp_path / "attention.svg")
    written = " ".join(node.text or "" for node in ET.parse(svg).iter())
    assert {tokens[key], tokens[query]} <= {t for t in wanted if t in written}


def test_every_top_5_tooltip_lists_its_tokens_as_they_are(make_explorer, folders):
    e = make_explorer(folders["gpt2"], initial_input=TYPED)
    e.show("prediction")
    e.paint()
    table = e.window.panels["prediction"].positions
    assert table.rowCount() == len(e.trace.meta["tokens"])
    for row, top in enumerate(e.trace.meta["topk"]):
        shown_tip = table.item(row, 1).toolTip()
        doc = document(shown_tip, Qt.mightBeRichText(shown_tip))
        assert doc.toPlainText().split("\n") == [f"{w}  {p:.1%}" for w, p in top]


def test_a_typed_tag_is_said_as_it_is(make_explorer):
    """A toy model's notice quotes what it dropped ("<>" of a typed <b>): the prediction's
    notes, the status bar and its tooltip show it as typed."""
    e = make_explorer("translate", initial_input="the cat <b> sleeps &amp;")
    window = e.window
    notes = window.panels["prediction"].notes
    assert "ignored: <>&" in notes.text() and notes.textFormat() == Qt.PlainText
    status = window.message_label
    tooltip = status.toolTip()
    assert "ignored: <>&" in document(tooltip, Qt.mightBeRichText(tooltip)).toPlainText()
    assert "ignored: <>&" in status.text()  # (drawn as plain text, elided)
