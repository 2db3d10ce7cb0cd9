"""The Corpus tab: a corpus result folder (written here with pyarrow in the fixed layout) as a
layers × heads map of means, one head's distribution and its AttentionViz embedding; a click
on the map selects the head everywhere, a click on a point runs its input live; a folder that
is not a result, a damaged file or a result of another model is said in one line."""
import json
import re
import shutil
import threading
from collections import Counter
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from PySide6 import QtCore
from PySide6.QtTest import QTest

from explorer.analyst import Cancelled
from explorer.api import RunFailed
from explorer.panels import corpus_result
from explorer.panels.corpus_result import STATISTICS, write_example
from models.corpus import fingerprint, load_session
from models.presets import get_preset

from ..fit import cut_widgets

LAYERS = [{"site": f"layers.{i}.attn", "row": str(i), "kind": "causal", "heads": 2}
          for i in range(2)]


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    """A result of the induction preset: its sample sentences, 2 layers × 2 heads."""
    texts = list(get_preset("induction").samples) * 4
    model = fingerprint(load_session({"preset": "induction"}))  # as the corpus command does
    return write_example(tmp_path_factory.mktemp("corpus") / "induction", texts, LAYERS,
                         points_per_head=60, d_head=8, preset="induction", parts=3,
                         model=model)


def opened(make_explorer, folder):
    e = make_explorer("induction")
    e.open_corpus(folder)
    return e, e.window.panels["corpus"]


def heads_rows(folder) -> dict[str, np.ndarray]:
    table = pq.read_table(sorted(str(p) for p in (folder / "heads").glob("*.parquet")))
    return {name: table.column(name).to_numpy(zero_copy_only=False)
            for name in ["layer", "head", *STATISTICS]}


def test_the_map_shows_each_heads_mean_over_the_inputs(make_explorer, result):
    e, panel = opened(make_explorer, result)
    rows = heads_rows(result)
    for statistic in ("entropy", "induction"):  # induction has nulls: left out of the mean
        panel.stat_box.setCurrentIndex(panel.stat_box.findData(statistic))
        e.wait()
        expected = np.zeros((2, 2))
        for layer in range(2):
            for head in range(2):
                values = rows[statistic][(rows["layer"] == layer) & (rows["head"] == head)]
                expected[layer, head] = np.nanmean(values.astype(np.float64))
        np.testing.assert_allclose(panel.image.image, expected, rtol=1e-5)
        # the histogram counts the selected head's inputs
        layer, head = panel.layer, panel.head
        values = rows[statistic][(rows["layer"] == layer) & (rows["head"] == head)]
        values = values[np.isfinite(values.astype(np.float64))]
        x, counts = panel.hist.getData()
        assert counts.sum() == len(values) > 0


def test_clicking_a_cell_of_the_map_selects_that_head_everywhere(make_explorer, result):
    e, panel = opened(make_explorer, result)
    e.paint()
    scene = panel.image.mapToScene(QtCore.QPointF(1.5, 0.5))  # head 1 of layer 0
    at = panel.map_plot.mapFromScene(scene)
    QTest.mouseClick(panel.map_plot.viewport(), QtCore.Qt.LeftButton, pos=at)
    e.wait()
    assert (e.selection.site, e.selection.head) == ("layers.0.attn", 1)
    assert (panel.layer, panel.head) == (0, 1)
    assert e.window.head_box.value() == 1
    # and the other way: a head chosen in the tool bar is the head shown here
    e.select(site="layers.1.attn", head=0)
    e.wait()
    assert (panel.layer, panel.head) == (1, 0)
    assert panel.shown_points is not None


