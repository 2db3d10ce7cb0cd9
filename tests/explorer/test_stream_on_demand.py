"""The live runs record the residual stream only while the Logit lens is shown: switching to
the tab runs again with it and shows the lens of the trace on screen; a saved trace has it."""
import numpy as np

from models.lens import lens_column, reader
from models.trace import Trace


def has_stream(trace) -> bool:
    return any(k.endswith("/resid") for k in trace.records)


def lens_matches(e) -> None:
    """The tab shows the lens of the trace on screen (not an earlier one)."""
    panel = e.window.panels["lens"]
    session = e.window.state.runner.session
    assert panel.result is not None and panel.result["trace"] == id(e.trace)
    assert panel.grid.rowCount() == len(reader(session.model).points)
    column = lens_column(session.model, e.trace, panel.result["position"])
    assert [layer["top"][0][0] for layer in panel.result["column"]] == \
        [layer["top"][0][0] for layer in column]


def test_the_lens_tab_asks_for_the_stream_and_gets_it(make_explorer):
    e = make_explorer("induction")
    assert not e.window.panels["lens"].isVisible()
    assert not e.trace.residual and not has_stream(e.trace)  # the live path: no stream
    before = e.trace
    e.show("lens")
    e.wait()
    assert e.trace is not before and e.trace.residual and has_stream(e.trace)
    assert e.error == ""
    lens_matches(e)
    # while shown, every new run records it
    e.set_input("apple bread milk tea apple bread milk")
    e.wait()
    assert has_stream(e.trace)
    lens_matches(e)
    # hidden: the next runs do without it; shown again: run again, never a stale grid
    e.show("attention")
    e.set_input("cheese egg rice cheese egg")
    e.wait()
    assert not has_stream(e.trace)
    e.window.show_panel("lens")  # (no event processed yet: the new run is on its way)
    panel = e.window.panels["lens"]
    assert panel.result is None and panel.grid.rowCount() == 0  # nothing of the last input
    e.wait()
    assert has_stream(e.trace) and e.trace.meta["tokens"][1:4] == ["cheese", "egg", "rice"]
    lens_matches(e)


def test_a_saved_trace_has_the_stream_though_the_lens_is_hidden(make_explorer, tmp_path):
    e = make_explorer("translate")
    assert not has_stream(e.trace)
    prediction = e.trace.meta["prediction"]
    path = e.save_trace(tmp_path / "t.npz")
    saved = Trace.load_npz(str(path))
    assert has_stream(saved) and any(k.endswith("/o_weight") for k in saved.records)
    assert saved.meta["prediction"] == prediction
    for name in ("encoder.layers.0.self_attn/q", "decoder.layers.0.cross_attn/out"):
        np.testing.assert_allclose(saved[name], e.trace[name])
