"""Model text shown as itself wherever Qt would read it as HTML.

A token is any string: `<s>`, `<b>`, `<|endoftext|>`, `&amp;`. Qt reads a label's or a
tooltip's text as HTML when it looks like HTML, and pyqtgraph's titles and label items are
always HTML, so an unescaped `<s>` vanishes and strikes the rest through. Every text that
holds a token goes through one of these on its way to rich text:

- `literal(text)`: the text as HTML that shows exactly `text` (to build rich text from);
- `tip(text)`: a tooltip that shows exactly `text` (plain text stays as it is);
- `plain(label)`: a QLabel that never reads its text as HTML.
"""
from __future__ import annotations

from html import escape

from PySide6 import QtCore
from PySide6.QtGui import Qt


def literal(text) -> str:
    """`text` as HTML that reads as `text` (`<s>` -> `&lt;s&gt;`, `&amp;` -> `&amp;amp;`)."""
    return escape(str(text), quote=False)


def lines(parts) -> str:
    """Lines of text as one piece of HTML, each shown as it is."""
    return "<br>".join(literal(part) for part in parts)


def tip(text: str) -> str:
    """A tooltip showing `text` as it is: unchanged unless Qt would take it for HTML, then
    escaped inside HTML that keeps its line breaks."""
    if not text or not Qt.mightBeRichText(text):
        return text
    return f"<p style='white-space:pre'>{literal(text)}</p>"


def plain(label):
    """`label` (a QLabel) with its text never read as HTML; returns it."""
    label.setTextFormat(QtCore.Qt.PlainText)
    return label