def independent_joint(folder, layer, head):
    """AttentionViz's scaling and key translation of one head's points, in the file's
    order (numpy from the file read whole, not the panel's code); and those rows."""
    table = pq.read_table(folder / "points.parquet")
    keep = (table.column("layer").to_numpy() == layer) & (table.column("head").to_numpy() == head)
    table = table.filter(keep)
    vectors = np.array(table.column("vector").to_pylist(), dtype=np.float64)
    query = np.array(table.column("role").to_pylist()) == "query"
    q, k = vectors[query], vectors[~query]
    c = np.sqrt(np.mean(np.sqrt((k ** 2).sum(1))) / np.mean(np.sqrt((q ** 2).sum(1))))
    q, k = q * c, k / c
    k = k + (q.mean(0) - k.mean(0))
    joint = np.empty_like(vectors)
    joint[query], joint[~query] = q, k
    return joint, table


def independent_embedding(folder, layer, head):
    """independent_joint, then PCA through the covariance's eigenvectors (not the panel's
    SVD)."""
    joint, table = independent_joint(folder, layer, head)
    centred = joint - joint.mean(0)
    values, vecs = np.linalg.eigh(centred.T @ centred)
    axes = vecs[:, np.argsort(values)[::-1][:2]]
    return centred @ axes, table


def test_the_embedding_is_attentionviz_then_pca_of_the_selected_head(make_explorer, result):
    e, panel = opened(make_explorer, result)
    panel.select_head(0, 1, tell=True)
    e.wait()
    expected, table = independent_embedding(result, 0, 1)
    shown = panel.shown_points
    assert shown["method"] == "pca" and len(shown["xy"]) == table.num_rows == 120
    xy = shown["xy"]
    for axis in range(2):  # an axis's sign is a convention
        sign = np.sign(np.dot(xy[:, axis], expected[:, axis]))
        np.testing.assert_allclose(xy[:, axis], sign * expected[:, axis], atol=1e-4)
    # the keys were moved onto the queries: one cloud, not two
    query = panel.points.role[shown["index"]]
    assert np.linalg.norm(xy[query].mean(0) - xy[~query].mean(0)) < 1e-6
    # the one scatter item draws those coordinates, each point with its colour's brush
    scatter = panel.scatter
    np.testing.assert_allclose(np.c_[scatter.getData()], xy)

    def colours() -> list[tuple]:
        return [tuple(b.color().getRgb()[:3]) for b in scatter.data["brush"]]

    palette = panel._palette()
    assert colours() == [palette[c] for c in panel.colours]
    # each point's symbol is its brush's in pyqtgraph's atlas (found once per brush here)
    atlas = scatter.fragmentAtlas
    for brush in {id(b): b for b in scatter.data["brush"]}.values():
        (expected_rect,) = atlas[[(scatter.opts["symbol"], scatter.opts["size"],
                                   scatter.opts["pen"], brush)]]
        mine = np.array([b is brush for b in scatter.data["brush"]])
        rects = scatter.data["sourceRect"][mine]
        assert {tuple(r) for r in rects.tolist()} == {tuple(expected_rect)}
    # by role: the queries green, the keys pink; both on screen
    panel.colour_box.setCurrentIndex(panel.colour_box.findData("query or key"))
    e.paint()
    expected = [(31, 158, 137) if q else (214, 39, 120) for q in query]
    assert colours() == expected
    image = panel.embed_plot.grab().toImage()
    pixels = Counter(image.pixelColor(x, y).getRgb()[:3] for x in range(image.width())
                     for y in range(image.height()))
    background = np.array(pixels.most_common(1)[0][0])
    for colour in ((31, 158, 137), (214, 39, 120)):  # drawn at alpha 200 over the background
        blended = (np.array(colour) * 200 + background * 55) / 255
        assert min(np.abs(np.array(p) - blended).sum() for p in pixels) < 12


def test_pointing_at_a_point_says_its_input_and_token_as_text(make_explorer, result):
    e, panel = opened(make_explorer, result)
    tokens = panel.points.token
    i = next(j for j, row in enumerate(panel.shown_points["index"]) if tokens[row] == "<s>")
    panel.hover(i)
    row = panel.shown_points["index"][i]
    line = panel.hover_line.text()
    assert "'<s>'" in line and panel.hover_line.textFormat() == QtCore.Qt.PlainText
    assert panel.points.input_id[row] in line
    # and through the mouse: the point under the pointer
    point = panel.embed_plot.getPlotItem().vb.mapViewToScene(
        QtCore.QPointF(*panel.shown_points["xy"][0]))
    panel.hover(-1)
    panel._moved(point)
    assert panel.hovered >= 0
    np.testing.assert_allclose(panel.shown_points["xy"][panel.hovered],
                               panel.shown_points["xy"][0], atol=1e-6)


