"""What a long input costs the machine (issue 18): the worker's threads and heap, and the
tokens strip's lines, which a hover repaints (drawn opaque and only where exposed)."""
import sys
import threading

import numpy as np
import pytest
import torch
from PySide6 import QtCore, QtGui

from explorer import runner
from explorer.panels.tokens import QUERY_COLOUR, TokenStrip, visible_part
from explorer.soak import rss_mb
from models import memory
from models.presets import PRESETS
from models.session import Session, load_preset


def test_every_preset_stays_on_one_thread_and_a_gpt2_small_size_model_is_big():
    """The presets keep the one-thread worker their figures were measured with; a model of
    GPT-2 small's size (124 M parameters) gets every core."""
    for name, preset in PRESETS.items():
        if preset.source is None:
            session = load_preset(name)
            size = sum(p.numel() for p in session.model.parameters())
            assert size < runner.MANY_THREADS_FROM and runner.threads_for(session) == 1, name
    gpt2_small = 124_439_808  # transformers' GPT2LMHeadModel with its default config
    assert gpt2_small >= runner.MANY_THREADS_FROM


def test_the_worker_runs_a_big_model_on_every_core_after_trimming_the_heap(make_explorer,
                                                                           monkeypatch):
    seen, trims = [], []
    real_run = Session.run

    def spying_run(self, user_input, trace=True, **options):
        seen.append((threading.current_thread().name, self.preset.name,
                     torch.get_num_threads()))
        return real_run(self, user_input, trace, **options)

    monkeypatch.setattr(Session, "run", spying_run)
    monkeypatch.setattr(runner, "give_back_freed", lambda: trims.append(1))
    monkeypatch.setattr(runner, "ALL_CORES", 3)  # not torch's default, so it is seen set
    monkeypatch.setattr(runner, "IDLE_TRIM_S", 3600)  # only the trims before big runs here
    e = make_explorer("reverse")
    assert seen[-1] == ("model-worker", "reverse", 1) and not trims

    monkeypatch.setattr(runner, "MANY_THREADS_FROM", 1)  # every model counts as big
    e.set_preset("translate")
    e.wait()
    assert seen[-1] == ("model-worker", "translate", 3) and len(trims) == 1
    e.set_input("le chat voit le chien")
    e.wait()
    assert seen[-1][2] == 3 and len(trims) == 2

    monkeypatch.setattr(runner, "MANY_THREADS_FROM", 10_000_000)
    e.set_preset("reverse")
    e.wait()
    assert seen[-1] == ("model-worker", "reverse", 1) and len(trims) == 2


def test_an_idle_worker_gives_the_freed_pages_back_once_after_its_work(make_explorer,
                                                                        monkeypatch, qtbot):
    """What the runs freed goes back to the system when the worker has nothing to do for a
    while (not while requests come one after another), on the worker's own thread."""
    trims = []
    monkeypatch.setattr(runner, "give_back_freed",
                        lambda: trims.append(threading.current_thread().name))
    monkeypatch.setattr(runner, "IDLE_TRIM_S", 0.05)
    e = make_explorer("reverse")
    qtbot.waitUntil(lambda: len(trims) == 1, timeout=10_000)
    e.set_input("a b c d")
    e.wait()
    qtbot.waitUntil(lambda: len(trims) == 2, timeout=10_000)
    assert trims == ["model-worker"] * 2


@pytest.mark.skipif(not sys.platform.startswith("linux") or memory._glibc() is None,
                    reason="glibc only")
def test_freed_blocks_between_live_ones_go_back_to_the_system():
    """Blocks under 8 MB stay in the heap for reuse; freed between live ones, free() cannot
    give them back, give_back_freed does."""
    assert memory.return_large_blocks()
    blocks = [np.ones(1 << 19, np.float32) for _ in range(200)]  # 2 MB each, touched
    del blocks[::2]  # 200 MB of holes between the 100 kept
    before = rss_mb()
    memory.give_back_freed()
    assert before - rss_mb() > 150
    assert all(b[-1] == 1 for b in blocks)  # the kept ones untouched


