"""Pipeline, heads and model panels, and interventions, for every architecture."""
from html import escape

import numpy as np
import pytest
import torch
from PySide6 import QtCore

from explorer.panels.pipeline import STAGES
from models.session import load_preset

SITES = {"translate": "encoder.layers.1.self_attn", "vit-digits": "blocks.2.attn",
         "swin-digits": "layers.0.blocks.1.attn"}


def show(window, name, qtbot):
    window.show_panel(name)
    panel = window.panels[name]
    qtbot.waitUntil(panel.isVisible)
    return panel


@pytest.mark.parametrize("preset", list(SITES))
def test_pipeline_shows_the_trace_arrays(make_window, qtbot, preset):
    window = make_window(preset)
    panel = show(window, "pipeline", qtbot)
    state = window.state
    state.set_selection(site=SITES[preset], head=1, window=3 if preset == "swin-digits" else 0)
    trace, sel = state.trace, state.selection
    pick = (lambda a: a[sel.window]) if preset == "swin-digits" else (lambda a: a)
    q, k, v = (pick(trace[f"{sel.site}/{x}"])[1] for x in "qkv")
    views = panel.views
    np.testing.assert_allclose(views["q"].image.image, q, atol=1e-6)
    np.testing.assert_allclose(views["kT"].image.image, k.T, atol=1e-6)
    np.testing.assert_allclose(views["v"].image.image, v, atol=1e-6)
    scores = q @ k.T / np.sqrt(q.shape[1])  # independent: recomputed from q and k
    np.testing.assert_allclose(views["scores"].image.image, scores, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(views["weights"].image.image,
                               pick(trace[f"{sel.site}/weights"])[1], atol=1e-6)
    np.testing.assert_allclose(views["out"].image.image, views["weights"].image.image @ v,
                               atol=1e-5)
    assert panel.cells["bias"].isVisible() == (preset == "swin-digits")
    if preset == "swin-digits":
        np.testing.assert_allclose(views["bias"].image.image, trace[f"{sel.site}/bias"][1])
        assert panel.cells["mask"].isVisible()
    panel.raw_scores.setChecked(True)
    np.testing.assert_allclose(views["scores"].image.image, q @ k.T, rtol=1e-4, atol=1e-4)


def test_hover_on_weights_lights_q_k_v_and_output(make_window, qtbot):
    window = make_window("translate")
    panel = show(window, "pipeline", qtbot)
    view = panel.views["weights"]
    scene_pos = view.plot.vb.mapViewToScene(QtCore.QPointF(4.5, 2.5))  # cell (2, 4)
    view.scene().sigMouseMoved.emit(scene_pos)
    assert (window.state.selection.query, window.state.selection.key) == (2, 4)
    boxes = {name: v for name, v in panel.views.items()}
    assert boxes["q"].row_box.isVisible() and boxes["q"].row_box.rect().top() == 2
    assert boxes["kT"].col_box.isVisible() and boxes["kT"].col_box.rect().left() == 4
    assert boxes["v"].row_box.isVisible() and boxes["v"].row_box.rect().top() == 4
    assert boxes["out"].row_box.rect().top() == 2 and not boxes["out"].col_box.isVisible()
    assert boxes["scores"].row_box.rect().top() == 2
    assert boxes["scores"].col_box.rect().left() == 4
    # and the other panels follow: the attention matrix and the token strip
    assert window.panels["tokens"].strip.query == 2


def test_step_through_reaches_every_stage_and_back(make_window, qtbot):
    window = make_window("swin-digits")
    panel = show(window, "pipeline", qtbot)
    seen = []
    for _ in range(len(STAGES) + 2):
        panel.next_button.click()
        seen.append(panel.stage)
    assert seen[: len(STAGES)] == list(range(len(STAGES)))
    assert seen[-1] == len(STAGES) - 1  # stops at the last
    assert STAGES[-1][0] in panel.caption.text()
    for _ in range(len(STAGES)):
        panel.prev_button.click()
    assert panel.stage == 0 and panel.raw_scores.isChecked()  # Q,K stage: raw scores
    panel.go_to_stage(4)
    assert not panel.raw_scores.isChecked()
    assert "border: 3px solid rgb" in panel.cells["weights"].styleSheet()
    with qtbot.waitSignal(panel.timer.timeout, timeout=5000):
        panel.play_button.setChecked(True)
    panel.play_button.setChecked(False)


def test_model_view_selects_a_head_everywhere(make_window, qtbot):
    window = make_window("vit-digits")
    panel = show(window, "model", qtbot)
    assert panel.table.rowCount() == 4 * 4
    panel.select(1, 2)
    assert window.state.selection.site == "blocks.1.attn"
    assert window.state.selection.head == 2
    assert window.head_box.value() == 2 and window.layer_box.value() == 1
    step = 44
    assert panel.focus.rect().left() == 2 * step - 2
    # statistics agree with an independent computation on the trace
    w = window.state.trace["blocks.1.attn/weights"][2].astype(np.float64)
    entropy = float(np.mean(-(w * np.log(np.clip(w, 1e-12, None))).sum(-1)))
    rows = [r for r in range(panel.table.rowCount())
            if panel.table.item(r, 0).value == 1 and panel.table.item(r, 1).value == 2]
    assert panel.table.item(rows[0], 2).value == pytest.approx(entropy, rel=1e-6)
    assert panel.table.item(rows[0], 4).value == pytest.approx(w[:, 0].mean(), rel=1e-6)


def test_heads_panel_draws_every_head(make_window, qtbot):
    window = make_window("translate")
    panel = show(window, "heads", qtbot)
    lines = panel.lines
    assert lines.weights.shape[0] == 4 and all(lines.enabled)
    lines.toggle_head(2)
    assert lines.enabled == [True, True, False, True]
    window.state.hover(query=1)
    assert lines.query == 1
    image = panel.grab()
    assert not image.isNull()


def test_switching_off_a_head_gives_the_direct_computation(make_window, qtbot):
    window = make_window("translate")
    state = window.state
    site = "encoder.layers.1.self_attn"
    before = state.trace
    with qtbot.waitSignal(state.trace_changed, timeout=30_000):
        state.toggle_head(site, 1)
    after = state.trace
    assert after.meta["interventions"] == {"heads_off": [[site, 1]]}
    assert after.meta["original"]["prediction"] == before.meta["prediction"]
    # direct: the unedited run's per-head outputs, head 1 zeroed, concat, then W_o
    module = dict(load_preset("translate").model.named_modules())[site]
    out = before[f"{site}/out"].copy()  # (H, N, dh)
    out[1] = 0
    concat = torch.from_numpy(np.concatenate(list(out), axis=-1))
    expected = module.out_proj(concat).detach().numpy()
    np.testing.assert_allclose(after[f"{site}/proj"], expected, atol=1e-5)
    assert np.all(after[f"{site}/out"][1] == 0)
    assert "off" in window.panels["prediction"].active.text()
    with qtbot.waitSignal(state.trace_changed, timeout=30_000):
        state.clear_interventions()
    np.testing.assert_allclose(state.trace[f"{site}/proj"], before[f"{site}/proj"], atol=1e-6)


def test_mask_bias_and_position_switches(make_window, qtbot):
    window = make_window("swin-digits")
    state = window.state
    with qtbot.waitSignal(state.trace_changed, timeout=30_000):
        window.panels["prediction"].flags["no_mask"].setChecked(True)
    assert "layers.0.blocks.1.attn/mask" not in state.trace
    with qtbot.waitSignal(state.trace_changed, timeout=30_000):
        window.panels["prediction"].flags["no_bias"].setChecked(True)
    assert "layers.0.blocks.1.attn/bias" not in state.trace
    assert state.interventions == {"no_mask": True, "no_bias": True}
    assert "without (grey)" in window.panels["prediction"].compare.text()


def test_decoding_step_slider_shows_the_decoder_at_that_step(make_window, qtbot):
    window = make_window("translate", "the girl does not sleep")
    state = window.state
    state.set_selection(site="encoder.layers.0.self_attn")
    panel = window.panels["prediction"]
    panel.step_slider.setValue(3)
    assert state.selection.site == "decoder.layers.1.cross_attn"
    assert state.selection.query == 3 and state.selection.locked
    meta = state.trace.meta
    assert f"<b>{escape(meta['output_tokens'][3])}</b>" in panel.step_label.text()
    assert meta["top5"][3][1][0] in panel.step_label.text()
    # the attention panel shows the same decoder row
    assert window.panels["attention"].view.row_box.rect().top() == 3


def test_lecture_keys_step_through_the_front_tab(make_window, qtbot):
    window = make_window("swin-digits")
    pipeline = show(window, "pipeline", qtbot)
    window.activateWindow()
    qtbot.keyClick(window, QtCore.Qt.Key_PageDown)
    qtbot.keyClick(window, QtCore.Qt.Key_PageDown)
    assert pipeline.stage == 1
    qtbot.keyClick(window, QtCore.Qt.Key_PageUp)
    assert pipeline.stage == 0
    windows = show(window, "windows", qtbot)
    qtbot.keyClick(window, QtCore.Qt.Key_PageDown)
    assert windows.step == 1
    qtbot.keyClick(window, QtCore.Qt.Key_Space)
    assert windows.play_button.isChecked() and windows.timer.isActive()
    qtbot.keyClick(window, QtCore.Qt.Key_Space)
    assert not windows.timer.isActive()