@pytest.mark.parametrize("role", ["query", "key"])
def test_clicking_a_point_runs_its_input_with_the_head_and_token_selected(
        make_explorer, result, role):
    e, panel = opened(make_explorer, result)
    panel.select_head(1, 1, tell=True)
    e.wait()
    inputs = pq.read_table(sorted(str(p) for p in (result / "inputs").glob("*.parquet")))
    text_of = dict(zip(inputs.column("input_id").to_pylist(), inputs.column("text").to_pylist()))
    rows = panel.shown_points["index"]
    i = next(j for j, row in enumerate(rows) if panel.points.role[row] == (role == "query")
             and text_of[panel.points.input_id[row]] != e.input)
    row = rows[i]
    position = int(panel.points.position[row])
    assert panel.open_point(i) == ""
    e.wait()
    e.paint()
    assert e.input == text_of[panel.points.input_id[row]]
    assert e.trace.meta["preset"] == "induction"
    assert (e.selection.site, e.selection.head) == ("layers.1.attn", 1)
    assert e.selection.locked
    if role == "query":
        assert (e.selection.query, e.selection.key) == (position, None)
    else:
        assert (e.selection.query, e.selection.key) == (None, position)
    assert e.window.text_input.line.text() == e.input


def test_a_result_of_another_model_is_shown_but_a_click_says_which_model(
        make_explorer, result, tmp_path):
    other = write_example(tmp_path / "reverse", ["a b c"] * 6, LAYERS, preset="reverse",
                          model=fingerprint(load_session({"preset": "reverse"})))
    e, panel = opened(make_explorer, other)
    assert panel.shown_points is not None and np.isfinite(panel.image.image).all()
    before = e.input
    why = panel.open_point(0)
    e.wait()
    assert "reverse" in why and "open that model" in why
    assert e.input == before
    assert "reverse" in panel.note.text() and "\n" not in panel.note.text()
    # a head clicked on the map is selected here only: not a site of the model on screen
    selection = e.selection
    panel._cell_clicked(0, 1)
    e.wait()
    assert e.selection == selection and (panel.layer, panel.head) == (0, 1)


def damaged(result, tmp_path):
    folder = tmp_path / "damaged"
    shutil.copytree(result, folder)
    (folder / "heads" / "part-00001.parquet").write_bytes(b"PAR1 not a parquet file at all")
    return folder


def wrong_format(result, tmp_path):
    folder = tmp_path / "wrong"
    shutil.copytree(result, folder)
    meta = json.loads((folder / "meta.json").read_text())
    (folder / "meta.json").write_text(json.dumps({**meta, "format": "something-else"}))
    return folder


def no_meta(result, tmp_path):
    folder = tmp_path / "bare"
    shutil.copytree(result, folder)
    (folder / "meta.json").unlink()
    return folder


@pytest.mark.parametrize("make, words", [(damaged, "cannot be read"),
                                         (wrong_format, "format is not"),
                                         (no_meta, "no meta.json")])
def test_a_bad_folder_is_one_line_and_the_result_on_screen_stays(
        make_explorer, result, tmp_path, make, words):
    e, panel = opened(make_explorer, result)
    shown, image = panel.result, panel.image.image.copy()
    with pytest.raises(RunFailed) as refused:
        e.open_corpus(make(result, tmp_path))
    assert words in str(refused.value) and "\n" not in str(refused.value)
    assert panel.result is shown and panel.result.folder == result
    np.testing.assert_array_equal(panel.image.image, image)
    assert words in panel.note.text() and panel.note.isVisible()
    panel.select_head(1, 0)  # the result on screen still works
    e.wait()
    assert panel.shown_points is not None and panel.layer == 1


