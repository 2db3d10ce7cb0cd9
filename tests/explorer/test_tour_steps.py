"""The tour counts its steps one way everywhere (the card, --step, the outline and the
docs), every step sets the central tab, and a locked cell the new input no longer has is
released."""
import re
from pathlib import Path

import pytest

from explorer.commands import check_tour
from explorer.tour import load_tour, outline
from models.errors import UsageError

ROOT = Path(__file__).resolve().parents[2]


def test_step_n_is_card_n_in_the_outline_and_on_the_command_line():
    steps = load_tour("en")
    assert check_tour("en", 4) == ("en", 3)  # --step 4 → the card "4 / 30"
    assert check_tour("en", None) == ("en", 0)
    for wrong in (0, len(steps) + 1):
        with pytest.raises(UsageError, match=f"1 to {len(steps)}"):
            check_tour("en", wrong)
    numbered = dict(re.findall(r"^\s+(\d+)\s+(.+)$", outline("en"), re.M))
    assert numbered["1"] == steps[0].title and numbered[str(len(steps))] == steps[-1].title


def test_the_docs_name_step_4_as_the_card_does():
    # docs/lecturing.md shows `--step 4` next to the screenshot of step 4
    text = (ROOT / "docs" / "lecturing.md").read_text(encoding="utf-8")
    assert "--step 4" in text and "Step 4: softmax" in text
    assert "softmax" in load_tour("en")[3].title.lower()


def test_every_step_sets_its_central_tab_whatever_was_open(make_explorer):
    e = make_explorer("translate")
    tour = e.tour("en")
    window = e.window
    docks = [i for i, step in enumerate(tour.steps)
             if step.state.get("panel", "attention") not in window.pages]
    assert docks  # (the steps that show the prediction, say)
    for i in docks:
        # whatever tab the user opened, a step showing a dock sets the heatmap behind it
        e.show("positional")
        tour.go(i)
        assert window.current_panel() == "attention", tour.steps[i].title


def test_a_locked_cell_the_input_no_longer_has_is_released(make_explorer):
    e = make_explorer("induction")
    e.set_input("happy dog run park green tree big bird sing rain")
    e.wait()
    e.select(query=9, key=3, locked=True)
    assert e.selection.locked
    e.set_input("happy dog run park")  # row 9 is gone
    e.wait()
    assert e.selection.query is None and not e.selection.locked
    assert e.window.toolbar.lock_label.text() == ""
    e.select(query=2, key=1, locked=True)
    e.set_input("happy dog run park green")  # the cell is still there: it stays locked
    e.wait()
    assert (e.selection.query, e.selection.key, e.selection.locked) == (2, 1, True)


def test_at_f5_the_card_takes_the_column_and_leaving_gives_it_back(make_explorer, qtbot):
    e = make_explorer("translate")
    window = e.window
    docks = window.docks
    tour = e.tour("en")
    tour.go(26)  # a step that shows the prediction
    window.toggle_presentation()
    qtbot.waitUntil(lambda: docks["prediction"] in window.tabifiedDockWidgets(docks["tour"]))
    tour.go(26)
    e.paint()
    assert docks["tour"].visibleRegion().isEmpty() is False  # the card in front
    assert docks["tour"].width() >= int(window.width() * 0.38) - 2
    window.toggle_presentation()
    e.paint()
    assert docks["prediction"] not in window.tabifiedDockWidgets(docks["tour"])
    assert docks["prediction"].isVisible() and docks["tour"].isVisible()
    window.toggle_presentation()
    qtbot.waitUntil(lambda: docks["prediction"] in window.tabifiedDockWidgets(docks["tour"]))
    window.leave_tour()  # leaving the tour at F5 gives the prediction its column back
    e.paint()
    assert docks["prediction"] not in window.tabifiedDockWidgets(docks["tour"])
    assert docks["prediction"].isVisible() and not docks["tour"].isVisible()
    window.toggle_presentation()
