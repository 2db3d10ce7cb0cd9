"""Run the app on an offscreen screen of a given size and report, as JSON, what a lecturer
would see go wrong: the first run's frame, cut texts for every preset and tour step at
100%, 175% and 200%, the central plot's room at each zoom, the dock sizes after Ctrl+0 and
after leaving F5, and where a refused input is said.

Qt takes the screen size from a config file of its offscreen platform, fixed when the
QApplication starts, so each screen is a process of its own:

    python tests/explorer/screen_check.py 1280x800 [--tour en,zh] [--f5 en,zh] > result.json
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ZOOMS = (1.0, 1.75, 2.0)


def screen_config(width: int, height: int) -> str:
    path = Path(tempfile.mkdtemp()) / "screen.json"
    path.write_text(json.dumps({
        "synchronousWindowSystemEvents": True, "windowFrameMargins": True,
        "screens": [{"name": "projector", "x": 0, "y": 0, "width": width, "height": height,
                     "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}]}))
    return str(path)


def main() -> None:
    width, height = (int(v) for v in sys.argv[1].split("x"))
    tours = sys.argv[sys.argv.index("--tour") + 1].split(",") if "--tour" in sys.argv else []
    f5 = sys.argv[sys.argv.index("--f5") + 1].split(",") if "--f5" in sys.argv else []
    # at 100%, in each of these languages: every central tab and dock, plots included
    plots = sys.argv[sys.argv.index("--plots") + 1].split(",") if "--plots" in sys.argv \
        else []
    os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={screen_config(width, height)}"
    sys.path[:0] = [str(HERE), str(HERE.parents[1])]
    from fit import cut_plot_texts, cut_widgets, fully_visible, lines_shown
    from PySide6 import QtCore, QtWidgets  # noqa: F401  (after the platform is chosen)

    from explorer.api import Explorer, RunFailed
    from explorer.i18n import LANGUAGE
    from models.presets import PRESETS

    settings = QtCore.QSettings(str(Path(tempfile.mkdtemp()) / "s.ini"),
                                QtCore.QSettings.IniFormat)
    e = Explorer.create("translate", "cpu", settings)  # a first run: nothing saved
    window = e.window
    window.show()
    e.wait()
    report: dict = {"available": window.screen().availableGeometry().getRect(),
                    "frame": window.frameGeometry().getRect(), "cut": {}, "central": {},
                    "restored": {}, "plot": {}, "tour_buttons": {}, "side_scroll": {},
                    "tour_lines": {}, "plot_cut": {}, "plot_checked": []}

    def docks() -> dict:
        sizes = {n: list(d.size().toTuple()) for n, d in window.docks.items() if d.isVisible()}
        return {"docks": sizes, "central": list(window.centralWidget().size().toTuple())}

    def central_tabs() -> list[str]:
        """The central panels this preset shows, the attention heatmap first."""
        return [name for name, page in window.pages.items()
                if window.tabs.isTabVisible(window.tabs.indexOf(page))]

    def check(tag: str) -> None:
        cut = cut_widgets(window)
        if cut:
            report["cut"][tag] = cut
        area = window.panels["prediction"].parentWidget().parentWidget()
        if area.horizontalScrollBar().isVisible():
            report["side_scroll"][tag] = "prediction"
        front = window.tabs.currentWidget()  # every central panel wraps or shrinks instead
        if front.horizontalScrollBar().isVisible():
            report["side_scroll"][tag] = window.current_panel()

    def every_text(tag: str) -> None:
        """In each language of `plots`: every central tab, with the Tokens dock and then
        the Heads dock in front (they share a place), its widgets and its plots' texts."""
        spoken = LANGUAGE.lang
        for lang in plots:
            window.set_language(lang)
            for dock in ("tokens", "heads"):
                window.docks[dock].raise_()
                # (the Heads dock shows the same whichever tab is in front: once)
                for panel in central_tabs() if dock == "tokens" else central_tabs()[-1:]:
                    e.show(panel)
                    e.paint()
                    check(f"{lang} {tag} {panel}")
                    cut = cut_plot_texts(window)
                    if cut:
                        report["plot_cut"][f"{lang} {tag} {panel} {dock}"] = cut
                    report["plot_checked"].append(f"{lang} {tag} {panel}")
            window.docks["tokens"].raise_()
        window.set_language(spoken)

    for name in PRESETS:
        e.set_preset(name)
        e.wait()
        every_text(name)  # (first: the Heads dock, once in front, keeps its laid-out size)
        at_100 = docks()
        for factor in ZOOMS:
            e.set_zoom(factor)
            e.show("attention")
            check(f"{name} {factor}")
            box = window.panels["attention"].view.plot.getViewBox().sceneBoundingRect()
            report["central"][f"{name} {factor}"] = docks()["central"]
            report["plot"][f"{name} {factor}"] = [round(box.width()), round(box.height())]
            for panel in central_tabs()[1:]:  # each wraps to the width, never scrolls sideways
                e.show(panel)
                e.paint()
                check(f"{name} {factor} {panel}")
        e.set_zoom(1.0)
        report["restored"][f"{name} ctrl0"] = [at_100, docks()]
        window.toggle_presentation()
        for panel in central_tabs():
            e.show(panel)
            e.paint()
            check(f"{name} F5")
        window.toggle_presentation()
        e.paint()
        report["restored"][f"{name} F5"] = [at_100, docks()]
    for lang in tours:
        tour = e.tour(lang)
        for i in range(len(tour.steps)):
            try:
                tour.go(i)
            except RunFailed as error:
                report["cut"][f"tour {lang} {i}"] = [f"step failed: {error}"]
                continue
            for factor in ZOOMS:
                e.set_zoom(factor)
                check(f"tour {lang} {i} {factor}")
                card = window.tour_card
                hidden = [b.text() for b in (card.previous_button, card.next_button,
                                             card.close_button, card.progress)
                          if not fully_visible(b)]
                if hidden:
                    report["tour_buttons"][f"{lang} {i} {factor}"] = hidden
            e.set_zoom(1.0)
        window.leave_tour()
    # opened folders at 100% (small random GPT-2, Llama and BERT): nothing cut, no dock
    # scrolling sideways, with a late token pointed at
    if "--folders" in sys.argv:
        from tests.models.lm_folders import build

        e.set_zoom(1.0)
        for family in ("gpt2", "llama", "bert"):
            folder = Path(tempfile.mkdtemp()) / f"tiny-{family}"
            build(family, folder)
            e.open_model(folder)
            e.set_input("The capital of France is Paris, and the capital of Germany is "
                        "Berlin. She picked up the book."  # (the small models take 64)
                        + (" [MASK]." if family == "bert" else ""))
            e.wait()
            rows = e.trace.meta["tokens"] if "tokens" in e.trace.meta else []
            e.select(query=max(len(rows) - 1, 0), key=0, locked=True)
            for panel in central_tabs():
                e.show(panel)
                e.paint()
                check(f"{family} {panel}")
            every_text(family)
            report.setdefault("folders", []).append(e.preset)
            if "--shots" in sys.argv:
                window.grab().save(f"/tmp/screen-{family}-{width}.png")
    # F5 with the tour: how many lines of each step's text the room sees, at 175% and 200%
    # (one zoom at a time: a zoom restyles every widget, a step is cheap once its model ran)
    if f5:
        window.toggle_presentation()
        for factor in (1.75, 2.0):
            e.set_zoom(factor)
            for lang in f5:
                tour = e.tour(lang)
                for i in range(len(tour.steps)):
                    tour.go(i)
                    QtWidgets.QApplication.processEvents()  # (the card's column at F5)
                    card = window.tour_card  # the step's title, text and invitation
                    counts = [lines_shown(label) for label in (card.title, card.text,
                                                               card.invite)
                              if label.isVisible()]
                    report["tour_lines"][f"{lang} {i + 1} {factor}"] = [
                        sum(shown for shown, _ in counts), sum(total for _, total in counts)]
        window.leave_tour()
        window.toggle_presentation()
        e.paint()
    # a refused input: said outside the status bar, in a visible widget
    e.set_preset("translate")
    e.wait()
    e.set_input(" ".join(["the cat"] * 30))
    try:
        e.wait()
    except RunFailed:
        pass
    status = window.statusBar()
    # (the reason is the model's own words, in either interface language)
    report["refusal_shown_in"] = [
        type(w).__name__ for w in window.findChildren(QtWidgets.QLabel)
        if w.isVisible() and ("takes at most" in w.text() or "最多接受" in w.text())
        and not status.isAncestorOf(w)]
    e.close()
    print(json.dumps(report))


if __name__ == "__main__":
    main()