def test_hidden_the_tab_asks_for_nothing_until_shown(make_explorer, result):
    e, panel = opened(make_explorer, result)
    e.show("attention")
    shown = panel.shown_points
    e.select(site="layers.0.attn", head=1)
    e.wait()
    assert panel.shown_points is shown  # nothing computed while hidden
    e.show("corpus")
    e.wait()
    assert (panel.layer, panel.head) == (0, 1) and panel.shown_points is not shown


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_at_200_percent_nothing_is_cut(make_explorer, result, lang):
    e, panel = opened(make_explorer, result)
    panel.hover(0)
    panel.colour_box.setCurrentIndex(panel.colour_box.findData("query or key"))
    panel.stat_box.setCurrentIndex(panel.stat_box.findData("duplicate_token"))
    e.window.switch_tour_language(lang)
    e.set_zoom(2.0)
    e.wait()
    assert cut_widgets(e.window.pages["corpus"]) == []
    e.grab("corpus").save(str(result.parent / f"corpus-{lang}-200.png"))
    if lang == "en":
        return
    assert re.search(r"[\u4e00-\u9fff]", panel.embed_caption.text())
    assert re.search(r"[\u4e00-\u9fff]", panel.map_caption.text())
    assert panel.stat_box.currentText() == "重复词元"


@pytest.mark.parametrize("preset, source", [
    ("induction", None), ("vit-digits", "resources/samples/digits")])
def test_a_result_of_the_corpus_command_opens_and_its_points_run_live(
        make_explorer, tmp_path, preset, source):
    """The engine's own folder (models/corpus.py), not one written here: its fingerprint
    is the model on screen's, and a point's input (text, or an image's path) runs."""
    from models.corpus import run_corpus

    if source is None:
        source = tmp_path / "in.txt"
        source.write_text("\n".join(get_preset(preset).samples) + "\n")
    run_corpus({"preset": preset}, source, tmp_path / "out", batch=4, points=20, quiet=True)
    e = make_explorer(preset)
    e.open_corpus(tmp_path / "out")
    panel = e.window.panels["corpus"]
    assert panel.same_model() and panel.shown_points is not None
    inputs = panel.result.inputs
    text_of = dict(zip(inputs.column("input_id").to_pylist(), inputs.column("text").to_pylist()))
    rows = panel.shown_points["index"]
    i = next(j for j, row in enumerate(rows) if not panel.points.role[row])  # a key
    row = rows[i]
    assert panel.open_point(i) == ""
    e.wait()
    e.paint()
    expected = text_of[panel.points.input_id[row]]
    if preset == "induction":
        assert e.input == expected
    else:  # the image's path, found from where the command ran
        assert Path(e.input).is_file() and Path(e.input).name == Path(expected).name
    site = panel.result.layers[panel.layer]["site"]
    assert (e.selection.site, e.selection.head) == (site, panel.head)
    assert e.selection.key == int(panel.points.position[row]) and e.selection.locked


def test_the_soaks_corpus_action_passes_and_catches_a_result_not_opened(
        make_explorer, monkeypatch, tmp_path):
    import random

    from explorer import soak
    from explorer.panels.corpus import CorpusPanel

    monkeypatch.setitem(soak.SCRATCH, "dir", str(tmp_path))
    e = make_explorer("induction")
    for seed in range(5):
        soak.act_corpus(e, random.Random(seed))
        soak.act_wait(e, random.Random(seed))
        assert soak.stale_problems(e) == []
    assert e.window.panels["corpus"].result.meta["preset"] == "induction"
    # planted: a tab that says nothing and opens nothing
    e = make_explorer("vit-digits")
    monkeypatch.setattr(CorpusPanel, "open", lambda self, folder: "")
    with pytest.raises(soak.Unreachable, match="did not open"):
        for seed in range(5):  # (a seed may open a folder that is none, on purpose)
            soak.act_corpus(e, random.Random(seed))


