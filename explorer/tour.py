"""The guided tour: the study note's story (seq2seq → attention → self-attention → Q/K/V →
positions → decoder → multi-head → ViT → Swin) as steps that drive the app.

A tour is data, not code: resources/tour/<lang>.json holds chapters of steps, each a short
text plus the state it sets (preset, input, panel, attention kind and layer or site, head,
window, query / key and lock, pipeline stage, shifted-windows step, interventions, zoom) and
optionally an invitation to the user. `TourPlayer.go(i)` applies a step through the
scripting API; leaving the tour leaves the app as the step left it.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from PySide6 import QtCore, QtGui, QtWidgets

from models.errors import TourError
from models.resources import resource_path, shipped

from .i18n import bind, said, say, tr
from .state import RunFailed

TOURS = resource_path("tour")
STATE_KEYS = {"preset", "input", "panel", "kind", "layer", "site", "head", "window", "query",
              "key", "locked", "stage", "windows_step", "interventions", "zoom",
              "input_b", "view", "patch"}
CJK_PACKAGE = "fonts-noto-cjk"


@dataclass(frozen=True)
class Step:
    chapter: int
    chapter_title: str
    title: str
    text: str
    state: dict = field(default_factory=dict)
    invite: str = ""


def languages() -> list[str]:
    return sorted(p.stem for p in TOURS.glob("*.json"))


def system_language() -> str:
    """zh when the system speaks Chinese, else en."""
    return "zh" if QtCore.QLocale.system().language() == QtCore.QLocale.Chinese else "en"


def load_tour(lang: str) -> list[Step]:
    # a shipped language by name only: never a path (a session or the settings could
    # otherwise load any JSON file on disk as the tour)
    if lang not in languages():
        raise TourError(f"no tour in {str(lang)[:40]!r} (available: {', '.join(languages())})")
    path = TOURS / f"{lang}.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    steps = []
    try:
        for c, chapter in enumerate(data["chapters"]):
            for step in chapter["steps"]:
                unknown = set(step.get("state", {})) - STATE_KEYS
                if unknown:
                    raise TourError(f"{path.name}: unknown state keys {sorted(unknown)}")
                steps.append(Step(c, chapter["title"], step["title"], step["text"],
                                  step.get("state", {}), step.get("invite", "")))
    except (KeyError, TypeError, AttributeError) as error:
        raise TourError(f"{path.name} is not a tour ({type(error).__name__}: {error})") from None
    return steps


def outline(lang: str) -> str:
    lines, chapter = [], -1
    for i, step in enumerate(load_tour(lang)):
        if step.chapter != chapter:
            chapter = step.chapter
            lines.append(step.chapter_title)
        lines.append(f"  {i + 1:2d}  {step.title}")  # numbered as the card numbers it
    return "\n".join(lines)


def cjk_font_problem() -> str:
    """'' when a Simplified Chinese font is installed, else what to install."""
    if QtGui.QFontDatabase.families(QtGui.QFontDatabase.WritingSystem.SimplifiedChinese):
        return ""
    return (f"No Chinese font is installed, so Chinese text shows as boxes: install one "
            f"(Debian/Ubuntu: sudo apt-get install {CJK_PACKAGE}).")


def apply_step(explorer, state: dict[str, Any]) -> None:
    """Set what a step says, in an order that works: model and input, interventions, site,
    head and window, pointing, panel, stages, zoom."""
    try:
        explorer.wait()  # a run still in flight would answer after the step is set up
    except RunFailed:
        pass  # the step's own input replaces it below
    if "zoom" in state:
        explorer.set_zoom(state["zoom"])
    value = shipped(state.get("input"))  # "resources/…": a shipped sample
    if "preset" in state and state["preset"] != explorer.preset:
        explorer.set_preset(state["preset"], value)
        explorer.wait()
    elif value is not None and (explorer.error or not (isinstance(explorer.input, str)
                                                       and explorer.input == value)):
        explorer.set_input(value)
        explorer.wait()
    # compare mode: on with the step's input B, off for a step without one
    if "input_b" in state:
        explorer.set_compare(True, shipped(state["input_b"]))
        explorer.set_view(state.get("view", "A"))
        explorer.wait()
    elif explorer.state.compare:
        explorer.set_compare(False)
        explorer.wait()
    wanted = state.get("interventions", {})
    if wanted != explorer.state.interventions:
        explorer.set_interventions(**wanted)
        explorer.wait()
    trace = explorer.trace
    site = state.get("site")
    if "kind" in state:
        sites = trace.sites(state["kind"])
        site = sites[state.get("layer", -1)]
    if site is not None:
        explorer.select(site=site)
    explorer.select(head=state.get("head", 0), window=state.get("window"))
    if "query" in state or "key" in state:
        explorer.select(query=state.get("query"), key=state.get("key"),
                        locked=state.get("locked", True))
    else:
        explorer.state.unlock()
    # every step sets the central tab, the attention heatmap unless it names another (a
    # step that shows a dock would otherwise leave whichever tab the user had open)
    panel = state.get("panel", "attention")
    window = explorer.window
    if panel not in window.pages:  # a dock: the heatmap behind it
        explorer.show("attention")
    explorer.show(panel)
    window.lecture.keep_tour_in_front()
    if "stage" in state:
        window.panels["pipeline"].go_to_stage(state["stage"])
    if "windows_step" in state:
        window.panels["windows"].go_to_step(state["windows_step"])
    patch = state.get("patch")
    if patch:  # a sweep in the Patching tab, then one cell's patched run on every panel
        explorer.patch_sweep(patch["sweep"])
        cell = {k: patch[k] for k in ("site", "point", "head", "position") if k in patch}
        if cell:
            explorer.show_patched(**cell)
    elif explorer.state.patched is not None:
        explorer.state.leave_patched()
    explorer.paint()


def code_as_lines(text: str, size_pt: float) -> str:
    """A step's <pre> code, for a card of any width: each comment on a line of its own
    under its code (a line wrapped by the card broke mid-expression), in a font a little
    smaller than the words; the lines keep their breaks and wrap only if they must."""
    def lay_out(match: re.Match) -> str:
        lines = []
        for line in match.group(1).split("\n"):
            code, hash_, comment = line.partition("#")
            if hash_ and code.strip():
                lines += [code.rstrip(), "  # " + comment.strip()]
            else:
                lines.append(line)
        size = f"font-size: {size_pt * 0.8:.1f}pt; " if size_pt > 0 else ""
        return (f"<p style='font-family: monospace; {size}white-space: pre-wrap'>"
                + "\n".join(lines) + "</p>")
    return re.sub(r"<pre>(.*?)</pre>", lay_out, text, flags=re.S)


class TourPlayer(QtCore.QObject):
    changed = QtCore.Signal(int)  # the step shown

    def __init__(self, explorer, lang: str) -> None:
        super().__init__()
        self.explorer, self.lang = explorer, lang
        self.steps = load_tour(lang)
        self.index = -1

    def go(self, index: int, apply_state: bool = True) -> Step:
        self.index = max(0, min(int(index), len(self.steps) - 1))
        step = self.steps[self.index]
        if apply_state:
            apply_step(self.explorer, step.state)
        self.changed.emit(self.index)
        return step

    def go_from_ui(self, index: int) -> None:
        """For keys, buttons and menus: a step whose run fails is reported, not raised."""
        try:
            self.go(index)
        except (RunFailed, TimeoutError, ValueError) as error:
            self.explorer.state.message.emit(say("tour step {step}: {reason}", step=index + 1,
                                                 reason=said(error)))

    def next(self) -> Step:
        return self.go(self.index + 1)

    def previous(self) -> Step:
        return self.go(self.index - 1)


class TourCard(QtWidgets.QWidget):
    """The step's text, previous / next, progress and the chapter list."""

    def __init__(self) -> None:
        super().__init__()
        self.player: TourPlayer | None = None
        self.chapters = QtWidgets.QComboBox()
        self.chapters.setSizeAdjustPolicy(QtWidgets.QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.chapters.setMinimumContentsLength(8)  # the card stays as narrow as its dock
        self.progress = QtWidgets.QLabel()
        self.progress.setAlignment(QtCore.Qt.AlignRight | QtCore.Qt.AlignVCenter)
        self.title = QtWidgets.QLabel()
        self.title.setWordWrap(True)
        self.title.setStyleSheet("font-weight: bold")
        self.text = QtWidgets.QLabel()
        self.text.setWordWrap(True)
        self.text.setTextFormat(QtCore.Qt.RichText)
        self.text.setAlignment(QtCore.Qt.AlignTop | QtCore.Qt.AlignLeft)
        self.invite = QtWidgets.QLabel()
        self.invite.setWordWrap(True)
        self.invite.setStyleSheet("color: #c05000; font-style: italic")
        self.font_warning = QtWidgets.QLabel()
        self.font_warning.setWordWrap(True)
        self.font_warning.setStyleSheet("color: #b00000")
        self.previous_button = QtWidgets.QPushButton()
        self.next_button = QtWidgets.QPushButton()
        self.close_button = QtWidgets.QPushButton()
        for button, words in ((self.previous_button, "◀ Previous"), (self.next_button, "Next ▶"),
                              (self.close_button, "Leave tour")):
            bind(button, "setText", words)
        for button in (self.previous_button, self.next_button, self.close_button):
            button.setFocusPolicy(QtCore.Qt.NoFocus)  # keys stay with the lecture shortcuts
        top = QtWidgets.QHBoxLayout()
        top.addWidget(self.chapters, 1)
        top.addWidget(self.progress)
        # one row where the three fit side by side (the wide card at F5), else two: at
        # 175–200% they are wider than the side dock
        buttons = self.buttons = QtWidgets.QGridLayout()
        buttons.addWidget(self.previous_button, 0, 0)
        buttons.addWidget(self.next_button, 0, 1)
        buttons.addWidget(self.close_button, 1, 1)
        self._one_row = False
        # The step's words scroll; the chapter list, the count and the buttons stay in view.
        body = QtWidgets.QWidget()
        words = QtWidgets.QVBoxLayout(body)
        words.setContentsMargins(0, 0, 0, 0)
        words.addWidget(self.title)
        words.addWidget(self.text, 1)
        words.addWidget(self.invite)
        words.addWidget(self.font_warning)
        self.scroll = QtWidgets.QScrollArea()
        self.scroll.setWidget(body)
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QtWidgets.QFrame.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarAlwaysOff)  # it wraps
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.scroll, 1)
        layout.addLayout(buttons)
        self.chapters.activated.connect(self._chapter_chosen)
        self.previous_button.clicked.connect(lambda: self._step(-1))
        self.next_button.clicked.connect(lambda: self._step(1))

    def _size_progress(self, *_) -> None:
        """Room for the longest count at this text size: no re-layout per step, and no
        count cut after a zoom."""
        if self.player is not None:
            total = len(self.player.steps)
            self.progress.setMinimumWidth(
                self.progress.fontMetrics().horizontalAdvance(f"{total} / {total}") + 6)

    def changeEvent(self, event: QtCore.QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QtCore.QEvent.FontChange:  # a zoom
            self._size_progress()
            self._arrange_buttons()
            if self.player is not None and self.player.index >= 0:  # the code's size
                self.text.setText(code_as_lines(self.player.steps[self.player.index].text,
                                                self.font().pointSizeF()))

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:
        super().resizeEvent(event)
        self._arrange_buttons()

    def _arrange_buttons(self) -> None:
        """The three buttons on one row when they fit: a line more for the step's text."""
        row = (self.previous_button, self.next_button, self.close_button)
        margins = self.layout().contentsMargins()
        need = (sum(b.sizeHint().width() for b in row) + 2 * self.buttons.horizontalSpacing()
                + margins.left() + margins.right())
        one_row = need <= self.width()
        if one_row != self._one_row:
            self._one_row = one_row
            self.buttons.removeWidget(self.close_button)
            self.buttons.addWidget(self.close_button, *((0, 2) if one_row else (1, 1)))

    def _step(self, delta: int) -> None:
        if self.player is not None:
            self.player.go_from_ui(self.player.index + delta)

    def set_player(self, player: TourPlayer) -> None:
        if self.player is not None:
            self.player.changed.disconnect(self.show_step)
        self.player = player
        player.changed.connect(self.show_step)
        self.chapters.clear()
        seen = set()
        for i, step in enumerate(player.steps):
            if step.chapter not in seen:
                seen.add(step.chapter)
                self.chapters.addItem(step.chapter_title, i)
        self.font_warning.setText(cjk_font_problem() if player.lang == "zh" else "")
        self.font_warning.setVisible(bool(self.font_warning.text()))

    def _chapter_chosen(self, index: int) -> None:
        if self.player is not None:
            self.player.go_from_ui(self.chapters.itemData(index))

    def show_step(self, index: int) -> None:
        step = self.player.steps[index]
        self.chapters.setCurrentIndex(step.chapter)
        total = len(self.player.steps)
        self._size_progress()
        self.progress.setText(f"{index + 1} / {total}")
        self.title.setText(step.title)
        self.text.setText(code_as_lines(menu_words(step.text), self.font().pointSizeF()))
        self.invite.setText(step.invite)
        self.invite.setVisible(bool(step.invite))
        self.previous_button.setEnabled(index > 0)
        self.next_button.setEnabled(index < len(self.player.steps) - 1)


MENU_PATH = re.compile(r"\{menu:([^{}]+)\}")


def menu_words(text: str) -> str:
    """A step's `{menu:&File ▸ Open &model folder…}` as the menu bar names those entries now,
    through the same translations ("文件 ▸ 打开模型文件夹"): the menu's own texts, in
    either language, without their shortcut marks and dots."""
    def named(found: re.Match) -> str:
        return " ▸ ".join(re.sub(r"\(&\w\)|&(?=\w)|…$", "", tr(part.strip()))
                          for part in found.group(1).split("▸"))
    return MENU_PATH.sub(named, text)
