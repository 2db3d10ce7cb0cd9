"""The Patching tab: clean = input A, corrupted = input B. A sweep on the induction preset
shows the engine's own scores (computed here independently through models.patching);
clicking a cell selects its head and shows that patched run on every panel, with the way
back; a cancelled sweep leaves the result before it on screen, marked; inputs of different
lengths say both counts; a target of more than one token says why."""
import numpy as np
import pytest

from models import patching
from models.session import load_preset
from tests.models.test_patching import INDUCTION

CLEAN = "happy dog run park green tree big bird sing rain happy dog run park green"
CORRUPT = "happy dog run park green tree big bird sing rain happy cat swim lake blue"


@pytest.fixture
def explorer(make_explorer):
    explorer = make_explorer("induction")
    explorer.set_input(CLEAN)
    explorer.set_compare(True, CORRUPT)
    explorer.wait()
    explorer.show("patching")
    return explorer


def sweep(panel, explorer, kind: str) -> None:
    panel.sweep_box.setCurrentIndex(panel.sweep_box.findData(kind))
    panel.run()
    explorer.wait()


def test_a_sweep_shows_the_engines_scores(explorer):
    panel = explorer.window.panels["patching"]
    assert panel.run_button.isEnabled()
    sweep(panel, explorer, "heads-by-pos")
    expected = patching.sweep(load_preset("induction", "cpu"), CLEAN, CORRUPT, "heads-by-pos")
    shown = panel.result["result"]
    np.testing.assert_allclose(panel.heatmap.data, expected.scores, atol=1e-4)
    assert list(panel.heatmap.row_labels) == expected.rows
    assert list(panel.heatmap.col_labels) == expected.columns
    assert shown.target_names == expected.target_names == ("tree", "big")
    assert panel.history.count() == 1 and not panel.progress.isVisible()
    # hover reads the score out
    panel.heatmap._show_readout(1, 3, force=True)
    assert f"{expected.scores[1, 3]:.4g}" in panel.heatmap.readout_text


def test_clicking_a_cell_selects_the_head_and_shows_the_patched_run(explorer):
    panel = explorer.window.panels["patching"]
    sweep(panel, explorer, "heads")
    scores = panel.result["result"].scores
    row, col = np.unravel_index(int(np.nanargmax(scores)), scores.shape)
    cell = panel.cell(row, col)
    panel.heatmap.clicked.emit(int(row), int(col))
    explorer.wait()
    state = explorer.state
    assert state.selection.site == cell["site"] and state.selection.head == cell["head"]
    assert state.patched is not None and explorer.trace is state.patched["trace"]
    expected = patching.patched_run(load_preset("induction", "cpu"), CLEAN, CORRUPT,
                                    {k: v for k, v in cell.items() if k != "score"})
    assert explorer.trace.meta["patched"]["head"] == cell["head"]
    assert explorer.trace.meta["prediction"] == expected.meta["prediction"]
    site = cell["site"]
    np.testing.assert_allclose(explorer.trace[f"{site}/out"], expected[f"{site}/out"],
                               atol=1e-5)
    window = explorer.window
    assert window.patched_bar.isVisible() and "head" in window.patched_label.text()
    window.patched_back.click()
    explorer.paint()
    assert state.patched is None and explorer.trace is state.trace_a
    assert not window.patched_bar.isVisible()


def test_a_cell_of_a_result_from_another_model_opens_no_run_on_this_one(explorer):
    """The history keeps results of other models and inputs; clicking a cell of one after
    a switch says to sweep again and runs nothing (it used to patch the model on screen
    with the other model's sites: a KeyError or IndexError on the model's thread)."""
    panel = explorer.window.panels["patching"]
    sweep(panel, explorer, "heads-by-pos")
    scores = panel.result["result"].scores
    row, col = np.unravel_index(int(np.nanargmax(scores)), scores.shape)
    explorer.set_preset("vit-digits")
    explorer.wait()
    trace = explorer.trace
    panel.history.setCurrentIndex(0)
    panel._history_chosen(0)
    panel.heatmap.clicked.emit(int(row), int(col))
    explorer.wait()
    assert "sweep again" in panel.status.text()
    assert explorer.state.patched is None and explorer.trace is trace
    assert not explorer.state.error


def test_a_cancelled_sweep_keeps_the_previous_result_marked(explorer):
    panel = explorer.window.panels["patching"]
    sweep(panel, explorer, "heads")
    first = panel.result
    panel.sweep_box.setCurrentIndex(panel.sweep_box.findData("resid"))
    panel.run()
    assert panel.progress.isVisible() and panel.cancel_button.isEnabled()
    panel.cancel()
    explorer.wait()
    assert panel.result is first and panel.marked == "cancelled"
    assert panel.heatmap.title.startswith("[cancelled]")
    np.testing.assert_allclose(panel.heatmap.data, first["result"].scores)
    assert panel.history.count() == 1 and not panel.progress.isVisible()
    assert panel.run_button.isEnabled()


