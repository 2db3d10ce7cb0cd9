"""Lecturing with the window: the guided tour's card and its language, the lecture keys
(wherever focus is), a black screen (B), zoom and the F5 presentation layout, and the dock
layout each kind of model gets — which zooming and leaving F5 restore exactly."""
from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

from models.presets import get_preset

from .i18n import LANGUAGE, bind, set_language
from .tour import TourCard, TourPlayer, languages, system_language
from .zoom import PRESENTATION, ZOOM

TOUR_SHARE = 0.38  # of the window's width: the tour's card at F5


class Lecture(QtCore.QObject):
    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window  # its docks, panels, tool bar and explorer
        self.settings = window.settings
        self._layout_at_100: QtCore.QByteArray | None = None  # dock sizes to go back to
        self._layout_before_presentation: QtCore.QByteArray | None = None
        self._zoom_before_presentation = 1.0
        self.presenting = False  # F5
        self._build_tour()
        self._build_keys()

    def _build_tour(self) -> None:
        window = self.window
        self.tour_card = TourCard()
        self.tour_player: TourPlayer | None = None
        self.tour_card.close_button.clicked.connect(self.leave_tour)
        dock = QtWidgets.QDockWidget(window)
        bind(dock, "setWindowTitle", "Tour")
        dock.setObjectName("dock-tour")
        dock.setWidget(self.tour_card)  # its text scrolls inside, its buttons stay in view
        window.addDockWidget(QtCore.Qt.RightDockWidgetArea, dock)
        window.splitDockWidget(dock, window.docks["prediction"], QtCore.Qt.Vertical)
        dock.hide()
        window.docks["tour"] = dock
        self.blank = QtWidgets.QLabel("", window)  # B: a black screen, as in slide shows
        self.blank.setStyleSheet("background: black")
        self.blank.hide()

    def _build_keys(self) -> None:
        # Lecture keys, wherever focus is; a text box keeps its arrows and Space (Qt lets
        # it claim them), Esc leaves it.
        bar = self.window.toolbar
        for key, slot in ((QtCore.Qt.Key_Left, lambda: self.lecture_key(-1, "layer")),
                          (QtCore.Qt.Key_Right, lambda: self.lecture_key(1, "layer")),
                          (QtCore.Qt.Key_Up, lambda: bar.step_head(-1)),
                          (QtCore.Qt.Key_Down, lambda: bar.step_head(1)),
                          (QtCore.Qt.Key_Escape, self.escape),
                          (QtCore.Qt.Key_PageDown, lambda: self.lecture_key(1, "stage")),
                          (QtCore.Qt.Key_PageUp, lambda: self.lecture_key(-1, "stage")),
                          (QtCore.Qt.Key_Space, lambda: self.step_through(0)),
                          (QtCore.Qt.Key_B, self.toggle_blank)):
            QtGui.QShortcut(QtGui.QKeySequence(key), self.window, slot)

    # -- keys and the black screen -------------------------------------------------------
    def step_through(self, delta: int) -> None:
        """Lecture keys for the tab in front: PgDown/PgUp a stage, Space play/pause."""
        panel = self.window.tabs.currentWidget().widget()
        if panel is self.window.panels["pipeline"]:
            stage, go = panel.stage, panel.go_to_stage
        elif panel is self.window.panels["windows"]:
            stage, go = panel.step, panel.go_to_step
        else:
            return
        if delta:
            go(max(stage, 0) + delta if stage >= 0 else 0)
        else:
            panel.play_button.toggle()

    def lecture_key(self, delta: int, otherwise: str) -> None:
        """←/→ and PgUp/PgDn step the tour while it is open; else the layer or the stage."""
        if self.tour_player is not None and self.window.docks["tour"].isVisible():
            self.tour_player.go_from_ui(self.tour_player.index + delta)
        elif otherwise == "layer":
            self.window.toolbar.step_layer(delta)
        else:
            self.step_through(delta)

    def escape(self) -> None:
        """Esc: leave the text box, then the black screen, then unlock the selection."""
        focus = QtWidgets.QApplication.focusWidget()
        if isinstance(focus, QtWidgets.QLineEdit):
            focus.clearFocus()
            self.window.tabs.currentWidget().setFocus()
        elif self.blank.isVisible():
            self.blank.hide()
        else:
            self.window.state.unlock()

    def toggle_blank(self) -> None:
        self.blank.setGeometry(self.window.rect())
        self.blank.setVisible(not self.blank.isVisible())
        self.blank.raise_()

    # -- the tour and the interface's language -------------------------------------------
    @property
    def tour_lang(self) -> str:
        if self.tour_player is not None:
            return self.tour_player.lang
        saved = str(self.settings.value("tourLanguage", "")) if self.settings else ""
        return saved if saved in languages() else system_language()  # never a path

    def start_tour(self, lang: str | None = None) -> TourPlayer:
        lang = lang or self.tour_lang
        docks = self.window.docks
        player = TourPlayer(self.window.explorer, lang)
        self.tour_player = player
        self.tour_card.set_player(player)
        if lang != LANGUAGE.lang:
            self.set_language(lang)  # the interface speaks the tour's language
        if not docks["tour"].isVisible():
            docks["tour"].show()
            self.window.resizeDocks([docks["tour"], docks["prediction"]], [340, 300],
                                    QtCore.Qt.Vertical)
            if ZOOM.factor > 1.0:
                self._tour_room()
        docks["tour"].raise_()
        if self.settings is not None:
            self.settings.setValue("tourLanguage", lang)
        return player

    def switch_tour_language(self, lang: str) -> None:
        """The interface and the tour in `lang`: words only. An open tour shows the same
        step in the new language without applying it again, so the model and input the
        user chose since stay as they are."""
        if self.tour_player is not None:
            step = max(self.tour_player.index, 0)
            self.start_tour(lang).go(step, apply_state=False)
        else:
            self.set_language(lang)
            if self.settings is not None:
                self.settings.setValue("tourLanguage", lang)

    def set_language(self, lang: str) -> None:
        """Menus, buttons, titles, captions and messages in `lang` (Qt's translations);
        if they cannot be loaded, said once, and the interface stays in English."""
        problem = set_language(lang)
        if problem:
            self.window.show_message(problem)
        for code, action in self.window.language_actions.items():
            action.setChecked(code == LANGUAGE.lang)
        self.window.toolbar.retranslate()
        if not problem:
            self.window.say_again()

    def leave_tour(self) -> None:
        """The app stays as the last step left it."""
        self._prediction_back_under_the_tour()
        self.window.docks["tour"].hide()
        self.tour_player = None

    # -- zoom, presentation and the docks' layout ----------------------------------------
    def set_zoom(self, factor: float) -> None:
        """Every text larger or smaller. Zooming in never takes room from the central plot:
        the docks keep their widths and the bottom ones fold away (View or a tour step
        brings them back); back at 100% every dock has the size it had at 100%."""
        before = ZOOM.factor
        if before == 1.0 and self.window.isVisible() and self._layout_at_100 is None:
            self._layout_at_100 = self.window.saveState()
        ZOOM.set(factor)
        if ZOOM.factor == 1.0 and before != 1.0:
            # once the tool bar and the menu have their 100% heights, or the docks take
            # the difference
            QtCore.QTimer.singleShot(0, self._restore_layout_at_100)
        elif ZOOM.factor > 1.0 and before <= 1.0:
            self._fold_bottom_docks()
        elif ZOOM.factor > 1.0 and self.window.shown_layout != "text":  # the new text size
            QtCore.QTimer.singleShot(0, self._narrow_input)
        if ZOOM.factor > 1.0 and self.window.docks["tour"].isVisible():
            self._tour_room()
        if self.settings is not None:
            self.settings.setValue("zoom", ZOOM.factor)

    def _tour_room(self) -> None:
        """At large text the tour's words get most of the side column (the prediction
        below scrolls), so a step reads without scrolling. At F5 the step's text is what
        the room reads: the card takes the whole side column, wider, and the prediction
        waits behind it as a tab."""
        window, docks = self.window, self.window.docks
        if self.presenting:
            self._tour_takes_the_column()
            return
        column = docks["tour"].height() + docks["prediction"].height()
        window.resizeDocks([docks["tour"], docks["prediction"]],
                           [int(column * 0.6), int(column * 0.4)], QtCore.Qt.Vertical)

    def _tour_takes_the_column(self) -> None:
        window, docks = self.window, self.window.docks
        tour, prediction = docks["tour"], docks["prediction"]
        if prediction not in window.tabifiedDockWidgets(tour):
            window.tabifyDockWidget(tour, prediction)
        tour.raise_()
        width = max(tour.width(), int(window.width() * TOUR_SHARE))
        window.resizeDocks([tour], [width], QtCore.Qt.Horizontal)

    def _tour_has_the_column(self) -> bool:
        docks = self.window.docks
        return docks["prediction"] in self.window.tabifiedDockWidgets(docks["tour"])

    def _prediction_back_under_the_tour(self) -> None:
        """The side column as it is outside F5: the tour's card above the prediction."""
        window, docks = self.window, self.window.docks
        if docks["prediction"] in window.tabifiedDockWidgets(docks["tour"]):
            window.splitDockWidget(docks["tour"], docks["prediction"], QtCore.Qt.Vertical)

    def keep_tour_in_front(self) -> None:
        """At F5 a step that shows the prediction leaves the card in front (the prediction
        is a click away, on its tab)."""
        if self.presenting and self.window.docks["tour"].isVisible():
            self.window.docks["tour"].raise_()

    def _fold_bottom_docks(self) -> None:
        """Large text: the docks a lecture does not need fold away, and an image model's
        input column gives the plot what the taller tool bar and tabs took."""
        for name in ("tokens", "heads"):
            self.window.docks[name].hide()
        if self.window.shown_layout != "text":  # (once the larger text and the window
            QtCore.QTimer.singleShot(0, self._narrow_input)  # are laid out)

    def _narrow_input(self) -> None:
        """An image model at large text: the input column and the prediction as narrow as
        their contents allow at this text size, so that the plot gets back the height the
        taller bars took (the prediction scrolls down, never sideways)."""
        if ZOOM.factor <= 1.0 or self.window.shown_layout == "text":
            return  # (a text model came on screen before this ran: its input is on top)
        for _ in range(3):  # the contents' minimum widths at this text size
            QtWidgets.QApplication.sendPostedEvents(None, QtCore.QEvent.LayoutRequest)
        window, docks = self.window, self.window.docks
        scroll = window.style().pixelMetric(QtWidgets.QStyle.PM_ScrollBarExtent)
        needs = {"input": docks["input"].minimumSizeHint().width(),
                 "prediction": docks["prediction"].width() - window.prediction_area.width()
                 + window.panels["prediction"].minimumSizeHint().width() + scroll}
        shown = [name for name in needs if docks[name].isVisible()
                 and not (name == "prediction" and self._tour_has_the_column())]
        window.resizeDocks([docks[name] for name in shown], [needs[name] for name in shown],
                           QtCore.Qt.Horizontal)

    def _restore_layout_at_100(self) -> None:
        saved, self._layout_at_100 = self._layout_at_100, None
        tour = self.window.docks["tour"].isVisible()
        for _ in range(3):  # every nested layout has its 100% minimum before the sizes
            QtWidgets.QApplication.sendPostedEvents(None, QtCore.QEvent.LayoutRequest)
        if saved is not None:
            self.window.restoreState(saved)
        else:  # zoomed since the start, or the model's layout changed while zoomed
            for name in ("tokens", "heads"):
                self.window.docks[name].show()
            self.arrange_for(get_preset(self.window.state.preset).input_kind)
        self.window.docks["tour"].setVisible(tour)

    def toggle_presentation(self) -> None:
        """F5: full screen with large text, and back to the same zoom and dock sizes."""
        window = self.window
        if self.presenting:
            self.presenting = False
            self._prediction_back_under_the_tour()
            window.showNormal()
            self.set_zoom(self._zoom_before_presentation)
            if ZOOM.factor != 1.0:  # (at 100% set_zoom restores the 100% sizes)
                self._layout_at_100 = self._layout_before_presentation  # None: arrange
                QtCore.QTimer.singleShot(0, self._restore_layout_at_100)
        else:
            self._zoom_before_presentation = ZOOM.factor
            self._layout_before_presentation = window.saveState()
            if ZOOM.factor == 1.0:  # the sizes to come back to, not the full screen's
                self._layout_at_100 = self._layout_before_presentation
            self.presenting = True
            window.showFullScreen()
            self.set_zoom(max(ZOOM.factor, PRESENTATION))
            if self.window.docks["tour"].isVisible():
                QtCore.QTimer.singleShot(0, self._tour_room)  # at the full screen's width

    def reset_layout(self) -> None:
        self.window.restoreState(self.window.default_layout)
        for name, dock in self.window.docks.items():
            dock.setVisible(name != "tour" or self.tour_player is not None)
        self.arrange_for(get_preset(self.window.state.preset).input_kind)

    def arrange_for(self, input_kind: str) -> None:
        """Text: input on top; images: input and image side by side on the left."""
        window, docks = self.window, self.window.docks
        text = input_kind == "text"
        window.addDockWidget(QtCore.Qt.TopDockWidgetArea if text
                             else QtCore.Qt.LeftDockWidgetArea, docks["input"])
        for name in ("tokens", "heads"):
            window.addDockWidget(QtCore.Qt.BottomDockWidgetArea if text
                                 else QtCore.Qt.LeftDockWidgetArea, docks[name])
        window.tabifyDockWidget(docks["tokens"], docks["heads"])
        docks["tokens"].raise_()
        window.resizeDocks([docks["prediction"]], [340 if text else 300], QtCore.Qt.Horizontal)
        if text:
            # the tokens' two strips and the heads' eight rows, not a peephole onto them
            room = max(window.panels[n].minimumSizeHint().height() for n in ("tokens", "heads"))
            # (+ the dock's title and the Tokens / Heads tab bar under it)
            window.resizeDocks([docks["input"], docks["tokens"]], [50, room + 46],
                               QtCore.Qt.Vertical)
        else:
            window.resizeDocks([docks["input"]], [330], QtCore.Qt.Horizontal)
            window.resizeDocks([docks["input"], docks["tokens"]], [330, 420],
                               QtCore.Qt.Vertical)
        # the layout saved before F5 was another kind's: leaving F5 arranges this kind's
        # (restoring it put a text model's input box in the image column, squashed)
        self._layout_before_presentation = None
        if ZOOM.factor > 1.0:  # the sizes saved at 100% were another model's layout
            self._layout_at_100 = None
            self._fold_bottom_docks()
        if self.presenting and docks["tour"].isVisible():
            QtCore.QTimer.singleShot(0, self._tour_room)  # the card's width, after the rest
