"""The application driven like a user would, offscreen, against independent computations."""
from pathlib import Path

import numpy as np
import pytest
from PySide6 import QtCore

from models.presets import PRESETS
from models.session import load_preset

ROOT = Path(__file__).resolve().parents[2]
DIGITS = ROOT / "resources" / "samples" / "digits"


def shown_matrix(window):
    return window.panels["attention"].view.image.image


@pytest.mark.parametrize("name", list(PRESETS))
def test_each_preset_starts_and_paints_its_trace(make_window, name):
    window = make_window(name)
    state = window.state
    sel = state.selection
    weights = state.trace[f"{sel.site}/weights"]
    expected = weights[sel.window, sel.head] if weights.ndim == 4 else weights[sel.head]
    np.testing.assert_allclose(shown_matrix(window), expected, atol=1e-6)
    headline = {"transformer": state.trace.meta["prediction"], "decoder": "next: "}
    assert window.panels["prediction"].headline.text().startswith(
        headline.get(PRESETS[name].arch, "digit"))
    image = window.grab()
    assert image.width() > 800 and not image.isNull()


def test_typing_runs_the_model_after_a_pause(make_window, qtbot):
    window = make_window("translate")
    line = window.text_input.line
    line.clear()
    with qtbot.waitSignal(window.state.trace_changed, timeout=30_000):
        qtbot.keyClicks(line, "the girl sleeps")
    expected = load_preset("translate").run("the girl sleeps").meta["prediction"]
    assert window.state.trace.meta["input"] == "the girl sleeps"
    assert window.panels["prediction"].headline.text() == expected


def test_rapid_edits_end_on_the_last_input_and_never_paint_stale_ones(make_window, qtbot):
    window = make_window("translate")
    state = window.state
    painted = []

    def check(trace):
        painted.append(trace.meta["input"])
        assert trace.meta["input"] == state.input  # nothing stale reaches the panels

    state.trace_changed.connect(check)
    words = "the small black cat in front of the old house does not see the dog".split()
    edits = [" ".join(words[: 1 + i % len(words)]) for i in range(50)]
    edits[-1] = "a happy girl likes the red car"
    for text in edits:
        state.set_input(text)
    qtbot.waitUntil(lambda: bool(painted) and painted[-1] == edits[-1], timeout=60_000)
    assert len(painted) < 50  # intermediate requests were skipped
    expected = load_preset("translate").run(edits[-1])
    assert window.panels["prediction"].headline.text() == expected.meta["prediction"]
    np.testing.assert_allclose(
        shown_matrix(window),
        expected[f"{state.selection.site}/weights"][state.selection.head], atol=1e-5)


def test_drawing_changes_the_prediction(make_window, qtbot):
    window = make_window("vit-digits")
    canvas = window.image_input.canvas
    P = QtCore.QPointF
    with qtbot.waitSignal(window.state.trace_changed, timeout=30_000):
        canvas.stroke([P(96, 30), P(96, 160)])  # a vertical bar: a "1"
    qtbot.waitUntil(lambda: window.state.settled(), timeout=30_000)
    first = np.array(window.state.trace.meta["probs"])
    circle = [P(96 + 45 * np.cos(a), 96 + 62 * np.sin(a)) for a in np.linspace(0, 6.4, 40)]
    canvas.clear()
    canvas.stroke(circle)  # a "0"
    qtbot.waitUntil(lambda: window.state.trace.meta["input"] == "<image>" and
                    not np.allclose(window.state.trace.meta["probs"], first), timeout=30_000)
    qtbot.waitUntil(lambda: window.state.settled(), timeout=30_000)
    second = np.array(window.state.trace.meta["probs"])
    assert int(first.argmax()) != int(second.argmax())
    assert window.panels["prediction"].headline.text().startswith(
        f"digit {window.state.trace.meta['prediction']}")
    canvas.undo()  # back to the empty canvas after clear
    assert canvas.array().max() == 0


def hover_cell(view, row, col):
    scene_pos = view.plot.vb.mapViewToScene(QtCore.QPointF(col + 0.5, row + 0.5))
    view.scene().sigMouseMoved.emit(scene_pos)