def test_a_new_input_overtakes_a_sweep_and_the_window_stays_live(explorer, monkeypatch):
    """The sweep runs on the model's worker thread: a new input B is run between two of its
    forwards (painted while the sweep still runs), and that stops the sweep."""
    import threading

    from explorer.panels import patching as tab

    seen = {"forwards": 0}
    started = threading.Event()

    def endless(session, clean, corrupt, kind, targets=None, progress=None):
        started.set()
        while True:  # a sweep that never ends by itself: stopped through its progress
            progress(seen["forwards"], 10**6)
            seen["forwards"] += 1
            threading.Event().wait(0.005)  # (the worker yields between two "forwards")

    monkeypatch.setattr(tab.patching, "sweep", endless)
    panel = explorer.window.panels["patching"]
    panel.sweep_box.setCurrentIndex(panel.sweep_box.findData("resid"))
    panel.run()
    assert started.wait(60)
    new_b = "happy dog run park green tree big bird sing rain happy cat swim lake green"
    explorer.set_input_b(new_b)
    explorer.wait()
    assert explorer.state.trace_b.meta["input"] == new_b  # run while the sweep held the thread
    assert panel.result is None and "overtaken" in panel.status.text()
    assert not panel.progress.isVisible()


def test_a_sweep_uses_the_windows_session_and_its_switched_off_heads(explorer, monkeypatch):
    """No second copy of the model: the sweep runs on the worker's own session. A head
    switched off in the window changes the sweep, which then equals the command line's
    with the same --intervention."""
    import json

    from explorer import cli
    from explorer.panels import patching as tab

    used = []
    real = tab.patching.sweep
    monkeypatch.setattr(tab.patching, "sweep",
                        lambda session, *a, **k: (used.append(session), real(session, *a, **k))[1])
    panel = explorer.window.panels["patching"]
    sweep(panel, explorer, "heads-by-pos")
    plain = panel.result["result"].scores
    assert used == [explorer.state.runner.session]
    explorer.state.toggle_head("layers.0.attn", 1)
    explorer.wait()
    sweep(panel, explorer, "heads-by-pos")
    off = panel.result
    assert off["interventions"] == {"heads_off": [["layers.0.attn", 1]]}
    assert used[-1] is used[0]
    assert np.abs(off["result"].scores - plain).max() > 0.05
    assert "1 heads off" in panel.history.itemText(0)
    capsys_out = []
    monkeypatch.setattr("builtins.print", lambda *a, **k: capsys_out.append(a[0]))
    assert cli.main(["patch", "--preset", "induction", "--clean", CLEAN, "--corrupt", CORRUPT,
                     "--sweep", "heads-by-pos", "--intervention", "head_off=layers.0.attn:1",
                     "--json"]) == 0
    expected = json.loads(capsys_out[-1])
    np.testing.assert_allclose(off["result"].scores.ravel(),
                               [np.nan if c["score"] is None else c["score"]
                                for c in expected["cells"]], atol=1e-5)
    # a patched run of that result has the head off too
    row, col = np.unravel_index(int(np.nanargmax(off["result"].scores)),
                                off["result"].scores.shape)
    panel.heatmap.clicked.emit(int(row), int(col))
    explorer.wait()
    assert explorer.trace.meta["interventions"] == {"heads_off": [["layers.0.attn", 1]]}


def path_tab(make_explorer):
    """The induction preset's clean and corrupted inputs as A and B, the Patching tab shown
    with its path sweep chosen."""
    explorer = make_explorer("induction")
    explorer.set_input(INDUCTION[0])
    explorer.set_compare(True, INDUCTION[1])
    explorer.wait()
    explorer.show("patching")
    panel = explorer.window.panels["patching"]
    panel.sweep_box.setCurrentIndex(panel.sweep_box.findData("path"))
    return explorer, panel


def test_a_path_sweep_shows_each_earlier_head_into_the_chosen_receiver(make_explorer):
    """Path patching in the tab: every layer-0 head into layer 1 head 1's keys, the
    engine's scores (models.patching.path_sweep on a session of its own), the
    previous-token head's high."""
    explorer, panel = path_tab(make_explorer)
    assert panel.receiver_box.isVisibleTo(panel)
    assert [panel.receiver_box.itemData(i) for i in range(panel.receiver_box.count())] == \
        [("layers.1.attn", 0), ("layers.1.attn", 1)]
    panel.receiver_box.setCurrentIndex(panel.receiver_index(("layers.1.attn", 1)))
    panel.part_box.setCurrentIndex(panel.part_box.findData("k"))
    panel.run()
    explorer.wait()
    expected = patching.path_sweep(load_preset("induction", "cpu"), *INDUCTION,
                                   ("layers.1.attn", 1), "k")
    np.testing.assert_allclose(panel.heatmap.data, expected.scores, atol=1e-5)
    assert panel.heatmap.data[0, 1] > 0.4  # the previous-token head, through the keys
    assert list(panel.heatmap.row_labels) == expected.rows == ["0"]
    assert "layers.1.attn head 1's k" in panel.heatmap.title


