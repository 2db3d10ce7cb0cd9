"""Head roles in the Model view: each head's role and score (models/head_roles.py) in the
table and on its thumbnail, computed on the analyst thread, and a sort by role. The scores
that come from the run are checked against the recorded weights with numpy."""
import threading

import numpy as np
import pytest

import explorer.panels.model_view as model_view
from models.head_roles import NAMED, roles, session_scores


def table_roles(panel) -> dict:
    t = panel.table
    return {(int(t.item(r, 0).value), int(t.item(r, 1).value)): t.item(r, 6)
            for r in range(t.rowCount())}


def test_each_head_shows_its_role_and_the_table_sorts_by_it(make_explorer, monkeypatch):
    threads = []
    scores_of = model_view.session_scores

    def watched(*args):
        threads.append(threading.current_thread())
        return scores_of(*args)

    monkeypatch.setattr(model_view, "session_scores", watched)
    e = make_explorer("induction")
    e.show("model")
    e.wait()
    panel = e.window.panels["model"]
    assert threads and all(t is not threading.main_thread() for t in threads)
    session = e.window.state.runner.session
    expected = roles(session_scores(session, e.trace))
    shown = table_roles(panel)
    sites = e.trace.sites()
    assert len(shown) == sum(len(v) for v in expected.values())
    for (layer, head), item in shown.items():
        assert item.role == expected[sites[layer]][head]
    # the run's own scores, from the weights: previous token (rows 1…), first token
    for (layer, head), item in shown.items():
        w = e.trace[f"{sites[layer]}/weights"][head]
        n = w.shape[-1]
        independent = {"previous_token": w[np.arange(1, n), np.arange(n - 1)].mean(),
                       "first_token": w[:, 0].mean()}
        if item.role in independent:
            assert item.score == pytest.approx(independent[item.role], abs=1e-4)
            assert item.score >= NAMED
            assert item.text().endswith(f"{item.score:.2f}")
    # the trained induction model has its induction heads in the second layer
    assert [item.role for (layer, _), item in shown.items() if layer == 1] == \
        ["induction", "induction"]
    # one mark per named head, on its thumbnail
    marks = [m for m in panel.marks if m.isVisible()]
    assert len(marks) == sum(r is not None for v in expected.values() for r in v)
    step = model_view.THUMB + model_view.GAP
    for mark in marks:
        layer, head = int(mark.pos().y() // step), int(mark.pos().x() // step)
        role = expected[sites[layer]][head]
        assert mark.toPlainText().startswith(model_view.ROLE_MARKS[role])

    # sorted by role: the induction heads first, strongest first; off: model order again
    panel.by_role.setChecked(True)
    t = panel.table
    order = [t.item(r, 6) for r in range(t.rowCount())]
    keys = [item.key for item in order]
    assert keys == sorted(keys) and order[0].role == "induction"
    assert order[0].score >= order[1].score
    panel.by_role.setChecked(False)
    assert [(int(t.item(r, 0).value), int(t.item(r, 1).value)) for r in range(t.rowCount())] \
        == [(0, 0), (0, 1), (1, 0), (1, 1)]
    # clicking a row still selects its head
    panel.by_role.setChecked(True)
    panel._row_clicked(0, 0)
    first = order[0]
    assert e.selection.site == sites[1] and first.role == "induction"


def test_a_vision_model_gets_its_roles_too(make_explorer):
    e = make_explorer("vit-digits")
    e.show("model")
    e.wait()
    panel = e.window.panels["model"]
    shown = table_roles(panel)
    assert len(shown) == panel.table.rowCount() > 0
    named = [item.role for item in shown.values() if item.role]
    assert set(named) <= {"class_token", "local"}
