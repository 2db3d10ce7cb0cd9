"""The views at 1,024 tokens (issue 18), on a tiny random GPT-2 folder: the attention view
pools with a note, zooms, labels what fits without overlaps and reads hover from the full
matrix; the tokens strip scrolls to a far token; the heads panel thins its lines; the
pipeline pools its N × N matrices. Expected values are recomputed here from q and k."""
import math

import numpy as np
import pytest
from PySide6 import QtCore, QtGui

from explorer.bench import language_model_texts
from models.catalog import CATALOG
from models.opening import open_model
from tests.models.lm_folders import build

pytest.importorskip("transformers")

SITE, HEAD = "layers.1.attn", 1


@pytest.fixture(scope="module")
def long_model(tmp_path_factory):
    folder = tmp_path_factory.mktemp("long") / "gpt2"
    build("gpt2", folder, n_positions=1100, n_embd=32)
    name = open_model(folder).name
    yield name, language_model_texts(name, 1, 1024)[0]
    CATALOG.remove(name)


def causal_weights(q: np.ndarray, k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(scores, weights) of one head in float64: q·kᵀ/√dh, causal softmax."""
    scores = q.astype(np.float64) @ k.T.astype(np.float64) / math.sqrt(q.shape[1])
    masked = np.where(np.tri(len(q), len(k), dtype=bool), scores, -np.inf)
    weights = np.exp(masked - masked.max(axis=1, keepdims=True))
    return scores, weights / weights.sum(axis=1, keepdims=True)


def block_max(a: np.ndarray, fy: int, fx: int, signed: bool = False) -> np.ndarray:
    """Pooling written out block by block (the view's is vectorised)."""
    rows, cols = -(-a.shape[0] // fy), -(-a.shape[1] // fx)
    out = np.empty((rows, cols))
    for r in range(rows):
        for c in range(cols):
            block = a[r * fy:(r + 1) * fy, c * fx:(c + 1) * fx]
            out[r, c] = (block.flat[np.abs(block).argmax()] if signed else block.max())
    return out


def assert_labels_apart(view) -> int:
    """Shown tick labels, in pixels, never overlap one another; returns how many."""
    (x0, x1), (y0, y1) = view.plot.vb.viewRange()
    box = view.plot.vb.sceneBoundingRect()
    count = 0
    for name in ("bottom", "left"):
        axis = view.plot.getAxis(name)
        metrics = QtGui.QFontMetrics(axis.style["tickFont"])
        ticks = sorted(axis._tickLevels[0])
        spans = []
        for value, text in ticks:
            if name == "bottom":
                centre = box.left() + (value - x0) / (x1 - x0) * box.width()
                half = metrics.horizontalAdvance(text) / 2
            else:
                centre = box.top() + (value - y0) / (y1 - y0) * box.height()
                half = metrics.height() / 2
            spans.append((centre - half, centre + half))
        for (_, end), (start, _) in zip(spans, spans[1:]):
            assert end <= start, (name, ticks)
        count += len(ticks)
    return count


def test_views_at_1024_tokens(make_explorer, long_model):
    name, text = long_model
    e = make_explorer(name)
    e.set_input(text)
    e.wait()
    trace = e.trace
    n = len(trace.meta["tokens"])
    assert 1000 <= n <= 1024 and e.error == ""
    q, k = trace[f"{SITE}/q"][HEAD], trace[f"{SITE}/k"][HEAD]
    scores, weights = causal_weights(q, k)

    # -- the attention view: pooled, with a note, the head's weights underneath
    e.select(site=SITE, head=HEAD, query=None)
    e.show("attention")
    e.paint()
    view = e.window.panels["attention"].view
    fy, fx = view.pooled
    assert fy > 1 and fx > 1
    assert view.note.isVisible() and view.note_text.startswith(f"pooled {fy}×{fx} (max)")
    np.testing.assert_allclose(view.data, weights, atol=1e-6)
    np.testing.assert_allclose(view.image.image, block_max(weights, fy, fx), atol=1e-6)
    assert assert_labels_apart(view) > 4

    # -- zoomed in: cells drawn one by one, labels of the cells in view, hover exact
    view.plot.setRange(xRange=(900, 940), yRange=(930, 960), padding=0)
    e.paint()
    assert view.pooled == (1, 1) and "rows 930–959, columns 900–939" in view.note_text
    assert assert_labels_apart(view) > 4
    shown = [v for v, _ in view.plot.getAxis("bottom")._tickLevels[0]]
    assert all(900 <= v <= 940 for v in shown)
    box = view.plot.vb.sceneBoundingRect()
    pos = QtCore.QPointF(box.left() + 0.61 * box.width(), box.top() + 0.43 * box.height())
    (x0, x1), (y0, y1) = view.plot.vb.viewRange()
    row = math.floor(y0 + 0.43 * (y1 - y0))  # rows downwards, like the matrix
    col = math.floor(x0 + 0.61 * (x1 - x0))
    view.scene().sigMouseMoved.emit(pos)
    assert (e.selection.query, e.selection.key) == (row, col)
    assert view.readout_text.startswith(f"{weights[row, col]:.4g}   [{row}, {col}]")
    view.reset_view()
    e.paint()
    assert view.plot.vb.viewRange() == [[0, n], [0, n]] and view.pooled == (fy, fx)

    # -- the tokens strip scrolls to a far token
    far = n - 7
    e.select(query=far)
    e.show("tokens")
    e.paint()
    tokens = e.window.panels["tokens"]
    bar, port = tokens.scroll.horizontalScrollBar(), tokens.scroll.viewport().width()
    token_box = tokens.strip.box("query", far)
    assert bar.maximum() > 0 and bar.value() > 0
    assert bar.value() <= token_box.left() and token_box.right() <= bar.value() + port

    # -- the heads panel: the strongest 3 keys of each query and head
    e.select(query=None)
    e.show("heads")
    e.paint()
    lines = e.window.panels["heads"].lines
    index, top = lines.top
    assert lines.thinned and index.shape == (4, n, 3)
    np.testing.assert_allclose(np.sort(top[HEAD], axis=1),
                               np.sort(weights, axis=1)[:, -3:], atol=1e-6)
    assert len(lines.head_paths(HEAD)) > 0

    # -- the pipeline: one head, pooled like the attention view
    e.show("pipeline")
    e.paint()
    views = e.window.panels["pipeline"].views
    for view in views.values():  # said over the matrix, or under it where a badge would
        if view.pooled != (1, 1):  # cover more than an eighth of a small one
            said = view.note_text or view._pool_hint
            assert said.startswith(f"pooled {view.pooled[0]}×{view.pooled[1]}"), said
            if view.note.isVisible():
                badge, box = view.note.boundingRect(), view.plot.vb.boundingRect()
                assert badge.width() * badge.height() * 8 <= box.width() * box.height() * 1.2
    assert views["weights"].pooled != (1, 1)
    np.testing.assert_allclose(views["scores"].data, scores, rtol=1e-4, atol=1e-4)
    sy, sx = views["scores"].pooled
    np.testing.assert_allclose(views["scores"].image.image,
                               block_max(scores, sy, sx, signed=True), atol=1e-4)
    assert e.error == ""
