"""Input widgets: a debounced sentence box, a drawing canvas, a gallery of samples."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from models.resources import resource_path

from .. import zoom
from ..i18n import bind, bound, tr

SAMPLES = resource_path("samples")
DEBOUNCE_MS = 60
IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.bmp *.gif *.tif *.tiff *.webp);;All files (*)"


class TextInput(QtWidgets.QWidget):
    """A line edit that emits `edited` once typing pauses; unknown words are underlined."""

    edited = QtCore.Signal(str)

    def __init__(self) -> None:
        super().__init__()
        self.line = QtWidgets.QLineEdit()
        self.line.setClearButtonEnabled(True)
        bind(self.line, "setPlaceholderText", "type a sentence…")
        self.line.setFont(zoom.font(12))
        zoom.ZOOM.changed.connect(self._zoomed)  # a method: disconnected when deleted
        self.samples = QtWidgets.QComboBox()
        self.samples.setSizeAdjustPolicy(
            QtWidgets.QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.samples.setMinimumContentsLength(14)  # the sentence box keeps the room
        bind(self.samples, "setToolTip", "sample inputs")
        self.unknown = QtWidgets.QLabel()
        self.unknown.setStyleSheet("color: #c00000")
        self._marked: tuple = ("", ())  # (text, unknown words) last underlined
        self.timer = QtCore.QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self.timer.timeout.connect(lambda: self.edited.emit(self.line.text()))
        self.line.textEdited.connect(lambda _: self.timer.start())
        self.samples.textActivated.connect(self.set_text_and_run)
        self.setSizePolicy(QtWidgets.QSizePolicy.Preferred, QtWidgets.QSizePolicy.Fixed)
        row = QtWidgets.QHBoxLayout(self)
        row.setContentsMargins(4, 4, 4, 4)
        row.addWidget(self.line, 1)
        row.addWidget(self.unknown)
        row.addWidget(self.samples)

    def _zoomed(self, _factor: float) -> None:
        self.line.setFont(zoom.font(12))

    def set_samples(self, lines: list[str]) -> None:
        self.samples.clear()
        self.samples.addItems(lines)

    def set_text(self, text: str) -> None:
        if self.line.text() != text:
            self.line.setText(text)

    def set_text_and_run(self, text: str) -> None:
        self.set_text(text)
        self.edited.emit(text)

    def mark_unknown(self, words: list[str]) -> None:
        """Underline unknown words in the line edit (red wavy) and list them beside it."""
        marked = (self.line.text(), tuple(words))
        if marked == self._marked:
            return  # an input-method event repaints the line edit: only on a change
        self._marked = marked
        self.unknown.setText((tr("unknown: ") + ", ".join(words)) if words else "")
        formats = []
        text = self.line.text().lower()
        fmt = QtGui.QTextCharFormat()
        fmt.setUnderlineStyle(QtGui.QTextCharFormat.WaveUnderline)
        fmt.setUnderlineColor(QtGui.QColor(220, 0, 0))
        for word in set(words):
            start = text.find(word.lower())  # (unknown words come as the user spelled them)
            while start >= 0:
                formats.append(QtGui.QInputMethodEvent.Attribute(
                    QtGui.QInputMethodEvent.TextFormat, start - self.line.cursorPosition(),
                    len(word), fmt))
                start = text.find(word, start + len(word))
        # A QLineEdit shows per-range formats only through an input-method event.
        QtCore.QCoreApplication.sendEvent(self.line, QtGui.QInputMethodEvent("", formats))


class DrawingCanvas(QtWidgets.QWidget):
    """Draw a digit with a mouse or pen: white ink on black, re-run while drawing."""

    changed = QtCore.Signal(object)  # np.ndarray (H, W) uint8
    SIZE = 192

    def __init__(self) -> None:
        super().__init__()
        self.setFixedSize(self.SIZE, self.SIZE)
        self.setAttribute(QtCore.Qt.WA_OpaquePaintEvent)  # the image covers every pixel
        self.setCursor(QtCore.Qt.CrossCursor)
        self.image = QtGui.QImage(self.SIZE, self.SIZE, QtGui.QImage.Format_Grayscale8)
        self.image.fill(0)
        self.brush = 14
        self.undo_stack: list[QtGui.QImage] = []
        self._last: QtCore.QPointF | None = None

    def array(self) -> np.ndarray:
        ptr = self.image.constBits()
        data = np.frombuffer(ptr, np.uint8, count=self.image.sizeInBytes())
        return data.reshape(self.SIZE, self.image.bytesPerLine())[:, : self.SIZE].copy()

    def show_array(self, array: np.ndarray | None) -> None:
        """Show a drawing (a canvas-sized uint8 array) or a blank canvas, without emitting."""
        self.image.fill(0)
        if array is not None and array.shape == (self.SIZE, self.SIZE) \
                and array.dtype == np.uint8:
            data = np.ascontiguousarray(array)
            self.image = QtGui.QImage(data.data, self.SIZE, self.SIZE, self.SIZE,
                                      QtGui.QImage.Format_Grayscale8).copy()
        self.update()

    def show_picture(self, path: str) -> None:
        """A sample digit on the canvas, in its convention (white ink on black), without
        emitting: drawing over it then runs the model on both."""
        picture = QtGui.QImage(path).convertToFormat(QtGui.QImage.Format_Grayscale8)
        self.image.fill(0)
        if not picture.isNull():
            picture = picture.scaled(self.SIZE, self.SIZE, QtCore.Qt.KeepAspectRatio,
                                     QtCore.Qt.SmoothTransformation)
            pixels = np.frombuffer(picture.constBits(), np.uint8, count=picture.sizeInBytes())
            if pixels.mean() > 127:
                picture.invertPixels()  # dark ink on paper -> the canvas's light ink
            painter = QtGui.QPainter(self.image)
            painter.drawImage((self.SIZE - picture.width()) // 2,
                              (self.SIZE - picture.height()) // 2, picture)
            painter.end()
        self.update()

    def stroke(self, points: list[QtCore.QPointF]) -> None:
        """Draw a polyline as one undoable stroke (also how tests draw)."""
        self.begin_stroke(points[0])
        for point in points[1:]:
            self.extend_stroke(point)
        self.end_stroke()

    def begin_stroke(self, point: QtCore.QPointF) -> None:
        self.undo_stack.append(self.image.copy())
        del self.undo_stack[:-30]
        self._last = point
        self.extend_stroke(point)

    def extend_stroke(self, point: QtCore.QPointF) -> None:
        if self._last is None:
            return
        painter = QtGui.QPainter(self.image)
        painter.setRenderHint(QtGui.QPainter.Antialiasing)
        painter.setPen(QtGui.QPen(QtCore.Qt.white, self.brush, QtCore.Qt.SolidLine,
                                  QtCore.Qt.RoundCap, QtCore.Qt.RoundJoin))
        painter.drawLine(self._last, point)
        painter.end()
        self._last = point
        self.update()
        self.changed.emit(self.array())

    def end_stroke(self) -> None:
        self._last = None

    def clear(self) -> None:
        self.undo_stack.append(self.image.copy())
        self.image.fill(0)
        self.update()
        self.changed.emit(self.array())

    def undo(self) -> None:
        if self.undo_stack:
            self.image = self.undo_stack.pop()
            self.update()
            self.changed.emit(self.array())

    def paintEvent(self, event) -> None:
        painter = QtGui.QPainter(self)
        painter.drawImage(0, 0, self.image)
        painter.setPen(QtGui.QColor(90, 90, 90))
        painter.drawRect(0, 0, self.SIZE - 1, self.SIZE - 1)
        painter.end()

    def mousePressEvent(self, event) -> None:
        if event.button() == QtCore.Qt.LeftButton:
            self.begin_stroke(event.position())

    def mouseMoveEvent(self, event) -> None:
        self.extend_stroke(event.position())

    def mouseReleaseEvent(self, event) -> None:
        self.end_stroke()

    def tabletEvent(self, event) -> None:
        kind = event.type()
        if kind == QtCore.QEvent.TabletPress:
            self.begin_stroke(event.position())
        elif kind == QtCore.QEvent.TabletMove:
            self.extend_stroke(event.position())
        else:
            self.end_stroke()
        event.accept()


class ImageInput(QtWidgets.QWidget):
    """Sample gallery, drawing canvas and file opening for the image presets."""

    chosen = QtCore.Signal(object)  # a path (str) or an array

    def __init__(self) -> None:
        super().__init__()
        self.gallery = QtWidgets.QListWidget()
        self.gallery.setViewMode(QtWidgets.QListView.IconMode)
        self.gallery.setIconSize(QtCore.QSize(40, 40))
        self.gallery.setFlow(QtWidgets.QListView.LeftToRight)
        self.gallery.setWrapping(True)
        self.gallery.setResizeMode(QtWidgets.QListView.Adjust)
        self.gallery.setMaximumHeight(120)
        self.gallery.setMouseTracking(True)
        self.gallery_title = QtWidgets.QLabel()
        self.draw_title = QtWidgets.QLabel()
        for title in (self.gallery_title, self.draw_title):
            title.setWordWrap(True)  # at large zoom, never wider than the dock
        self.folder = ""
        self.gallery.itemClicked.connect(
            lambda item: self.chosen.emit(item.data(QtCore.Qt.UserRole)))
        self.canvas = DrawingCanvas()
        self.canvas.changed.connect(self.chosen.emit)
        self.brush = QtWidgets.QSpinBox(minimum=2, maximum=40, value=self.canvas.brush)
        bind(self.brush, "setPrefix", "brush ")
        self.brush.valueChanged.connect(lambda v: setattr(self.canvas, "brush", v))
        clear = bound(QtWidgets.QPushButton(), "Clear")
        clear.clicked.connect(self.canvas.clear)
        undo = bound(QtWidgets.QPushButton(), "Undo")
        undo.clicked.connect(self.canvas.undo)
        self.open_button = bound(QtWidgets.QPushButton(), "Open image…")
        tools = QtWidgets.QVBoxLayout()
        tools.addWidget(self.draw_title)
        tools.addWidget(self.brush)
        tools.addWidget(clear)
        tools.addWidget(undo)
        tools.addStretch(1)
        tools.addWidget(self.open_button)
        row = self.canvas_row = QtWidgets.QBoxLayout(QtWidgets.QBoxLayout.LeftToRight)
        row.addWidget(self.canvas)
        row.addLayout(tools)
        zoom.ZOOM.changed.connect(self._zoomed)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.gallery_title)
        layout.addWidget(self.gallery)
        layout.addLayout(row)
        layout.addStretch(1)
        self.set_samples("digits")

    def _zoomed(self, factor: float) -> None:
        # large text: the tools go under the canvas, so the input dock keeps its width
        self.canvas_row.setDirection(QtWidgets.QBoxLayout.TopToBottom if factor > 1.25
                                     else QtWidgets.QBoxLayout.LeftToRight)

    def set_samples(self, folder: str) -> None:
        """The gallery of a model's task: "digits" (handwriting not in training) or "photos"
        (free-licence photos for an opened ImageNet model)."""
        if folder == self.folder:
            return
        self.folder = folder
        photos = folder == "photos"
        bind(self.gallery_title, "setText", "Sample photos (CC0 / public domain):" if photos
             else "Samples (handwriting not in training):")
        bind(self.draw_title, "setText", "Draw:" if photos else "Draw a digit:")
        self.gallery.setIconSize(QtCore.QSize(64, 48) if photos else QtCore.QSize(40, 40))
        self.gallery.clear()
        for path in sorted((SAMPLES / folder).glob("*.png" if not photos else "*.jpg")):
            item = QtWidgets.QListWidgetItem(QtGui.QIcon(str(path)), path.stem.split("_")[-1])
            item.setData(QtCore.Qt.UserRole, str(path))
            item.setToolTip(str(path.name))
            self.gallery.addItem(item)

    def show_input(self, value) -> None:
        """Mark what the model runs on: its sample in the gallery, or the drawing on the
        canvas; anything else (a file, an array from a script) leaves both blank."""
        sample = None
        for i in range(self.gallery.count()):
            if isinstance(value, (str, Path)) and \
                    self.gallery.item(i).data(QtCore.Qt.UserRole) == str(value):
                sample = self.gallery.item(i)
        self.gallery.setCurrentItem(sample) if sample is not None \
            else self.gallery.clearSelection()
        if sample is None:
            self.gallery.setCurrentRow(-1)
        if sample is not None and self.folder == "digits":
            self.canvas.show_picture(str(value))  # the sample digit, to draw over
        else:
            self.canvas.show_array(value if isinstance(value, np.ndarray) else None)
