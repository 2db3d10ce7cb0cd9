"""The Logit lens tab: it renders for every preset, its grid's last row is the model's
prediction, and nothing over the vocabulary is computed on the GUI thread."""
import threading

import pytest

import models.lens
from models.lens import lens_column, reader

DIGIT = "resources/samples/digits/digit_4.png"


@pytest.mark.parametrize("preset", ["translate", "vit-digits", "swin-digits", "induction"])
def test_the_lens_tab_draws_the_models_read_out(make_explorer, preset, monkeypatch):
    threads = []
    grid = models.lens.lens_grid

    def watched(*args, **kwargs):
        threads.append(threading.current_thread())
        return grid(*args, **kwargs)

    monkeypatch.setattr(models.lens, "lens_grid", watched)
    e = make_explorer(preset)
    e.show("lens")
    panel = e.window.panels["lens"]
    e.wait()
    e.paint()
    assert e.error == ""
    assert threads and all(t is not threading.main_thread() for t in threads)
    session = e.window.state.runner.session
    read = reader(session.model)
    assert panel.grid.rowCount() == len(read.points)
    position = panel.result["position"]
    column = lens_column(session.model, e.trace, position)
    last = panel.grid.columnCount() - 1 if read.per_token else 0
    column_index = panel.result["grid"]["positions"].index(position) if read.per_token else last
    shown = panel.grid.item(len(read.points) - 1, column_index).text().split("\n")[0]
    assert shown == panel.result["names"][column[-1]["top"][0][0]]
    assert panel.by_layer.rowCount() == len(read.points)
    assert panel.parts.rowCount() > 0
    e.window.grab().save(f"/tmp/lens28-{preset}.png")


def test_pointing_at_a_column_points_at_that_token_and_a_locked_token_is_read(make_explorer):
    e = make_explorer("induction")
    e.select(site="layers.1.attn", head=1)
    e.show("lens")
    e.wait()
    panel = e.window.panels["lens"]
    panel._pointed(0, 4)
    assert e.selection.query == panel.result["grid"]["positions"][4]
    e.window.state.lock(5, None)
    e.wait()
    assert panel.result["position"] == 5
    assert panel.by_layer.rowCount() == 3