def test_attentionviz_keeps_every_querys_ranking_of_the_keys():
    """The scaling keeps every q·k; the translation adds the same amount to all of a query's
    scores: each query's order of the keys (and its softmax) is unchanged, and the keys'
    mean is the queries'."""
    from explorer.panels.corpus_result import attentionviz

    rng = np.random.default_rng(3)
    q = rng.normal(0, 1, (50, 16))
    k = rng.normal(2, 3, (70, 16))
    q2, k2 = attentionviz(q, k)
    before, after = q @ k.T, q2 @ k2.T
    np.testing.assert_array_equal(np.argsort(before, axis=1), np.argsort(after, axis=1))
    shift = after - before
    np.testing.assert_allclose(shift, shift[:, :1] * np.ones((1, 70)), atol=1e-9)
    np.testing.assert_allclose(k2.mean(0), q2.mean(0), atol=1e-12)
    c = np.sqrt(np.linalg.norm(k, axis=1).mean() / np.linalg.norm(q, axis=1).mean())
    np.testing.assert_allclose(q2, q * c)  # scaled so that the mean norms match
    np.testing.assert_allclose(np.linalg.norm(q * c, axis=1).mean(),
                               np.linalg.norm(k / c, axis=1).mean())


# -- UMAP: umap-learn is not installed where these tests run; its path is tested with a
# stand-in reducer (the threading, the progress, the cancel), never UMAP itself -----------

class SlowReducer:
    """Stands in for UMAP: reports its progress step by step, checking for cancellation at
    each, until `go` is set; then returns the first two coordinates of what it was given."""

    def __init__(self) -> None:
        self.go = threading.Event()
        self.calls: list[np.ndarray] = []
        self.stopped: list[int] = []  # the calls that saw they were cancelled

    def __call__(self, x, seed, task):
        call = len(self.calls)
        self.calls.append(np.array(x))
        try:
            step = 0
            while True:
                task.check()
                task.report(min(step / 20, 0.95))
                if self.go.is_set() and step >= 2:
                    return np.array(x[:, :2])
                self.go.wait(0.005)  # (the worker thread's pace, not the test's)
                step += 1
        except Cancelled:
            self.stopped.append(call)
            raise


@pytest.fixture
def stand_in(monkeypatch):
    reducer = SlowReducer()
    monkeypatch.setattr(corpus_result, "umap_available", lambda: True)
    monkeypatch.setitem(corpus_result.REDUCERS, "umap", reducer)
    yield reducer
    reducer.go.set()  # (nothing left waiting)


def test_umap_runs_on_a_worker_with_progress_and_cancel_keeps_the_embedding_before(
        make_explorer, result, stand_in, qtbot):
    e, panel = opened(make_explorer, result)
    panel.retranslate()  # (the choice enabled: "installed")
    assert panel.projection_box.model().item(1).isEnabled()
    before = panel.shown_points
    assert before["method"] == "pca" and not panel.progress.isVisible()
    panel.projection_box.setCurrentIndex(panel.projection_box.findData("UMAP"))
    # on the worker: the GUI thread goes on, the bar shows how far it is
    qtbot.waitUntil(lambda: panel.progress.isVisible() and panel.progress.value() >= 10,
                    timeout=20_000)
    assert panel.cancel_button.isVisible() and "UMAP" in panel.embed_caption.text()
    assert stand_in.calls and panel.shown_points is before
    qtbot.mouseClick(panel.cancel_button, QtCore.Qt.LeftButton)
    qtbot.waitUntil(lambda: stand_in.stopped == [0], timeout=20_000)  # it stopped
    e.wait()
    assert panel.shown_points is before  # the embedding before stays, marked
    assert "cancelled" in panel.embed_caption.text()
    assert "PCA" in panel.embed_caption.text() and not panel.progress.isVisible()
    assert not panel.embed_request.computing()
    # the newest request wins: a UMAP of another head replaces the one running
    panel.select_head(0, 1)
    qtbot.waitUntil(lambda: len(stand_in.calls) == 2, timeout=20_000)
    panel.select_head(1, 0)
    qtbot.waitUntil(lambda: stand_in.stopped == [0, 1] and len(stand_in.calls) == 3,
                    timeout=20_000)
    stand_in.go.set()
    e.wait()
    shown = panel.shown_points
    assert (shown["method"], shown["layer"], shown["head"]) == ("umap", 1, 0)
    joint, table = independent_joint(result, 1, 0)  # 120 points: under UMAP_POINTS, all
    assert len(shown["index"]) == table.num_rows
    np.testing.assert_allclose(shown["xy"], joint[:, :2], atol=1e-4)
    assert "cancelled" not in panel.embed_caption.text()
    assert "UMAP" in panel.embed_caption.text() and not panel.progress.isVisible()
    # drawn once, kept: back to it is at once, no new reducer call
    panel.select_head(0, 0)
    qtbot.waitUntil(lambda: len(stand_in.calls) == 4, timeout=20_000)
    e.wait()
    panel.select_head(1, 0)
    e.wait()
    assert len(stand_in.calls) == 4 and panel.shown_points["head"] == 0 \
        and panel.shown_points["layer"] == 1


