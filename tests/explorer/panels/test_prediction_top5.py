"""Issue 20: a language model's top-5 per position (and a translation's per step) is
never cut inside a number: the list wraps between its entries, each row as tall as its
lines; the whole list is in the cell's tooltip. Measured with the table's own font."""
import pytest
from PySide6 import QtCore, QtGui

from ..fit import cut_widgets


def assert_lists_whole(table, lists, number):
    metrics = QtGui.QFontMetrics(table.font())
    room = table.columnWidth(1) - 6  # the cell's margins
    assert room > 0
    for row, top in enumerate(lists):
        item = table.item(row, 1)
        text = item.text()
        entries = text.split("   ")
        assert len(entries) == len(top)
        for entry, (_, p) in zip(entries, top):
            assert entry.endswith(f"\u00a0{p:{number}}")  # every probability, in full
            # an entry never breaks: it fits the cell's width on a line of its own
            assert metrics.horizontalAdvance(entry) <= room, (row, entry, room)
        wrapped = metrics.boundingRect(QtCore.QRect(0, 0, room, 10**6),
                                       QtCore.Qt.TextWordWrap, text).height()
        assert wrapped <= table.rowHeight(row), (row, text, wrapped, table.rowHeight(row))
        for token, p in top:  # the tooltip: the whole list, tokens unshortened
            assert f"{token}  {p:{number}}" in item.toolTip()


@pytest.mark.parametrize("factor", [1.0, 1.75, 2.0])
def test_a_language_models_top5_is_never_cut_in_a_number(make_explorer, factor):
    e = make_explorer("induction")
    e.set_zoom(factor)
    e.show("attention")
    panel = e.window.panels["prediction"]
    assert panel.positions.isVisible()
    assert_lists_whole(panel.positions, e.trace.meta["topk"], ".1%")
    assert cut_widgets(panel.positions) == []


def test_a_long_token_is_elided_never_its_number(make_explorer):
    e = make_explorer("induction")
    e.set_zoom(2.0)
    table = e.window.panels["prediction"].positions
    lists = [[("x" * 80, 0.25), ("a", 0.125)]] + e.trace.meta["topk"][1:]
    table.set_lists(lists, ".1%")
    e.paint()
    first = table.item(0, 1).text().split("   ")[0]
    assert first.endswith("…\u00a025.0%") and first.startswith("xxx")
    assert_lists_whole(table, lists, ".1%")


def test_a_translations_top5_wraps_at_200(make_explorer):
    e = make_explorer("translate")
    e.set_zoom(2.0)
    panel = e.window.panels["prediction"]
    assert panel.steps.isVisible()
    assert_lists_whole(panel.steps, e.trace.meta["top5"], ".2f")
