"""Lecture mode (issue 9): the scripting API and its pytest plugin, the guided tour in both
languages, zoom and the screen size, export, sessions. Uses the `make_explorer` fixture the
package ships as a pytest plugin."""
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from PySide6 import QtCore, QtGui, QtWidgets

from explorer.session import SessionError
from explorer.tour import load_tour
from main import main
from models.presets import PRESETS

ROOT = Path(__file__).resolve().parents[2]
SEVEN = ROOT / "resources" / "samples" / "digits" / "digit_7.png"


def test_the_readme_example(make_explorer):
    """The five lines a course would write to test its own demo."""
    e = make_explorer("vit-digits")
    e.set_input(SEVEN)
    e.wait()
    assert e.prediction.label == "7"


def cut_labels(window) -> list[str]:
    """Visible labels whose text does not fit: wrapped ones taller than their room, single
    lines wider (the status bar's message line elides by design and is left out)."""
    cut = []
    for label in window.findChildren(QtWidgets.QLabel):
        if not label.isVisible() or not label.text() or label is window.message_label:
            continue
        if label.wordWrap():
            if label.heightForWidth(label.width()) > label.height() + 1:
                cut.append(label.text()[:40])
        elif label.sizeHint().width() > label.width() + 1:
            cut.append(label.text()[:40])
    return cut


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_tour_step_applies_and_shows_what_it_says(make_explorer, lang):
    e = make_explorer("translate")
    tour = e.tour(lang)
    assert len(tour.steps) == len(load_tour("en")) >= 20
    card = e.window.tour_card
    for i, step in enumerate(tour.steps):
        tour.go(i)
        e.paint()  # what a user sees: the event loop has laid out and painted
        state, trace = step.state, e.trace
        assert e.preset == state["preset"] == trace.meta["preset"], step.title
        assert e.error == ""
        if "site" in state:
            assert e.selection.site == state["site"]
        if "kind" in state:
            assert e.selection.site == trace.sites(state["kind"])[state.get("layer", -1)]
        assert e.selection.head == state.get("head", 0)
        panel = e.window.panels[state["panel"]]
        assert panel.isVisible(), f"step {i}: {state['panel']} is not on screen"
        if "query" in state:
            assert e.selection.query == state["query"] and e.selection.locked
        assert e.state.interventions == state.get("interventions", {})
        assert card.title.text() == step.title and card.progress.text().startswith(f"{i + 1} ")
        assert cut_labels(e.window) == [], f"step {i} ({step.title}) cuts a label"
    tour.next()  # past the end: stays on the last step
    assert tour.index == len(tour.steps) - 1


def test_tour_keys_step_it_and_leaving_keeps_the_state(make_explorer, qtbot):
    e = make_explorer("translate")
    tour = e.tour("en")
    tour.go(0)
    qtbot.keyClick(e.window, QtCore.Qt.Key_PageDown)
    assert tour.index == 1
    qtbot.keyClick(e.window, QtCore.Qt.Key_Right)
    assert tour.index == 2
    qtbot.keyClick(e.window, QtCore.Qt.Key_PageUp)
    assert tour.index == 1
    before = (e.preset, e.selection, e.window.current_panel())
    e.window.leave_tour()
    assert (e.preset, e.selection, e.window.current_panel()) == before
    site = e.selection.site
    qtbot.keyClick(e.window, QtCore.Qt.Key_Left)  # the layer again, not the tour
    assert e.selection.site != site


def test_a_missing_chinese_font_is_named(make_explorer, monkeypatch):
    monkeypatch.setattr(QtGui.QFontDatabase, "families", lambda *args: [])
    e = make_explorer("translate")
    e.tour("zh").go(0)
    assert "fonts-noto-cjk" in e.window.tour_card.font_warning.text()
    assert e.window.tour_card.font_warning.isVisible()


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_preset_fits_a_1280_by_800_screen(make_explorer, name):
    e = make_explorer(name)
    for tab in range(e.window.tabs.count()):  # every panel has been laid out once
        e.window.tabs.setCurrentIndex(tab)
        e.paint()
    for size in (e.window.minimumSizeHint(), e.window.minimumSize()):
        assert size.width() <= 1280 and size.height() <= 768


