"""Opened language models in the app (issue 17): every panel renders for GPT-2, Llama (GQA),
Qwen2 and BERT folders built by transformers; the Prediction panel shows each position's
top-5 and a causal model's greedy continuation; the statistics and captions are the trace's."""
from html import escape

import numpy as np
import pytest

from explorer.export import PANEL_NAMES
from models.catalog import CATALOG
from models.opening import open_model
from models.session import load_folder
from tests.models.lm_folders import FAMILIES, build

pytest.importorskip("transformers")


@pytest.fixture(scope="module")
def opened(tmp_path_factory):
    """Each family's folder, opened as a preset (and taken out of the catalog afterwards)."""
    root = tmp_path_factory.mktemp("lm-panels")
    names = {}
    for family in FAMILIES:
        build(family, root / family)
        names[family] = (open_model(root / family).name, root / family)
    yield names
    for name, _ in names.values():
        CATALOG.remove(name)


@pytest.mark.parametrize("family", FAMILIES)
def test_every_panel_renders_a_language_model(make_explorer, opened, family):
    name, folder = opened[family]
    e = make_explorer(name)
    assert e.error == "" and e.trace.meta["task"] == ("masked-lm" if family == "bert"
                                                      else "causal-lm")
    meta = e.trace.meta
    e.select(site="layers.1.attn", head=1, query=2)
    for panel in PANEL_NAMES:
        e.show(panel)  # each draws the trace without an error
        e.paint()
    assert e.error == ""
    window = e.window
    kind = "self (bidirectional)" if family == "bert" else "self (causal)"
    assert window.kind_box.currentText() == kind
    # the tokens panel: one sequence, as the tokenizer cut it
    assert window.panels["tokens"].strip.queries == meta["tokens"]
    # the prediction panel: a row per position with its top-5, the selected one in words
    panel = window.panels["prediction"]
    assert panel.positions.rowCount() == len(meta["tokens"])
    best, p = meta["topk"][2][0]
    assert panel.positions.item(2, 1).text().startswith(f"{best}\u00a0{p:.1%}")
    assert f"<b>{escape(best)}</b>" in panel.position_label.text()
    assert panel.continue_row.isHidden() == (family == "bert")
    # the model view: weight on the first token, from the recorded weights
    stats = window.panels["model"].table
    row = next(r for r in range(stats.rowCount())
               if stats.item(r, 0).value == 1 and stats.item(r, 1).value == 1)
    weights = e.trace["layers.1.attn/weights"]
    assert stats.item(row, 5).value == pytest.approx(weights[1, :, 0].mean(), rel=1e-5)
    special = meta["special"]
    if special:
        assert stats.item(row, 4).value == pytest.approx(
            weights[1][:, special].sum(-1).mean(), rel=1e-5)
    # grouped-query attention is said where the heads are shown
    caption = window.panels["pipeline"].caption.text()
    assert ("reads K/V head 0 of 2, shared by query heads 0–1" in caption) == \
        (family in ("llama", "qwen2"))


def test_the_continuation_spin_box_runs_greedy_decoding(make_explorer, opened):
    name, folder = opened["gpt2"]
    e = make_explorer(name)
    panel = e.window.panels["prediction"]
    panel.generate.setValue(4)
    e.wait()
    session = load_folder(folder)
    session.generate = 4
    expected = session.run(e.input)["prediction/ids"]
    np.testing.assert_array_equal(e.trace["prediction/ids"], expected)
    assert e.trace.meta["continuation"] == session.tokenizer.tokens(expected)
    # (a word longer than a line carries zero-width spaces, where it may wrap)
    assert "continued: " + "".join(e.trace.meta["continuation"]) in \
        panel.headline.text().replace("\u200b", "")
    e.set_input("")  # bad input keeps the last result and says why
    with pytest.raises(Exception, match="the input is empty"):
        e.wait()
    np.testing.assert_array_equal(e.trace["prediction/ids"], expected)


def test_bert_fills_in_mask_typed_anywhere(make_explorer, opened):
    name, _ = opened["bert"]
    e = make_explorer(name)
    e.set_input("the [MASK] went to the store to buy [MASK] milk.")
    e.wait()
    meta = e.trace.meta
    assert [meta["tokens"][i] for i in meta["masked"]] == ["[MASK]", "[MASK]"]
    assert meta["tokens"][0] == "[CLS]" and meta["tokens"][-1] == "[SEP]"
    headline = e.window.panels["prediction"].headline.text()
    assert headline == meta["prediction"] and "[MASK]" not in headline


