"""The selection tool bar: preset, device, attention kind, layer, head and window. Choosing
in it changes the AppState; it follows the AppState when anything else chooses (a panel, a
tour step, a script), without echoing the change back."""
from __future__ import annotations

import torch
from PySide6 import QtCore, QtGui, QtWidgets

from models.presets import PRESETS, find, get_preset
from models.sites import kind, kinds_listed, token_layout

from .i18n import LANGUAGE, bind, tr
from .labels import site_title
from .state import AppState, Selection


def device_availability() -> dict[str, str]:
    """Device name -> '' if usable, else why not."""
    mps = getattr(torch.backends, "mps", None)
    return {
        "cpu": "",
        "cuda": "" if torch.cuda.is_available() else "no CUDA GPU visible to this torch build",
        "mps": "" if mps is not None and mps.is_available() else "MPS needs Apple silicon",
        "auto": "",
    }


class SelectionBar(QtWidgets.QToolBar):
    preset_chosen = QtCore.Signal(str)  # a preset picked in the box (the window switches)

    def __init__(self, state: AppState) -> None:
        super().__init__("Model")
        self.state = state
        self.setObjectName("toolbar-model")
        self.setMovable(False)
        self.preset_box = QtWidgets.QComboBox()
        # as wide as the longest name (an opened model's "timm-vit_tiny_…" was cut)
        self.preset_box.setSizeAdjustPolicy(QtWidgets.QComboBox.AdjustToContents)
        for name in PRESETS:
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
        self.lock_label = QtWidgets.QLabel()  # shown in the status bar: 1280 px is narrow
        for label, widget in (("Preset", self.preset_box), ("Device", self.device_box),
                              ("Attention", self.kind_box)):
            name = QtWidgets.QLabel()
            name.setContentsMargins(6, 0, 4, 0)
            bind(name, "setText", label)
            self.addWidget(name)
            self.addWidget(widget)
        self.addWidget(self.layer_box)
        self.addWidget(self.head_box)
        self.window_action = self.addWidget(self.window_box)
        self.addSeparator()
        # compare mode: a second input B beside A (explorer/compare.py)
        self.compare_action = self.addAction("Compare")
        self.compare_action.setCheckable(True)
        bind(self.compare_action, "setText", "Compare")
        bind(self.compare_action, "setToolTip", "compare mode: a second input B beside A; the "
             "panels show A, B or A − B")
        self.compare_action.toggled.connect(self.state.set_compare)
        state.compare_changed.connect(self._compare_changed)
        state.trace_changed.connect(self._trace_changed)
        state.selection_changed.connect(self._selection_changed)
        state.device_changed.connect(self._device_changed)
        state.preset_changed.connect(self._preset_changed)
        LANGUAGE.changed.connect(self.retranslate)  # methods: disconnected when deleted
        self._preset_changed(state.preset)

    # -- the preset box ----------------------------------------------------------------
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
        self.preset_box.setItemData(self.preset_box.count() - 1, get_preset(name).description,
                                    QtCore.Qt.ToolTipRole)

    def _preset_chosen(self, index: int) -> None:
        name = self.preset_box.itemData(index)
        if find(name) is not None:  # (index -1, or a heading such as "Opened:", chooses nothing)
            self.preset_chosen.emit(name)

    def _preset_changed(self, name: str) -> None:
        if get_preset(name).source:  # an opened model, however it was switched to
            self.add_opened(name)
        index = self.preset_box.findData(name)
        if index != self.preset_box.currentIndex():
            self.preset_box.blockSignals(True)
            self.preset_box.setCurrentIndex(index)
            self.preset_box.blockSignals(False)

    # -- device, site, head, window ----------------------------------------------------
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

    # -- state -> boxes ----------------------------------------------------------------
    def _trace_changed(self, trace) -> None:
        layout = token_layout(trace.meta)
        kinds = kinds_listed(trace.meta)
        current = [self.kind_box.itemData(i) for i in range(self.kind_box.count())]
        if [k.key for k in kinds] != current:
            self.kind_box.blockSignals(True)
            self.kind_box.clear()
            for each in kinds:  # the item's data: the kind's key, as the trace names it
                self.kind_box.addItem(tr(each.menu_name), each.key)
            self.kind_box.blockSignals(False)
        self.window_action.setVisible(layout == "windows")
        self._selection_changed(self.state.selection)

    def _selection_changed(self, sel: Selection) -> None:
        trace = self.state.trace
        if trace is None or not sel.site:
            return
        info = trace.meta["sites"][sel.site]
        sites = trace.sites(info["kind"])
        # Only what changed: a spin box repaints on every setValue/setMaximum.
        index = self.kind_box.findData(info["kind"])
        if self.kind_box.currentIndex() != index:
            self.kind_box.blockSignals(True)
            self.kind_box.setCurrentIndex(index)
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
        self._show_lock()

    def _show_lock(self) -> None:
        locked = self.state.selection.locked
        self.lock_label.setText(tr("locked — Esc to unlock") if locked else "")

    def _compare_changed(self, on: bool) -> None:
        if self.compare_action.isChecked() != on:
            self.compare_action.blockSignals(True)
            self.compare_action.setChecked(on)
            self.compare_action.blockSignals(False)

    def _device_changed(self, device: str) -> None:
        base = device.split(":")[0]
        for i in range(self.device_box.count()):
            if self.device_box.itemData(i) == base and self.device_box.currentIndex() != i:
                self.device_box.blockSignals(True)
                self.device_box.setCurrentIndex(i)
                self.device_box.blockSignals(False)

    def retranslate(self, _lang: str = "") -> None:
        """Words set from data rather than bound once: the attention kinds, the lock."""
        for i in range(self.kind_box.count()):
            self.kind_box.setItemText(i, tr(kind(self.kind_box.itemData(i)).menu_name))
        self._show_lock()
