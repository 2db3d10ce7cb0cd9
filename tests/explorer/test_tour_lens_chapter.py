"""Chapter 11 of the tour, "Why this prediction", in English and Chinese: each step shows
what its text says — the lens grid with the answer appearing after layer 1, the heads' map
framing the induction head with the largest share, the Model view naming the roles."""
import numpy as np
import pytest

from explorer.tour import load_tour


def chapter(lang: str) -> list[int]:
    steps = load_tour(lang)
    last = steps[-1].chapter
    return [i for i, step in enumerate(steps) if step.chapter == last]


def test_the_chapter_is_the_same_in_both_languages():
    en, zh = load_tour("en"), load_tour("zh")
    assert chapter("en") == chapter("zh") and 3 <= len(chapter("en")) <= 5
    assert en[chapter("en")[0]].chapter_title.startswith("11 ·")
    assert zh[chapter("zh")[0]].chapter_title.startswith("11 ·")
    for i in chapter("en"):
        assert en[i].state == zh[i].state


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_walking_the_chapter_shows_what_it_says(make_explorer, lang):
    e = make_explorer("induction")
    tour = e.tour(lang)
    lens_step, map_step, roles_step = chapter(lang)[:3]

    tour.go(lens_step)
    e.wait()
    panel = e.window.panels["lens"]
    assert panel.isVisible() and e.error == ""
    result = panel.result
    assert result["trace"] == id(e.trace)
    names = result["names"]
    assert names[result["dla"]["target"]] == "big"
    probs = [layer["target_prob"] for layer in result["column"]]
    assert f"{probs[0]:.3f}" == "0.002" and f"{probs[1]:.3f}" == "0.001"
    assert round(probs[2], 1) == 0.9  # "about 0.9 after layer 1"

    tour.go(map_step)
    e.wait()
    table = panel.result["heads"]
    values = table["values"]
    row, head = np.unravel_index(np.nanargmax(values), values.shape)
    assert (table["sites"][row], head) == ("layers.1.attn", 1)  # the induction head
    assert (e.selection.site, e.selection.head) == ("layers.1.attn", 1)
    assert panel.heads_view._selected_row == row  # framed
    assert f"{values[1, 1]:+.1f}" == "+5.7" and f"{values[1, 0]:+.1f}" == "+3.5"
    assert np.all(np.abs(values[0]) < 0.5)  # layer 0: almost nothing

    tour.go(roles_step)
    e.wait()
    model = e.window.panels["model"]
    assert model.isVisible()
    marks = sorted(m.toPlainText() for m in model.marks if m.isVisible())
    assert marks == ["F 0.51", "I 0.87", "I 0.95", "P 0.81"]
    text = tour.steps[roles_step].text
    for mark in marks:  # "P 0.81", "I 0.87 and 0.95": each letter and score said
        letter, score = mark.split()
        assert (f"({letter} " in text or f"（{letter} " in text) and score in text