def test_hover_in_one_panel_highlights_in_the_others(make_window):
    window = make_window("translate", "the small cat does not see the big dog")
    state = window.state
    view = window.panels["attention"].view
    hover_cell(view, 3, 5)
    assert (state.selection.query, state.selection.key) == (3, 5)
    assert view.row_box.isVisible() and view.row_box.rect().top() == 3
    strip = window.panels["tokens"].strip
    assert (strip.query, strip.key) == (3, 5)
    assert window.panels["prediction"].steps.currentRow() == 3  # decoding step 3
    # and back: pointing at a step in the prediction panel moves the matrix highlight
    window.panels["prediction"]._step_pointed(1)
    assert view.row_box.rect().top() == 1 and strip.query == 1


def test_click_locks_and_escape_unlocks(make_window, qtbot):
    window = make_window("translate")
    view = window.panels["attention"].view
    view.clicked.emit(1, 2)
    assert window.state.selection.locked
    hover_cell(view, 4, 4)
    assert (window.state.selection.query, window.state.selection.key) == (1, 2)
    view.setFocus()  # where a real click leaves the focus (Esc in the text box leaves it)
    qtbot.keyClick(window, QtCore.Qt.Key_Escape)
    assert not window.state.selection.locked


def test_image_hover_selects_the_token_in_window_and_matrix(make_window):
    window = make_window("swin-digits")
    state = window.state
    picture = window.panels["tokens"].picture
    site = state.selection.site
    block = site.rsplit(".", 1)[0]
    res = state.site_info()["resolution"][0]
    y, x = 1, res - 1  # a token that the cyclic shift moves to another window
    cell = 32 / res
    picture.scene().sigMouseMoved.emit(
        picture.plot.vb.mapViewToScene(QtCore.QPointF((x + 0.5) * cell, (y + 0.5) * cell)))
    trace = state.trace
    assert state.selection.window == trace[f"{block}/window_of_token"][y, x]
    assert state.selection.query == trace[f"{block}/index_in_window"][y, x]
    assert window.window_box.value() == state.selection.window
    view = window.panels["attention"].view
    weights = trace[f"{site}/weights"][state.selection.window, state.selection.head]
    np.testing.assert_allclose(view.image.image, weights, atol=1e-6)
    assert view.row_box.isVisible() and view.row_box.rect().top() == state.selection.query


def test_keyboard_moves_layer_and_head(make_window, qtbot):
    window = make_window("vit-digits")
    window.panels["attention"].setFocus()
    before = window.state.selection
    qtbot.keyClick(window, QtCore.Qt.Key_Left)
    assert window.state.selection.site != before.site
    qtbot.keyClick(window, QtCore.Qt.Key_Down)
    assert window.state.selection.head == min(before.head + 1, 3)


def test_hidden_panels_do_no_work_until_shown(make_window, qtbot):
    window = make_window("translate")
    panel = window.panels["tokens"]
    window.docks["tokens"].hide()
    count = panel.redraws
    with qtbot.waitSignal(window.state.trace_changed, timeout=30_000):
        window.state.set_input("the dog runs")
    assert panel.redraws == count
    window.docks["tokens"].show()
    qtbot.waitUntil(lambda: panel.redraws == count + 1)
    assert panel.strip.keys[: 3] == ["the", "dog", "runs"]


BAD_TEXT = [("", "empty"), ("the cat " * 40, "at most")]


@pytest.mark.parametrize("text, message", BAD_TEXT)
def test_bad_text_keeps_the_last_result(make_window, qtbot, text, message):
    window = make_window("translate")
    before = window.state.trace
    headline = window.panels["prediction"].headline.text()
    with qtbot.waitSignal(window.state.run_failed, timeout=30_000):
        window.state.set_input(text)
    assert message in window.message_label.text()
    assert window.state.trace is before
    assert window.panels["prediction"].headline.text() == headline


def test_unknown_words_are_listed_and_the_rest_translated(make_window, qtbot):
    window = make_window("translate")
    with qtbot.waitSignal(window.state.trace_changed, timeout=30_000):
        window.state.set_input("the zebra sleeps")
    assert "zebra" in window.message_label.text()
    assert "zebra" in window.text_input.unknown.text()
    assert window.state.trace.meta["unknown"] == ["zebra"]
    assert window.state.site_info()["kind"] == "cross"  # keys are the source words
    assert window.panels["tokens"].strip.unknown == {1}


