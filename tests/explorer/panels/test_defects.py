"""Panel exceptions and wrong displays found by fuzzing (issue 12), each checked against the
trace's own arrays."""
import numpy as np
from PySide6 import QtCore

from models.session import load_preset

from ..test_app import hover_cell


def apply(window, qtbot, **interventions):
    with qtbot.waitSignal(window.state.trace_changed, timeout=30_000):
        window.state.set_interventions(interventions)


def test_positions_without_relative_bias_show_the_bias_the_table_would_give(make_window, qtbot):
    window = make_window("swin-digits")
    apply(window, qtbot, no_bias=True)
    window.show_panel("positional")  # used to raise KeyError: '…/bias' on every redraw
    window.state.lock(3, 5)
    trace, sel = window.state.trace, window.state.selection
    assert f"{sel.site}/bias" not in trace
    table, index = trace[f"{sel.site}/bias_table"], trace[f"{sel.site}/bias_index"]
    expected = table[:, sel.head][index]  # gathered by relative offset, independently
    bias = window.panels["positional"].bias
    np.testing.assert_allclose(bias.expanded.image.image, expected, atol=1e-6)
    assert "switched off" in bias.note.text()


def test_decoding_step_on_a_model_without_cross_attention_does_nothing(make_window):
    window = make_window("vit-digits")
    before = window.state.selection
    window.panels["prediction"].go_to_step(2)  # used to raise IndexError
    assert window.state.selection == before


def test_without_the_causal_mask_each_step_shows_its_own_choice(make_window, qtbot):
    window = make_window("translate")
    apply(window, qtbot, no_mask=True)
    meta, probs = window.state.trace.meta, window.state.trace["prediction/probs"]
    vocab = load_preset("translate").tgt_vocab
    words = [vocab.words[i] for i in probs.argmax(-1)]  # each row's own choice
    assert meta["output_tokens"] == words
    assert [top[0][0] for top in meta["top5"]] == words  # the column agrees with the top-5
    table = window.panels["prediction"].steps
    assert [table.item(r, 0).text() for r in range(table.rowCount())] == words
    assert "causal mask" in window.message_label.text()


def test_the_read_out_shows_special_tokens(make_window):
    window = make_window("translate", "the dog sleeps")
    view = window.panels["attention"].view
    last_row, last_col = view.data.shape[0] - 1, view.data.shape[1] - 1
    hover_cell(view, last_row, last_col)  # <eos> → <eos>
    shown = view.readout.item.toPlainText()
    assert "<eos> → <eos>" in shown
    assert shown.split() == view.readout_text.split() == view.toolTip().split()


def test_heads_lie_side_by_side_and_the_selected_one_is_marked(make_window, qtbot):
    window = make_window("translate")
    window.show_panel("heads")
    window.state.set_selection(head=2)
    lines = window.panels["heads"].lines
    assert lines.head == 2
    offsets = [lines.head_offset(h) for h in range(4)]
    assert len(set(offsets)) == 4  # identical patterns no longer hide one another
    image = lines.grab().toImage()
    swatch = lines._swatches[2].adjusted(-2, -2, 2, 2).toRect()
    corner = image.pixelColor(swatch.topLeft() + QtCore.QPoint(0, 0))
    assert corner.lightness() < 60  # the selected head's swatch is outlined in black
    window.select_preset("vit-digits")
    qtbot.waitUntil(lambda: window.state.trace.meta["preset"] == "vit-digits", timeout=30_000)
    window.state.set_selection(head=1)
    window.state.lock(10, None)
    plots = [plot for _, _, plot in window.panels["heads"].images.pictures]
    assert "selected" in plots[1].titleLabel.text
    assert all("selected" not in p.titleLabel.text for i, p in enumerate(plots) if i != 1)


def test_attention_colours_span_the_matrix_not_zero_to_one(make_window):
    window = make_window("vit-digits")
    view = window.panels["attention"].view
    low, high = view.image.levels
    top = float(view.data.max())
    assert low == 0 and top <= high < 1.0 and high <= 2 * top


