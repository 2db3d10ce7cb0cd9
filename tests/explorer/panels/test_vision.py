"""Positional, patches, windows and rollout panels show the trace's own arrays, linked."""
import numpy as np
from PySide6 import QtCore

from models.analysis import rollout


def show(window, name, qtbot):
    window.show_panel(name)
    panel = window.panels[name]
    qtbot.waitUntil(panel.isVisible)
    return panel


def test_sinusoidal_panel(make_window, qtbot):
    window = make_window("translate")
    panel = show(window, "positional", qtbot)
    window.state.set_selection(site="encoder.layers.0.self_attn")
    window.state.hover(query=2)
    trace, t = window.state.trace, panel.text
    pe = trace["encoder.embed.pos/pe"]
    np.testing.assert_allclose(t.table.image.image, pe)
    np.testing.assert_allclose(t.similarity.image.image, pe @ pe.T, rtol=1e-5, atol=1e-5)
    n = len(trace.meta["source_tokens"])
    np.testing.assert_allclose(t.embedding.image.image + t.pe.image.image, t.total.image.image,
                               atol=1e-5)
    np.testing.assert_allclose(t.pe.image.image, pe[:n])
    assert t.table.row_box.rect().top() == 2 and t.cursor.value() == 2
    assert t.embedding.row_box.rect().top() == 2
    x, y = t.lines[0].getData()
    np.testing.assert_allclose(y, np.sin(np.arange(len(pe)) / 10000 ** 0))  # dim 0: sin(pos)


def test_vit_position_similarity_grid(make_window, qtbot):
    window = make_window("vit-digits")
    panel = show(window, "positional", qtbot)
    table = window.state.trace["pos_embed/table"][1:]
    a, b = 9, 50
    cosine = table[a] @ table[b] / np.linalg.norm(table[a]) / np.linalg.norm(table[b])
    mosaic = panel.patches.image.image
    ra, ca = divmod(a, 8)
    rb, cb = divmod(b, 8)
    assert mosaic[ra * 9 + rb, ca * 9 + cb] == np.float32(cosine) or \
        abs(mosaic[ra * 9 + rb, ca * 9 + cb] - cosine) < 1e-5
    window.state.hover(query=1 + a)
    assert panel.patches.focus.isVisible()


def test_swin_bias_table_and_its_expansion(make_window, qtbot):
    window = make_window("swin-digits")
    panel = show(window, "positional", qtbot)
    state = window.state
    state.set_selection(site="layers.0.blocks.1.attn", head=1)
    trace = state.trace
    b = panel.bias
    np.testing.assert_allclose(b.table.image.image,
                               trace["layers.0.blocks.1.attn/bias_table"][:, 1].reshape(7, 7))
    np.testing.assert_allclose(b.expanded.image.image, trace["layers.0.blocks.1.attn/bias"][1])
    b.expanded.hovered.emit(6, 9)  # token (1,2) and token (2,1) of the window
    assert "Δy=-1, Δx=+1" in b.note.text()
    assert b.table.cell_box.isVisible()
    assert b.table.cell_box.rect().top() == -1 + 3 and b.table.cell_box.rect().left() == 1 + 3


