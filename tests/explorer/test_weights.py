"""Shipped weights in the window: a missing file is told (path and fix) and nothing runs in
its place; random weights only with --untrained, and then marked as such."""
import numpy as np

from models.session import load_preset


def test_missing_weights_are_told_and_no_untrained_model_runs_in_their_place(
        make_explorer, weights_file, qtbot):
    path = weights_file("translate", None)
    e = make_explorer("translate", wait=False)
    qtbot.waitUntil(e.state.settled, timeout=60_000)
    assert str(path) in e.state.error and "reinstall" in e.state.error
    assert "python -m models.train translate" in e.state.error
    assert str(path) in e.window.message_label.text()
    box = e.window.failure_box  # nothing on screen: the status bar alone is too easy to miss
    assert box.isVisible() and str(path) in box.informativeText()
    assert e.state.trace is None and e.state.runner.session is None  # no model at all
    assert "untrained" not in e.window.windowTitle()
    # the app goes on with what it has
    e.set_preset("vit-digits")
    e.wait()
    assert e.trace.meta["trained"] is True
    assert e.prediction.label == load_preset("vit-digits").run(e.input).meta["prediction"]
    assert "untrained" not in e.window.windowTitle()
    assert e.window.panels["prediction"].untrained.isHidden()
    assert not box.isVisible()


def test_untrained_runs_random_weights_marked_in_the_title_and_the_prediction_panel(
        make_explorer):
    e = make_explorer("translate", untrained=True)
    random_weights = load_preset("translate", untrained=True).run(e.input).meta["prediction"]
    trained = load_preset("translate").run(e.input).meta["prediction"]
    assert e.prediction.label == random_weights != trained
    assert e.trace.meta["trained"] is False
    assert "untrained" in e.window.windowTitle()
    banner = e.window.panels["prediction"].untrained
    assert banner.isVisible() and "untrained" in banner.text()
    assert "untrained" in e.window.message_label.text()
    e.set_preset("vit-digits")  # every preset, not only the first
    e.wait()
    probs = load_preset("vit-digits", untrained=True).run(e.input).meta["probs"]
    assert np.allclose(e.prediction.probs, probs, atol=1e-6) and e.trace.meta["trained"] is False
    assert "untrained" in e.window.windowTitle() and banner.isVisible()
