"""The Logit lens tab's layers × heads map: each cell is that head's direct logit attribution
to the chosen target (or a difference of two), computed here again with numpy from the
trace's head outputs, W_O and the model's final norm and read-out; a click selects the head."""
import numpy as np
import pytest
from torch import nn

from models.lens import reader


def head_dla(model, trace, position, target, minus=None) -> dict:
    """{(site, head): value}: each head's write (its output through its slice of W_O) read
    out linearly at the final stream, the final norm's scale frozen at the run's values."""
    read = reader(model)
    final = trace[f"{read.points[-1]}/resid"].astype(np.float64)
    reads = [(position, 1.0, read.linear)] if read.per_token else read.reads
    out = {}
    for site in read.points:
        if f"{site}/o_weight" not in trace.records:
            continue
        o = trace.records[f"{site}/out"].astype(np.float64)  # (H, N, dh)
        w = trace.records[f"{site}/o_weight"].astype(np.float64)  # (D, H·dh)
        heads, dh = o.shape[0], o.shape[-1]
        for h in range(heads):
            write = o[h] @ w[:, h * dh:(h + 1) * dh].T  # (N, D)
            total = 0.0
            for at, weight, linear in reads:
                u = linear.weight.detach().double().numpy()[target]
                if minus is not None:
                    u = u - linear.weight.detach().double().numpy()[minus]
                rows = slice(None) if at == "mean" else slice(at, at + 1)
                y, part = final[rows], write[rows]
                norm = read.norm
                g = norm.weight.detach().double().numpy()
                if isinstance(norm, nn.LayerNorm):
                    part = part - part.mean(-1, keepdims=True)
                    scale = g / np.sqrt(y.var(-1, keepdims=True) + norm.eps)
                else:
                    scale = g / np.sqrt((y ** 2).mean(-1, keepdims=True) + norm.eps)
                total += weight * float(((part * scale) @ u).mean())
            out[site, h] = total
    return out


def shown(panel) -> dict:
    table = panel.result["heads"]
    data = panel.heads_view.data
    return {(site, h): float(data[r, h]) for r, site in enumerate(table["sites"])
            for h in range(data.shape[1]) if np.isfinite(data[r, h])}


@pytest.mark.parametrize("preset", ["induction", "vit-digits"])
def test_the_heads_map_is_each_heads_attribution(make_explorer, preset):
    e = make_explorer(preset)
    e.show("lens")
    e.wait()
    panel = e.window.panels["lens"]
    model = e.window.state.runner.session.model
    target = panel.result["dla"]["target"]
    assert target == panel.result["choices"][0]  # the prediction, by default
    expected = head_dla(model, e.trace, panel.result["position"], target)
    got = shown(panel)
    assert set(got) == set(expected) and len(got) >= 4
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, rel=1e-4, abs=1e-4), key
    # the map's title names the target
    assert panel.result["names"][target] in panel.heads_view.title

    # a difference: the target minus the runner-up
    other = panel.result["choices"][1]
    panel.minus_box.setCurrentIndex(panel.minus_box.findData(other))
    panel.minus_box.activated.emit(panel.minus_box.currentIndex())
    e.wait()
    assert panel.result["dla"]["minus"] == other
    expected = head_dla(model, e.trace, panel.result["position"], target, other)
    got = shown(panel)
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, rel=1e-4, abs=1e-4), key
    assert "−" in panel.heads_view.title

    # another target: the second of the top 5
    panel.target_box.setCurrentIndex(panel.target_box.findData(other))
    panel.target_box.activated.emit(panel.target_box.currentIndex())
    e.wait()
    assert panel.result["dla"]["target"] == other and panel.result["dla"]["minus"] is None
    assert panel.result["column"][-1]["target_rank"] == 1  # the by-layer column follows


def test_clicking_a_head_selects_it_everywhere(make_explorer):
    e = make_explorer("induction")
    e.show("lens")
    e.wait()
    panel = e.window.panels["lens"]
    table = panel.result["heads"]
    # the head with the largest attribution: the induction head writes the prediction
    row, head = np.unravel_index(np.nanargmax(table["values"]), table["values"].shape)
    panel.heads_view.clicked.emit(int(row), int(head))
    e.paint()
    assert (e.selection.site, e.selection.head) == (table["sites"][row], head)
    assert panel.heads_view._selected_row == row  # marked on the map
    e.show("attention")
    assert (e.selection.site, e.selection.head) == (table["sites"][row], head)


def test_the_grid_shows_the_rows_in_view_first_then_fills_the_rest(make_explorer, monkeypatch):
    """A long model's grid: the rows in view are read first and drawn at once, then the
    rest; the grid in the end is the whole lens_grid's."""
    from explorer.panels.lens import LensPanel
    from models.lens import lens_grid

    monkeypatch.setattr(LensPanel, "visible_rows", lambda self: range(0, 1))
    drawn = []
    draw = LensPanel.draw

    def watched(self, result):
        drawn.append(result["grid"]["filled"].copy())
        draw(self, result)

    monkeypatch.setattr(LensPanel, "draw", watched)
    e = make_explorer("translate")
    e.show("lens")
    e.wait()
    panel = e.window.panels["lens"]
    points = len(panel.result["grid"]["points"])
    assert points > 2
    first = drawn[-2]
    assert first[0] and first[-1] and not first[1: -1].any()  # the row in view, the output
    assert drawn[-1].all()
    whole = lens_grid(e.window.state.runner.session.model, e.trace,
                      positions=panel.result["grid"]["positions"])
    for key in ("top", "top_prob", "target_prob"):
        np.testing.assert_allclose(panel.result["grid"][key], whole[key], rtol=1e-5)
    assert "…" not in [panel.grid.item(r, 0).text() for r in range(points)]