def write(path, data):
    path.write_bytes(data)
    return str(path)


def test_bad_images_keep_the_last_result(make_window, qtbot, tmp_path, monkeypatch):
    window = make_window("vit-digits")
    before = window.state.trace
    import models.tasks.digits as digits

    monkeypatch.setattr(digits, "MAX_PIXELS", 100)
    bad = [write(tmp_path / "notes.png", b"this is text, not an image"),
           write(tmp_path / "broken.png", (DIGITS / "digit_1.png").read_bytes()[:60]),
           str(DIGITS / "digit_1.png"),  # 128x128 > 100 pixels: refused as too large
           str(tmp_path / "missing.png")]
    for path in bad:
        with qtbot.waitSignal(window.state.run_failed, timeout=30_000):
            window.load_image_file(path)
        assert window.message_label.text()
        assert window.state.trace is before


def test_unavailable_device_falls_back_to_cpu(make_window, qtbot):
    window = make_window("reverse")
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with qtbot.waitSignal(window.state.trace_changed, timeout=30_000):
        window.state.set_device("cuda")
    assert "CUDA" in window.message_label.text()
    assert window.state.device == "cpu"


def test_layout_and_preset_persist(make_window, qtbot):
    window = make_window("reverse")
    window.close()
    again = make_window(None)
    assert again.state.preset == "reverse"
    assert again.preset_box.currentData() == "reverse"


def test_qt_binding_keeps_reference_counts(qapp):
    """A Qt binding that leaks decrefs of None (PySide6 6.12.0) aborts the app in the end."""
    import sys

    from PySide6 import QtWidgets

    item = QtWidgets.QGraphicsRectItem()
    before = sys.getrefcount(None)
    for _ in range(200):
        item.setRect(0, 1, 2, 3)
    assert sys.getrefcount(None) >= before - 5


def test_dropping_an_image_file_runs_it(make_window, qtbot):
    from PySide6 import QtGui

    window = make_window("translate")
    mime = QtCore.QMimeData()
    mime.setUrls([QtCore.QUrl.fromLocalFile(str(DIGITS / "digit_7.png"))])
    drop = QtGui.QDropEvent(QtCore.QPointF(50, 50), QtCore.Qt.CopyAction, mime,
                            QtCore.Qt.LeftButton, QtCore.Qt.NoModifier)
    with qtbot.waitSignal(window.state.trace_changed, timeout=30_000):
        window.dropEvent(drop)
    assert window.state.preset == "vit-digits"  # a text preset switches to an image one
    assert window.state.trace.meta["input"].endswith("digit_7.png")
    assert window.inputs.currentWidget() is window.image_input


def test_a_corrupt_weights_file_is_reported_and_the_last_result_stays(make_window, qtbot,
                                                                      weights_file, monkeypatch):
    window = make_window("translate")
    before = window.state.trace
    weights_file("reverse", b"\x80\x04\x95 pickled? never")
    with qtbot.waitSignal(window.state.run_failed, timeout=30_000):
        window.select_preset("reverse")
    assert "not a valid safetensors" in window.message_label.text()
    assert window.state.trace is before
    assert window.panels["prediction"].headline.text() == before.meta["prediction"]
    monkeypatch.undo()
    with qtbot.waitSignal(window.state.trace_changed, timeout=30_000):
        window.select_preset("vit-digits")  # and the app goes on working
    assert window.state.trace.meta["preset"] == "vit-digits"


def test_running_out_of_gpu_memory_falls_back_to_cpu(make_window, qtbot, monkeypatch):
    import torch

    window = make_window("reverse")
    session = window.state.runner.session
    real_run = session.run
    calls = []

    def run_once_out_of_memory(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory (simulated)")
        return real_run(*args, **kwargs)

    monkeypatch.setattr(session, "run", run_once_out_of_memory)
    with qtbot.waitSignal(window.state.trace_changed, timeout=30_000):
        window.state.set_input("abc")
    assert "ran out of memory" in window.message_label.text()
    assert window.state.trace.meta["prediction"] == "cba"
    assert window.state.device == "cpu"
