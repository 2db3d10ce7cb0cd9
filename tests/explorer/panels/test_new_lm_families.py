"""Qwen3, Gemma 3 and Phi-3 folders in the app: every panel renders each through
make_explorer; Gemma 3's sliding-window layers are their own kind of site, named in the
kind list and the layer's title, drawn with their band mask and explained in the pipeline's
and the positions panel's captions (in Chinese too)."""
import numpy as np
import pytest

from explorer.export import PANEL_NAMES
from models.catalog import CATALOG
from models.opening import open_model
from tests.models.lm_folders import NEW_FAMILIES, build_new

pytest.importorskip("transformers")

TEXT = "The capital of France is Paris. She picked up the book and started to read."


@pytest.fixture(scope="module")
def opened(tmp_path_factory):
    root = tmp_path_factory.mktemp("new-lm-panels")
    names = {}
    for family in NEW_FAMILIES:
        build_new(family, root / family)
        names[family] = open_model(root / family).name
    yield names
    for name in names.values():
        CATALOG.remove(name)


def drawn(e, panel) -> bool:
    image = e.grab(panel).toImage()
    step = max(1, min(image.width(), image.height()) // 40)
    colours = {image.pixel(x, y) for x in range(0, image.width(), step)
               for y in range(0, image.height(), step)}
    return image.width() > 100 and image.height() > 100 and len(colours) > 4


@pytest.mark.parametrize("family", NEW_FAMILIES)
def test_every_panel_renders(make_explorer, opened, family):
    e = make_explorer(opened[family])
    e.set_input(TEXT)
    e.wait()
    assert e.error == "" and e.trace.meta["task"] == "causal-lm"
    e.select(site="layers.1.attn", head=1, query=len(e.trace.meta["tokens"]) - 1)
    for panel in PANEL_NAMES:
        e.show(panel)
        e.paint()
        assert drawn(e, panel), panel
        assert e.error == "", panel


def test_gemma3_sliding_window_layers_in_the_window(make_explorer, opened):
    e = make_explorer(opened["gemma3_text"])
    e.set_input(TEXT)
    e.wait()
    window = e.window
    kinds = [window.kind_box.itemText(i) for i in range(window.kind_box.count())]
    assert kinds == ["self (sliding window)", "self (causal)"]
    n = len(e.trace.meta["tokens"])
    e.select(site="layers.2.attn", head=0, query=n - 1)
    e.show("pipeline")
    e.paint()
    assert window.kind_box.currentText() == "self (sliding window)"
    assert window.layer_box.toolTip().endswith("sliding-window causal self-attention")
    panel = window.panels["pipeline"]
    shown = panel.matrices(e.trace, e.selection)
    i, j = np.indices((n, n))
    band = (j <= i) & (j > i - 5)
    assert np.all(shown["mask"][~band] < -1) and np.all(shown["mask"][band] == 0)
    assert np.all(shown["weights"][~band] == 0)
    panel.go_to_stage(3)
    assert "4 before it" in panel.caption.text() and "5 or more tokens back" in \
        panel.caption.text()
    e.show("positional")
    e.paint()
    note = window.panels["positional"].sequence.note.text()
    assert "sliding window" in note and "the 5 latest tokens" in note
    for panel_name in PANEL_NAMES:  # the sliding site drawn by every panel
        e.show(panel_name)
        e.paint()
        assert drawn(e, panel_name) and e.error == "", panel_name
    e.grab("pipeline").save("/tmp/families30-gemma-pipeline.png")


def test_sliding_window_words_have_chinese():
    from pathlib import Path

    text = (Path(__file__).parents[3] / "explorer/i18n/zh_CN.ts").read_text()
    for source in ("sliding-window causal self-attention", "self (sliding window)"):
        assert f"<source>{source}</source>" in text


def test_qwen3_pipeline_says_q_and_k_are_normalised(make_explorer, opened):
    e = make_explorer(opened["qwen3"])
    e.show("pipeline")
    panel = e.window.panels["pipeline"]
    panel.go_to_stage(0)
    assert "normalised (RMSNorm" in panel.caption.text()
    e2 = make_explorer(opened["phi3"])
    panel2 = e2.window.panels["pipeline"]
    panel2.go_to_stage(0)
    assert "normalised" not in panel2.caption.text()


def test_a_soak_over_an_opened_gemma3_with_a_short_window(qapp, opened):
    """Random actions starting on Gemma 3 (a window of 5 tokens, inputs longer than it):
    no exception, no stale frame."""
    from explorer.soak import run_soak

    report = run_soak(actions=100, seed=30, presets=[opened["gemma3_text"]])
    assert report["exceptions"] == [] and report["stale"] == []
    assert report["runs_painted"] > 5


def test_a_sharded_folder_missing_a_shard_says_why_and_changes_nothing(make_explorer,
                                                                        tmp_path, qtbot):
    """A banner with the one line, the model box and the trace as they were."""
    import json

    from explorer.api import RunFailed

    model = build_new("qwen3", tmp_path / "single")
    folder = tmp_path / "sharded"
    folder.mkdir()
    for file in (tmp_path / "single").iterdir():
        if file.name != "model.safetensors":
            (folder / file.name).write_bytes(file.read_bytes())
    model.save_pretrained(folder, max_shard_size="20KB")
    index = json.loads((folder / "model.safetensors.index.json").read_text())
    missing = sorted(set(index["weight_map"].values()))[-1]
    (folder / missing).unlink()
    e = make_explorer("vit-digits")
    with pytest.raises(RunFailed, match=f"shard {missing} named in"):
        e.open_model(folder)
    assert e.preset == "vit-digits" and e.trace.meta["preset"] == "vit-digits"
    with qtbot.waitSignal(e.window.model_opened, timeout=60_000):  # as File ▸ Open does
        e.window.open_model(str(folder))
    assert e.window.banners[0].isVisible() and missing in e.window.banners[0].text()
    assert e.preset == "vit-digits"
    assert not any("sharded" in e.window.preset_box.itemText(i)
                   for i in range(e.window.preset_box.count()))


def test_qwen3_pipeline_shows_q_and_k_before_their_norm(make_explorer, tmp_path, qtbot):
    """The box appears for a QK-norm model only; ticked, Q and Kᵀ are q_proj's and k_proj's
    outputs as the reference library computes them (its own modules, hooked), and the
    titles say so."""
    import torch

    reference = build_new("qwen3", tmp_path / "qwen3")
    name = open_model(tmp_path / "qwen3").name
    try:
        e = make_explorer(name)
        e.set_input(TEXT)
        e.wait()
        e.select(site="layers.1.attn", head=3, query=2)
        e.show("pipeline")
        panel = e.window.panels["pipeline"]
        e.paint()
        assert panel.before_norm.isVisible()
        seen = {}
        attention = reference.model.layers[1].self_attn
        hooks = [attention.q_proj.register_forward_hook(
                     lambda m, i, o: seen.__setitem__("q", o)),
                 attention.k_proj.register_forward_hook(
                     lambda m, i, o: seen.__setitem__("k", o))]
        ids = torch.as_tensor(e.trace["input/ids"])[None]
        with torch.no_grad():
            reference(ids)
        for hook in hooks:
            hook.remove()
        n, dh = ids.shape[1], 16
        q = seen["q"][0].view(n, 4, dh)[:, 3].numpy()
        k = seen["k"][0].view(n, 2, dh)[:, 1].numpy()  # query head 3 reads K/V head 1
        with qtbot.waitSignal(panel.before_norm.toggled):
            panel.before_norm.setChecked(True)
        e.wait()
        shown = panel.matrices(e.trace, e.selection, before_norm=True)
        np.testing.assert_allclose(shown["q"], q, atol=1e-5)
        np.testing.assert_allclose(shown["kT"], k.T, atol=1e-5)
        after = panel.matrices(e.trace, e.selection)  # after the norm (and the rotation)
        assert not np.allclose(after["q"], q, atol=1e-3)
        assert panel.views["q"].title.startswith("Q before norm [")
        assert panel.views["kT"].title.startswith("Kᵀ before norm [")
        e.grab("pipeline").save("/tmp/before-norm.png")
        panel.before_norm.setChecked(False)
        e.wait()
        assert panel.views["q"].title.startswith("Q [")
        plain = make_explorer("induction")  # no per-head norm: no box
        plain.show("pipeline")
        plain.paint()
        assert not plain.window.panels["pipeline"].before_norm.isVisible()
    finally:
        CATALOG.remove(name)
