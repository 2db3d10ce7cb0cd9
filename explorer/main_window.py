"""The main window: toolbar, docks of panels, input widgets, status bar, shortcuts."""
from __future__ import annotations

import threading
from pathlib import Path

import pyqtgraph as pg
import torch
from PySide6 import QtCore, QtGui, QtWidgets

from models import text_lm
from models.analysis import token_layout
from models.checkpoints import CheckpointError
from models.hub import read_model
from models.presets import PRESETS
from models.session import build_opened, register_opened
from models.tasks.text import InputError

from .i18n import LANGUAGE, bind, said, set_language, tr, translate_message
from .labels import site_title
from .panels.attention import AttentionPanel
from .panels.base import Panel
from .panels.heads import HeadsPanel
from .panels.model_view import ModelPanel
from .panels.patches import PatchesPanel
from .panels.pipeline import PipelinePanel
from .panels.positional import PositionalPanel
from .panels.prediction import PredictionPanel
from .panels.rollout import RolloutPanel
from .panels.tokens import TokensPanel
from .panels.windows import WindowsPanel
from .render import EXPORT_FILTERS, render
from .session import SessionError
from .state import AppState, Selection
from .tour import TourCard, TourError, TourPlayer, languages, system_language
from .widgets.banner import DockTitle, ElidedLabel, with_banner
from .widgets.inputs import IMAGE_FILTER, ImageInput, TextInput, read_samples
from .zoom import PRESENTATION, ZOOM
from .zoom import font as zoom_font

PANEL_CLASSES = (AttentionPanel, PipelinePanel, ModelPanel, PositionalPanel, PatchesPanel,
                 WindowsPanel, RolloutPanel, TokensPanel, HeadsPanel, PredictionPanel)
# Tabs in the story's order; hidden tabs do no work.
CENTRAL_TABS = ("attention", "pipeline", "model", "positional", "patches", "windows", "rollout")
# tabs shown only for some token layouts (models.analysis.token_layout)
TABS_FOR = {"patches": ("patches", "windows"), "windows": ("windows",),
            "rollout": ("patches", "windows")}
KIND_NAMES = {"encoder_self": "encoder self", "decoder_self": "decoder self (masked)",
              "cross": "cross (decoder → encoder)", "self": "self", "window": "window (W/SW-MSA)",
              "causal": "self (causal)", "bidirectional": "self (bidirectional)"}
WEIGHTS_SUFFIXES = ("safetensors", "pth", "bin")
WEIGHTS_FILTER = "Weights (*.safetensors *.pth *.bin)"
SAMPLE_FILES = {"translation": "sentences.txt", "reverse": "reverse.txt",
                "marian-translation": "sentences.txt",  # plain English: any en-xx model
                **text_lm.SAMPLE_FILES,
                "induction": "induction.txt"}  # by preset, where its task's would not do
FRAME_GUESS = (16, 48)  # a window manager's border and title bar, until it says
SAMPLE_FOLDERS = {"image-classification": "photos"}  # the image gallery by task (else digits)


def scrolled(panel: QtWidgets.QWidget) -> QtWidgets.QScrollArea:
    """A panel in a scroll area: a panel that needs more room than the screen has scrolls,
    instead of making the window larger than the screen."""
    area = QtWidgets.QScrollArea()
    area.setWidget(panel)
    area.setWidgetResizable(True)
    area.setFrameShape(QtWidgets.QFrame.NoFrame)
    panel.setFocusPolicy(QtCore.Qt.ClickFocus)  # clicking a panel takes focus from the text
    return area


def window_title(trained: bool) -> str:
    """The title says when the model on screen has random weights (--untrained)."""
    return "Transformer Explorer" + ("" if trained else " — " + tr("untrained (random weights)"))


def device_availability() -> dict[str, str]:
    """Device name -> '' if usable, else why not."""
    mps = getattr(torch.backends, "mps", None)
    return {
        "cpu": "",
        "cuda": "" if torch.cuda.is_available() else "no CUDA GPU visible to this torch build",
        "mps": "" if mps is not None and mps.is_available() else "MPS needs Apple silicon",
        "auto": "",
    }


