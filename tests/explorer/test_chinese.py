"""A Chinese interface through Qt's translation system (issue 20): the .ts source in the
repository, the .qm built from it when needed, switchable at run time with a check mark in
the Language menu, following the tour's language; if it cannot be built the interface says
so once and stays in English."""
import re
import shutil

from PySide6 import QtWidgets

import explorer.i18n as i18n
from explorer.i18n import LANGUAGE, qm_file, set_language

# words that are the same in both interfaces: devices, formats, names of things
KEEP = {"CPU", "CUDA", "MPS", "Auto", "timm", "npz", "seq2seq", "softmax", "Esc", "MSA",
        "translate", "reverse", "vit", "digits", "swin",
        "logit",  # the term itself, as Chinese ML texts write it (not 逻辑, "logic")
        "float32", "bfloat16", "float16"}  # number formats, as torch names them


def english_words(text: str) -> list[str]:
    return [w for w in re.findall(r"[A-Za-z0-9]*[A-Za-z]{3,}[A-Za-z0-9]*", text.replace("&", ""))
            if w not in KEEP]


def interface_texts(window) -> list[str]:
    """Every menu entry, visible button, tab and dock title of the window."""
    texts = []

    def walk(menu):
        for action in menu.actions():
            if action.menu() is not None:
                if action.menu().title() != "Language / 语言":  # names each language
                    texts.append(action.menu().title())
                    walk(action.menu())
            elif action.text():
                texts.append(action.text())

    for action in window.menuBar().actions():
        texts.append(action.text())
        walk(action.menu())
    texts += [b.text() for b in window.findChildren(QtWidgets.QAbstractButton)
              if b.isVisible() and b.text() and b.parentWidget() is not None
              and not isinstance(b.parentWidget(), QtWidgets.QToolBar)]
    texts += [window.tabs.tabText(i) for i in range(window.tabs.count())
              if window.tabs.isTabVisible(i)]
    texts += [dock.windowTitle() for dock in window.docks.values()]
    return texts


def test_in_chinese_no_menu_button_or_title_is_left_in_english(make_explorer):
    e = make_explorer("translate")
    window = e.window
    english = [t for t in interface_texts(window) if english_words(t)]
    assert "&File" in english and "Leave tour" not in english  # (the card is hidden)
    e.tour("zh").go(0)  # the interface follows the tour's language
    assert LANGUAGE.lang == "zh"
    assert window.language_actions["zh"].isChecked()
    assert not window.language_actions["en"].isChecked()
    left = {t: english_words(t) for t in interface_texts(window) if english_words(t)}
    assert left == {}
    assert window.tour_card.close_button.text() == "退出导览"
    assert window.kind_box.currentText() != "cross (decoder → encoder)"
    window.switch_tour_language("en")  # at run time, and back
    assert window.tour_card.close_button.text() == "Leave tour"
    assert window.menuBar().actions()[0].text() == "&File"
    assert window.language_actions["en"].isChecked()


def test_every_vision_button_in_chinese(make_explorer):
    e = make_explorer("swin-digits")
    e.window.switch_tour_language("zh")
    for panel in ("pipeline", "windows", "patches", "rollout", "positional"):
        e.show(panel)
        e.paint()
        left = {t: english_words(t) for t in interface_texts(e.window) if english_words(t)}
        assert left == {}, panel


def test_the_view_menu_lists_the_tour(make_explorer):
    e = make_explorer("translate")
    view = e.window.menuBar().actions()[1].menu()
    action = e.window.docks["tour"].toggleViewAction()
    assert action in view.actions()
    action.trigger()  # shown from the menu: the tour starts
    assert e.window.docks["tour"].isVisible() and e.window.tour_player is not None


def test_the_qm_is_built_from_the_ts(tmp_path, monkeypatch, qapp):
    shutil.copy(i18n.HERE / "zh_CN.ts", tmp_path / "zh_CN.ts")
    monkeypatch.setattr(i18n, "HERE", tmp_path)
    path, problem = qm_file("zh")
    assert problem == "" and path == tmp_path / "zh_CN.qm" and path.stat().st_size > 0


def test_without_lrelease_the_interface_says_so_once_and_stays_english(
        tmp_path, monkeypatch, qapp):
    shutil.copy(i18n.HERE / "zh_CN.ts", tmp_path / "zh_CN.ts")
    monkeypatch.setattr(i18n, "HERE", tmp_path)
    monkeypatch.setattr(i18n.QtCore.QStandardPaths, "writableLocation",
                        lambda *_: str(tmp_path / "cache"))
    monkeypatch.setattr(shutil, "which", lambda *_: None)
    try:
        first = set_language("zh")
        assert "pyside6-lrelease" in first
        assert LANGUAGE.lang == "en" and i18n.tr("Leave tour") == "Leave tour"
        assert set_language("zh") == ""  # said once
    finally:
        set_language("en")