def test_a_path_cell_opens_its_patched_run(make_explorer):
    """Clicking a path sweep's top cell (the previous-token head into the induction head's
    keys) shows that path-patched run in every panel: its prediction's metric gives the
    cell's score (the engine's path_patch on a session of its own), the banner names sender
    and receiver, and it is not the sender head patched into every later head."""
    explorer, panel = path_tab(make_explorer)
    panel.receiver_box.setCurrentIndex(panel.receiver_index(("layers.1.attn", 1)))
    panel.part_box.setCurrentIndex(panel.part_box.findData("k"))
    panel.run()
    explorer.wait()
    result = panel.result["result"]
    row, col = np.unravel_index(int(np.nanargmax(result.scores)), result.scores.shape)
    cell = panel.cell(int(row), int(col))
    assert (cell["site"], cell["head"]) == ("layers.0.attn", 1)
    panel.heatmap.clicked.emit(int(row), int(col))
    explorer.wait()
    state = explorer.state
    assert state.selection.site == "layers.0.attn" and state.selection.head == 1
    assert state.patched is not None and explorer.trace is state.patched["trace"]
    patched = explorer.trace.meta["patched"]
    assert (patched["site"], patched["head"], patched["receiver"], patched["receiver_head"],
            patched["part"]) == ("layers.0.attn", 1, "layers.1.attn", 1, "k")
    session = load_preset("induction", "cpu")
    score = patching.path_patch(session, *INDUCTION, ("layers.0.attn", 1),
                                ("layers.1.attn", 1), "k")
    probs = explorer.trace["prediction/probs"][-1].astype(np.float64)
    a, b = result.targets
    m = np.log(probs[a]) - np.log(probs[b])
    assert (m - result.corrupt) / (result.clean - result.corrupt) == \
        pytest.approx(score, abs=1e-5)
    assert score == pytest.approx(cell["score"], abs=1e-5) and score > 0.4
    window = explorer.window
    text = window.patched_label.text()
    assert window.patched_bar.isVisible()
    assert "layers.0.attn head 1 → layers.1.attn head 1's keys" in text
    # a plain patch of the same head (every later head reads it): another run
    plain = patching.patched_run(session, *INDUCTION, {"site": "layers.0.attn", "head": 1})
    assert np.abs(plain["prediction/probs"][-1] - explorer.trace["prediction/probs"][-1]
                  ).max() > 1e-3
    assert np.abs(plain["layers.0.attn/out"][1] - explorer.trace["layers.0.attn/out"][1]
                  ).max() > 1e-3
    window.patched_back.click()
    explorer.paint()
    assert state.patched is None and explorer.trace is state.trace_a


def test_different_token_counts_say_both(explorer):
    explorer.set_input_b("happy dog run park green")
    explorer.wait()
    panel = explorer.window.panels["patching"]
    assert "A has 16 tokens and B has 6" in panel.caption.text()
    assert not panel.run_button.isEnabled()
    assert "align" not in panel.caption.text()


def test_without_compare_the_tab_says_what_it_needs(make_explorer):
    explorer = make_explorer("induction")
    explorer.show("patching")
    panel = explorer.window.panels["patching"]
    assert "turn on Compare" in panel.caption.text() and not panel.run_button.isEnabled()


def test_a_target_of_two_tokens_is_refused_with_its_reason(explorer):
    panel = explorer.window.panels["patching"]
    panel.target_a.setText("tree bird")
    sweep(panel, explorer, "heads")
    assert panel.result is None
    assert "tree bird" in panel.status.text()
    panel.target_a.setText("bird")
    sweep(panel, explorer, "heads")
    assert panel.result["result"].target_names == ("bird", "big")


def test_the_tour_patches_the_previous_token_head_and_the_answer_comes_back(make_explorer):
    explorer = make_explorer("induction")
    tour = explorer.tour("en")
    # (chapter 10's last step; chapter 11 follows it)
    last = next(i for i, step in enumerate(tour.steps) if step.title.startswith("Patch the")
                and "previous-token head" in step.title and step.chapter_title.startswith("10 "))
    tour.go(last)
    explorer.wait()
    state = explorer.state
    assert state.compare and state.trace_b.meta["prediction"] == "park"
    assert state.patched is not None
    assert (state.patched["cell"]["site"], state.patched["cell"]["head"],
            state.patched["cell"]["position"]) == ("layers.0.attn", 1, 6)
    assert explorer.trace.meta["prediction"] == "tree"  # the answer is back
    assert explorer.window.current_panel() == "patching"
    tour.go(last - 1)  # the step before: compare mode off again, no patched run
    explorer.wait()
    assert not state.compare and state.patched is None
