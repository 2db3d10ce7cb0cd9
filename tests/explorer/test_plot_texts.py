"""The texts pyqtgraph draws — plot titles, tick labels, axis names, the texts panels place
on a plot and the heat maps' read-outs — are checked like the Qt widgets' (fit.py): none
reaches past what its view shows, none is left out unsaid, none lies on another.

The screen test (test_presentation.py) runs this check over every central tab and dock,
for every preset and opened GPT-2, Llama and BERT folders, in English and Chinese; here the
check is shown to find what it looks for, and the fixes it led to are pinned."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6 import QtWidgets

from explorer.widgets.matrix_view import MatrixView
from tests.models import lm_folders

from .fit import cut_plot_texts, plot_texts

KEPT = []  # (a bare pyqtgraph view deleted by a test's teardown crashed)


def bare(view, qtbot, size=(320, 220)):
    KEPT.append(view)
    view.resize(*size)
    view.show()
    qtbot.waitExposed(view)
    return view


def found(view) -> list[str]:
    QtWidgets.QApplication.processEvents()  # (the plot's layout follows a new title)
    return cut_plot_texts(view)


def test_the_check_finds_planted_cut_and_overlapping_texts(qtbot):
    view = bare(pg.PlotWidget(), qtbot)
    view.setXRange(-0.5, 10.5, padding=0)  # (pyqtgraph's own end ticks: half a line in)
    view.setYRange(-0.5, 10.5, padding=0)
    view.setTitle("a title that fits")
    assert found(view) == []

    on_top = [pg.TextItem("alpha"), pg.TextItem("beta")]  # two labels on one cell
    for item in on_top:
        view.addItem(item)
        item.setPos(5, 5)
    cut = found(view)
    assert len(cut) == 1 and "overlap" in cut[0] and "'alpha'" in cut[0], cut
    on_top[1].setPos(2, 8)
    assert found(view) == []

    past = pg.TextItem("past the edge")  # clipped by the view box it lies on
    view.addItem(past)
    past.setPos(9.5, 2)
    cut = found(view)
    assert len(cut) == 1 and "cut" in cut[0] and "past the edge" in cut[0], cut
    view.removeItem(past)

    bottom = view.getPlotItem().getAxis("bottom")  # tick labels drawn over each other
    bottom.setStyle(hideOverlappingLabels=False)
    bottom.setTicks([[(4.9, "crowded"), (5.1, "labels")]])
    assert any("overlap" in f and "'crowded'" in f for f in found(view))
    bottom.setTicks([[(2, "apart"), (8, "labels")]])
    assert found(view) == []

    left = view.getPlotItem().getAxis("left")  # wider than its axis: pyqtgraph drops it
    left.setWidth(30)
    left.setTicks([[(5, "a label wider than its axis")]])
    assert any("undrawn" in f and "a label wider" in f for f in found(view))
    left.setTicks(None)

    # (last: pyqtgraph widens the plot past the view for a long title, and keeps it so)
    view.setTitle("a title far too long for a plot only three hundred pixels wide, cut")
    assert any("cut" in f and "a title far" in f for f in found(view))


def test_the_end_rows_and_columns_keep_their_labels_inside_the_plot(qtbot):
    """Rows and columns thinner than a line: the first and last labels, centred on their
    row or column, reached into the title, under the column labels, or past the plot
    (where pyqtgraph silently drops them); they move in, and the selected row keeps its
    label even at the very top."""
    view = bare(MatrixView(), qtbot, size=(260, 170))
    rows = [str(200000 + i) for i in range(30)]  # (numbers: never shortened)
    cols = [str(100000 + i) for i in range(30)]
    data = np.random.default_rng(0).random((30, 30)).astype(np.float32)
    view.set_matrix(data, rows, cols, "a title over two lines on a narrow matrix [30×30]")
    view.set_highlight(0, 0)
    qtbot.waitUntil(lambda: cut_plot_texts(view) == [])
    texts = [text for text, _, _ in plot_texts(view)]
    assert "200000" in texts and "100000" in texts  # drawn, not dropped
    box = view.plot.vb.sceneBoundingRect()
    for text, rect, _ in plot_texts(view):
        if text.startswith("2000"):
            assert box.top() <= rect.top() and rect.bottom() <= box.bottom(), text
        if text.startswith("1000"):
            assert box.left() <= rect.left() and rect.right() <= box.right(), text


@pytest.fixture(scope="module")
def gpt2_folder(tmp_path_factory):
    pytest.importorskip("transformers")
    folder = tmp_path_factory.mktemp("screen") / "tiny-gpt2"
    lm_folders.build("gpt2", folder)
    return folder


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_pipelines_weights_readout_keeps_both_tokens_readable(make_explorer, gpt2_folder,
                                                                  lang):
    """The read-out under the pipeline's weights (value, query → key) was cut at the right
    ('…␣dog → ␣c'): it was fitted to the view's width while the tab was hidden. It is
    fitted to the width it is shown at: the value whole, each token elided in its middle."""
    e = make_explorer("translate", size=(1280, 800))
    e.window.set_language(lang)
    e.open_model(gpt2_folder)
    e.set_input("The quick brown fox jumps over the lazy dog, and the cat watches it")
    e.wait()
    tokens = e.trace.meta["tokens"]
    query = max(range(len(tokens)), key=lambda i: (len(tokens[i]), i))
    key = max(range(query + 1), key=lambda j: (len(tokens[j]), j))
    e.select(query=query, key=key, locked=True)
    e.show("pipeline")
    e.paint()
    view = e.window.panels["pipeline"].views["weights"]
    shown = view.readout.item.toPlainText()
    value = f"{view.data[query, key]:.4g}"
    row, col = view.row_labels[query], view.col_labels[key]
    assert shown.startswith(value) and " → " in shown, shown
    before, after = shown.split(" → ")
    assert after == col or (after[-2:] == col[-2:] and "…" in after), (after, col)
    assert before.endswith(row[-2:]), (before, row)
    assert len(row) + len(col) > 6  # (long tokens: the case that was cut)
    assert cut_plot_texts(view) == []
