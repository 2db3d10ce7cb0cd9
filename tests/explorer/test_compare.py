"""Compare mode: a second input B beside A. A − B on screen is the difference of two single
runs through Session.run; a view where A − B cannot be (different lengths) shows A and says
why; the selection is one for both; sessions keep both inputs, and files saved before compare
mode existed still load."""
import json

import numpy as np
import pytest

from explorer.compare import DiffTrace, change_one_word, compare_rows, shapes_agree
from explorer.session import read
from models.presets import get_preset
from models.session import load_preset

A = "the small cat sees the big dog"
B = "the small dog sees the big cat"


def test_a_minus_b_is_the_difference_of_two_runs(make_explorer):
    explorer = make_explorer("translate")
    explorer.set_input(A)
    explorer.set_compare(True, B)
    explorer.wait()
    explorer.set_view("A-B")
    shown = explorer.trace
    assert isinstance(shown, DiffTrace)
    session = load_preset("translate", "cpu")
    a, b = session.run(A), session.run(B)
    site = "decoder.layers.1.cross_attn"
    for name in (f"{site}/q", f"{site}/out", f"{site}/weights", "encoder.layers.0.self_attn/k"):
        np.testing.assert_allclose(shown[name], a[name] - b[name], atol=1e-5)
    np.testing.assert_allclose(shown.head_matrix(site, "weights", 2),
                               a.head_matrix(site, "weights", 2)
                               - b.head_matrix(site, "weights", 2), atol=1e-5)
    # integer records (token ids) stay A's
    ints = [n for n, v in a.records.items() if not np.issubdtype(v.dtype, np.floating)]
    for name in ints:
        np.testing.assert_array_equal(shown[name], a[name])
    explorer.set_view("B")
    np.testing.assert_allclose(explorer.trace[f"{site}/out"], b[f"{site}/out"], atol=1e-5)
    explorer.set_view("A")
    np.testing.assert_allclose(explorer.trace[f"{site}/out"], a[f"{site}/out"], atol=1e-5)
    # the prediction panel says both answers
    prediction = explorer.window.panels["prediction"]
    explorer.show("attention")
    assert prediction.ab.isVisible()
    text = prediction.ab.text()
    assert a.meta["prediction"].split()[0] in text and b.meta["prediction"].split()[0] in text


def test_different_lengths_show_a_with_a_note(make_explorer):
    explorer = make_explorer("translate")
    explorer.set_input(A)
    explorer.set_compare(True, "the girl does not sleep")
    explorer.wait()
    explorer.set_view("A-B")
    state = explorer.state
    assert explorer.trace is state.trace_a
    assert "A − B needs the same count" in state.compare_note
    assert explorer.window.compare_bar.note.isVisible()
    assert not shapes_agree(state.trace_a, state.trace_b)
    explorer.set_view("B")
    assert explorer.trace is state.trace_b and state.compare_note == ""


def test_selection_is_shared_between_a_and_b(make_explorer):
    explorer = make_explorer("translate")
    explorer.set_input(A)
    explorer.set_compare(True, B)
    explorer.wait()
    site = "encoder.layers.1.self_attn"
    explorer.select(site=site, head=3, query=2, key=5, locked=True)
    for view in ("B", "A-B", "A"):
        explorer.set_view(view)
        sel = explorer.selection
        assert (sel.site, sel.head, sel.query, sel.key, sel.locked) == (site, 3, 2, 5, True)


def test_compare_off_shows_a_alone(make_explorer):
    explorer = make_explorer("translate")
    explorer.set_input(A)
    explorer.set_compare(True, B)
    explorer.wait()
    explorer.set_view("B")
    assert explorer.trace is explorer.state.trace_b
    alone = load_preset("translate").run(B)  # B's own run, outside the app
    assert explorer.trace.meta["prediction"] == alone.meta["prediction"]
    assert explorer.trace.meta["prediction"] != explorer.state.trace_a.meta["prediction"]
    explorer.set_compare(False)
    # A at once, before the run compare-off asks for ends (or is refused: the soak, seed 1)
    assert explorer.trace is explorer.state.trace_a
    explorer.wait()
    assert explorer.trace is explorer.state.trace_a
    explorer.set_compare(True)  # view B again: A until B's new run, not the old B (seed 3)
    assert explorer.state.trace_b is None and explorer.trace is explorer.state.trace_a
    explorer.set_compare(False)
    assert not explorer.window.compare_bar.isVisible()
    assert not explorer.window.panels["prediction"].ab.isVisible()


