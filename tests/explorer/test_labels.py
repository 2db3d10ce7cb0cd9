"""Labels a lecturer points at: the selected row of a heat map keeps its label when the
others are thinned, and the selected row's neighbours make room instead of overlapping."""
import numpy as np
import pytest
from PySide6 import QtGui

from explorer.widgets.matrix_view import MatrixView

KEPT = []


@pytest.mark.parametrize("rows", [40, 600])  # thinned labels; a long input (zoomable)
def test_the_selected_row_always_has_its_label(qtbot, rows):
    view = MatrixView()
    KEPT.append(view)  # (a bare pyqtgraph view deleted by the test's teardown crashed)
    view.resize(400, 260)
    view.show()
    labels = [f"w{i}" for i in range(rows)]
    view.set_matrix(np.random.default_rng(0).random((rows, rows)).astype(np.float32),
                    labels, labels, "weights")
    qtbot.waitExposed(view)
    left = view.plot.getAxis("left")
    shown = [int(y) for y, _ in left._tickLevels[0]]
    assert 1 < len(shown) < rows  # thinned: not every row has its label
    row = next(i for i in range(1, rows) if i not in shown)
    view.set_highlight(row, 0)
    ticks = left._tickLevels[0]
    metrics = QtGui.QFontMetrics(left.style["tickFont"] or left.font())
    box = view.plot.vb.sceneBoundingRect()
    (y0, y1) = view.plot.vb.viewRange()[1]
    # at its row; a row at the plot's edge: moved in by half a line at most, so that the
    # label stays inside the plot (rows thinner than a line)
    at = [y for y, text in ticks if text == labels[row]]
    assert len(at) == 1
    assert abs(at[0] - (row + 0.5)) / (y1 - y0) * box.height() <= metrics.height() / 2 + 2
    for (a, _), (b, _) in zip(ticks, ticks[1:]):  # never on top of each other
        assert (b - a) / (y1 - y0) * box.height() >= metrics.height()


@pytest.mark.parametrize("tokens", [15, 17, 19])
def test_the_heads_dock_token_labels_never_overlap(make_explorer, tokens):
    e = make_explorer("induction")
    words = "happy dog run park green tree big bird sing rain".split()
    e.set_input(" ".join((words * 2)[:tokens - 1]))  # (+ <bos>)
    e.wait()
    e.show("heads")
    lines = e.window.panels["heads"].lines
    lines.resize(lines.width(), 46 + 12 * tokens)  # a low dock: rows 12 px apart
    n = len(lines.queries)
    assert n == tokens
    step = lines.label_step(n)
    spacing = (lines.height() - 46.0) / n
    assert step * spacing >= lines.fontMetrics().height()  # a line of text apart, at least


def test_every_central_tab_is_in_view_on_a_narrow_plot(make_explorer):
    """ViT and Swin show eight tabs: on a 1280-wide screen they elide their titles (whole
    in the tooltip) instead of hiding tabs behind scroll arrows."""
    e = make_explorer("swin-digits")
    window = e.window
    window.resize(1280, 800)
    e.paint()
    bar = window.tabs.tabBar()
    shown = [i for i in range(bar.count()) if window.tabs.isTabVisible(i)]
    assert len(shown) == 8 and not window.tabs.usesScrollButtons()
    for i in shown:
        assert bar.rect().contains(bar.tabRect(i)), bar.tabText(i)
        assert bar.tabToolTip(i) == bar.tabText(i)  # the whole title, elided or not
