"""The app's ImageItem draws what pyqtgraph's draws (the cells' colours exactly; Qt's
scaling of the two formats may place a cell's edge one pixel apart), from a QImage Qt need
not convert on every paint; the colour bar's numbers stand at least three lines apart."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtGui

from explorer.widgets import ImageItem
from explorer.widgets.matrix_view import PROBABILITY, MatrixView
from explorer.zoom import font

KEPT = []  # (a bare pyqtgraph view deleted by a test's teardown crashed)


def shown(item, data, qtbot, **options):
    view = pg.PlotWidget()
    KEPT.append(view)
    item.setImage(data, **options)
    view.addItem(item)
    view.resize(300, 300)
    view.show()
    qtbot.waitExposed(view)
    image = view.grab().toImage().convertToFormat(QtGui.QImage.Format.Format_RGB32)
    return np.frombuffer(image.constBits(), np.uint8).reshape(
        image.height(), image.bytesPerLine() // 4, 4)[:, : image.width(), :3].copy()


def same_but_edges(a: np.ndarray, b: np.ndarray) -> None:
    """Equal, except pixels whose colour the other image has within one pixel of them."""
    assert a.shape == b.shape
    padded = np.pad(b, ((1, 1), (1, 1), (0, 0)), mode="edge")
    near = np.zeros(a.shape[:2], bool)
    for dy in (0, 1, 2):
        for dx in (0, 1, 2):
            near |= (padded[dy: dy + a.shape[0], dx: dx + a.shape[1]] == a).all(-1)
    assert near.all()
    assert (a == b).all(-1).mean() > 0.97  # (an edge here and there, not a shifted image)


def test_a_colour_mapped_and_an_rgb_image_paint_as_pyqtgraphs_do(qtbot):
    data = np.random.default_rng(0).random((17, 23)).astype(np.float32)
    lut = PROBABILITY.getLookupTable(nPts=256)
    ours, theirs = ImageItem(), pg.ImageItem()
    a = shown(ours, data, qtbot, lut=lut, levels=(0, 1))
    b = shown(theirs, data, qtbot, lut=lut, levels=(0, 1))
    assert theirs.qimage.format() == QtGui.QImage.Format.Format_Indexed8  # what it renders
    assert ours.qimage.format() in ImageItem.NATIVE
    same_but_edges(a, b)
    rgb = (np.random.default_rng(1).random((9, 11, 3)) * 255).astype(np.ubyte)
    ours, theirs = ImageItem(), pg.ImageItem()
    same_but_edges(shown(ours, rgb, qtbot), shown(theirs, rgb, qtbot))
    assert ours.qimage.format() in ImageItem.NATIVE


def test_the_colour_bars_numbers_stand_three_lines_apart(qtbot):
    view = MatrixView()
    KEPT.append(view)
    view.resize(700, 700)
    view.show()
    qtbot.waitExposed(view)
    data = np.random.default_rng(2).random((65, 65)).astype(np.float32) / 2
    view.set_matrix(data, [str(i) for i in range(65)], [str(i) for i in range(65)], "w",
                    levels=(0.0, 0.5))
    qtbot.waitUntil(lambda: view._bar_step > 0)
    line = QtGui.QFontMetrics(font()).height()
    bar = view.colorbar.axis
    height = bar.sceneBoundingRect().height()
    ticks = [v for _, values in bar.tickValues(0.0, 0.5, height) for v in values]
    apart = np.diff(sorted(ticks)) / 0.5 * height  # pixels between two numbers
    assert len(ticks) >= 3 and apart.min() >= 3 * line - 1