def test_one_word_changed_keeps_the_count_and_the_vocabulary():
    pool = [w for line in get_preset("translate").samples for w in line.split()]
    changed = change_one_word(A, pool)
    assert len(changed.split()) == len(A.split())
    assert sum(x != y for x, y in zip(changed.split(), A.split())) == 1
    assert set(changed.split()) <= set(pool) | set(A.split())


def test_compare_rows_are_the_change_of_each_top_k():
    a = {"topk": [[["x", 0.5], ["y", 0.3], ["z", 0.1]]]}
    b = {"topk": [[["y", 0.6], ["x", 0.2], ["w", 0.1]]]}
    rows = compare_rows(a, b)
    assert rows[0] == ("x", 0.5, 0.2, pytest.approx(-0.3))
    assert rows[1] == ("y", 0.3, 0.6, pytest.approx(0.3))
    assert rows[2] == ("z", 0.1, None, None)


def test_session_keeps_both_inputs(make_explorer, tmp_path):
    explorer = make_explorer("translate")
    explorer.set_input(A)
    explorer.set_compare(True, B)
    explorer.wait()
    explorer.set_view("A-B")
    path = explorer.save_session(tmp_path / "both.json")
    data = json.loads(path.read_text())
    assert data["compare"] == {"input": {"text": B}, "view": "A-B"}
    other = make_explorer("translate")
    other.open_session(path)
    other.wait()
    assert other.state.compare and other.state.input_b == B and other.state.view == "A-B"
    assert other.input == A
    assert isinstance(other.trace, DiffTrace)


def test_old_session_files_load_without_compare(make_explorer, tmp_path):
    old = {"app": "transformer-explorer", "version": 1, "preset": "translate",
           "input": {"text": A}}
    path = tmp_path / "old.json"
    path.write_text(json.dumps(old))
    data = read(path, ["attention"])
    assert "compare" not in data or data["compare"] is None
    explorer = make_explorer("translate")
    explorer.set_compare(True, B)
    explorer.wait()
    explorer.open_session(path)
    explorer.wait()
    assert not explorer.state.compare  # what the file shows: A alone


@pytest.mark.parametrize("bad, says", [
    ({"input": {"text": 3}}, "'compare' must hold"),
    ({"input": {"text": B}, "view": "A+B"}, "compare view must be one of"),
    ("yes", "'compare' must be an object"),
])
def test_bad_compare_fields_are_refused(tmp_path, bad, says):
    from models.errors import SessionError

    data = {"app": "transformer-explorer", "version": 1, "preset": "translate",
            "input": {"text": A}, "compare": bad}
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    with pytest.raises(SessionError, match=says):
        read(path, ["attention"])


def test_a_new_b_while_compare_is_on_runs(make_explorer):
    explorer = make_explorer("translate")
    explorer.set_input(A)
    explorer.set_compare(True, B)
    explorer.wait()
    other = "the small cat sees the big girl"
    explorer.set_compare(True, other)
    explorer.wait()
    assert explorer.state.shown.input_b == other
    assert explorer.state.trace_b.meta["input"] == other


def test_model_constants_and_masks_read_as_a():
    session = load_preset("induction", "cpu")
    a = session.run("happy dog run park green tree big bird sing rain happy dog run park green")
    b = session.run("happy dog run green park tree big bird sing rain happy dog run park green")
    diff = DiffTrace(a, b)
    np.testing.assert_array_equal(diff["rope/inv_freq"], a["rope/inv_freq"])
    np.testing.assert_array_equal(diff.head_matrix("layers.0.attn", "mask", 0),
                                  a.head_matrix("layers.0.attn", "mask", 0))
    np.testing.assert_allclose(diff["embed/resid"], a["embed/resid"] - b["embed/resid"])
