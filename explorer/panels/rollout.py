"""Attention rollout (Abnar & Zuidema 2020): how much each input patch reaches a token
through every layer, counting the residual path.

ViT: A = norm(fuse_heads(W) + I) per layer, multiplied through the blocks; the selected
query's row (CLS by default) is drawn over the image. Swin: every block's windows become one
grid-wide matrix (tokens at their original places, so the shift is followed), patch merging
is a 2×2 average, and the classifier's pooled view is the mean of the last stage's rows.
"""
from __future__ import annotations

import numpy as np
from PySide6 import QtCore, QtWidgets

from models.analysis import prefix_tokens, rollout, swin_rollout
from models.sites import kind_of, token_layout
from models.trace import Trace

from ..compare import runs_of, signed_levels
from ..i18n import bind, bound, tr
from ..labels import picture
from ..state import Selection
from ..widgets.matrix_view import MatrixView
from .base import Panel
from .tokens import ImageTokens

FUSIONS = ("mean", "max", "min")  # how the heads of a layer are combined


def rollout_sites(trace: Trace) -> list[str]:
    """The sites rollout multiplies through (ViT's blocks), in model order."""
    return [site for site in trace.sites() if kind_of(trace.meta, site).rollout]


class RolloutPanel(Panel):
    name = "rollout"
    title = "Rollout"

    def __init__(self, state, parent=None) -> None:
        super().__init__(state, parent)
        self.fusion = QtWidgets.QComboBox()
        for how in FUSIONS:
            self.fusion.addItem(tr(how), how)  # shown in the interface's language
        bind(self.fusion, "setToolTip", "how the heads of a layer are combined")
        self.discard = QtWidgets.QSlider(QtCore.Qt.Horizontal, minimum=0, maximum=90, value=0)
        bind(self.discard, "setToolTip", "discard this share of the weakest attention (ViT)")
        self.discard_label = bound(QtWidgets.QLabel(), "discard 0%", control=True)
        self.picture = ImageTokens()
        self.matrix = MatrixView()
        self.matrix.hovered.connect(lambda r, c: self._row_pointed(r))
        self.picture.hovered.connect(self._cell_hovered)
        self.fusion.currentIndexChanged.connect(lambda _: self.recompute())
        self.discard.valueChanged.connect(lambda _: self.recompute())
        controls = QtWidgets.QHBoxLayout()
        controls.addWidget(bound(QtWidgets.QLabel(), "head fusion", control=True))
        controls.addWidget(self.fusion)
        controls.addWidget(self.discard_label)
        controls.addWidget(self.discard)
        controls.addStretch(1)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.picture, 1)
        row.addWidget(self.matrix, 1)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(controls)
        layout.addLayout(row, 1)
        self.result: np.ndarray | None = None

    def _row_pointed(self, row: int) -> None:
        if self.state.trace is not None and token_layout(self.state.trace.meta) == "patches":
            self.state.hover(query=row, key=None, site=rollout_sites(self.state.trace)[-1])

    def _cell_hovered(self, y: int, x: int) -> None:
        trace = self.state.trace
        if trace is not None and token_layout(trace.meta) == "patches":
            self._row_pointed(prefix_tokens(trace.meta) + y * trace.meta["patch_grid"][1] + x)

    def retranslate(self) -> None:
        for i, how in enumerate(FUSIONS):
            self.fusion.setItemText(i, tr(how))

    def update_trace(self, trace: Trace) -> None:
        if token_layout(trace.meta) == "text":
            self.result = None
            return
        self.recompute()

    def recompute(self) -> None:
        trace = self.state.trace
        if trace is None or token_layout(trace.meta) == "text":
            return
        fusion = self.fusion.currentData()
        discard = self.discard.value() / 100
        self.discard_label.setText(tr("discard {share}%").format(share=self.discard.value()))
        vit = token_layout(trace.meta) == "patches"
        # Swin: most of a grid-wide matrix is structurally zero, so a quantile cut means
        # nothing there (README): the control is not offered.
        self.discard.setVisible(vit)
        self.discard_label.setVisible(vit)
        g = trace.meta["patch_grid"][1]
        self.picture.set_image(picture(trace), g)
        runs = runs_of(trace)  # compare mode's A − B: rollout(A) − rollout(B)
        if vit:
            def of(t: Trace) -> np.ndarray:
                return rollout([t[f"{s}/weights"] for s in rollout_sites(t)], fusion, discard)
            labels = trace.meta["tokens"]
            title = tr("rollout over {blocks} blocks").format(
                blocks=len(rollout_sites(trace))) + f" [{len(labels)}×{len(labels)}]"
            rows = cols = labels
        else:
            def of(t: Trace) -> np.ndarray:
                return swin_rollout(t, fusion)
            rows = cols = None
        self.result = of(trace) if runs is None else of(runs[0]) - of(runs[1])
        if not vit:
            n = self.result.shape[1]
            rows = [str(i) for i in range(self.result.shape[0])]
            cols = [str(i) for i in range(n)]
            title = tr("last-stage tokens ← stage-0 tokens") + f" [{self.result.shape[0]}×{n}]"
        if runs is None:
            self.matrix.set_matrix(self.result, rows, cols, title,
                                   levels=(0, float(self.result.max())))
        else:
            self.matrix.set_matrix(self.result, rows, cols, "A − B  ·  " + title, signed=True,
                                   levels=signed_levels(self.result))
        self.update_selection(self.state.selection)

    def update_selection(self, sel: Selection) -> None:
        trace = self.state.trace
        if trace is None or self.result is None or token_layout(trace.meta) == "text":
            return
        g = trace.meta["patch_grid"][1]
        if token_layout(trace.meta) == "patches":
            query = sel.query if sel.query is not None else 0
            p = prefix_tokens(trace.meta)
            heat = self.result[query, p:].reshape(g, g)
            who = trace.meta["tokens"][query] if query < p else \
                tr("patch {patch}").format(patch=query - p)
            self.picture.set_focus(None if query < p else divmod(query - p, g))
            self.matrix.set_highlight(query, None)
            self.picture.caption.setText(tr("rollout of {who} ({fusion} fusion) over the input; "
                                            "CLS←CLS {value}").format(
                who=who, fusion=self.fusion.currentText(), value=f"{self.result[query, 0]:.2f}"))
        else:
            heat = self.result.mean(axis=0).reshape(g, g)  # what the pooled classifier sees
            self.picture.set_focus(None)
            self.picture.caption.setText(tr("rollout of the pooled output (what the classifier "
                                            "reads)<br>through windows, shifts and merging"))
        self.picture.set_attention(heat)
