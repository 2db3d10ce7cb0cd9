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


# -- pyqtgraph's texts: titles, tick labels, axis names and the texts panels place ---------
def plot_texts(view) -> list[tuple[str, QtCore.QRectF, QtCore.QRectF]]:
    """(text, its drawn rect, the rect it is seen in), in scene coordinates, for every text
    `view` (a QGraphicsView) draws: each axis's tick labels as the axis lays them out, and
    every visible QGraphicsTextItem (plot titles and other LabelItems, axis names,
    TextItems). A text is seen in the view's viewport, narrowed by every ancestor item that
    clips its children (a ViewBox clips the TextItems placed on the data)."""
    import pyqtgraph as pg

    scene = view.scene()
    seen_all = view.mapToScene(view.viewport().rect()).boundingRect()
    texts = []
    image = QtGui.QImage(4, 4, QtGui.QImage.Format_ARGB32)
    for item in scene.items():
        if not item.isVisible() or item.effectiveOpacity() <= 0:
            continue
        seen = QtCore.QRectF(seen_all)
        parent = item.parentItem()
        while parent is not None:
            if parent.flags() & QtWidgets.QGraphicsItem.ItemClipsChildrenToShape:
                seen &= parent.sceneBoundingRect()
            parent = parent.parentItem()
        if isinstance(item, pg.AxisItem):
            if not item.style["showValues"] or item.linkedView() is None:
                continue
            painter = QtGui.QPainter(image)
            try:
                painter.setFont(item.style["tickFont"] or item.font())
                specs = item.generateDrawSpecs(painter)
            finally:
                painter.end()
            if specs is None:
                continue
            for rect, _, text in specs[2]:
                texts.append((text, item.mapRectToScene(rect), seen))
            for text in _dropped_ticks(item, {text for _, _, text in specs[2]}):
                texts.append((text, QtCore.QRectF(), seen))  # set, but left undrawn
        elif isinstance(item, QtWidgets.QGraphicsTextItem):
            plain = item.document().toPlainText()
            if not plain.strip():
                continue
            margin = item.document().documentMargin()
            rect = item.boundingRect().adjusted(margin, margin, -margin, -margin)
            texts.append((plain, item.mapRectToScene(rect), seen))
    return texts


def _dropped_ticks(axis, drawn: set[str]) -> list[str]:
    """Tick labels a panel set (setTicks) in the axis's range that pyqtgraph did not draw:
    it leaves out, silently, a label that does not fit inside the axis."""
    levels = getattr(axis, "_tickLevels", None)
    if not levels:
        return []
    low, high = sorted(axis.range)
    return [text for level in levels[:axis.style["maxTextLevel"] + 1] for value, text in level
            if text and low <= value <= high and text not in drawn]


def cut_plot_texts(root: QtWidgets.QWidget) -> list[str]:
    """'why: text' for every text of a visible pyqtgraph view under `root` that is cut (its
    drawn rect leaves what the view shows of it, or the axis left it undrawn) or that
    overlaps another text of the same view by more than a pixel each way."""
    cut: list[str] = []
    views = root.findChildren(QtWidgets.QGraphicsView)
    if isinstance(root, QtWidgets.QGraphicsView):
        views.insert(0, root)
    for view in views:
        if not view.isVisible() or view.width() <= 0 or view.scene() is None:
            continue
        texts = plot_texts(view)
        name = f"{type(view).__name__} {(getattr(view, 'title', None) or '')[:20]!r}"
        for text, rect, seen in texts:
            if rect.isEmpty():
                cut.append(f"{name}: tick label left undrawn: {text[:40]!r}")
            elif not seen.adjusted(-SLACK, -SLACK, SLACK, SLACK).contains(rect):
                out = [round(v) for v in (rect.left() - seen.left(), rect.top() - seen.top(),
                                          seen.right() - rect.right(),
                                          seen.bottom() - rect.bottom())]
                cut.append(f"{name}: text cut at the view's edge {out}: {text[:40]!r}")
        drawn = [(t, r) for t, r, _ in texts if not r.isEmpty()]
        for i, (a, ra) in enumerate(drawn):
            for b, rb in drawn[i + 1:]:
                both = ra & rb
                if both.width() > 1 and both.height() > 1:
                    cut.append(f"{name}: texts overlap: {a[:30]!r} and {b[:30]!r}")
    return cut
