"""What a lecturer would see cut: visible labels, buttons and read-outs whose text does not
fit their room, and widgets that stick out of the widget they sit in.

Measured with the widgets' own font metrics, so it holds at every zoom; it walks the visible
widgets once (a few ms), so tests can call it for every preset, tour step and zoom.
"""
from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

SLACK = 2  # px: rounding between font metrics and layout


def _plain(label: QtWidgets.QLabel) -> str:
    text = label.text()
    if label.textFormat() == QtCore.Qt.RichText or "<" in text:
        doc = QtGui.QTextDocument()
        doc.setHtml(text)
        return doc.toPlainText()
    return text


def _scrolled_content(widget: QtWidgets.QWidget) -> bool:
    """The widget a scroll area scrolls (it may be larger than its viewport), or the strip of
    a tab bar / tool bar that moves its items itself."""
    parent = widget.parentWidget()
    area = parent.parentWidget() if parent is not None else None
    return isinstance(area, QtWidgets.QAbstractScrollArea) and parent is area.viewport()


def cut_widgets(root: QtWidgets.QWidget) -> list[str]:
    """'why: text' for every visible label, button or read-out of `root` that is cut."""
    cut: list[str] = []
    for widget in root.findChildren(QtWidgets.QWidget):
        if not widget.isVisible() or widget.width() <= 0:
            continue
        if isinstance(widget, QtWidgets.QTabBar) and widget.count() == 0:
            continue  # the main window's spare dock tab bar, parked off screen
        parent = widget.parentWidget()
        inside_toolbar = isinstance(parent, QtWidgets.QToolBar)  # overflow: the » menu
        if (parent is not None and not _scrolled_content(widget) and not inside_toolbar
                and not isinstance(widget, (QtWidgets.QMenu, QtWidgets.QDockWidget))
                and not widget.isWindow()
                and not parent.rect().adjusted(-SLACK, -SLACK, SLACK, SLACK).contains(
                    widget.geometry())):
            cut.append(f"sticks out of {type(parent).__name__}: "
                       f"{type(widget).__name__} {_text(widget)[:40]!r}")
            continue
        metrics = widget.fontMetrics()
        if isinstance(widget, QtWidgets.QTableWidget):
            cut.extend(_cut_cells(widget))
            continue
        if isinstance(widget, QtWidgets.QLabel):
            text = _plain(widget)
            if not text.strip() or (widget.property("elides") and widget.toolTip() == text):
                continue  # an elided line with its whole text in the tooltip
            room = widget.contentsRect().width() - 2 * max(widget.margin(), 0)
            if widget.wordWrap():
                if widget.heightForWidth(widget.width()) > widget.height() + SLACK:
                    cut.append(f"wrapped text taller than its room: {text[:40]!r}")
                elif widget.minimumSizeHint().width() > widget.width() + SLACK:
                    # a word longer than the line: clipped at the edge, mid-word
                    cut.append(f"wrapped text wider than its room: {text[:40]!r}")
                continue
            widest = max(metrics.horizontalAdvance(line) for line in text.split("\n"))
            if widest > room + SLACK:
                cut.append(f"label cut ({widest} > {room} px): {text[:40]!r}")
            elif metrics.height() > widget.contentsRect().height() + SLACK:
                cut.append(f"label too low: {text[:40]!r}")
        elif isinstance(widget, QtWidgets.QAbstractButton) and widget.text():
            if isinstance(widget, (QtWidgets.QCheckBox, QtWidgets.QRadioButton)):
                need = widget.sizeHint().width()
            else:
                need = max(metrics.horizontalAdvance(line)
                           for line in widget.text().replace("&", "").split("\n")) + 6
                if not widget.icon().isNull():
                    need += widget.iconSize().width()
            if need > widget.width() + SLACK:
                cut.append(f"button cut ({need} > {widget.width()} px): {widget.text()!r}")
            elif metrics.height() * (1 + widget.text().count("\n")) > widget.height() + SLACK:
                cut.append(f"button too low: {widget.text()!r}")
    return cut


def _cut_cells(table: QtWidgets.QTableWidget) -> list[str]:
    """Cells holding a number that does not fit its column (Qt would show '0.…')."""
    metrics = QtGui.QFontMetrics(table.font())
    cut = []
    for column in range(table.columnCount()):
        if table.isColumnHidden(column):
            continue
        room = table.columnWidth(column) - 6  # the cell's margins
        for row in range(table.rowCount()):
            item = table.item(row, column)
            text = item.text() if item is not None else ""
            if _number(text) and metrics.horizontalAdvance(text) > room:
                cut.append(f"table cell cut ({metrics.horizontalAdvance(text)} > {room} px): "
                           f"{text[:40]!r}")
                return cut  # one per table says it
    return cut


def _number(text: str) -> bool:
    try:
        float(text.strip().rstrip("%"))
    except ValueError:
        return False
    return True


def _text(widget: QtWidgets.QWidget) -> str:
    text = getattr(widget, "text", None)
    return text() if callable(text) else widget.objectName()


def fully_visible(widget: QtWidgets.QWidget) -> bool:
    """On screen in full: inside every ancestor's visible area (scroll areas included)."""
    if not widget.isVisible():
        return False
    rect = QtCore.QRect(widget.mapTo(widget.window(), QtCore.QPoint(0, 0)), widget.size())
    parent = widget.parentWidget()
    while parent is not None and not parent.isWindow():
        seen = QtCore.QRect(parent.mapTo(widget.window(), QtCore.QPoint(0, 0)), parent.size())
        if not seen.contains(rect):
            return False
        parent = parent.parentWidget()
    return widget.window().rect().contains(rect)


def lines_shown(label: QtWidgets.QLabel) -> tuple[int, int]:
    """(lines of `label`'s wrapped text in view, lines in all): its text laid out as the
    label lays it out, each line counted when it lies wholly inside every ancestor's
    visible area (a scroll area's viewport included)."""
    doc = QtGui.QTextDocument()
    doc.setDefaultFont(label.font())
    doc.setDocumentMargin(0)
    doc.setHtml(label.text()) if label.textFormat() != QtCore.Qt.PlainText else \
        doc.setPlainText(label.text())
    doc.setTextWidth(label.contentsRect().width())
    doc.documentLayout().documentSize()  # (laid out)
    window = label.window()
    seen = QtCore.QRect(label.mapTo(window, QtCore.QPoint(0, 0)), label.size())
    parent = label.parentWidget()
    while parent is not None and not parent.isWindow():
        seen &= QtCore.QRect(parent.mapTo(window, QtCore.QPoint(0, 0)), parent.size())
        parent = parent.parentWidget()
    top = label.mapTo(window, label.contentsRect().topLeft()).y()
    shown = total = 0
    block = doc.begin()
    while block.isValid():
        layout = block.layout()
        origin = doc.documentLayout().blockBoundingRect(block).top()
        for i in range(layout.lineCount()):
            line = layout.lineAt(i)
            y = top + origin + line.y()
            total += 1
            if seen.top() - SLACK <= y and y + line.height() <= seen.bottom() + 1 + SLACK:
                shown += 1
        block = block.next()
    return shown, total
