"""Every preset stays reachable (issue 22): a refused remembered input gives way to the
preset's sample on a switch, the newest choice wins whatever kind it is, and the text box
shows what runs."""
from pathlib import Path

import pytest

from models.catalog import CATALOG
from models.presets import PRESETS
from models.session import load_preset
from tests.models.checkpoints.test_hub import timm_folder, timm_like

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def tiny_vit(tmp_path):
    model = timm_like("vit", img_size=32, patch_size=8, in_chans=3, num_classes=3,
                      embed_dim=64, depth=1, num_heads=2, mlp_ratio=2.0, dropout=0.0)
    folder = timm_folder(tmp_path / "tiny-timm-vit", model, "vit_tiny_patch8_32", 32,
                         num_heads=2)
    yield folder
    CATALOG.remove("tiny-timm-vit")


def refuse_text(window, qtbot, text=""):
    with qtbot.waitSignal(window.state.run_failed, timeout=30_000):
        window.text_input.set_text_and_run(text)


def test_an_emptied_sentence_never_locks_translate_out(make_window, qtbot):
    window = make_window("translate")
    refuse_text(window, qtbot)
    assert "empty" in window.message_label.text()
    with qtbot.waitSignal(window.state.trace_changed, timeout=30_000):
        window.preset_box.setCurrentIndex(window.preset_box.findData("vit-digits"))
    # back through the preset box: the remembered empty sentence gives way to the sample
    with qtbot.waitSignal(window.state.trace_changed, timeout=30_000):
        window.preset_box.setCurrentIndex(window.preset_box.findData("translate"))
    sample = PRESETS["translate"].default_input
    state = window.state
    assert state.preset == state.trace.meta["preset"] == "translate" and state.error == ""
    assert state.input == sample and window.text_input.line.text() == sample
    assert state.trace.meta["prediction"] == load_preset("translate").run(sample).meta[
        "prediction"]
    assert "refused" in window.message_label.text() and "sample" in window.message_label.text()
    # and again: the preset stays reachable however often it is left and chosen
    with qtbot.waitSignal(window.state.trace_changed, timeout=30_000):
        window.select_preset("reverse")
    refuse_text(window, qtbot, "x" * 200)  # too long for reverse
    with qtbot.waitSignal(window.state.trace_changed, timeout=30_000):
        window.select_preset("translate")
    with qtbot.waitSignal(window.state.trace_changed, timeout=30_000):
        window.select_preset("reverse")
    assert state.preset == state.trace.meta["preset"] == "reverse"
    assert state.input == PRESETS["reverse"].default_input


def test_the_api_reaches_a_preset_whose_input_was_refused(make_explorer):
    e = make_explorer("reverse")
    e.set_input("")
    with pytest.raises(Exception, match="empty"):
        e.wait()
    e.set_preset("vit-digits")
    e.wait()
    e.set_preset("reverse")
    e.wait()  # no RunFailed: the sample ran
    assert e.preset == e.trace.meta["preset"] == "reverse"
    assert e.input == PRESETS["reverse"].default_input


def test_an_explicit_refused_input_still_hands_back(make_window, qtbot):
    """Only a remembered input gives way: one asked for explicitly is refused as before."""
    window = make_window("vit-digits")
    with qtbot.waitSignal(window.state.run_failed, timeout=30_000):
        window.select_preset("translate", "")
    assert window.state.preset == "vit-digits" and "empty" in window.message_label.text()


def test_reselecting_the_preset_on_screen_shows_what_runs(make_window, qtbot):
    window = make_window("translate")
    qtbot.keyClicks(window.text_input.line, " and the dog")  # a half-typed edit
    assert window.text_input.timer.isActive()
    window.select_preset("translate")
    assert not window.text_input.timer.isActive()
    qtbot.waitUntil(lambda: window.state.settled(), timeout=30_000)
    assert window.text_input.line.text() == window.state.input == \
        window.state.trace.meta["input"]


def test_a_folder_still_loading_does_not_override_a_later_choice(make_window, qtbot,
                                                                  tiny_vit):
    window = make_window("translate")
    with qtbot.waitSignal(window.model_opened, timeout=60_000) as opened:
        window.open_model(str(tiny_vit))
        window.select_preset("reverse")  # chosen while the folder is read: this one wins
    assert opened.args[1] == "tiny-timm-vit"
    qtbot.waitUntil(lambda: window.state.settled() and window.state.trace.meta["preset"]
                    == "reverse", timeout=30_000)
    assert window.state.preset == "reverse" == window.preset_box.currentData()
    assert window.preset_box.findData("tiny-timm-vit") >= 0  # opened, there to choose
    # re-opening the same folder switches to it
    with qtbot.waitSignal(window.state.trace_changed, timeout=60_000):
        window.open_model(str(tiny_vit))
    assert window.state.trace.meta["preset"] == "tiny-timm-vit"


# -- opened models that read but cannot build (issue 22) ---------------------------------

@pytest.mark.parametrize("kind", ["nan", "heads_not_dividing", "zero_heads"])
def test_a_folder_that_reads_but_cannot_build_is_offered_nowhere(make_window, qtbot, tmp_path,
                                                                  kind):
    from tests.models.hostile import hf_vit, small_vit, timm_vit

    if kind == "nan":
        head = small_vit().state_dict()["head.weight"].clone()
        head[0, 0] = float("nan")
        folder = timm_vit(tmp_path / "broken", tensors={"head.weight": head})
    else:
        folder = hf_vit(tmp_path / "broken", {"num_attention_heads": 3 if kind ==
                                              "heads_not_dividing" else 0})
    window = make_window("reverse")
    with qtbot.waitSignal(window.model_opened, timeout=60_000) as opened:
        window.open_model(str(folder))
    name, error = opened.args[1:]
    assert name == "" and error
    assert "broken" not in CATALOG and window.preset_box.findData("broken") < 0
    assert window.opener.recent("recentModels") == []
    assert "cannot open" in window.message_label.text()
    assert window.state.preset == window.state.trace.meta["preset"] == "reverse"