def test_without_umap_learn_the_umap_choice_is_disabled_and_says_why(
        make_explorer, result, monkeypatch):
    monkeypatch.setattr(corpus_result, "umap_available", lambda: False)
    e, panel = opened(make_explorer, result)
    panel.retranslate()
    box = panel.projection_box
    assert not box.model().item(1).isEnabled()
    assert "needs umap-learn" in box.itemText(1)
    assert "pip install umap-learn" in box.itemData(1, QtCore.Qt.ToolTipRole)
    box.setCurrentIndex(1)  # (forced: still PCA)
    e.wait()
    assert panel.method() == "pca" and panel.shown_points["method"] == "pca"


class Watch:
    """A task cancelled after `checks` checks."""

    def __init__(self, checks: int) -> None:
        self.checks, self.reports = checks, []

    def cancelled(self) -> bool:
        return self.checks <= 0

    def check(self) -> None:
        self.checks -= 1
        if self.checks < 0:
            raise Cancelled

    def report(self, fraction) -> None:
        self.reports.append(fraction)


def test_the_umap_wrapper_returns_at_once_when_cancelled_and_drops_the_fit(monkeypatch):
    """corpus_result.umap_reducer around a fit that cannot be interrupted (umap-learn's):
    here the fit is a stand-in blocked on an event, so what is tested is the wrapper."""
    release, finished = threading.Event(), threading.Event()

    def blocked_fit(x, seed=0):
        release.wait(60)
        finished.set()
        return np.ones((len(x), 2))

    monkeypatch.setattr(corpus_result, "umap_2d", blocked_fit)
    x = np.zeros((10, 4), np.float32)
    watch = Watch(checks=3)
    with pytest.raises(Cancelled):
        corpus_result.umap_reducer(x, 0, watch, poll=0.001)
    assert not finished.is_set()  # returned while the fit still runs
    assert watch.reports == [None] * 3  # busy: how far is not known
    release.set()
    assert finished.wait(20)
    # not cancelled: the fit's answer; its error is the job's
    np.testing.assert_array_equal(corpus_result.umap_reducer(x, 0, Watch(10 ** 9)),
                                  np.ones((10, 2)))

    def failing(x, seed=0):
        raise ValueError("no")

    monkeypatch.setattr(corpus_result, "umap_2d", failing)
    with pytest.raises(ValueError, match="no"):
        corpus_result.umap_reducer(x, 0, Watch(10 ** 9))


# -- a session remembers the open corpus result ----------------------------------------------