@pytest.mark.parametrize("name", ["translate", "vit-digits", "swin-digits"])
def test_the_prediction_panel_never_scrolls_sideways(make_explorer, name):
    """At the default 1400×860 and at 1280×800 the prediction dock shows its whole width:
    the check boxes go into one column when two do not fit (the chart's last classes and the
    boxes' right column were cut off behind a scroll bar)."""
    e = make_explorer(name)
    panel = e.window.panels["prediction"]
    for size in ((1400, 860), (1280, 800)):
        e.window.resize(*size)
        e.paint()
        area = panel.parentWidget().parentWidget()  # viewport, then the scroll area
        assert not area.horizontalScrollBar().isVisible()
        assert panel.width() <= area.viewport().width()
        boxes = [check.geometry() for check in panel.flags.values()]
        assert all(b.right() <= panel.width() for b in boxes)
    # one long unbroken output (an untrained model's) is clipped, the panel keeps its width
    panel.headline.setText("_dummy2658" * 30)
    e.paint()
    assert not area.horizontalScrollBar().isVisible()


def test_zoom_makes_every_kind_of_text_larger(make_explorer):
    e = make_explorer("translate")
    view = e.window.panels["attention"].view
    strip = e.window.panels["tokens"].strip

    def sizes():
        return (view.plot.getAxis("left").style["tickFont"].pointSizeF(),
                float(view.plot.titleLabel.opts["size"].rstrip("pt")),
                strip.font().pointSizeF(), e.window.panels["prediction"].steps.font().pointSizeF(),
                e.window.panels["prediction"].headline.font().pointSizeF(),
                e.window.text_input.line.font().pointSizeF())

    before = sizes()
    e.set_zoom(2.0)
    after = sizes()
    for small, large in zip(before, after):
        assert large >= 1.9 * small
    assert e.zoom == 2.0


def test_the_output_column_follows_the_zoom_at_once(make_explorer):
    """The prediction table's first column fits its words at the new size straight away (it
    used to keep the old zoom's width until the next run)."""
    from PySide6 import QtGui

    e = make_explorer("translate")
    steps = e.window.panels["prediction"].steps

    def widest_word() -> int:
        metrics = QtGui.QFontMetrics(steps.font())
        return max(metrics.horizontalAdvance(steps.item(r, 0).text())
                   for r in range(steps.rowCount()))

    for factor in (1.75, 1.0, 2.0):
        e.set_zoom(factor)
        assert steps.columnWidth(0) >= widest_word()
        needed = max(widest_word(), steps.horizontalHeader().sectionSizeHint(0))
        assert steps.columnWidth(0) <= needed + 20  # and no wider than it needs


def test_export_writes_png_at_scale_and_svg_with_text_labels(make_explorer, tmp_path):
    e = make_explorer("translate")
    e.set_input("the small cat sleeps")
    e.wait()
    e.select(query=1, key=2)
    panel = e.window.panels["attention"]
    png = e.export("attention", tmp_path / "a.png", scale=2)
    image = QtGui.QImage(str(png))
    assert (image.width(), image.height()) == (2 * panel.width(), 2 * panel.height())
    svg = e.export("attention", tmp_path / "a.svg")
    texts = [t.text or "" for t in ET.parse(svg).getroot().iter()
             if t.tag.endswith("text") or t.tag.endswith("tspan")]
    joined = " ".join(texts)
    for word in ("small", "cat", "sleeps"):
        assert word in joined, f"{word} is not a text element of the SVG"