def test_visible_part_cuts_a_segment_to_the_exposed_columns():
    a, b = QtCore.QPointF(0, 0), QtCore.QPointF(100, 50)
    start, end = visible_part(a, b, 20, 60)
    assert (start.x(), start.y(), end.x(), end.y()) == (20, 10, 60, 30)  # on the line
    assert visible_part(b, a, 20, 60)[0].x() == 20  # either direction
    assert visible_part(a, b, 120, 200) is None and visible_part(a, b, -50, -1) is None
    assert visible_part(a, b, -10, 500) == (a, b)
    up = QtCore.QPointF(40, 0), QtCore.QPointF(40, 80)
    assert visible_part(*up, 0, 50) == up


def strip_with(qtbot, weights: np.ndarray, width: int) -> TokenStrip:
    strip = TokenStrip()
    qtbot.addWidget(strip)
    strip.resize(width, 200)
    strip.set_tokens([f"q{i}" for i in range(weights.shape[0])],
                     [f"k{j}" for j in range(weights.shape[1])], weights)
    strip.set_selection(1, None)
    return strip


def test_each_line_is_its_weight_of_the_query_colour_over_white(qtbot):
    weights = np.zeros((3, 4), np.float32)
    weights[1] = [0.0, 0.25, 0.75, 0.0]
    strip = strip_with(qtbot, weights, 600)
    image = strip.grab().toImage()
    colour = QtGui.QColor(QUERY_COLOUR)
    start = strip.box("query", 1)
    for j, w in enumerate(weights[1]):
        end = strip.box("key", j)
        x = round((start.center().x() + end.center().x()) / 2)
        y = round((start.bottom() + end.top()) / 2)
        near = [image.pixelColor(x + dx, y + dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1)]
        strongest = min(near, key=lambda c: c.blue())  # the most covered pixel
        expected = [255 + (v - 255) * w for v in (colour.red(), colour.green(), colour.blue())]
        got = [strongest.red(), strongest.green(), strongest.blue()]
        assert np.allclose(got, expected, atol=4), (j, w, got, expected)


def test_a_part_of_the_strip_paints_what_the_whole_strip_shows_there(qtbot):
    """A long text's strip is wider than its view: the lines cut to the exposed part give
    the same pixels there as lines drawn end to end."""
    rng = np.random.default_rng(0)
    weights = rng.dirichlet(np.ones(40) * 0.3, size=40).astype(np.float32)
    weights[30] = 0.1 / 37
    weights[30, [0, 5, 10]] = 0.3  # strong lines from query 30 (right) to the left end
    strip = strip_with(qtbot, weights, 2400)
    strip.set_selection(30, None)
    whole = QtGui.QImage(strip.size(), QtGui.QImage.Format_ARGB32)
    strip.render(whole)
    part_rect = QtCore.QRect(700, 0, 500, 200)
    part = QtGui.QImage(part_rect.size(), QtGui.QImage.Format_ARGB32)
    strip.render(part, QtCore.QPoint(0, 0), QtGui.QRegion(part_rect))
    expected = whole.copy(part_rect)

    def pixels(image):
        data = np.frombuffer(image.constBits(), np.uint8, image.sizeInBytes())
        return data.reshape(image.height(), image.bytesPerLine())[:, : image.width() * 4]

    difference = np.abs(pixels(part).astype(int) - pixels(expected).astype(int))
    assert difference.max() <= 3
    assert (pixels(part)[60:140] < 200).any()  # lines do cross that part


def test_what_the_model_raises_is_told_and_counted_by_the_soak(make_explorer, monkeypatch,
                                                                 qtbot):
    """A defect in the model (not a refusal) keeps the app alive, told as "the model
    failed", and `crashed` names it and where it was raised: the soak counts it."""
    e = make_explorer("reverse")

    def broken(self, user_input, trace=True, **options):
        raise RuntimeError("a planted defect")

    monkeypatch.setattr(Session, "run", broken)
    with qtbot.waitSignal(e.state.runner.crashed, timeout=10_000) as crashed:
        e.set_input("a b c")
    assert crashed.args[0].startswith("RuntimeError: a planted defect (test_runner.py:")
    qtbot.waitUntil(lambda: "the model failed" in str(e.state.error), timeout=10_000)
