"""A long run shows how far it is in the status bar (after about a second) and can be
stopped between two steps; the result on screen stays. A newer request stops an older run
silently (newest wins). The worker is held at a generated token by a gate the test opens,
so that "long" does not depend on the machine's speed."""
import threading

import pytest

from explorer.runner import Runner
from models.catalog import CATALOG
from models.opening import open_model
from tests.models.lm_folders import build

pytest.importorskip("transformers")


@pytest.fixture(scope="module")
def gpt2(tmp_path_factory):
    folder = tmp_path_factory.mktemp("progress") / "gpt2"
    build("gpt2", folder)
    name = open_model(folder).name
    yield name
    CATALOG.remove(name)


@pytest.fixture
def gate(monkeypatch):
    """The worker waits at the second generated token until the test opens the gate."""
    gate = threading.Event()
    told = Runner._told

    def held(self, request):
        progress = told(self, request)

        def wait_at_two(stage, done, total):
            progress(stage, done, total)
            if stage == "generate" and done == 2:
                gate.wait(60)
        return wait_at_two

    monkeypatch.setattr(Runner, "_told", held)
    yield gate
    gate.set()


def test_a_long_run_shows_its_progress_and_stops(make_explorer, gpt2, gate, qtbot):
    e = make_explorer(gpt2)
    shown = e.trace
    bar = e.window.run_progress
    assert bar.isHidden()
    e.window.panels["prediction"].generate.setValue(10)
    qtbot.waitUntil(lambda: bar.isVisible() and "2" in bar.text(), timeout=20000)
    assert bar.text() == "generating: token 2 of 10"
    assert bar.bar.value() == 2 and bar.bar.maximum() == 10
    with qtbot.waitSignal(e.state.run_failed, timeout=20000) as stopped:
        qtbot.mouseClick(bar.stop_button, __import__("PySide6").QtCore.Qt.LeftButton)
        gate.set()
    assert stopped.args[0].startswith("stopped")
    assert e.trace is shown and e.state.settled() and bar.isHidden()
    assert "stopped" in e.window.message_label.text()
    gate.clear()  # the next run is held again: a newer request stops it without a word
    e.window.panels["prediction"].generate.setValue(9)
    qtbot.waitUntil(lambda: bar.isVisible() and "of 9" in bar.text(), timeout=20000)
    failures = []
    e.state.run_failed.connect(failures.append)
    with qtbot.waitSignal(e.state.trace_changed, timeout=20000):
        e.state.set_generate(3)
        gate.set()
    assert failures == [] and e.error == ""
    assert len(e.trace["prediction/ids"]) == 3 and bar.isHidden()


def test_in_chinese_the_bar_speaks_chinese(make_explorer, gpt2, gate, qtbot):
    e = make_explorer(gpt2)
    e.window.set_language("zh")
    bar = e.window.run_progress
    e.window.panels["prediction"].generate.setValue(5)
    qtbot.waitUntil(lambda: bar.isVisible() and "2" in bar.text(), timeout=20000)
    assert bar.text() == "生成中：第 2 个 token，共 5 个" and bar.stop_button.text() == "停止"
    bar.grab().save("/tmp/gen-progress-zh.png")
    with qtbot.waitSignal(e.state.run_failed, timeout=20000):
        bar.stop()
        gate.set()
    assert e.window.message_label.text().startswith("已停止")
    e.window.set_language("en")