def test_export_command(tmp_path, capsys):
    out = tmp_path / "pipeline.svg"
    assert main(["export", "--preset", "reverse", "--input", "abc", "--panel", "pipeline",
                 "-o", str(out)]) == 0
    ET.parse(out)
    assert main(["tour", "--lang", "zh"]) == 0
    assert "自注意力" in capsys.readouterr().out


def test_a_session_comes_back_in_a_fresh_window(make_explorer, tmp_path):
    e = make_explorer("vit-digits")
    canvas = e.window.image_input.canvas
    canvas.stroke([QtCore.QPointF(96, 30), QtCore.QPointF(96, 160)])
    e.wait()
    drawn = e.input.copy()
    e.select(site="blocks.2.attn", head=3, query=17, key=5)
    e.show("pipeline")
    e.set_zoom(1.5)
    path = e.save_session(tmp_path / "demo.json")
    data = json.loads(path.read_text())
    assert data["version"] == 1 and data["input"]["image_png"]

    fresh = make_explorer("translate")
    fresh.open_session(path)
    assert fresh.preset == "vit-digits"
    np.testing.assert_array_equal(fresh.input, drawn)
    np.testing.assert_allclose(fresh.trace["prediction/probs"], e.trace["prediction/probs"],
                               atol=1e-6)
    assert fresh.selection == e.selection
    assert fresh.window.current_panel() == "pipeline" and fresh.zoom == 1.5


def test_a_text_session_with_an_intervention(make_explorer, tmp_path):
    e = make_explorer("translate")
    e.set_input("the girl does not sleep")
    e.wait()
    e.set_interventions(no_position=True)
    e.wait()
    e.select(site="decoder.layers.1.cross_attn", query=2)
    path = e.save_session(tmp_path / "text.json")
    fresh = make_explorer("reverse")
    fresh.open_session(path)
    assert fresh.input == "the girl does not sleep"
    assert fresh.state.interventions == {"no_position": True}
    assert fresh.trace.meta["prediction"] == e.trace.meta["prediction"]
    assert fresh.selection == e.selection


HOSTILE = {
    "not_json": b"{this is not json",
    "binary": b"\x89PNG\r\n\x1a\n\x00\x00",
    "list": b"[1, 2, 3]",
    "other_app": json.dumps({"app": "something", "version": 1}).encode(),
    "newer": json.dumps({"app": "transformer-explorer", "version": 99,
                         "preset": "translate"}).encode(),
    "unknown_preset": json.dumps({"app": "transformer-explorer", "version": 1,
                                  "preset": "gpt-9", "input": {"text": "hi"}}).encode(),
    "unknown_site": json.dumps({"app": "transformer-explorer", "version": 1,
                                "preset": "translate", "input": {"text": "the cat"},
                                "selection": {"site": "blocks.99.attn"}}).encode(),
    "corrupt_image": json.dumps({"app": "transformer-explorer", "version": 1,
                                 "preset": "vit-digits",
                                 "input": {"image_png": "aGVsbG8gd29ybGQ="}}).encode(),
    "not_base64": json.dumps({"app": "transformer-explorer", "version": 1,
                              "preset": "vit-digits", "input": {"image_png": "%%%"}}).encode(),
    "image_for_text": json.dumps({"app": "transformer-explorer", "version": 1,
                                  "preset": "translate",
                                  "input": {"image_png": "aGVsbG8="}}).encode(),
    "bad_head": json.dumps({"app": "transformer-explorer", "version": 1,
                            "preset": "translate", "input": {"text": "the cat"},
                            "selection": {"head": "two"}}).encode(),
    "bad_zoom": json.dumps({"app": "transformer-explorer", "version": 1,
                            "preset": "translate", "input": {"text": "the cat"},
                            "zoom": 1e9}).encode(),
    "bad_panel": json.dumps({"app": "transformer-explorer", "version": 1,
                             "preset": "translate", "input": {"text": "the cat"},
                             "panel": "nope"}).encode(),
}


