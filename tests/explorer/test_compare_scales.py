"""Compare mode's A − B beyond the attention and pipeline tabs: the model view's thumbnails
and figures, the rollout and Swin's window weights show the difference of two single runs
(Session.run outside the app, redone here in numpy) on a diverging scale centred on 0; the
logit lens, which cannot subtract, says it shows A."""
import numpy as np

from explorer.panels.model_view import THUMB
from models.session import load_preset

DIGITS = "resources/samples/digits/digit_{}.png"
A_TEXT = "happy dog run park green tree big bird sing rain happy dog run park green"
B_TEXT = "happy dog run park green tree big bird sing rain happy cat swim lake blue"


def compared(make_explorer, preset: str, a, b, panel: str):
    explorer = make_explorer(preset)
    explorer.set_input(a)
    explorer.set_compare(True, b)
    explorer.wait()
    explorer.set_view("A-B")
    explorer.show(panel)
    explorer.wait()
    return explorer


def test_the_model_view_shows_a_minus_b_of_each_heads_weights_and_figures(make_explorer):
    explorer = compared(make_explorer, "induction", A_TEXT, B_TEXT, "model")
    panel = explorer.window.panels["model"]
    session = load_preset("induction", "cpu")
    a, b = session.run(A_TEXT), session.run(B_TEXT)
    step = THUMB + (panel.mosaic_data.shape[1] - 2 * THUMB)  # (two heads a row)
    n = a["layers.0.attn/weights"].shape[-1]
    cells = np.arange(THUMB) * n // THUMB  # (fewer tokens than pixels: cells repeated)
    peak = 0.0
    for layer in range(2):
        site = f"layers.{layer}.attn"
        for head in range(2):
            difference = (a[f"{site}/weights"][head] - b[f"{site}/weights"][head])
            shown = panel.mosaic_data[layer * step: layer * step + THUMB,
                                      head * step: head * step + THUMB]
            np.testing.assert_allclose(shown, difference[np.ix_(cells, cells)], atol=1e-5)
            peak = max(peak, float(np.abs(difference).max()))
    assert peak > 0.1
    assert panel.levels == (-peak, peak) or np.allclose(panel.levels, (-peak, peak))
    assert panel.caption.text().startswith("A − B")
    # the table: A's entropy minus B's, per head
    entropy = {(panel.table.item(r, 0).value, panel.table.item(r, 1).value):
               panel.table.item(r, 2).value for r in range(panel.table.rowCount())}
    w = [t["layers.1.attn/weights"][1].astype(np.float64) for t in (a, b)]
    nats = [float(-(x * np.log(np.clip(x, 1e-12, None))).sum(-1).mean()) for x in w]
    assert abs(nats[0] - nats[1]) > 1e-3
    assert abs(entropy[(1, 1)] - (nats[0] - nats[1])) < 1e-5


def numpy_rollout(trace) -> np.ndarray:
    """Mean-fused attention rollout: each block's mean weights plus the identity, rows
    renormalised, multiplied from the first block up."""
    sites = [s for s in trace.meta["sites"]]
    result = None
    for site in sites:
        w = trace[f"{site}/weights"].astype(np.float64).mean(0)
        step = w + np.eye(w.shape[-1])
        step /= step.sum(-1, keepdims=True)
        result = step if result is None else step @ result
    return result


def test_the_rollout_shows_the_difference_of_the_two_rollouts(make_explorer):
    a_in, b_in = DIGITS.format(3), DIGITS.format(8)
    explorer = compared(make_explorer, "vit-digits", a_in, b_in, "rollout")
    panel = explorer.window.panels["rollout"]
    panel.fusion.setCurrentIndex(panel.fusion.findData("mean"))
    panel.discard.setValue(0)
    panel.recompute()
    session = load_preset("vit-digits", "cpu")
    a, b = session.run(a_in), session.run(b_in)
    expected = numpy_rollout(a) - numpy_rollout(b)
    np.testing.assert_allclose(panel.result, expected, atol=1e-5)
    np.testing.assert_allclose(panel.matrix.data, expected, atol=1e-5)
    peak = float(np.abs(expected).max())
    assert peak > 1e-3 and panel.matrix._signed
    assert np.allclose(panel.matrix._levels, (-peak, peak), atol=1e-6)
    assert panel.matrix.title.startswith("A − B")
    explorer.set_view("A")  # A alone: its own rollout, the probability scale
    explorer.wait()
    panel.recompute()
    np.testing.assert_allclose(panel.result, numpy_rollout(a), atol=1e-5)
    assert not panel.matrix._signed


def test_swins_window_weights_show_a_minus_b(make_explorer):
    a_in, b_in = DIGITS.format(3), DIGITS.format(8)
    explorer = compared(make_explorer, "swin-digits", a_in, b_in, "windows")
    panel = explorer.window.panels["windows"]
    sel = explorer.state.selection
    session = load_preset("swin-digits", "cpu")
    a, b = session.run(a_in), session.run(b_in)
    expected = a[f"{sel.site}/weights"][sel.window, sel.head] - \
        b[f"{sel.site}/weights"][sel.window, sel.head]
    np.testing.assert_allclose(panel.weights.data, expected, atol=1e-5)
    assert panel.weights._signed and panel.weights.title.startswith("A − B")
    assert float(np.abs(expected).max()) > 1e-3


def test_the_lens_says_it_shows_a(make_explorer):
    explorer = compared(make_explorer, "induction", A_TEXT, B_TEXT, "lens")
    panel = explorer.window.panels["lens"]
    explorer.wait()
    assert "A − B is not shown here" in panel.caption.text()