def test_windows_panel_links_tokens_everywhere(make_window, qtbot):
    window = make_window("swin-digits")
    panel = show(window, "windows", qtbot)
    state = window.state
    state.set_selection(site="layers.0.blocks.1.attn")
    trace = state.trace
    plot = panel.grids[2][0]  # the windows over the rolled grid
    ry, rx = 0, 1  # rolled position; originally at (2, 3)
    plot.scene().sigMouseMoved.emit(plot.vb.mapViewToScene(QtCore.QPointF(rx + 0.5, ry + 0.5)))
    y, x = (ry + 2) % 16, (rx + 2) % 16
    window_of = trace["layers.0.blocks.1/window_of_token"]
    inside = trace["layers.0.blocks.1/index_in_window"]
    assert state.selection.window == window_of[y, x] == 0
    assert state.selection.query == inside[y, x] == 1
    mask = trace["layers.0.blocks.1.attn/mask"][0, 0]
    assert panel.mask.row_box.rect().top() == 1
    np.testing.assert_array_equal(panel.mask.masked.isVisible(), bool((mask < 0).any()))
    # the pipeline and the image view follow
    pipeline = window.panels["pipeline"]
    window.show_panel("pipeline")
    qtbot.waitUntil(pipeline.isVisible)
    assert pipeline.views["weights"].row_box.rect().top() == 1
    assert window.panels["tokens"].picture.focus.rect().topLeft() == QtCore.QPointF(x * 2, y * 2)
    # a bottom-right window mixes regions: its mask blocks pairs, exactly where labels differ
    state.set_selection(window=15)
    window.show_panel("windows")
    qtbot.waitUntil(panel.isVisible)
    regions = trace["layers.0.blocks.1/regions"]
    cells = [regions[12 + i // 4, 12 + i % 4] for i in range(16)]
    expected = np.array([[a != b for b in cells] for a in cells])
    np.testing.assert_array_equal(panel.mask.image.image < 0, expected)


def test_patch_merging_sources_come_from_the_trace(make_window, qtbot):
    window = make_window("swin-digits")
    panel = show(window, "windows", qtbot)
    state = window.state
    state.set_selection(site="layers.0.blocks.1.attn")
    state.hover(window=5, query=6)
    trace = state.trace
    where = np.argwhere((trace["layers.0.blocks.1/window_of_token"] == 5)
                        & (trace["layers.0.blocks.1/index_in_window"] == 6))[0]
    y, x = where
    flat = trace["layers.1.downsample/source"][y // 2, x // 2]
    xs, ys = panel.stage_plots[0][3].getData()
    assert sorted(zip((ys - 0.5).astype(int), (xs - 0.5).astype(int))) == \
        sorted(zip(*np.divmod(flat, 16)))
    assert (y, x) in set(zip(*np.divmod(flat, 16)))


def test_patches_panel(make_window, qtbot):
    window = make_window("vit-digits")
    panel = show(window, "patches", qtbot)
    trace = window.state.trace
    np.testing.assert_allclose(panel.embedding.image.image, trace["patch_embed/tokens"])
    assert len(panel.numbers) == 64 and panel.numbers[9].toPlainText() == "9"
    image = trace["input/image"]
    strip = panel.sequence_image.image
    np.testing.assert_allclose(strip[0:4, 5 * 9: 5 * 9 + 4], image[4:8, 4:8])  # patch 9
    panel.picture.hovered.emit(1, 1)  # patch 9 is the query everywhere
    assert window.state.selection.query == 10
    assert panel.embedding.row_box.rect().top() == 9


def test_rollout_panel(make_window, qtbot):
    window = make_window("vit-digits")
    panel = show(window, "rollout", qtbot)
    trace = window.state.trace
    expected = rollout([trace[f"blocks.{i}.attn/weights"] for i in range(4)])
    np.testing.assert_allclose(panel.result, expected)
    np.testing.assert_allclose(panel.result.sum(-1), 1.0, atol=1e-9)
    panel.fusion.setCurrentText("max")
    panel.discard.setValue(50)
    np.testing.assert_allclose(panel.result.sum(-1), 1.0, atol=1e-9)
    assert "max" in panel.picture.caption.text
    window2 = make_window("swin-digits")
    panel2 = show(window2, "rollout", qtbot)
    assert panel2.result.shape == (16, 256)
    assert not panel2.discard.isVisibleTo(panel2)


def test_swin_window_titles_keep_the_window_number_at_200_percent(make_explorer):
    """At 200% on a 1366×768 screen the mask and weights titles wrap onto three lines rather
    than lose which window (and head) they show."""
    e = make_explorer("swin-digits", size=(1366, 768))
    e.set_zoom(2.0)
    e.select(site="layers.0.blocks.1.attn", head=1, window=5)
    e.show("windows")
    e.paint()
    panel = e.window.panels["windows"]
    mask, weights = (" ".join(view._shown_title.split()) for view in (panel.mask, panel.weights))
    assert "window 5" in mask, mask
    assert "window 5, head 1" in weights, weights
