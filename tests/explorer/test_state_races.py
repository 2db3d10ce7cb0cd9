"""The screen never disagrees with the controls: preset switches racing the worker, the
typing debounce, inputs remembered per preset (defects found by fuzzing, issue 12)."""
from pathlib import Path

import numpy as np
from PySide6 import QtCore

from models.session import load_preset

ROOT = Path(__file__).resolve().parents[2]
DIGITS = ROOT / "resources" / "samples" / "digits"


def settled(window):
    """The newest request has been answered (painted or failed)."""
    state = window.state
    return state.settled() and state.shown is not None and (
        state.error or state.shown.id == state._newest_id)


def assert_consistent(window):
    state, trace = window.state, window.state.trace
    assert trace.meta["preset"] == state.preset == window.preset_box.currentData()
    assert state.shown.preset == state.preset and state.shown.input is state.input
    text_model = trace.meta["arch"] == "transformer"
    assert (window.inputs.currentWidget() is window.text_input) == text_model
    assert window.inputs.isEnabled()


def test_switching_away_and_straight_back_runs_the_preset_on_screen(make_window, qtbot):
    window = make_window("translate")
    window.select_preset("reverse")
    window.select_preset("translate")  # before reverse's trace has arrived
    qtbot.waitUntil(lambda: settled(window), timeout=30_000)
    assert_consistent(window)
    assert window.state.preset == "translate"
    with qtbot.waitSignal(window.state.trace_changed, timeout=30_000):
        window.text_input.set_text_and_run("the dog sleeps")
    expected = load_preset("translate").run("the dog sleeps").meta["prediction"]
    assert window.state.trace.meta["preset"] == "translate"
    assert window.state.trace.meta["prediction"] == expected


def test_a_preset_that_fails_to_load_gives_the_controls_back_to_the_shown_one(
        make_window, qtbot, weights_file):
    window = make_window("translate")
    weights_file("reverse", b"not a weights file")
    with qtbot.waitSignal(window.state.run_failed, timeout=30_000):
        window.preset_box.setCurrentIndex(window.preset_box.findData("reverse"))
    assert window.state.preset == "translate"
    assert window.preset_box.currentData() == "translate"
    assert_consistent(window)
    # the next edit goes to the model on screen
    with qtbot.waitSignal(window.state.trace_changed, timeout=30_000):
        window.text_input.set_text_and_run("the cat sleeps")
    assert window.state.trace.meta["preset"] == "translate"
    # switching to the broken one and back again does something
    with qtbot.waitSignal(window.state.run_failed, timeout=30_000):
        window.select_preset("reverse")
    with qtbot.waitSignal(window.state.trace_changed, timeout=30_000):
        window.select_preset("vit-digits")
    assert_consistent(window)


def test_typing_debounce_does_not_survive_a_preset_switch(make_window, qtbot):
    window = make_window("reverse")
    failures = []
    window.state.run_failed.connect(failures.append)
    qtbot.keyClicks(window.text_input.line, "98")  # the debounce timer is now running
    assert window.text_input.timer.isActive()
    with qtbot.waitSignal(window.state.trace_changed, timeout=30_000):
        window.select_preset("vit-digits")
    qtbot.waitUntil(lambda: settled(window), timeout=30_000)
    assert not window.text_input.timer.isActive()
    assert failures == [] and "no such image" not in window.message_label.text()
    assert window.state.trace.meta["preset"] == "vit-digits"
    assert_consistent(window)


def test_text_for_an_image_model_is_refused_without_a_run(make_window, qtbot):
    window = make_window("vit-digits")
    before = window.state.trace
    with qtbot.waitSignal(window.state.message, timeout=5_000) as message:
        window.state.set_input(np.zeros(3).tolist())  # neither text nor an image
    assert "takes an image" in message.args[0]
    window.state.set_preset("translate")
    qtbot.waitUntil(lambda: settled(window), timeout=30_000)
    with qtbot.waitSignal(window.state.message, timeout=5_000) as message:
        window.state.set_input(np.zeros((8, 8)))
    assert "takes text" in message.args[0]
    assert window.state.trace is not before and window.state.input == "the small cat sees " \
        "the big dog"


def test_inputs_are_remembered_per_preset_and_shown_when_coming_back(make_window, qtbot):
    window = make_window("translate")
    with qtbot.waitSignal(window.state.trace_changed, timeout=30_000):
        window.text_input.set_text_and_run("the girl sleeps")
    with qtbot.waitSignal(window.state.trace_changed, timeout=30_000):
        window.select_preset("vit-digits")
    canvas = window.image_input.canvas
    P = QtCore.QPointF
    with qtbot.waitSignal(window.state.trace_changed, timeout=30_000):
        canvas.stroke([P(96, 30), P(96, 160)])
    qtbot.waitUntil(lambda: settled(window), timeout=30_000)
    drawing = canvas.array()
    assert drawing.max() > 0
    with qtbot.waitSignal(window.state.trace_changed, timeout=30_000):
        window.select_preset("swin-digits")  # never drawn on: its default sample
    qtbot.waitUntil(lambda: settled(window), timeout=30_000)
    # the sample digit is on the canvas, to draw over (issue 20), not the other drawing
    assert canvas.array().max() > 0 and not np.array_equal(canvas.array(), drawing)
    current = window.image_input.gallery.currentItem()
    assert current is not None and current.data(QtCore.Qt.UserRole) == window.state.input
    assert window.state.trace.meta["input"] == window.state.input
    with qtbot.waitSignal(window.state.trace_changed, timeout=30_000):
        window.select_preset("vit-digits")  # the drawing comes back, and runs
    qtbot.waitUntil(lambda: settled(window), timeout=30_000)
    np.testing.assert_array_equal(canvas.array(), drawing)
    assert window.image_input.gallery.currentItem() is None
    assert window.state.trace.meta["input"] == "<image>"
    with qtbot.waitSignal(window.state.trace_changed, timeout=30_000):
        window.select_preset("translate")
    assert window.text_input.line.text() == "the girl sleeps"
    assert window.state.trace.meta["input"] == "the girl sleeps"
    assert_consistent(window)


def test_the_input_widgets_change_with_the_trace_not_before(make_window, qtbot):
    window = make_window("translate")
    seen = []

    def check(trace):  # runs after the window's own handler
        image_page = window.inputs.currentWidget() is window.image_input
        seen.append((trace.meta["arch"], image_page))

    window.state.trace_changed.connect(check)
    window.select_preset("vit-digits")
    assert window.inputs.currentWidget() is window.text_input  # still translate's trace
    assert not window.inputs.isEnabled()
    qtbot.waitUntil(lambda: bool(seen), timeout=30_000)
    assert seen[0] == ("vit", True)
    assert window.inputs.isEnabled()
