"""The main window: its docks of panels, the input widgets, menus and status bar. What it
owns does the rest: the selection tool bar (toolbar.py), the model and session opener with
its reader thread (model_opener.py) and the lecture controls (lecture.py)."""
from __future__ import annotations

import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from models.errors import InputError
from models.presets import get_preset, resolve_device
from models.session import DTYPES, dtype_refusal
from models.sites import token_layout

from .i18n import LANGUAGE, bind, say, tr, translate_message
from .lecture import Lecture
from .model_opener import ModelOpener
from .panels.attention import AttentionPanel
from .panels.base import Panel
from .panels.corpus import CorpusPanel
from .panels.heads import HeadsPanel
from .panels.lens import LensPanel
from .panels.model_view import ModelPanel
from .panels.patches import PatchesPanel
from .panels.patching import PatchingPanel, describe
from .panels.pipeline import PipelinePanel
from .panels.positional import PositionalPanel
from .panels.prediction import PredictionPanel
from .panels.rollout import RolloutPanel
from .panels.tokens import TokensPanel
from .panels.windows import WindowsPanel
from .placement import Placement
from .render import EXPORT_FILTERS, render
from .state import AppState
from .text import tip
from .toolbar import SelectionBar, device_availability
from .widgets.banner import DockTitle, ElidedLabel, with_banner
from .widgets.compare_bar import CompareBar
from .widgets.inputs import IMAGE_FILTER, ImageInput, TextInput
from .widgets.progress import RunProgress
from .zoom import ZOOM
from .zoom import font as zoom_font

PANEL_CLASSES = (AttentionPanel, PipelinePanel, ModelPanel, PositionalPanel, PatchesPanel,
                 WindowsPanel, RolloutPanel, TokensPanel, HeadsPanel, PredictionPanel,
                 LensPanel, PatchingPanel, CorpusPanel)
# Tabs in the story's order; hidden tabs do no work (Patching shows in compare mode, Corpus
# once a result is opened).
CENTRAL_TABS = ("attention", "pipeline", "model", "positional", "patches", "windows", "rollout",
                "lens", "patching", "corpus")
# tabs shown only for some token layouts (models.sites.token_layout)
TABS_FOR = {"patches": ("patches", "windows"), "windows": ("windows",),
            "rollout": ("patches", "windows")}


def scrolled(panel: QtWidgets.QWidget) -> QtWidgets.QScrollArea:
    """A panel in a scroll area: a panel that needs more room than the screen has scrolls,
    instead of making the window larger than the screen."""
    area = QtWidgets.QScrollArea()
    area.setWidget(panel)
    area.setWidgetResizable(True)
    area.setFrameShape(QtWidgets.QFrame.NoFrame)
    panel.setFocusPolicy(QtCore.Qt.ClickFocus)  # clicking a panel takes focus from the text
    return area


def forward(part: str, name: str) -> property:
    """The window's `name` is its part's (`window.<part>.<name>`)."""
    return property(lambda window: getattr(getattr(window, part), name))


# the Device menu's dtypes (the same choice as --dtype: float32 is its default)
DTYPE_LABELS = {"float32": "Compute in float32",
                "bfloat16": "Keep bfloat16 weights in bfloat16",
                "float16": "Keep float16 weights in float16"}
DTYPE_TIPS = {
    "float32": "weights stored in bfloat16 or float16 are computed in float32 (the default)",
    "bfloat16": "weights stored in bfloat16 are computed in bfloat16, as --dtype bfloat16 "
                "does (half the memory; others stay in float32)",
    "float16": "weights stored in float16 are computed in float16, as --dtype float16 does "
               "(half the memory; others stay in float32)"}


def window_title(trained: bool) -> str:
    """The title says when the model on screen has random weights (--untrained)."""
    return "Transformer Explorer" + ("" if trained else " — " + tr("untrained (random weights)"))