def test_a_session_reopens_its_corpus_result_with_its_head_and_statistic(
        make_explorer, result, tmp_path):
    e, panel = opened(make_explorer, result)
    panel.stat_box.setCurrentIndex(panel.stat_box.findData("previous_token"))
    panel.select_head(1, 1, tell=True)  # (as a click on the map: the app's head too)
    e.wait()
    e.show("attention")
    saved = e.save_session(tmp_path / "s.json")
    data = json.loads(saved.read_text())
    assert data["corpus"] == {"folder": str(result.resolve()), "site": "layers.1.attn",
                              "head": 1, "statistic": "previous_token"}
    other = make_explorer("induction")
    assert other.window.panels["corpus"].result is None
    other.open_session(saved)
    window, reopened = other.window, other.window.panels["corpus"]
    assert reopened.result is not None and reopened.result.folder.resolve() == result.resolve()
    assert window.tabs.isTabVisible(window.tabs.indexOf(window.pages["corpus"]))
    assert window.current_panel() == "attention"  # the session's panel, not the Corpus tab
    assert (reopened.layer, reopened.head) == (1, 1)
    assert reopened.statistic() == "previous_token"
    other.show("corpus")
    other.wait()
    assert (reopened.shown_points["layer"], reopened.shown_points["head"]) == (1, 1)
    rows = heads_rows(result)
    values = rows["previous_token"][(rows["layer"] == 1) & (rows["head"] == 1)]
    assert reopened.hist.getData()[1].sum() == np.isfinite(values.astype(float)).sum()


def test_a_session_whose_corpus_folder_is_gone_says_so_and_loads_the_rest(
        make_explorer, result, tmp_path):
    e, panel = opened(make_explorer, result)
    samples = get_preset("induction").samples
    e.set_input(samples[1])
    e.wait()
    e.select(site="layers.1.attn", head=1)
    saved = e.save_session(tmp_path / "s.json")
    data = json.loads(saved.read_text())
    data["corpus"]["folder"] = str(tmp_path / "gone")
    saved.write_text(json.dumps(data))
    other = make_explorer("induction")
    assert other.input != samples[1]
    other.window.opener.open_session(str(saved))  # as File ▸ Open session does
    other.wait()
    assert other.input == samples[1]  # the rest of the session is on screen
    assert (other.selection.site, other.selection.head) == ("layers.1.attn", 1)
    line = other.window.message_label.text()
    assert "corpus result was not opened" in line and "no meta.json" in line
    assert str(tmp_path / "gone") in line and "\n" not in line
    window = other.window
    assert window.panels["corpus"].result is None
    assert not window.tabs.isTabVisible(window.tabs.indexOf(window.pages["corpus"]))


def test_drawing_after_opening_a_point_of_an_image_result_drops_its_selection(
        make_explorer, tmp_path):
    """An image result's point is a picture's file; a picture drawn before its run arrives
    is an array: comparing the two once raised (the soak, seed 2), now the point's
    selection is dropped and the drawing runs."""
    from PySide6 import QtCore

    from explorer.state import default_input

    e = make_explorer("vit-digits")
    panel = e.window.panels["corpus"]
    trace = e.trace
    layers = [{"site": s, "row": str(i), "kind": trace.meta["sites"][s]["kind"],
               "heads": int(trace.meta["sites"][s]["heads"])} for i, s in enumerate(trace.sites())]
    folder = write_example(tmp_path / "vit", [str(default_input("vit-digits"))], layers,
                           points_per_head=30, d_head=4, preset="vit-digits",
                           model=panel._fingerprint(e.state.runner.session), max_position=2,
                           parts=1, input_kind="image")
    e.open_corpus(str(folder))
    e.wait()
    panel.select_head(0, 0, tell=True)
    e.wait()
    assert panel.open_point(0) == "" and panel.pending is not None
    canvas = e.window.image_input.canvas
    canvas.stroke([QtCore.QPointF(5, 5), QtCore.QPointF(canvas.SIZE - 5, canvas.SIZE - 5)])
    e.wait()
    assert panel.pending is None
    assert isinstance(e.input, np.ndarray) and e.trace.meta["preset"] == "vit-digits"