def test_a_soak_over_opened_language_models(qapp, opened):
    """Random actions, starting on a language model, with the other opened ones and the
    presets to switch to: no exception, no stale frame."""
    from explorer.soak import run_soak

    report = run_soak(actions=150, seed=5, presets=[opened["llama"][0]])
    assert report["exceptions"] == [] and report["stale"] == []
    assert report["qt_warnings"] == []
    assert report["runs_painted"] > 10


@pytest.mark.parametrize("family", ["llama", "gpt2"])
def test_the_pipeline_lights_the_query_heads_that_share_a_kv_head(make_explorer, opened,
                                                                   family, qtbot):
    """Grouped-query attention in the pipeline: for each query head the K/V shown is its
    group's shared head (the config's grouping: head h reads K/V head h // (H / H_kv)), and
    the query heads that read the same K/V head are lit; a click on a head selects it."""
    import json

    from PySide6 import QtCore

    name, folder = opened[family]
    config = json.loads((folder / "config.json").read_text())
    heads = config.get("num_attention_heads", config.get("n_head"))
    kv_heads = config.get("num_key_value_heads", heads)
    e = make_explorer(name)
    e.show("pipeline")
    panel = e.window.panels["pipeline"]
    strip = panel.kv_groups
    site = "layers.1.attn"
    if kv_heads == heads:  # one K/V head per query head: nothing to say
        e.select(site=site, head=1)
        e.paint()
        assert not strip.isVisible() and "K/V" not in panel.views["kT"].title
        return
    assert kv_heads < heads
    group = heads // kv_heads
    for head in range(heads):
        e.select(site=site, head=head)
        e.paint()
        assert strip.isVisible()
        lit, kv = strip.lit()
        assert kv == head // group
        assert lit == [h for h in range(heads) if h // group == head // group]
        for name_ in ("kT", "v"):
            assert f"(K/V\u00a0head\u00a0{kv})" in panel.views[name_].title
        # the K shown is the group's: the same matrix for every head of the group, from the
        # trace; another group's differs
        shown = panel.matrices(e.trace, e.selection)["kT"]
        for other in range(heads):
            k_other = e.trace[f"{site}/k"][other].T
            assert np.array_equal(shown, k_other) == (other // group == kv)
    # a click on a query head selects it
    target = heads - 1
    qtbot.mouseClick(strip, QtCore.Qt.LeftButton,
                     pos=strip.query_rect(target).center().toPoint())
    e.paint()
    assert e.selection.head == target and strip.lit()[1] == target // group


def test_a_session_keeps_the_continuation_length(make_explorer, opened, tmp_path):
    """--generate / the spin box is saved with the session and comes back on opening: the
    same greedy continuation, the spin box showing it; a file asking for more than the
    bound is refused with the reason, and one whose continuation makes the input too long
    leaves the app as it was."""
    import json

    from explorer.session import SessionError
    from models.runs.lm import MAX_GENERATE

    name, folder = opened["gpt2"]
    e = make_explorer(name)
    panel = e.window.panels["prediction"]
    panel.generate.setValue(3)
    e.wait()
    continued = e.trace["prediction/ids"].copy()
    assert len(continued) == 3
    path = e.save_session(tmp_path / "lm.json")
    assert json.loads(path.read_text())["generate"] == 3
    panel.generate.setValue(0)  # another state, then the session again
    e.set_input("Once upon a time")
    e.wait()
    e.open_session(path)
    assert e.state.generate == 3 and panel.generate.value() == 3
    np.testing.assert_array_equal(e.trace["prediction/ids"], continued)
    # bounded: the reason, and nothing changes
    saved = json.loads(path.read_text())
    saved["generate"] = MAX_GENERATE + 1
    (tmp_path / "many.json").write_text(json.dumps(saved))
    with pytest.raises(SessionError, match=f"'generate' must be a whole number of tokens "
                                           f"from 0 to {MAX_GENERATE}"):
        e.open_session(tmp_path / "many.json")
    assert e.state.generate == 3
    # a continuation the model has no room for: refused by the run, everything restored
    panel.generate.setValue(1)
    e.wait()
    shown = e.trace
    saved["generate"] = MAX_GENERATE
    (tmp_path / "long.json").write_text(json.dumps(saved))
    with pytest.raises(SessionError, match="refused"):
        e.open_session(tmp_path / "long.json")
    assert e.state.generate == 1 and panel.generate.value() == 1 and e.trace is shown
