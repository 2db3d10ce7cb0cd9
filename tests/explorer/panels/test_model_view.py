"""Long inputs: the model view's overview is computed off the GUI thread, one head at a time,
and equals an independent computation (max-pooled thumbnails, head statistics)."""
import threading

import numpy as np
import pytest

from models.catalog import CATALOG
from models.opening import open_model
from models.trace import Trace
from tests.models.lm_folders import build


@pytest.fixture(scope="module")
def gpt2(tmp_path_factory):
    folder = tmp_path_factory.mktemp("long") / "gpt2-long"
    build("gpt2", folder, n_positions=400)
    name = open_model(folder).name
    yield name
    CATALOG.remove(name)


def eager_weights(trace: Trace, site: str) -> np.ndarray:
    q, k = trace[f"{site}/q"].astype(np.float64), trace[f"{site}/k"].astype(np.float64)
    logits = q @ k.transpose(0, 2, 1) / np.sqrt(q.shape[-1])
    logits = np.where(np.triu(np.ones(logits.shape[-2:], bool), 1), -np.inf, logits)
    weights = np.exp(logits - logits.max(-1, keepdims=True))
    return weights / weights.sum(-1, keepdims=True)


def block_max(matrix: np.ndarray, size: int) -> np.ndarray:
    n = matrix.shape[0]
    edges = [i * n // size for i in range(size)] + [n]
    out = np.array([[matrix[edges[r]:edges[r + 1], edges[c]:edges[c + 1]].max()
                     for c in range(size)] for r in range(size)])
    return out / out.max()


def derived_on(monkeypatch) -> list[str]:
    """The threads on which the trace derives N × N matrices from now on (a long input's:
    nothing materialised, as at 1,024 tokens)."""
    monkeypatch.setattr(Trace, "materialize", lambda self, limit_bytes=0: False)
    threads = []
    derive = Trace._derive

    def spy(self, *args, **kwargs):
        threads.append(threading.current_thread().name)
        return derive(self, *args, **kwargs)

    monkeypatch.setattr(Trace, "_derive", spy)
    return threads


def test_the_model_view_of_a_long_input_is_computed_off_the_gui_thread(
        make_explorer, gpt2, monkeypatch, qtbot):
    from explorer.bench import language_model_texts
    from explorer.panels.model_view import GAP, THUMB

    monkeypatch.setattr(Trace, "materialize", lambda self, limit_bytes=0: False)  # as at 1,024
    threads = set()
    derive = Trace._derive

    def spy(self, *args, **kwargs):
        threads.add(threading.current_thread().name)
        return derive(self, *args, **kwargs)

    monkeypatch.setattr(Trace, "_derive", spy)
    e = make_explorer(gpt2)
    e.set_input(language_model_texts(gpt2, 1, 300)[0])
    e.wait()
    trace = e.trace
    assert "layers.1.attn/weights" not in trace.records and trace["input/ids"].shape[0] > 250
    threads.clear()
    panel = e.window.panels["model"]
    seen = []  # while it computes: "computing…" on the plot, no axes, no selection box
    computing = type(panel)._computing

    def spy(self, on):
        computing(self, on)
        seen.append((on, self.waiting.isVisible(), self.focus.isVisible(),
                     self.plot.getAxis("left").isVisible()))

    monkeypatch.setattr(type(panel), "_computing", spy)
    e.show("model")
    qtbot.waitUntil(lambda: panel.table.rowCount() == 2 * 4, timeout=60_000)
    assert threads == {"analyst"}  # every N×N matrix of the overview: not the GUI thread
    assert "one head at a time" not in panel.caption.text()
    assert seen[0] == (True, True, False, False) and seen[-1] == (False, False, True, True)
    assert panel.waiting.textItem.toPlainText() == ""
    weights = eager_weights(trace, "layers.1.attn")
    step = THUMB + GAP
    mosaic = panel.mosaic.image
    for head in range(4):
        shown = mosaic[step: step + THUMB, head * step: head * step + THUMB]
        np.testing.assert_allclose(shown, block_max(weights[head], THUMB), atol=1e-5)
    rows = {(int(panel.table.item(r, 0).value), int(panel.table.item(r, 1).value)): r
            for r in range(panel.table.rowCount())}
    for head in range(4):
        row = rows[(1, head)]
        first = panel.table.item(row, 5).value
        assert abs(first - weights[head][:, 0].mean()) < 1e-5
        entropy = -(weights[head] * np.log(np.clip(weights[head], 1e-12, None))).sum(-1).mean()
        assert abs(panel.table.item(row, 2).value - entropy) < 1e-4


def test_the_selected_heads_matrices_of_a_long_input_are_computed_off_the_gui_thread(
        make_explorer, gpt2, monkeypatch, qtbot):
    """The attention view's head, the tokens strip's and the heads panel's lines: every N × N
    on the analyst thread, drawn when it arrives, equal to an independent computation; a
    head computed before is drawn at once, from the trace's cache."""
    from explorer.bench import language_model_texts

    threads = derived_on(monkeypatch)
    from explorer.panels import heads as heads_module
    strongest = heads_module.strongest_links
    ranked = []  # the thread that ranks the heads panel's links

    def ranking(weights):
        ranked.append(threading.current_thread().name)
        return strongest(weights)

    monkeypatch.setattr(heads_module, "strongest_links", ranking)
    e = make_explorer(gpt2)
    e.show("attention")
    e.show("tokens")
    e.show("heads")
    e.set_input(language_model_texts(gpt2, 1, 300)[0])
    e.wait()
    trace, panels = e.trace, e.window.panels
    assert "layers.0.attn/weights" not in trace.records
    for site, head in (("layers.1.attn", 0), ("layers.0.attn", 2), ("layers.0.attn", 3)):
        threads.clear()
        e.select(site=site, head=head)
        e.wait()
        assert set(threads) <= {"analyst"}  # not the GUI thread
        weights = eager_weights(trace, site)
        np.testing.assert_allclose(panels["attention"].view.data, weights[head], atol=1e-6)
        np.testing.assert_allclose(panels["tokens"].strip.weights, weights[head], atol=1e-6)
        np.testing.assert_allclose(panels["heads"].lines.weights, weights, atol=1e-6)
        # the links drawn: each query's strongest keys, ranked off the GUI thread too
        keys, values = panels["heads"].lines.top
        k = keys.shape[-1]
        np.testing.assert_allclose(values, -np.sort(-weights, axis=-1)[..., :k], atol=1e-6)
    assert ranked and set(ranked) == {"analyst"}
    threads.clear()
    e.select(site="layers.1.attn", head=1)  # computed before (the heads panel's lines)
    assert not panels["attention"].computing() and threads == []  # drawn at once
    np.testing.assert_allclose(panels["attention"].view.data,
                               eager_weights(trace, "layers.1.attn")[1], atol=1e-6)
    e.select(site="layers.0.attn", head=1)
    e.select(head=0)  # a newer choice replaces the one still waiting
    e.wait()
    np.testing.assert_allclose(panels["attention"].view.data,
                               eager_weights(trace, "layers.0.attn")[0], atol=1e-6)


def test_the_pipelines_matrices_of_a_long_input_are_computed_off_the_gui_thread(
        make_explorer, gpt2, monkeypatch):
    """The pipeline's scores, weights and mask of the selected head: on the analyst thread,
    equal to an independent computation; a head seen before is drawn at once."""
    from explorer.bench import language_model_texts

    threads = derived_on(monkeypatch)
    e = make_explorer(gpt2)
    e.show("pipeline")
    e.set_input(language_model_texts(gpt2, 1, 300)[0])
    e.wait()
    trace, pipeline = e.trace, e.window.panels["pipeline"]
    seen = set()
    for site, head in (("layers.0.attn", 1), ("layers.1.attn", 2), ("layers.1.attn", 1)):
        threads.clear()
        e.select(site=site, head=head)
        e.wait()
        seen.update(threads)
        assert set(threads) <= {"analyst"}  # not the GUI thread
        weights = eager_weights(trace, site)[head]
        np.testing.assert_allclose(pipeline.views["weights"].data, weights, atol=1e-6)
        q, k = trace[f"{site}/q"][head], trace[f"{site}/k"][head]
        scores = q.astype(np.float64) @ k.T.astype(np.float64) / np.sqrt(q.shape[-1])
        causal = np.triu(np.ones(scores.shape, bool), 1)
        shown = pipeline.views["scores"].data
        np.testing.assert_allclose(shown[~causal], scores[~causal], atol=1e-5)
    assert seen == {"analyst"}
    threads.clear()
    e.select(head=2)  # seen before: from the trace's cache, at once
    assert not pipeline.computing() and threads == []
    np.testing.assert_allclose(pipeline.views["weights"].data,
                               eager_weights(trace, "layers.1.attn")[2], atol=1e-6)