class MainWindow(QtWidgets.QMainWindow):
    trace_saved = QtCore.Signal(str, str)  # path, error ("" when written): from a thread
    model_read = QtCore.Signal(int, str, object, object, object)  # from the model-reader thread
    model_opened = QtCore.Signal(int, str, str)  # ticket, preset name or "", error or ""

    def __init__(self, state: AppState, settings: QtCore.QSettings | None = None) -> None:
        super().__init__()
        self.state = state
        self.settings = settings
        self.setWindowTitle(window_title(trained=not state.untrained))
        self.trace_saved.connect(self._trace_saved)
        self.model_read.connect(self._model_read)
        self._open_ticket = 0  # the newest File > Open model: only it switches the model
        self._choices = 0  # models chosen (presets, folders): a folder read switches only
        # if nothing was chosen after it
        self.resize(1400, 860)
        self._wanted_size: QtCore.QSize | None = QtCore.QSize(1400, 860)
        self._fitted_size: QtCore.QSize | None = None  # the size restore_settings chose
        self._layout_at_100: QtCore.QByteArray | None = None  # dock sizes to go back to
        self._layout_before_presentation: QtCore.QByteArray | None = None
        self.setAcceptDrops(True)
        self.setDockNestingEnabled(True)
        # the side dock runs the window's full height; the bottom docks sit under the plot
        self.setCorner(QtCore.Qt.BottomRightCorner, QtCore.Qt.RightDockWidgetArea)
        self.panels: dict[str, Panel] = {}
        self.docks: dict[str, QtWidgets.QDockWidget] = {}
        self._build_inputs()
        self._build_panels()
        self._opaque_views()
        self._build_toolbar()
        self._build_status()
        self._build_tour()
        self._build_menus_and_shortcuts()
        for dock in self.docks.values():  # titles that zoom with the rest of the text
            dock.setTitleBarWidget(DockTitle(dock))
        state.trace_changed.connect(self._trace_changed)
        state.selection_changed.connect(self._selection_changed)
        state.message.connect(self._show_message)
        self.failure_box: QtWidgets.QMessageBox | None = None
        state.run_failed.connect(self._run_failed)
        state.timings_changed.connect(self._show_timings)
        state.device_changed.connect(self._device_changed)
        # the text changes, the label stays: showing and hiding it re-laid out the status
        # bar twice per run
        state.busy_changed.connect(lambda busy: self.busy.setText(tr("running…") if busy else ""))
        state.preset_changed.connect(self._preset_changed)
        state.input_changed.connect(self._input_changed)
        self._default_state = self.saveState()
        self._layout = ""
        self._shown_preset = ""  # the preset of the trace on screen
        self._preset_changed(state.preset)
        LANGUAGE.changed.connect(self._retranslate)  # methods: disconnected when deleted
        LANGUAGE.changed.connect(self._size_status)

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
        dock.setWidget(self.inputs)
        self.addDockWidget(QtCore.Qt.TopDockWidgetArea, dock)
        self.docks["input"] = dock

    def _build_panels(self) -> None:
        for cls in PANEL_CLASSES:
            self.panels[cls.name] = cls(self.state)
        self.tabs = QtWidgets.QTabWidget()
        self.tabs.tabBar().setFocusPolicy(QtCore.Qt.StrongFocus)  # a click takes the keys
        self.pages: dict[str, QtWidgets.QScrollArea] = {}
        for name in CENTRAL_TABS:
            self.pages[name] = scrolled(self.panels[name])
            self.tabs.addTab(self.pages[name], "")
            bind(self.pages[name], ("tab", lambda words, tabs=self.tabs, page=self.pages[name]:
                                    tabs.setTabText(tabs.indexOf(page), words)),
                 self.panels[name].title)
        # a refused input or a failed open is said over the result it leaves on screen
        central, banner = with_banner(self.tabs)
        self.setCentralWidget(central)
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

    def _build_toolbar(self) -> None:
        bar = self.addToolBar("Model")
        bar.setObjectName("toolbar-model")
        bar.setMovable(False)
        self.preset_box = QtWidgets.QComboBox()
        # as wide as the longest name (an opened model's "timm-vit_tiny_…" was cut)
        self.preset_box.setSizeAdjustPolicy(QtWidgets.QComboBox.AdjustToContents)
        for name in [n for n in PRESETS if not PRESETS[n].source]:
            self._add_preset_item(name)
        self.preset_box.currentIndexChanged.connect(self._preset_chosen)
        self.device_box = QtWidgets.QComboBox()
        model = QtGui.QStandardItemModel()
        for name, why_not in device_availability().items():
            item = QtGui.QStandardItem(name.upper() if name != "auto" else "Auto")
            item.setData(name, QtCore.Qt.UserRole)
            if why_not:
                item.setEnabled(False)
                item.setToolTip(why_not)
            model.appendRow(item)
        self.device_box.setModel(model)
        self.device_box.currentIndexChanged.connect(
            lambda i: self.state.set_device(self.device_box.itemData(i)))
        self.kind_box = QtWidgets.QComboBox()
        self.kind_box.setSizeAdjustPolicy(QtWidgets.QComboBox.AdjustToContents)
        self.kind_box.currentIndexChanged.connect(lambda _: self._site_chosen())
        self.layer_box = QtWidgets.QSpinBox()
        bind(self.layer_box, "setPrefix", "layer ")
        self.layer_box.valueChanged.connect(lambda _: self._site_chosen())
        self.head_box = QtWidgets.QSpinBox()
        bind(self.head_box, "setPrefix", "head ")
        self.head_box.valueChanged.connect(lambda h: self.state.set_selection(head=h))
        self.window_box = QtWidgets.QSpinBox()
        bind(self.window_box, "setPrefix", "window ")
        self.window_box.valueChanged.connect(lambda w: self.state.set_selection(window=w))
        self.lock_label = QtWidgets.QLabel()
        for label, widget in (("Preset", self.preset_box), ("Device", self.device_box),
                              ("Attention", self.kind_box)):
            name = QtWidgets.QLabel()
            name.setContentsMargins(6, 0, 4, 0)
            bind(name, "setText", label)
            bar.addWidget(name)
            bar.addWidget(widget)
        bar.addWidget(self.layer_box)
        bar.addWidget(self.head_box)
        self.window_action = bar.addWidget(self.window_box)


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
        status.addPermanentWidget(self.lock_label)  # not in the toolbar: 1280 px is narrow
        status.addPermanentWidget(self.busy)
        status.addPermanentWidget(self.timing_label)

    def _size_status(self, _change=None) -> None:
        """Room for the longest text each label shows, at the current zoom: new figures then
        never re-lay out the status bar, and a number is never cut."""
        metrics = QtGui.QFontMetrics(zoom_font())
        for label, longest in ((self.busy, tr("running…")),
                               (self.lock_label, tr("locked — Esc to unlock")),
                               (self.timing_label, "cuda:0 · forward 000.0 ms · redraw 000.0 ms")):
            label.setMinimumWidth(metrics.horizontalAdvance(longest) + 8)

    def _build_tour(self) -> None:
        self.tour_card = TourCard()
        self.tour_player: TourPlayer | None = None
        self.tour_card.close_button.clicked.connect(self.leave_tour)
        dock = QtWidgets.QDockWidget(self)
        bind(dock, "setWindowTitle", "Tour")
        dock.setObjectName("dock-tour")
        dock.setWidget(self.tour_card)  # its text scrolls inside, its buttons stay in view
        self.addDockWidget(QtCore.Qt.RightDockWidgetArea, dock)
        self.splitDockWidget(dock, self.docks["prediction"], QtCore.Qt.Vertical)
        dock.hide()
        self.docks["tour"] = dock
        self.blank = QtWidgets.QLabel("", self)  # B: a black screen, as in slide shows
        self.blank.setStyleSheet("background: black")
        self.blank.hide()

    def _build_menus_and_shortcuts(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        file_menu.addAction("&Open image…", QtGui.QKeySequence.Open, self.open_image)
        file_menu.addAction("Open &model folder…", QtGui.QKeySequence("Ctrl+Shift+O"),
                            self.open_model_dialog)
        file_menu.addAction("Open model &file (timm)…", self.open_model_file_dialog)
        self.recent_models_menu = file_menu.addMenu("Recent mo&dels")
        self.recent_models_menu.aboutToShow.connect(self._fill_recent)
        file_menu.addSeparator()
        file_menu.addAction("Open &session…", self.open_session_dialog)
        self.recent_menu = file_menu.addMenu("&Recent sessions")
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        file_menu.addAction("Sa&ve session…", QtGui.QKeySequence.Save, self.save_session_dialog)
        file_menu.addAction("Save &trace (.npz)…", QtGui.QKeySequence("Ctrl+Shift+S"),
                            self.save_trace_dialog)
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
        view.addAction("&Reset layout", self.reset_layout)
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
        for menu in (file_menu, view, tour):
            self._bind_menu(menu)
        # Lecture keys, wherever focus is; a text box keeps its arrows and Space (Qt lets
        # it claim them), Esc leaves it.
        for key, slot in ((QtCore.Qt.Key_Left, lambda: self.lecture_key(-1, "layer")),
                          (QtCore.Qt.Key_Right, lambda: self.lecture_key(1, "layer")),
                          (QtCore.Qt.Key_Up, lambda: self.step_head(-1)),
                          (QtCore.Qt.Key_Down, lambda: self.step_head(1)),
                          (QtCore.Qt.Key_Escape, self.escape),
                          (QtCore.Qt.Key_PageDown, lambda: self.lecture_key(1, "stage")),
                          (QtCore.Qt.Key_PageUp, lambda: self.lecture_key(-1, "stage")),
                          (QtCore.Qt.Key_Space, lambda: self.step_through(0)),
                          (QtCore.Qt.Key_B, self.toggle_blank)):
            QtGui.QShortcut(QtGui.QKeySequence(key), self, slot)

    def _bind_menu(self, menu: QtWidgets.QMenu) -> None:
        bind(menu.menuAction(), "setText", menu.title())
        for action in menu.actions():
            if action.menu() is not None:
                if action.menu().title() != "Language / 语言":
                    self._bind_menu(action.menu())
            elif action.text() and action not in self.language_actions.values() \
                    and action not in [d.toggleViewAction() for d in self.docks.values()]:
                bind(action, "setText", action.text())

    # -- user actions ------------------------------------------------------------------
    def open_image(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, tr("Open image"), "",
                                                        tr(IMAGE_FILTER))
        if path:
            self.load_image_file(path)

    def save_trace_dialog(self) -> None:
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self, tr("Save trace"), "trace.npz",
                                                        tr("Traces (*.npz)"))
        if path:
            self.save_trace(path)

    def save_trace(self, path: str) -> threading.Thread | None:
        """Write the trace on screen as .npz on a thread of its own: a Swin-Tiny trace is
        ~50 MB, and the window stays live while it is written. `trace_saved` says when."""
        trace = self.state.trace
        if trace is None:
            self._show_message(tr("nothing to save yet"))
            return None
        self.statusBar().showMessage(tr("saving the trace to {path}…").format(path=path))

        def write() -> None:
            try:
                trace.save_npz(path)
                self.trace_saved.emit(path, "")
            except OSError as error:
                self.trace_saved.emit(path, str(error))

        thread = threading.Thread(target=write, name="trace-writer", daemon=True)
        thread.start()
        return thread

    def _trace_saved(self, path: str, error: str) -> None:
        if error:
            self._show_message(f"cannot save the trace to {path}: {error}")
        else:
            size = QtCore.QFileInfo(path).size() / 1e6
            self.statusBar().showMessage(f"saved the trace to {path} ({size:.1f} MB)", 10_000)

    def open_model_dialog(self) -> None:
        path = QtWidgets.QFileDialog.getExistingDirectory(
            self, "Open a model folder (Hugging Face or timm: config.json + weights)")
        if path:
            self.open_model(path)

    def open_model_file_dialog(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(
            self, "Open a timm weights file (the variant in its name, e.g. "
            "vit_tiny_patch16_224.safetensors)", "", WEIGHTS_FILTER)
        if path:
            self.open_model(path)

    def open_model(self, path: str, arch: str | None = None, switch: bool = True) -> int:
        """Open a model folder (or timm file) and switch to it; it joins the preset box under
        "Opened". The files (hundreds of MB for a real checkpoint) are read and checked on a
        thread of their own, so the window stays live; `model_opened` tells the outcome
        (the reason is shown when it cannot be opened). Returns the request's ticket: only
        the newest request switches the model. `switch=False`: only register it (a session
        being opened switches to it with its own input)."""
        self._open_ticket += 1
        self._choices += 1
        ticket, choice = self._open_ticket, self._choices

        def read() -> None:
            try:  # read, then built: a folder that reads but cannot build is refused here
                opened = read_model(Path(path).resolve(), arch)
                opened, error = (opened, build_opened(path, arch, opened)), ""
            except (CheckpointError, InputError, OSError) as problem:
                opened, error = None, said(problem)  # translated where it is shown
            except Exception as problem:  # a reader bug must still be reported, not lost
                opened, error = None, f"{type(problem).__name__}: {problem}"
            try:
                self.model_read.emit(ticket, path, (arch, switch, choice), opened, error)
            except RuntimeError:  # the window was closed while the files were read
                pass

        self.statusBar().showMessage(tr("opening {path}…").format(path=path))
        threading.Thread(target=read, name="model-reader", daemon=True).start()
        return ticket

    def _model_read(self, ticket: int, path: str, request, opened, error: str) -> None:
        arch, switch, choice = request
        if ticket != self._open_ticket:  # the user opened another model since
            self.model_opened.emit(ticket, "", "another model was opened since")
            return
        self.statusBar().clearMessage()
        if error:
            reason = translate_message(error)
            self._show_message(tr("cannot open {path}: {reason}").format(path=path, reason=reason))
            self.say_stale(tr("Still showing {model} — cannot open {path}: {reason}").format(
                model=self.state.preset, path=path, reason=reason))
            self.model_opened.emit(ticket, "", error)
            return
        read, session = opened
        preset = register_opened(path, arch, read)
        self.state.offer_ready(preset.name, session)  # its first run loads it, not the files
        if switch and choice == self._choices:
            self.select_preset(preset.name)  # its entry joins the box on preset_changed
        elif switch:  # a preset or a tour step was chosen while it was read: that one wins
            self.add_opened(preset.name)
            self.statusBar().showMessage(tr("opened {model}: in the preset box").format(
                model=preset.name), 10_000)
        if switch:  # a session's folder joins Recent models when the session opens
            self._remember("recentModels", preset.source)
        self.model_opened.emit(ticket, preset.name, "")

    def add_opened(self, name: str) -> None:
        """An opened model's entry in the preset box, under "Opened:" (once)."""
        if self.preset_box.findData(name) >= 0:
            return
        self.preset_box.blockSignals(True)
        if self.preset_box.findText("Opened:") < 0:
            self.preset_box.insertSeparator(self.preset_box.count())
            self.preset_box.addItem("Opened:")
            self.preset_box.model().item(self.preset_box.count() - 1).setEnabled(False)
        self._add_preset_item(name)
        self.preset_box.blockSignals(False)

    def _add_preset_item(self, name: str) -> None:
        self.preset_box.addItem(name, name)
        self.preset_box.setItemData(self.preset_box.count() - 1, PRESETS[name].description,
                                    QtCore.Qt.ToolTipRole)

    def load_image_file(self, path: str) -> None:
        if PRESETS[self.state.preset].input_kind == "text":
            # said, not done silently: the model on screen reads text, not pictures
            # (for a while: the new model's first result clears the message line)
            self.statusBar().showMessage(tr("{model} reads text: the image is opened with "
                                            "vit-digits").format(model=self.state.preset), 15_000)
            self.select_preset("vit-digits", path)
        else:
            self.state.set_input(path)

    def select_preset(self, name: str, value=None) -> None:
        """Switch preset; `value` (text or image) or the preset's last or default input."""
        self._choices += 1
        dropped = self.text_input.timer.isActive()
        self.text_input.timer.stop()  # an edit typed for the previous preset is dropped
        self.state.set_preset(name, value)
        if dropped and self.inputs.isEnabled():
            self._show_input(self.state.input)  # the box shows what runs, not the edit

    def _preset_chosen(self, index: int) -> None:
        name = self.preset_box.itemData(index)
        if name in PRESETS:  # (index -1, or a heading such as "Opened:", chooses nothing)
            self.select_preset(name)

    def _input_edited(self, value) -> None:
        """From the input widgets: only while they belong to the preset that runs."""
        if self.inputs.isEnabled():
            self.state.set_input(value)

    def _preset_changed(self, name: str) -> None:
        if PRESETS[name].source:  # an opened model, however it was switched to
            self.add_opened(name)
        index = self.preset_box.findData(name)
        if index != self.preset_box.currentIndex():
            self.preset_box.blockSignals(True)
            self.preset_box.setCurrentIndex(index)
            self.preset_box.blockSignals(False)
        # Until the new model's first trace, the inputs on screen belong to the old one.
        self.inputs.setEnabled(name == self._shown_preset)

    def _input_changed(self, value) -> None:
        if self.inputs.isEnabled():
            self._show_input(value)

    def _show_input(self, value) -> None:
        """Put an input (set from anywhere) into the input widgets of its preset."""
        preset = PRESETS[self.state.preset]
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

    def select_device(self, name: str) -> None:
        for i in range(self.device_box.count()):
            if self.device_box.itemData(i) == name:
                self.device_box.setCurrentIndex(i)
                return

    def step_layer(self, delta: int) -> None:
        self.layer_box.setValue(self.layer_box.value() + delta)

    def step_head(self, delta: int) -> None:
        self.head_box.setValue(self.head_box.value() + delta)

    def _site_chosen(self) -> None:
        sites = self.state.sites_of_kind(self.kind_box.currentData())
        if sites:
            site = sites[min(self.layer_box.value(), len(sites) - 1)]
            self.state.set_selection(site=site, query=None, key=None, locked=False)

    def show_panel(self, name: str) -> None:
        """Bring a panel to the front (its tab or its dock)."""
        if name in CENTRAL_TABS:
            self.tabs.setCurrentWidget(self.pages[name])
        else:
            self.docks[name].show()
            self.docks[name].raise_()

    def step_through(self, delta: int) -> None:
        """Lecture keys for the tab in front: PgDown/PgUp a stage, Space play/pause."""
        panel = self.tabs.currentWidget().widget()
        if panel is self.panels["pipeline"]:
            stage, go = panel.stage, panel.go_to_stage
        elif panel is self.panels["windows"]:
            stage, go = panel.step, panel.go_to_step
        else:
            return
        if delta:
            go(max(stage, 0) + delta if stage >= 0 else 0)
        else:
            panel.play_button.toggle()

    # -- lectures: keys, tour, zoom, presentation ---------------------------------------
    def lecture_key(self, delta: int, otherwise: str) -> None:
        """←/→ and PgUp/PgDn step the tour while it is open; else the layer or the stage."""
        if self.tour_player is not None and self.docks["tour"].isVisible():
            self.tour_player.go_from_ui(self.tour_player.index + delta)
        elif otherwise == "layer":
            self.step_layer(delta)
        else:
            self.step_through(delta)

    def escape(self) -> None:
        """Esc: leave the text box, then the black screen, then unlock the selection."""
        focus = QtWidgets.QApplication.focusWidget()
        if isinstance(focus, QtWidgets.QLineEdit):
            focus.clearFocus()
            self.tabs.currentWidget().setFocus()
        elif self.blank.isVisible():
            self.blank.hide()
        else:
            self.state.unlock()

    def toggle_blank(self) -> None:
        self.blank.setGeometry(self.rect())
        self.blank.setVisible(not self.blank.isVisible())
        self.blank.raise_()

    @property
    def tour_lang(self) -> str:
        if self.tour_player is not None:
            return self.tour_player.lang
        saved = str(self.settings.value("tourLanguage", "")) if self.settings else ""
        return saved if saved in languages() else system_language()  # never a path

    def start_tour(self, lang: str | None = None, explorer=None) -> TourPlayer:
        from .api import Explorer

        lang = lang or self.tour_lang
        player = TourPlayer(explorer or Explorer(self), lang)
        self.tour_player = player
        self.tour_card.set_player(player)
        if lang != LANGUAGE.lang:
            self.set_language(lang)  # the interface speaks the tour's language
        if not self.docks["tour"].isVisible():
            self.docks["tour"].show()
            self.resizeDocks([self.docks["tour"], self.docks["prediction"]], [340, 300],
                             QtCore.Qt.Vertical)
            if ZOOM.factor > 1.0:
                self._tour_room()
        self.docks["tour"].raise_()
        if self.settings is not None:
            self.settings.setValue("tourLanguage", lang)
        return player

    def switch_tour_language(self, lang: str) -> None:
        """The interface and the tour in `lang`; an open tour stays on its step."""
        if self.tour_player is not None:
            step = max(self.tour_player.index, 0)
            self.start_tour(lang).go_from_ui(step)
        else:
            self.set_language(lang)
            if self.settings is not None:
                self.settings.setValue("tourLanguage", lang)

    def set_language(self, lang: str) -> None:
        """Menus, buttons, titles, captions and messages in `lang` (Qt's translations);
        if they cannot be loaded, said once, and the interface stays in English."""
        problem = set_language(lang)
        if problem:
            self._show_message(problem)
        for code, action in self.language_actions.items():
            action.setChecked(code == LANGUAGE.lang)
        self._retranslate()

    def _retranslate(self, _lang: str = "") -> None:
        """Words set from data rather than bound once: the attention kinds."""
        for i in range(self.kind_box.count()):
            kind = self.kind_box.itemData(i)
            self.kind_box.setItemText(i, tr(KIND_NAMES.get(kind, kind)))

    def leave_tour(self) -> None:
        """The app stays as the last step left it."""
        self.docks["tour"].hide()
        self.tour_player = None

    def set_zoom(self, factor: float) -> None:
        """Every text larger or smaller. Zooming in never takes room from the central plot:
        the docks keep their widths and the bottom ones fold away (View or a tour step
        brings them back); back at 100% every dock has the size it had at 100%."""
        before = ZOOM.factor
        if before == 1.0 and self.isVisible() and self._layout_at_100 is None:
            self._layout_at_100 = self.saveState()
        ZOOM.set(factor)
        if ZOOM.factor == 1.0 and before != 1.0:
            # once the tool bar and the menu have their 100% heights, or the docks take
            # the difference
            QtCore.QTimer.singleShot(0, self._restore_layout_at_100)
        elif ZOOM.factor > 1.0 and before <= 1.0:
            self._fold_bottom_docks()
        elif ZOOM.factor > 1.0 and self._layout != "text":  # the new text size's widths
            QtCore.QTimer.singleShot(0, self._narrow_input)
        if ZOOM.factor > 1.0 and self.docks["tour"].isVisible():
            self._tour_room()
        if self.settings is not None:
            self.settings.setValue("zoom", ZOOM.factor)

    def _tour_room(self) -> None:
        """At large text the tour's words get most of the side column (the prediction
        below scrolls), so a step reads without scrolling."""
        column = self.docks["tour"].height() + self.docks["prediction"].height()
        self.resizeDocks([self.docks["tour"], self.docks["prediction"]],
                         [int(column * 0.6), int(column * 0.4)], QtCore.Qt.Vertical)

    def _fold_bottom_docks(self) -> None:
        """Large text: the docks a lecture does not need fold away, and an image model's
        input column gives the plot what the taller tool bar and tabs took."""
        for name in ("tokens", "heads"):
            self.docks[name].hide()
        if self._layout != "text":  # (once the larger text and the window are laid out)
            QtCore.QTimer.singleShot(0, self._narrow_input)

    def _narrow_input(self) -> None:
        """An image model at large text: the input column and the prediction as narrow as
        their contents allow at this text size, so that the plot gets back the height the
        taller bars took (the prediction scrolls down, never sideways)."""
        if ZOOM.factor <= 1.0:
            return
        for _ in range(3):  # the contents' minimum widths at this text size
            QtWidgets.QApplication.sendPostedEvents(None, QtCore.QEvent.LayoutRequest)
        prediction = self.prediction_area
        scroll = self.style().pixelMetric(QtWidgets.QStyle.PM_ScrollBarExtent)
        needs = {"input": self.docks["input"].minimumSizeHint().width(),
                 "prediction": self.docks["prediction"].width() - prediction.width()
                 + self.panels["prediction"].minimumSizeHint().width() + scroll}
        docks = [name for name in needs if self.docks[name].isVisible()]
        self.resizeDocks([self.docks[name] for name in docks], [needs[name] for name in docks],
                         QtCore.Qt.Horizontal)

    def _restore_layout_at_100(self) -> None:
        saved, self._layout_at_100 = self._layout_at_100, None
        tour = self.docks["tour"].isVisible()
        for _ in range(3):  # every nested layout has its 100% minimum before the sizes
            QtWidgets.QApplication.sendPostedEvents(None, QtCore.QEvent.LayoutRequest)
        if saved is not None:
            self.restoreState(saved)
        else:  # zoomed since the start, or the model's layout changed while zoomed
            for name in ("tokens", "heads"):
                self.docks[name].show()
            self._arrange_for(PRESETS[self.state.preset].input_kind)
        self.docks["tour"].setVisible(tour)

    def toggle_presentation(self) -> None:
        """F5: full screen with large text, and back to the same zoom and dock sizes."""
        if self.isFullScreen():
            self.showNormal()
            self.set_zoom(self._zoom_before_presentation)
            if ZOOM.factor != 1.0:  # (at 100% set_zoom restores the 100% sizes)
                self._layout_at_100 = self._layout_before_presentation
                QtCore.QTimer.singleShot(0, self._restore_layout_at_100)
        else:
            self._zoom_before_presentation = ZOOM.factor
            self._layout_before_presentation = self.saveState()
            if ZOOM.factor == 1.0:  # the sizes to come back to, not the full screen's
                self._layout_at_100 = self._layout_before_presentation
            self.showFullScreen()
            self.set_zoom(max(ZOOM.factor, PRESENTATION))

    def current_panel(self) -> str:
        """The name of the panel in the front tab."""
        return self.tabs.currentWidget().widget().name

    # -- export and sessions -------------------------------------------------------------
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
            self._show_message(str(error))
        else:
            self._show_message(f"exported {name} to {written}")

    def copy_panel(self) -> None:
        image = self.panels[self.current_panel()].grab().toImage()
        QtWidgets.QApplication.clipboard().setImage(image)
        self._show_message(tr("copied the {panel} panel as an image").format(
            panel=self.current_panel()))

    def save_session_dialog(self) -> None:
        from .api import Explorer
        from .session import save

        path, _ = QtWidgets.QFileDialog.getSaveFileName(self, tr("Save session"), "demo.json",
                                                        tr("Sessions (*.json)"))
        if path:
            try:
                save(Explorer(self), path)
            except (OSError, InputError) as error:
                self._show_message(tr("could not save the session: {reason}").format(
                    reason=translate_message(error)))
                return
            self._remember_session(path)
            self._show_message(tr("saved the session to {path}").format(path=path))

    def open_session_dialog(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, tr("Open session"), "",
                                                        tr("Sessions (*.json);;All files (*)"))
        if path:
            self.open_session(path)

    def open_session(self, path: str) -> bool:
        """Open a session file; a bad one is reported and nothing changes."""
        from .api import Explorer, RunFailed

        try:
            Explorer(self).open_session(path)
        except (SessionError, TourError, RunFailed, TimeoutError) as error:
            self._show_message(str(error))
            return False
        self._remember_session(path)
        if PRESETS[self.state.preset].source:
            self._remember("recentModels", PRESETS[self.state.preset].source)
        return True

    def _remember_session(self, path: str) -> None:
        self._remember("recentSessions", path)

    def _recent(self, key: str) -> list[str]:
        recent = (self.settings.value(key) or []) if self.settings else []
        return recent if isinstance(recent, list) else [recent]  # one entry reads as a str

    def _remember(self, key: str, path: str) -> None:
        if self.settings is not None:
            self.settings.setValue(key, [path, *[p for p in self._recent(key) if p != path]][:8])

    def _fill_recent(self) -> None:
        for menu, key, opener in ((self.recent_menu, "recentSessions", self.open_session),
                                  (self.recent_models_menu, "recentModels", self.open_model)):
            menu.clear()
            for path in self._recent(key):
                menu.addAction(path, lambda p=path, o=opener: o(p))
            if menu.isEmpty():
                menu.addAction(tr("(none yet)")).setEnabled(False)

    def toggle_full_screen(self) -> None:
        self.showNormal() if self.isFullScreen() else self.showFullScreen()

    def reset_layout(self) -> None:
        self.restoreState(self._default_state)
        for name, dock in self.docks.items():
            dock.setVisible(name != "tour" or self.tour_player is not None)
        self._arrange_for(PRESETS[self.state.preset].input_kind)

    def _arrange_for(self, input_kind: str) -> None:
        """Text: input on top; images: input and image side by side on the left."""
        text = input_kind == "text"
        self.addDockWidget(QtCore.Qt.TopDockWidgetArea if text else QtCore.Qt.LeftDockWidgetArea,
                           self.docks["input"])
        for name in ("tokens", "heads"):
            self.addDockWidget(QtCore.Qt.BottomDockWidgetArea if text
                               else QtCore.Qt.LeftDockWidgetArea, self.docks[name])
        self.tabifyDockWidget(self.docks["tokens"], self.docks["heads"])
        self.docks["tokens"].raise_()
        self.resizeDocks([self.docks["prediction"]], [340 if text else 300],
                         QtCore.Qt.Horizontal)
        if text:
            # the tokens' two strips and the heads' eight rows, not a peephole onto them
            room = max(self.panels[n].minimumSizeHint().height() for n in ("tokens", "heads"))
            # (+ the dock's title and the Tokens / Heads tab bar under it)
            self.resizeDocks([self.docks["input"], self.docks["tokens"]], [50, room + 46],
                             QtCore.Qt.Vertical)
        else:
            self.resizeDocks([self.docks["input"]], [330], QtCore.Qt.Horizontal)
            self.resizeDocks([self.docks["input"], self.docks["tokens"]], [330, 420],
                             QtCore.Qt.Vertical)
        if ZOOM.factor > 1.0:  # the sizes saved at 100% were another model's layout
            self._layout_at_100 = None
            self._fold_bottom_docks()

    # -- state -> widgets --------------------------------------------------------------
    def _trace_changed(self, trace) -> None:
        self.say_stale("")  # a new result: nothing on screen is stale
        preset = trace.meta["preset"]
        self.setWindowTitle(window_title(trace.meta.get("trained", True)))
        if self.failure_box is not None:
            self.failure_box.hide()  # a model runs again: what the box said is past
        if preset != self._shown_preset:  # the inputs follow the model on screen
            self._shown_preset = preset
            self.text_input.set_samples(read_samples(SAMPLE_FILES.get(preset) or SAMPLE_FILES.get(
                trace.meta["task"], "")))
            self.image_input.set_samples(SAMPLE_FOLDERS.get(trace.meta["task"], "digits"))
            self._show_input(self.state.input)
        self.inputs.setEnabled(preset == self.state.preset)
        layout = token_layout(trace.meta)
        if layout != self._layout:
            self._layout = layout
            self._arrange_for("text" if layout == "text" else "image")
        kinds = list(dict.fromkeys(info["kind"] for info in trace.meta["sites"].values()))
        current = [self.kind_box.itemData(i) for i in range(self.kind_box.count())]
        if kinds != current:
            self.kind_box.blockSignals(True)
            self.kind_box.clear()
            for kind in kinds:
                self.kind_box.addItem(tr(KIND_NAMES.get(kind, kind)), kind)
            self.kind_box.blockSignals(False)
        self.window_action.setVisible(layout == "windows")
        for name, layouts in TABS_FOR.items():
            self.tabs.setTabVisible(self.tabs.indexOf(self.pages[name]), layout in layouts)
        # unknown words of the text in the box, not of an earlier text still on screen
        shown = self.state.shown.input if self.state.shown is not None else None
        same = isinstance(shown, str) and shown == self.text_input.line.text()
        self.text_input.mark_unknown(trace.meta.get("unknown", []) if same else [])
        self._selection_changed(self.state.selection)

    def _selection_changed(self, sel: Selection) -> None:
        trace = self.state.trace
        if trace is None or not sel.site:
            return
        info = trace.meta["sites"][sel.site]
        sites = trace.sites(info["kind"])
        # Only what changed: a spin box repaints on every setValue/setMaximum.
        kind = self.kind_box.findData(info["kind"])
        if self.kind_box.currentIndex() != kind:
            self.kind_box.blockSignals(True)
            self.kind_box.setCurrentIndex(kind)
            self.kind_box.blockSignals(False)
        for box, value, top in ((self.layer_box, sites.index(sel.site), len(sites) - 1),
                                (self.head_box, sel.head, info["heads"] - 1),
                                (self.window_box, sel.window, info.get("num_windows", 1) - 1)):
            if (box.maximum(), box.value()) != (top, value):
                box.blockSignals(True)
                box.setMaximum(top)
                box.setValue(value)
                box.blockSignals(False)
        self.layer_box.setToolTip(site_title(trace, sel.site))
        self.lock_label.setText(tr("locked — Esc to unlock") if sel.locked else "")

    def _run_failed(self, text: str) -> None:
        self.say_stale(tr("Showing the previous input — yours was refused: {reason}").format(
            reason=translate_message(text)))
        self.text_input.mark_unknown([])  # the words on screen are not the box's words
        self._say_in_a_box_when_nothing_is_shown(text)

    def say_stale(self, text: str) -> None:
        """Over the plot and the prediction: what is on screen is not what was asked for
        ('' clears it, as every new result does)."""
        for banner in self.banners:
            banner.say(text)

    def _show_message(self, text: str) -> None:
        text = translate_message(text)  # what the model said, in the interface's language
        self.message_label.setText(text)
        self.message_label.setToolTip(text)  # all of it, where the status bar cuts it

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
        self.timing_label.setText(
            f"{timings.get('device', self.state.device)} · forward {timings['forward_ms']:.1f} ms"
            f" · redraw {timings['redraw_ms']:.1f} ms")

    def _device_changed(self, device: str) -> None:
        base = device.split(":")[0]
        for i in range(self.device_box.count()):
            if self.device_box.itemData(i) == base and self.device_box.currentIndex() != i:
                self.device_box.blockSignals(True)
                self.device_box.setCurrentIndex(i)
                self.device_box.blockSignals(False)

    # -- drag and drop, persistence ------------------------------------------------------
    def dragEnterEvent(self, event: QtGui.QDragEnterEvent) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QtGui.QDropEvent) -> None:
        urls = [u for u in event.mimeData().urls() if u.isLocalFile()]
        if urls:
            path = urls[0].toLocalFile()
            info = QtCore.QFileInfo(path)
            if info.isDir() or info.suffix().lower() in WEIGHTS_SUFFIXES:  # a model
                self.open_model(path)
            else:
                self.load_image_file(path)
            event.acceptProposedAction()

    def restore_settings(self) -> None:
        if self.settings is None:
            return
        geometry = self.settings.value("geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
            self._wanted_size = self.size()
        layout = self.settings.value("windowState")
        if layout is not None:
            self.restoreState(layout)
        self.docks["tour"].hide()  # a tour is started, not restored
        try:
            self.set_zoom(float(self.settings.value("zoom", 1.0)))
        except (TypeError, ValueError):
            self.set_zoom(1.0)
        self.fit_to_screen()
        self._fitted_size = self.size()

    def fit_to_screen(self) -> None:
        """The whole window, its frame and title bar included, inside the screen's free area:
        on a first run, with a geometry saved on a bigger screen, after a zoom."""
        screen = self.screen() or QtGui.QGuiApplication.primaryScreen()
        if screen is None or self.isFullScreen() or self.isMaximized():
            return
        free = screen.availableGeometry()
        frame, inner = self.frameGeometry(), self.geometry()
        # The window manager adds the frame once the window is shown, and Qt learns its size
        # a moment later (app.run's first wait for --tour comes before that); until then,
        # room for a typical title bar and border, so the first frame never needs moving.
        # (Offscreen, a window has no frame once shown.)
        extra_w, extra_h = frame.width() - inner.width(), frame.height() - inner.height()
        framed = QtGui.QGuiApplication.platformName() not in ("offscreen", "minimal")
        if not (extra_w or extra_h) and (framed or not self.isVisible()):
            extra_w, extra_h = FRAME_GUESS
        # until the window is placed: the size it was built or saved with, else its own
        wanted = self._wanted_size if self._wanted_size is not None else inner.size()
        width = min(wanted.width(), free.width() - extra_w)
        height = min(wanted.height(), free.height() - extra_h)
        if (width, height) != (inner.width(), inner.height()):
            self.resize(width, height)
        frame = self.frameGeometry()
        left = min(max(frame.left(), free.left()), free.right() + 1 - frame.width())
        top = min(max(frame.top(), free.top()), free.bottom() + 1 - frame.height())
        if (left, top) != (frame.left(), frame.top()):
            self.move(max(left, free.left()), max(top, free.top()))

    def showEvent(self, event: QtGui.QShowEvent) -> None:
        super().showEvent(event)
        # the frame's real size is known now (or, with some window managers, a moment later)
        QtCore.QTimer.singleShot(0, self._place)
        QtCore.QTimer.singleShot(400, self._placed)

    def _place(self) -> None:
        # a size given by code after the window was built (a script, `shot --size`) stays
        if self._wanted_size is not None and self.size() == self._fitted_size:
            self.fit_to_screen()
            self._fitted_size = self.size()
        else:
            self._wanted_size = None

    def _placed(self) -> None:
        self._place()
        self._wanted_size = None  # from now on the user's size is the size

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:
        if self.settings is not None:
            self.settings.setValue("geometry", self.saveGeometry())
            self.settings.setValue("windowState", self.saveState())
            self.settings.setValue("preset", self.state.preset)
            self.settings.setValue("device", self.state.device.split(":")[0])
            self.settings.setValue("zoom", ZOOM.factor)
            self.settings.sync()
        self.state.shutdown()
        super().closeEvent(event)
