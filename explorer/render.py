"""Pictures of a panel or the window: PNG at 1×, 2× or 3× its pixels, or SVG (vector, its
labels as text). Used by File ▸ Export panel…, the scripting API and `python main.py export`."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from PySide6 import QtCore, QtGui, QtSvg, QtWidgets

from models.errors import InputError

EXPORT_FILTERS = {"PNG 1× (*.png)": 1, "PNG 2× (*.png)": 2, "PNG 3× (*.png)": 3,
                  "SVG, vector (*.svg)": 0}


SVG = "http://www.w3.org/2000/svg"
CONTROLS = (QtWidgets.QAbstractButton, QtWidgets.QAbstractSlider, QtWidgets.QComboBox,
            QtWidgets.QAbstractSpinBox, QtWidgets.QGroupBox, QtWidgets.QLineEdit)
MATRIX = re.compile(r"matrix\(([^)]*)\)")


def scaled_strokes(path: Path) -> None:
    """Qt writes pyqtgraph's pixel-wide (cosmetic) lines as `vector-effect=
    "non-scaling-stroke"` inside scaled groups; renderers without that feature (ImageMagick,
    librsvg) scale them with the data into blobs. Each such shape is rewritten in the
    picture's own coordinates under the inverse of its groups' transform, so its stroke is
    as many pixels wide in every renderer."""
    ET.register_namespace("", SVG)
    ET.register_namespace("xlink", "http://www.w3.org/1999/xlink")
    tree = ET.parse(path)

    def walk(node: ET.Element, m: tuple) -> None:
        found = MATRIX.search(node.get("transform", ""))
        if found:
            m = compose(m, tuple(float(v) for v in found.group(1).split(",")))
        if node.attrib.pop("vector-effect", None) == "non-scaling-stroke" and m != IDENTITY:
            to_picture(node, m)
        for child in node:
            walk(child, m)

    walk(tree.getroot(), IDENTITY)
    tree.write(path, encoding="utf-8", xml_declaration=True)


IDENTITY = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
NUMBER = re.compile(r"-?[\d.]+(?:e-?\d+)?")


def compose(m: tuple, n: tuple) -> tuple:
    """m · n for SVG matrices (a, b, c, d, e, f)."""
    a, b, c, d, e, f = m
    p, q, r, s, t, u = n
    return (a * p + c * q, b * p + d * q, a * r + c * s, b * r + d * s,
            a * t + c * u + e, b * t + d * u + f)


def to_picture(node: ET.Element, m: tuple) -> None:
    """Coordinates through `m`, and `m`'s inverse as the shape's transform."""
    a, b, c, d, e, f = m
    det = a * d - b * c
    if abs(det) < 1e-12:
        return

    def point(x: float, y: float) -> str:
        return f"{a * x + c * y + e:.6g},{b * x + d * y + f:.6g}"

    tag = node.tag.rsplit("}", 1)[-1]
    if tag == "rect":
        x, y = float(node.get("x", 0)), float(node.get("y", 0))
        w, h = float(node.get("width", 0)), float(node.get("height", 0))
        for key in ("x", "y", "width", "height"):
            node.attrib.pop(key, None)
        node.tag = node.tag.replace("rect", "polygon")
        node.set("points", " ".join(point(px, py) for px, py in
                                    ((x, y), (x + w, y), (x + w, y + h), (x, y + h))))
    elif tag in ("polyline", "polygon"):
        values = [float(v) for v in NUMBER.findall(node.get("points", ""))]
        node.set("points", " ".join(point(*values[i:i + 2]) for i in range(0, len(values) - 1, 2)))
    elif tag == "path":
        values = iter(float(v) for v in NUMBER.findall(node.get("d", "")))
        # Qt writes absolute M, L and C commands with x,y pairs only
        node.set("d", re.sub(r"-?[\d.]+(?:e-?\d+)?,-?[\d.]+(?:e-?\d+)?",
                             lambda _: point(next(values), next(values)), node.get("d", "")))
    else:
        return
    inverse = (d / det, -b / det, -c / det, a / det,
               (c * f - d * e) / det, (b * e - a * f) / det)
    node.set("transform", "matrix(" + ",".join(f"{v:.9g}" for v in inverse) + ")")


def render(widget: QtWidgets.QWidget, path: str | Path, scale: float = 1) -> Path:
    """Write `widget` as it is on screen, highlights and lock included: PNG at `scale` times
    its pixels (text and lines drawn again at that size, not blown up), or SVG by suffix."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".svg", ".png"):
        raise InputError("export writes .png or .svg files, not '{name}'",
                         name=suffix or path.name)
    if not 1 <= scale <= 4 and suffix == ".png":
        raise InputError("scale must be from 1 to 4, not {scale}", scale=scale)
    # a picture of the panel, not of its check boxes and play buttons: the controls are
    # hidden while it is drawn (the plots take their room), then shown again
    hidden = [w for w in widget.findChildren(QtWidgets.QWidget)
              if w.isVisible() and (isinstance(w, CONTROLS) or w.property("control"))
              and not widget.isWindow()]
    for control in hidden:
        control.hide()
    try:
        if hidden:
            app = QtWidgets.QApplication.instance()
            for _ in range(2):  # layouts, then pyqtgraph's own
                app.processEvents()
                app.sendPostedEvents()
        return _draw(widget, path, suffix, scale)
    finally:
        for control in hidden:
            control.show()


def _draw(widget: QtWidgets.QWidget, path: Path, suffix: str, scale: float) -> Path:
    size = widget.size()
    if suffix == ".svg":
        generator = QtSvg.QSvgGenerator()
        generator.setFileName(str(path))
        generator.setSize(size)
        generator.setViewBox(QtCore.QRect(QtCore.QPoint(0, 0), size))
        generator.setTitle(widget.windowTitle() or type(widget).__name__)
        generator.setDescription("Transformer Explorer")
        painter = QtGui.QPainter(generator)
        widget.render(painter, QtCore.QPoint(0, 0))
        painter.end()
        if not path.is_file():
            raise InputError("could not write {path}", path=path)
        scaled_strokes(path)
        return path
    image = QtGui.QImage(int(size.width() * scale), int(size.height() * scale),
                         QtGui.QImage.Format_ARGB32)
    image.setDevicePixelRatio(scale)
    image.fill(QtCore.Qt.white)
    painter = QtGui.QPainter(image)
    widget.render(painter, QtCore.QPoint(0, 0))
    painter.end()
    if not image.save(str(path)):
        raise InputError("could not write {path}", path=path)
    return path