class MainWindow(QtWidgets.QMainWindow):
    # what its parts do, by the names scripts and tests know
    open_model = forward("opener", "open_model")
    open_session = forward("opener", "open_session")
    save_trace = forward("opener", "save_trace")
    add_opened = forward("toolbar", "add_opened")
    select_device = forward("toolbar", "select_device")
    tour_player = forward("lecture", "tour_player")
    tour_lang = forward("lecture", "tour_lang")
    start_tour = forward("lecture", "start_tour")
    leave_tour = forward("lecture", "leave_tour")
    switch_tour_language = forward("lecture", "switch_tour_language")
    set_language = forward("lecture", "set_language")
    set_zoom = forward("lecture", "set_zoom")
    toggle_presentation = forward("lecture", "toggle_presentation")
    restore_settings = forward("placement", "restore_settings")
    fit_to_screen = forward("placement", "fit_to_screen")

    def __init__(self, state: AppState, settings: QtCore.QSettings | None = None) -> None:
        super().__init__()
        self.state = state
        self.settings = settings
        self.explorer = None  # the Explorer built with the window (api.Explorer.create)
        self._said, self._stale_said = "", ""  # the status message, the banners' (say_again)
        self.setWindowTitle(window_title(trained=not state.untrained))
        self.opener = ModelOpener(self)
        self.model_opened = self.opener.model_opened
        self.placement = Placement(self, (1400, 860))
        self.setAcceptDrops(True)
        self.setDockNestingEnabled(True)
        # the side dock runs the window's full height; the bottom docks sit under the plot
        self.setCorner(QtCore.Qt.BottomRightCorner, QtCore.Qt.RightDockWidgetArea)
        self.panels: dict[str, Panel] = {}
        self.docks: dict[str, QtWidgets.QDockWidget] = {}
        self._build_inputs()
        self._build_panels()
        self._opaque_views()
        self.toolbar = SelectionBar(state)
        self.toolbar.preset_chosen.connect(self.select_preset)
        self.addToolBar(self.toolbar)
        bar = self.toolbar  # its boxes, by the names scripts and tests know them
        self.preset_box, self.device_box, self.kind_box = (bar.preset_box, bar.device_box,
                                                           bar.kind_box)
        self.layer_box, self.head_box, self.window_box = (bar.layer_box, bar.head_box,
                                                          bar.window_box)
        self._build_status()
        self.lecture = Lecture(self)
        self.tour_card = self.lecture.tour_card
        self._build_menus()
        for dock in self.docks.values():  # titles that zoom with the rest of the text
            dock.setTitleBarWidget(DockTitle(dock))
        state.trace_changed.connect(self._trace_changed)
        state.message.connect(self.show_message)
        self.failure_box: QtWidgets.QMessageBox | None = None
        state.run_failed.connect(self._run_failed)
        state.timings_changed.connect(self._show_timings)
        # the text changes, the label stays: showing and hiding it re-laid out the status
        # bar twice per run
        state.busy_changed.connect(lambda busy: self.busy.setText(tr("running…") if busy else ""))
        state.preset_changed.connect(self._preset_changed)
        state.input_changed.connect(self._input_changed)
        self.default_layout = self.saveState()  # View > Reset layout
        self.shown_layout = ""  # the token layout of the trace on screen
        self._shown_preset = ""  # the preset of the trace on screen
        self._preset_changed(state.preset)
        LANGUAGE.changed.connect(self._size_status)  # a method: disconnected when deleted

    # -- construction ----------------------------------------------------------------
    def _build_inputs(self) -> None:
        self.text_input = TextInput()
        self.text_input.edited.connect(self._input_edited)
        self.image_input = ImageInput()
        self.image_input.chosen.connect(self._input_edited)
        self.image_input.open_button.clicked.connect(self.open_image)
        self.inputs = QtWidgets.QStackedWidget()
        self.inputs.addWidget(self.text_input)
        self.inputs.addWidget(self.image_input)
        self.inputs.currentChanged.connect(self._fit_inputs)
        self._fit_inputs(0)
        dock = QtWidgets.QDockWidget(self)
        bind(dock, "setWindowTitle", "Input")
        dock.setObjectName("dock-input")
        # compare mode: input B and the view under input A (hidden while compare is off)
        self.compare_bar = CompareBar(self.state)
        holder = QtWidgets.QWidget()
        column = QtWidgets.QVBoxLayout(holder)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.inputs)
        column.addWidget(self.compare_bar)
        column.addStretch(1)  # a text model's two lines stay together at the top
        dock.setWidget(holder)
        self.addDockWidget(QtCore.Qt.TopDockWidgetArea, dock)
        self.docks["input"] = dock

    def _build_panels(self) -> None:
        for cls in PANEL_CLASSES:
            self.panels[cls.name] = cls(self.state)
        self.tabs = QtWidgets.QTabWidget()
        self.tabs.tabBar().setFocusPolicy(QtCore.Qt.StrongFocus)  # a click takes the keys
        # every tab in view: long titles elide (their whole text in the tooltip) rather
        # than hiding tabs behind scroll arrows on a narrow plot
        self.tabs.setUsesScrollButtons(False)
        self.tabs.setElideMode(QtCore.Qt.ElideRight)
        self.pages: dict[str, QtWidgets.QScrollArea] = {}
        for name in CENTRAL_TABS:
            self.pages[name] = scrolled(self.panels[name])
            self.tabs.addTab(self.pages[name], "")
            bind(self.pages[name], ("tab", lambda words, tabs=self.tabs, page=self.pages[name]:
                                    (tabs.setTabText(tabs.indexOf(page), words),
                                     tabs.setTabToolTip(tabs.indexOf(page), words))),
                 self.panels[name].title)
        # the Corpus tab from the first corpus result opened: one more tab at 200% took room
        # the other tabs and the docks need
        self.tabs.setTabVisible(self.tabs.indexOf(self.pages["corpus"]), False)
        # a refused input or a failed open is said over the result it leaves on screen
        central, banner = with_banner(self.tabs)
        # a patched run (the Patching tab) on every panel: said over them, with the way back
        self.patched_bar = QtWidgets.QWidget()
        self.patched_bar.setStyleSheet("background: #e8d8ff")
        row = QtWidgets.QHBoxLayout(self.patched_bar)
        row.setContentsMargins(6, 2, 6, 2)
        self.patched_label = QtWidgets.QLabel()
        self.patched_label.setTextFormat(QtCore.Qt.PlainText)
        self.patched_label.setWordWrap(True)  # never widens the plot's column
        self.patched_label.setMinimumWidth(60)
        self.patched_back = QtWidgets.QPushButton()
        bind(self.patched_back, "setText", "Back to the unpatched runs")
        self.patched_back.clicked.connect(self.state.leave_patched)
        row.addWidget(self.patched_label, 1)
        row.addWidget(self.patched_back)
        self.patched_bar.hide()
        holder = QtWidgets.QWidget()
        column = QtWidgets.QVBoxLayout(holder)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.patched_bar)
        column.addWidget(central, 1)
        self.state.patched_changed.connect(self._patched_changed)
        # the Patching tab is there in compare mode only (it patches A into B): one tab more
        # in the bar always took width from the docks at 200%
        self.state.compare_changed.connect(self._show_patching_tab)
        self._show_patching_tab(self.state.compare)
        self.setCentralWidget(holder)
        self.banners = [banner]
        for name, area in (("prediction", QtCore.Qt.RightDockWidgetArea),
                           ("tokens", QtCore.Qt.BottomDockWidgetArea),
                           ("heads", QtCore.Qt.BottomDockWidgetArea)):
            dock = QtWidgets.QDockWidget(self)
            bind(dock, "setWindowTitle", self.panels[name].title)
            dock.setObjectName(f"dock-{name}")
            if name == "prediction":
                self.prediction_area = scrolled(self.panels[name])
                content, banner = with_banner(self.prediction_area)
                self.banners.append(banner)
                dock.setWidget(content)
            else:
                dock.setWidget(scrolled(self.panels[name]))
            self.addDockWidget(area, dock)
            self.docks[name] = dock
        self.tabifyDockWidget(self.docks["tokens"], self.docks["heads"])
        self.docks["tokens"].raise_()

    def _opaque_views(self) -> None:
        """Plots and painted panels fill every pixel they own: telling Qt so spares it
        repainting the docks and the window underneath them on every frame."""
        for view in self.findChildren(pg.GraphicsView):
            view.viewport().setAttribute(QtCore.Qt.WA_OpaquePaintEvent)

    def _build_status(self) -> None:
        status = self.statusBar()
        self.message_label = ElidedLabel()
        self.message_label.setStyleSheet("color: #b00000")
        self.busy = QtWidgets.QLabel()
        self.timing_label = QtWidgets.QLabel()
        self.timing_label.setAlignment(QtCore.Qt.AlignRight | QtCore.Qt.AlignVCenter)
        self._size_status()
        ZOOM.changed.connect(self._size_status)  # a method: disconnected when deleted
        status.addWidget(self.message_label, 1)
        status.addPermanentWidget(self.toolbar.lock_label)  # not in the toolbar: 1280 px is narrow
        self.run_progress = RunProgress(self.state)  # a long run: how far, and Stop
        status.addPermanentWidget(self.run_progress)
        status.addPermanentWidget(self.busy)
        status.addPermanentWidget(self.timing_label)

    def _size_status(self, _change=None) -> None:
        """Room for the longest text each label shows, at the current zoom: new figures then
        never re-lay out the status bar, and a number is never cut."""
        metrics = QtGui.QFontMetrics(zoom_font())
        for label, longest in ((self.busy, tr("running…")),
                               (self.toolbar.lock_label, tr("locked — Esc to unlock")),
                               (self.timing_label,
                                "cuda:0 · bf16→fp32 · forward 000.0 ms · redraw 000.0 ms")):
            label.setMinimumWidth(metrics.horizontalAdvance(longest) + 8)

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        file_menu.addAction("&Open image…", QtGui.QKeySequence.Open, self.open_image)
        opener = self.opener
        file_menu.addAction("Open &model folder…", QtGui.QKeySequence("Ctrl+Shift+O"),
                            opener.open_model_dialog)
        file_menu.addAction("Open model &file (timm)…", opener.open_model_file_dialog)
        self.recent_models_menu = file_menu.addMenu("Recent mo&dels")
        self.recent_models_menu.aboutToShow.connect(self._fill_recent)
        file_menu.addSeparator()
        file_menu.addAction("Open &corpus result…", self.open_corpus_dialog)
        file_menu.addAction("Open &session…", opener.open_session_dialog)
        self.recent_menu = file_menu.addMenu("&Recent sessions")
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        file_menu.addAction("Sa&ve session…", QtGui.QKeySequence.Save,
                            opener.save_session_dialog)
        file_menu.addAction("Save &trace (.npz)…", QtGui.QKeySequence("Ctrl+Shift+S"),
                            opener.save_trace_dialog)
        file_menu.addSeparator()
        file_menu.addAction("&Export panel…", QtGui.QKeySequence("Ctrl+E"), self.export_dialog)
        file_menu.addAction("&Copy panel as image", QtGui.QKeySequence("Ctrl+Shift+C"),
                            self.copy_panel)
        file_menu.addSeparator()
        file_menu.addAction("&Quit", QtGui.QKeySequence.Quit, self.close)
        view = self.menuBar().addMenu("&View")
        for dock in self.docks.values():
            view.addAction(dock.toggleViewAction())  # (a dock's title names its action)
        # the Tour dock shown from View: the tour from where it was, or its first step
        self.docks["tour"].toggleViewAction().triggered.connect(
            lambda on: on and self.tour_player is None
            and self.start_tour(self.tour_lang).go_from_ui(0))
        view.addSeparator()
        zoom_in = view.addAction("Zoom &in", lambda: self.set_zoom(ZOOM.factor + 0.25))
        zoom_in.setShortcuts([QtGui.QKeySequence("Ctrl+="), QtGui.QKeySequence("Ctrl++"),
                              QtGui.QKeySequence.ZoomIn])
        view.addAction("Zoom &out", QtGui.QKeySequence("Ctrl+-"),
                       lambda: self.set_zoom(ZOOM.factor - 0.25))
        view.addAction("&Actual size", QtGui.QKeySequence("Ctrl+0"), lambda: self.set_zoom(1))
        view.addAction("&Presentation (full screen, large text)", QtGui.QKeySequence("F5"),
                       self.toggle_presentation)
        view.addAction("&Full screen", QtGui.QKeySequence("F11"), self.toggle_full_screen)
        view.addSeparator()
        view.addAction("&Reset layout", self.lecture.reset_layout)
        device = self._build_device_menu()
        tour = self.menuBar().addMenu("&Tour")
        tour.addAction("&Start the tour", lambda: self.start_tour(self.tour_lang).go_from_ui(0))
        tour.addAction("&Leave the tour", self.leave_tour)
        language = tour.addMenu("Language / 语言")
        self.language_actions: dict[str, QtGui.QAction] = {}
        group = QtGui.QActionGroup(self)  # one check mark: the language shown
        for lang, label in (("en", "English"), ("zh", "中文（简体）")):
            action = language.addAction(label, lambda lang=lang: self.switch_tour_language(lang))
            action.setCheckable(True)
            group.addAction(action)
            self.language_actions[lang] = action
        # every menu and action in the interface's language (not the language names)
        for menu in (file_menu, view, device, tour):
            self._bind_menu(menu)

    def _build_device_menu(self) -> QtWidgets.QMenu:
        """Where the model runs (as the tool bar's box) and what an opened folder's bf16 or
        fp16 weights compute in (as --dtype): a check mark on each one in use; a dtype the
        device cannot compute in is greyed, saying why (`dtype_refusal`, --dtype's rule)."""
        menu = self.device_menu = self.menuBar().addMenu("&Device")
        menu.setToolTipsVisible(True)
        self.device_actions: dict[str, QtGui.QAction] = {}
        group = QtGui.QActionGroup(self)
        for name, why_not in device_availability().items():
            action = menu.addAction(name.upper() if name != "auto" else "Auto",
                                    lambda name=name: self.select_device(name))
            action.setCheckable(True)
            action.setEnabled(not why_not)
            action.setToolTip(why_not)
            group.addAction(action)
            self.device_actions[name] = action
        menu.addSeparator()
        self.weights_dtype_action = menu.addAction("")  # what the model on screen stores
        self.weights_dtype_action.setEnabled(False)
        self.dtype_actions: dict[str, QtGui.QAction] = {}
        group = QtGui.QActionGroup(self)
        for name, label in DTYPE_LABELS.items():
            action = menu.addAction(label, lambda name=name: self.state.set_dtype(name))
            action.setCheckable(True)
            group.addAction(action)
            self.dtype_actions[name] = action
        # (what the device computes in is tried when the menu opens, not on each change: a
        # GPU's first use takes a while)
        menu.aboutToShow.connect(self._fill_device_menu)
        self.state.device_changed.connect(self._check_device_menu)
        self.state.dtype_changed.connect(self._check_device_menu)
        self._check_device_menu()
        return menu

    def _check_device_menu(self, _change: str = "") -> None:
        """The check marks: the device and the dtype in use."""
        device = self.state.device.split(":")[0]
        if device in self.device_actions:
            self.device_actions[device].setChecked(True)
        self.dtype_actions[self.state.dtype].setChecked(True)

    def _fill_device_menu(self) -> None:
        """The check marks, the dtypes the device computes in, the stored dtype's line."""
        self._check_device_menu()
        try:
            resolved = resolve_device(self.state.device)
        except InputError:
            resolved = "cpu"
        for name, action in self.dtype_actions.items():
            why = dtype_refusal(DTYPES[name], resolved) if name != "float32" else ""
            action.setEnabled(not why)
            action.setToolTip(tr("cannot compute in {dtype} on {device}: {why}").format(
                dtype=name, device=resolved, why=why) if why else tr(DTYPE_TIPS[name]))
        meta = self.state.trace.meta if self.state.trace is not None else {}
        self.weights_dtype_action.setText(tr("Weights of the model shown: {dtype}").format(
            dtype=meta.get("weights_dtype", "float32")))

    def _bind_menu(self, menu: QtWidgets.QMenu) -> None:
        bind(menu.menuAction(), "setText", menu.title())
        for action in menu.actions():
            if action.menu() is not None:
                if action.menu().title() != "Language / 语言":
                    self._bind_menu(action.menu())
            elif action.text() and action not in self.language_actions.values() \
                    and action is not self.weights_dtype_action \
                    and action not in [d.toggleViewAction() for d in self.docks.values()]:
                bind(action, "setText", action.text())

    def _fill_recent(self) -> None:
        self.opener.fill_recent(self.recent_menu, self.recent_models_menu)

    # -- user actions ------------------------------------------------------------------
    def open_image(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, tr("Open image"), "",
                                                        tr(IMAGE_FILTER))
        if path:
            self.load_image_file(path)

    def open_corpus_dialog(self) -> None:
        path = QtWidgets.QFileDialog.getExistingDirectory(self, tr("Open corpus result"))
        if path:
            self.open_corpus(path)

    def open_corpus(self, path: str) -> str:
        """A corpus result folder in the Corpus tab; '' when it opened, else the one line
        that says why not, over the tab (the result on screen stays)."""
        self.tabs.setTabVisible(self.tabs.indexOf(self.pages["corpus"]), True)
        self.show_panel("corpus")
        return self.panels["corpus"].open(path)

    def load_image_file(self, path: str) -> None:
        if get_preset(self.state.preset).input_kind == "text":
            # said, not done silently: the model on screen reads text, not pictures
            # (for a while: the new model's first result clears the message line)
            self.statusBar().showMessage(tr("{model} reads text: the image is opened with "
                                            "vit-digits").format(model=self.state.preset), 15_000)
            self.select_preset("vit-digits", path)
        else:
            self.state.set_input(path)

    def select_preset(self, name: str, value=None) -> None:
        """Switch preset; `value` (text or image) or the preset's last or default input."""
        self.opener.chose()
        dropped = self.text_input.timer.isActive()
        self.text_input.timer.stop()  # an edit typed for the previous preset is dropped
        self.state.set_preset(name, value)
        if dropped and self.inputs.isEnabled():
            self._show_input(self.state.input)  # the box shows what runs, not the edit

    def _input_edited(self, value) -> None:
        """From the input widgets: only while they belong to the preset that runs."""
        if self.inputs.isEnabled():
            self.state.set_input(value)

    def _preset_changed(self, name: str) -> None:
        # Until the new model's first trace, the inputs on screen belong to the old one.
        self.inputs.setEnabled(name == self._shown_preset)

    def _input_changed(self, value) -> None:
        if self.inputs.isEnabled():
            self._show_input(value)

    def _show_input(self, value) -> None:
        """Put an input (set from anywhere) into the input widgets of its preset."""
        preset = get_preset(self.state.preset)
        if preset.input_kind == "text":
            self.inputs.setCurrentWidget(self.text_input)
            if isinstance(value, str):
                self.text_input.set_text(value)
        else:
            self.inputs.setCurrentWidget(self.image_input)
            self.image_input.show_input(value)

    def _fit_inputs(self, index: int) -> None:
        """Size the input dock to the page shown, not to the largest page."""
        for i in range(self.inputs.count()):
            policy = (QtWidgets.QSizePolicy.Preferred if i == index
                      else QtWidgets.QSizePolicy.Ignored)
            self.inputs.widget(i).setSizePolicy(policy, policy)
        self.inputs.adjustSize()

    def show_panel(self, name: str) -> None:
        """Bring a panel to the front (its tab or its dock)."""
        if name == "patching":  # (its tab is hidden while compare mode is off)
            self._show_patching_tab(True)
        if name in CENTRAL_TABS:
            self.tabs.setCurrentWidget(self.pages[name])
        else:
            self.docks[name].show()
            self.docks[name].raise_()

    def current_panel(self) -> str:
        """The name of the panel in the front tab."""
        return self.tabs.currentWidget().widget().name

    def toggle_full_screen(self) -> None:
        self.showNormal() if self.isFullScreen() else self.showFullScreen()

    # -- export ------------------------------------------------------------------------
    def export_dialog(self) -> None:
        name = self.current_panel()
        path, chosen = QtWidgets.QFileDialog.getSaveFileName(
            self, f"Export the {name} panel", f"{name}.png", ";;".join(EXPORT_FILTERS))
        if path:
            self.export_panel(name, path, EXPORT_FILTERS.get(chosen, 1))

    def export_panel(self, name: str, path: str, scale: float = 1) -> None:
        scale = scale or 1
        if scale and not path.lower().endswith((".png", ".svg")):
            path += ".png"
        try:
            written = render(self.panels[name], path, scale)
        except InputError as error:
            self.show_message(str(error))
        else:
            self.show_message(f"exported {name} to {written}")

    def copy_panel(self) -> None:
        image = self.panels[self.current_panel()].grab().toImage()
        QtWidgets.QApplication.clipboard().setImage(image)
        self.show_message(tr("copied the {panel} panel as an image").format(
            panel=self.current_panel()))

    # -- state -> widgets --------------------------------------------------------------
    def _trace_changed(self, trace) -> None:
        self.say_stale("")  # a new result: nothing on screen is stale
        preset = trace.meta["preset"]
        self.setWindowTitle(window_title(trace.meta.get("trained", True)))
        if self.failure_box is not None:
            self.failure_box.hide()  # a model runs again: what the box said is past
        if preset != self._shown_preset:  # the inputs follow the model on screen
            self._shown_preset = preset
            shown = get_preset(preset)  # its samples: the preset's own, else its task's
            self.text_input.set_samples(shown.samples)
            self.image_input.set_samples(shown.task_info.sample_folder)
            self._show_input(self.state.input)
        self.inputs.setEnabled(preset == self.state.preset)
        layout = token_layout(trace.meta)
        if layout != self.shown_layout:
            self.shown_layout = layout
            self.lecture.arrange_for("text" if layout == "text" else "image")
        for name, layouts in TABS_FOR.items():
            self.tabs.setTabVisible(self.tabs.indexOf(self.pages[name]), layout in layouts)
        # unknown words of the text in the box, not of an earlier text still on screen
        shown = self.state.shown.input if self.state.shown is not None else None
        same = isinstance(shown, str) and shown == self.text_input.line.text()
        self.text_input.mark_unknown(trace.meta.get("unknown", []) if same else [])

    def _show_patching_tab(self, on: bool) -> None:
        self.tabs.setTabVisible(self.tabs.indexOf(self.pages["patching"]), bool(on))

    def _patched_changed(self, patched) -> None:
        if patched is None:
            self.patched_bar.hide()
            return
        self.patched_label.setText(describe(patched["cell"]))
        self.patched_bar.show()

    def _run_failed(self, text: str) -> None:
        if self.state.dtype_refused:  # the Device menu's choice, not the input
            self.say_stale(say("Still computing in {dtype}: {reason}",
                               dtype=self.state.dtype, reason=text))
        else:
            self.say_stale(say("Showing the previous input — yours was refused: {reason}",
                               reason=text))
        self.text_input.mark_unknown([])  # the words on screen are not the box's words
        self._say_in_a_box_when_nothing_is_shown(text)

    def say_stale(self, text: str) -> None:
        """Over the plot and the prediction: what is on screen is not what was asked for
        ('' clears it, as every new result does). A message with its template (`say`,
        `said`) is said in the interface's language, now and after a switch."""
        self._stale_said = text
        for banner in self.banners:
            banner.say(translate_message(text))

    def show_message(self, text: str) -> None:
        self._said = text  # kept as it came: said again in the new language after a switch
        text = translate_message(text)  # what the model said, in the interface's language
        self.message_label.setText(text)
        self.message_label.setToolTip(tip(text))  # all of it, where the status bar cuts it

    def say_again(self) -> None:
        """The status bar's message and the banners in the interface's language (after a
        language switch: they keep their template and values, not their words)."""
        self.show_message(self._said)
        self.say_stale(self._stale_said)
        if getattr(self, "_timings", None):
            self._show_timings(self._timings)

    def _say_in_a_box_when_nothing_is_shown(self, text: str) -> None:
        """With nothing on screen (the first model could not load: a missing weights file,
        say), the status bar alone is too easy to miss and cuts a long message: say it in a
        box as well, which does not block; the other presets still work."""
        if self.state.trace is not None:
            return
        if self.failure_box is None:
            self.failure_box = QtWidgets.QMessageBox(
                QtWidgets.QMessageBox.Warning, "Transformer Explorer",
                tr("This model cannot run."), QtWidgets.QMessageBox.Ok, self)
        self.failure_box.setInformativeText(
            translate_message(text) + "\n\n"
            + tr("Choose another preset in the toolbar, or open a model folder."))
        self.failure_box.open()

    def _show_timings(self, timings: dict) -> None:
        self._timings = timings  # said again after a language switch
        self.timing_label.setText(tr("{device} · forward {forward} ms · redraw {redraw} ms").format(
            device=timings.get("device", self.state.device) + self._dtype_shown(),
            forward=f"{timings['forward_ms']:.1f}", redraw=f"{timings['redraw_ms']:.1f}"))

    def _dtype_shown(self) -> str:
        """" · bf16→fp32" where an opened model's weights are stored in another dtype than
        it computes in, " · bf16" where it computes in bf16 or fp16 (the tooltip in words)."""
        meta = self.state.trace.meta if self.state.trace is not None else {}
        stored, computed = meta.get("weights_dtype"), meta.get("dtype")
        short = {"float32": "fp32", "bfloat16": "bf16", "float16": "fp16"}
        if stored is None or computed is None or stored == computed == "float32":
            self.timing_label.setToolTip("")
            return ""
        if stored == computed:
            self.timing_label.setToolTip(tr("the weights are computed in {dtype}, as they are "
                                            "stored (--dtype, the Device menu)").format(
                                                dtype=computed))
            return f" · {short.get(computed, computed)}"
        self.timing_label.setToolTip(tr("{stored} weights computed in {computed}").format(
            stored=stored, computed=computed))
        return f" · {short.get(stored, stored)}→{short.get(computed, computed)}"

    # -- drag and drop, persistence ------------------------------------------------------
    def dragEnterEvent(self, event: QtGui.QDragEnterEvent) -> None:
        self.opener.drag_enter(event)

    def dropEvent(self, event: QtGui.QDropEvent) -> None:
        self.opener.drop(event)

    def showEvent(self, event: QtGui.QShowEvent) -> None:
        super().showEvent(event)
        self.placement.shown()

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:
        self.placement.save_settings()
        self.state.shutdown()
        super().closeEvent(event)