def test_patch_numbers_are_readable_and_shown_for_swin(make_window, qtbot):
    window = make_window("swin-digits")
    window.show_panel("patches")
    panel = window.panels["patches"]
    qtbot.waitUntil(lambda: len(panel.numbers) == 256)
    assert panel.show_numbers.isChecked() and all(t.isVisible() for t in panel.numbers)
    text = panel.numbers[0]
    assert text.fill.color().alpha() > 100 and text.color.lightness() > 200


def test_swin_rollout_offers_no_discard_and_its_caption_fits(make_window, qtbot):
    window = make_window("swin-digits")
    window.show_panel("rollout")
    panel = window.panels["rollout"]
    qtbot.waitUntil(lambda: panel.result is not None)
    assert not panel.discard.isVisibleTo(panel) and not panel.discard_label.isVisibleTo(panel)
    caption = panel.picture.caption.label.item.boundingRect().width()
    assert caption <= panel.picture.width()
    window.select_preset("vit-digits")
    qtbot.waitUntil(lambda: window.state.trace.meta["preset"] == "vit-digits", timeout=30_000)
    assert panel.discard.isVisibleTo(panel)


def test_interventions_show_both_answers_side_by_side(make_window, qtbot):
    window = make_window("vit-digits")
    site = window.state.selection.site
    apply(window, qtbot, heads_off=[[site, 0], [site, 1], [site, 2], [site, 3]])
    panel = window.panels["prediction"]
    original = window.state.trace.meta["original"]
    assert panel.original_bars.isVisible()
    np.testing.assert_allclose(panel.original_bars.opts["height"], original["probs"])
    np.testing.assert_allclose(panel.bars.opts["height"], window.state.trace.meta["probs"])
    assert panel.compare.isVisible() and f"digit {original['prediction']}" in \
        panel.compare.text()
    with qtbot.waitSignal(window.state.trace_changed, timeout=30_000):
        window.state.clear_interventions()
    assert not panel.original_bars.isVisible() and not panel.compare.isVisible()

    window.select_preset("translate")
    qtbot.waitUntil(lambda: window.state.trace.meta["preset"] == "translate", timeout=30_000)
    with qtbot.waitSignal(window.state.trace_changed, timeout=30_000):
        window.state.set_input("the old man reads a book slowly and the small girls do not sing")
    apply(window, qtbot, bottleneck=True)  # a long sentence does not survive it
    meta = window.state.trace.meta
    assert meta["prediction"] != meta["original"]["prediction"]
    text = panel.compare.text()
    assert panel.compare.isVisible() and "without" in text
    assert all(word in text for word in meta["original"]["prediction"].split())
    assert "color:#c00000" in text  # the differing words are marked


def test_the_bottleneck_switch_is_offered_where_there_is_a_decoder(make_window, qtbot):
    window = make_window("translate", "the small cat sees the big dog")
    flags = window.panels["prediction"].flags
    assert flags["bottleneck"].isEnabled() and not flags["no_bias"].isEnabled()
    with qtbot.waitSignal(window.state.trace_changed, timeout=30_000):
        flags["bottleneck"].click()
    trace = window.state.trace
    assert trace.meta["interventions"] == {"bottleneck": True}
    weights = trace["decoder.layers.1.cross_attn/weights"]
    np.testing.assert_allclose(weights, 1.0 / weights.shape[-1], atol=1e-5)
    assert window.panels["prediction"].compare.isVisible()
    window.select_preset("vit-digits")
    qtbot.waitUntil(lambda: window.state.trace.meta["preset"] == "vit-digits", timeout=30_000)
    assert not flags["bottleneck"].isEnabled() and not flags["bottleneck"].isChecked()
    window.state.set_interventions({"bottleneck": True})  # from a script: refused, said why
    assert window.state.interventions == {}
    assert "seq2seq" in window.message_label.text()