def test_hostile_session_files_change_nothing(make_explorer, tmp_path):
    e = make_explorer("reverse")
    e.select(query=1, key=2)
    before = (e.preset, e.trace, e.selection, e.input, e.zoom)
    for name, content in HOSTILE.items():
        path = tmp_path / f"{name}.json"
        path.write_bytes(content)
        with pytest.raises(SessionError) as error:
            e.open_session(path)
        assert str(error.value) and "\n" not in str(error.value)
        assert (e.preset, e.trace, e.selection, e.input, e.zoom) == before, name
        # and from the menu: the reason in the status bar, no exception
        assert e.window.open_session(str(path)) is False
        assert e.window.message_label.text()
    assert main(["--session", str(tmp_path / "newer.json")]) == 2


def test_keys_reach_the_lecture_after_typing(make_explorer, qtbot):
    e = make_explorer("translate")
    line = e.window.text_input.line
    line.setFocus()
    qtbot.keyClicks(line, " x")  # typing: Space is a space, arrows move the cursor
    assert line.text().endswith(" x")
    pipeline = e.window.panels["pipeline"]
    e.show("pipeline")
    qtbot.mouseClick(e.window.tabs.tabBar(), QtCore.Qt.LeftButton,
                     pos=e.window.tabs.tabBar().tabRect(1).center())
    assert not line.hasFocus()
    qtbot.keyClick(e.window, QtCore.Qt.Key_Space)  # now play / pause
    assert pipeline.play_button.isChecked()
    qtbot.keyClick(e.window, QtCore.Qt.Key_Space)
    assert not pipeline.play_button.isChecked()
    line.setFocus()
    qtbot.keyClick(line, QtCore.Qt.Key_Escape)  # Esc leaves the text box
    assert not line.hasFocus()


def test_switching_the_tour_language_keeps_the_step(make_explorer):
    e = make_explorer("translate")
    e.tour("en").go(5)
    e.window.switch_tour_language("zh")
    player = e.window.tour_player
    assert player.lang == "zh" and player.index == 5
    assert e.window.tour_card.title.text() == load_tour("zh")[5].title


def test_switching_the_language_during_a_tour_changes_words_only(make_explorer):
    """The menu's language switch shows the open step in the new language; the preset and
    the input the user chose after the step stay (they were reset to the step's)."""
    e = make_explorer("translate")
    player = e.tour("en")
    player.go(3)
    e.wait()
    e.set_preset("reverse", "explorer2026")
    e.wait()
    e.window.language_actions["zh"].trigger()
    e.wait()
    try:
        assert e.state.preset == "reverse"
        assert e.state.trace.meta["input"] == "explorer2026"
        card = e.window.lecture.tour_player
        assert card.lang == "zh" and card.index == 3
    finally:
        e.window.language_actions["en"].trigger()


def test_messages_and_banners_are_said_again_after_a_language_switch(make_explorer):
    """A refusal said in English is said in Chinese after the switch, and back: the status
    bar and the banner keep the message's template and values, not its words."""
    from explorer.api import RunFailed
    from explorer.i18n import said, say, translate_message
    from models.errors import InputError

    e = make_explorer("translate")
    e.set_input("   ")
    with pytest.raises(RunFailed):
        e.wait()
    label, banner = e.window.message_label, e.window.banners[0]
    assert "the input is empty" in label.text() and "Showing the previous input" in banner.text()
    try:
        e.window.language_actions["zh"].trigger()
        e.paint()
        assert "输入为空" in label.text() and "the input is empty" not in label.text()
        assert "输入为空" in banner.text() and "Showing the previous input" not in banner.text()
        nested = say("tour step {step}: {reason}", step=27,
                     reason=said(InputError("the input is empty: type a sentence")))
        assert translate_message(nested) == "导览第 27 步：输入为空：请输入一个句子"
    finally:
        e.window.language_actions["en"].trigger()
    e.paint()
    assert "the input is empty" in label.text() and "Showing the previous input" in banner.text()
