"""Where position information comes from, for each token layout.

Transformer: the sinusoidal table (position × dimension), a few of its dimensions as
curves, the position similarity PE·PEᵀ, and embedding + PE = sum for the input.
ViT: cosine similarity of every patch's learned position embedding to every other, as a
grid of small grids (the ViT paper's figure 7). Swin: the relative position bias table of
the selected head, (2W−1)×(2W−1), and its expansion to the N×N bias of a window.
Language models (one token sequence): learned absolute positions (GPT-2, BERT) as a table
and its cosine similarity; rotary positions (RoPE: Llama, Qwen2) as the rotation of each
dimension pair and the score of the selected query·key pair moved to every distance.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from models.analysis import prefix_tokens
from models.sites import kind_of, kinds_in, token_layout
from models.trace import Trace

from ..i18n import bind, bound, tr
from ..labels import axis_labels
from ..state import Selection
from ..widgets import ImageItem
from ..widgets.matrix_view import SIGNED, MatrixView, fit_title
from ..widgets.plots import focus_rect, still
from ..zoom import pt
from .base import Panel
from .heads import HEAD_COLOURS

DEFAULT_DIMS = "0 1 10 11 30 31 62 63"


def sequence_positions(trace: Trace) -> bool:
    """A language model's trace: learned position rows or RoPE frequencies, one sequence."""
    return "rope/inv_freq" in trace or "pos_embed/weight" in trace or (
        "sites" in trace.meta and any(kind.sequence for kind in kinds_in(trace.meta)))


def sliding_note(info: dict) -> str:
    """What a sliding-window site adds to the rotary note ('' for another site)."""
    if not info.get("window"):
        return ""
    note = tr("This layer attends within a sliding window: a query sees only the {window} "
              "latest tokens (itself included); the mask hides the rest, whatever the "
              "rotation says.").format(window=info["window"])
    if info.get("rope") == "local":
        note += " " + tr("Its rotation has its own base, the local layers' (the curves above "
                         "are this layer's).")
    return " " + note


def window_bias(trace: Trace, site: str) -> np.ndarray:
    """(H, N, N) relative position bias of a Swin site: the one the model added, or, when an
    intervention switched it off, the one the table would give (gathered by offset)."""
    if f"{site}/bias" in trace:
        return trace[f"{site}/bias"]
    table, index = trace[f"{site}/bias_table"], trace[f"{site}/bias_index"]  # (T, H), (N, N)
    return np.moveaxis(table[index], -1, 0)


class TextPositions(QtWidgets.QWidget):
    def __init__(self, panel: PositionalPanel) -> None:
        super().__init__()
        self.table = MatrixView()
        self.similarity = MatrixView()
        self.curves = pg.PlotWidget(title=tr("PE(pos, dim) of chosen dimensions"))
        self.curves.setMenuEnabled(False)
        bind(self.curves, ("axis", lambda w: self.curves.setLabel("bottom", w)), "position")
        self.lines = [self.curves.plot([], [], pen=pg.mkPen(HEAD_COLOURS[i], width=2))
                      for i in range(8)]
        self.cursor = pg.InfiniteLine(angle=90, pen=pg.mkPen((255, 140, 0), width=2))
        self.curves.addItem(self.cursor)
        self.dims = QtWidgets.QLineEdit(DEFAULT_DIMS)
        bind(self.dims, "setToolTip", "dimensions to draw as curves (up to 8)")
        self.dims.editingFinished.connect(panel.redraw_now)
        self.embedding, self.pe, self.total = MatrixView(), MatrixView(), MatrixView()
        for view in (self.table, self.similarity, self.embedding, self.pe, self.total):
            view.hovered.connect(lambda r, c: panel.point_at_position(r))
        top = QtWidgets.QHBoxLayout()
        top.addWidget(self.table, 3)
        curves = QtWidgets.QVBoxLayout()
        curves.addWidget(self.curves, 1)
        curves.addWidget(self.dims)
        top.addLayout(curves, 3)
        top.addWidget(self.similarity, 2)
        bottom = QtWidgets.QHBoxLayout()
        for view, sign in ((self.embedding, "+"), (self.pe, "="), (self.total, "")):
            bottom.addWidget(view, 1)
            if sign:
                label = QtWidgets.QLabel(sign)
                label.setStyleSheet("font-size: 18pt")  # an operator: stays this size
                bottom.addWidget(label)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top, 1)
        layout.addLayout(bottom, 1)

    def chosen_dims(self, d_model: int) -> list[int]:
        dims = [int(t) for t in self.dims.text().replace(",", " ").split() if t.isdigit()]
        return [d for d in dims if d < d_model][:8] or [0, 1]


def rope_scaling_note(scaling: dict) -> str:
    """How a folder's rope_scaling rescaled the frequencies ('' when it did not)."""
    kind = scaling.get("rope_type", "")
    if kind == "linear":
        return " " + tr("This folder scales the positions linearly (rope_scaling linear, "
                        "factor {factor}): every frequency divided by {factor}, so each pair "
                        "needs {factor}× as many tokens for a turn (grey ×: before "
                        "scaling).").format(factor=f"{scaling['factor']:g}")
    if kind == "llama3":
        context = scaling["original_max_position_embeddings"]
        return " " + tr("This folder scales the frequencies as Llama 3.1 does (rope_scaling "
                        "llama3, factor {factor}): pairs whose turn is longer than {long} "
                        "tokens are divided by {factor}, those shorter than {short} tokens are "
                        "kept, the ones between are blended (grey ×: before scaling).").format(
            factor=f"{scaling['factor']:g}",
            long=f"{context / scaling['low_freq_factor']:g}",
            short=f"{context / scaling['high_freq_factor']:g}")
    return ""


def rope_scores(q: np.ndarray, k: np.ndarray, inv_freq: np.ndarray,
                offsets: np.ndarray) -> np.ndarray:
    """The score q·k/√dh of one unrotated query and key when the query stands `offset`
    tokens after the key. RoPE turns dimension pair (i, i + dh/2) into the complex number
    x_i + j·x_(i+dh/2) and rotates it by position·θ_i, so the score is
    Re Σ_i q̃_i · conj(k̃_i) · exp(j·offset·θ_i) / √dh: it depends on the offset alone."""
    half = q.shape[-1] // 2
    q_c = q[:half].astype(np.float64) + 1j * q[half:]
    k_c = k[:half].astype(np.float64) + 1j * k[half:]
    turns = np.exp(1j * offsets[:, None] * inv_freq.astype(np.float64)[None])  # (O, dh/2)
    return (turns @ (q_c * np.conj(k_c))).real / np.sqrt(q.shape[-1])


def curve_plot() -> pg.PlotWidget:
    """A plot of curves (y upwards, unlike the matrices); hover and the toolbar choose what
    it shows, so no mouse zoom or menu."""
    plot = pg.PlotWidget()
    plot.setMenuEnabled(False)
    plot.setMouseEnabled(False, False)
    plot.hideButtons()
    return plot


class SequencePositions(QtWidgets.QWidget):
    """A language model's positions: learned (a table) or rotary (rotations and distance)."""

    def __init__(self, panel: PositionalPanel) -> None:
        super().__init__()
        self.note = QtWidgets.QLabel()
        self.note.setWordWrap(True)
        self.table, self.similarity = MatrixView(), MatrixView()  # learned
        for view in (self.table, self.similarity):
            view.hovered.connect(lambda r, c: panel.point_at_position(r))
        self.wavelengths = curve_plot()  # rotary
        for plot, side, words in ((self.wavelengths, "bottom", "dimension pair i"),
                                  (self.wavelengths, "left", "log₁₀ tokens per full turn")):
            bind(plot, (side, lambda w, p=plot, s=side: p.setLabel(s, w)), words)
        self.wave_curve = self.wavelengths.plot([], [], pen=None, symbol="o", symbolSize=5,
                                                symbolBrush=(70, 130, 180))
        # a folder's rope_scaling: the frequencies before it, grey under the scaled ones
        self.unscaled_curve = self.wavelengths.plot([], [], pen=None, symbol="x",
                                                    symbolSize=5, symbolBrush=(150, 150, 150),
                                                    symbolPen=(150, 150, 150))
        self.length_line = pg.InfiniteLine(angle=0, pen=pg.mkPen((255, 140, 0), width=2,
                                                                 style=QtCore.Qt.DashLine))
        self.wavelengths.addItem(self.length_line)
        self.distance = curve_plot()
        for side, words in (("bottom", "offset i − j (tokens)"), ("left", "score")):
            bind(self.distance, (side, lambda w, s=side: self.distance.setLabel(s, w)), words)
        self.pair_curve = self.distance.plot([], [], pen=pg.mkPen((70, 130, 180), width=2))
        self.ones_curve = self.distance.plot([], [], pen=pg.mkPen((150, 150, 150), width=1,
                                                                  style=QtCore.Qt.DashLine))
        self.actual = self.distance.plot([], [], pen=None, symbol="o", symbolSize=10,
                                         symbolBrush=(255, 140, 0))
        self.angles = MatrixView()
        self.angles.hovered.connect(lambda r, c: panel.point_at_position(r))
        self.learned = QtWidgets.QWidget()
        row = QtWidgets.QHBoxLayout(self.learned)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.table, 3)
        row.addWidget(self.similarity, 2)
        self.rotary = QtWidgets.QWidget()
        row = QtWidgets.QHBoxLayout(self.rotary)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.wavelengths, 2)
        row.addWidget(self.distance, 3)
        row.addWidget(self.angles, 2)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.note)
        layout.addWidget(self.learned, 1)
        layout.addWidget(self.rotary, 1)


class PatchPositions(pg.GraphicsLayoutWidget):
    """One raster: G×G cells, cell p shows cos(pos_p, pos_q) for every patch q."""

    def __init__(self, panel: PositionalPanel) -> None:
        super().__init__()
        self.panel = panel
        self.plot = still(self.addPlot())
        self.plot.setTitle(tr("cosine similarity of position embeddings"), size=pt(11))
        self.image = ImageItem()
        self.image.setLookupTable(SIGNED.getLookupTable(nPts=256))
        self.plot.addItem(self.image)
        self.focus = focus_rect(self.plot)
        self.grid = 8
        self.scene().sigMouseMoved.connect(self._moved)

    def set_table(self, table: np.ndarray, grid: int, prefix: int = 1) -> np.ndarray:
        """table: (P+N, D) with CLS (and DIST) first. Returns the (N, N) cosine similarity."""
        self.grid = g = grid
        patches = table[prefix:]
        unit = patches / np.clip(np.linalg.norm(patches, axis=1, keepdims=True), 1e-9, None)
        similarity = unit @ unit.T
        cell = g + 1
        mosaic = np.full((g * cell - 1, g * cell - 1), np.nan, np.float32)
        for p in range(g * g):
            r, c = divmod(p, g)
            mosaic[r * cell: r * cell + g, c * cell: c * cell + g] = similarity[p].reshape(g, g)
        self.image.setImage(mosaic, autoLevels=False, levels=(-1, 1))
        return similarity

    def set_focus(self, patch: int | None) -> None:
        if patch is None:
            self.focus.hide()
            return
        r, c = divmod(patch, self.grid)
        cell = self.grid + 1
        self.focus.setRect(c * cell - 0.5, r * cell - 0.5, self.grid + 1, self.grid + 1)
        self.focus.show()

    def _moved(self, scene_pos) -> None:
        point = self.plot.vb.mapSceneToView(scene_pos)
        cell = self.grid + 1
        r, c = int(point.y() // cell), int(point.x() // cell)
        if 0 <= r < self.grid and 0 <= c < self.grid and point.x() >= 0 and point.y() >= 0:
            self.panel.state.hover(query=1 + r * self.grid + c, key=None)


class BiasPositions(QtWidgets.QWidget):
    def __init__(self, panel: PositionalPanel) -> None:
        super().__init__()
        self.table = MatrixView()
        self.expanded = MatrixView()
        self.note = QtWidgets.QLabel()
        self.note.setWordWrap(True)  # at 200% a line would be wider than the panel
        self.note.setStyleSheet("font-weight: bold")
        self.expanded.hovered.connect(lambda i, j: panel.state.hover(query=i, key=j))
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.table, 2)
        arrow = bound(QtWidgets.QLabel(), "gather by\nrelative\noffset →")
        arrow.setAlignment(QtCore.Qt.AlignCenter)
        row.addWidget(arrow)
        row.addWidget(self.expanded, 3)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.note)
        layout.addLayout(row, 1)


class PositionalPanel(Panel):
    name = "positional"
    title = "Positions"

    def __init__(self, state, parent=None) -> None:
        super().__init__(state, parent)
        self.text = TextPositions(self)
        self.patches = PatchPositions(self)
        self.bias = BiasPositions(self)
        self.sequence = SequencePositions(self)
        self.stack = QtWidgets.QStackedLayout(self)
        for page in (self.text, self.patches, self.bias, self.sequence):
            self.stack.addWidget(page)

    def apply_zoom(self, factor: float) -> None:
        self.retranslate()

    def retranslate(self) -> None:
        self.patches.plot.setTitle(tr("cosine similarity of position embeddings"), size=pt(11))

    def redraw_now(self) -> None:
        self._shown = None
        if self.state.trace is not None:
            self.update_selection(self.state.selection)

    def point_at_position(self, position: int) -> None:
        self.state.hover(query=position, key=None)

    def update_trace(self, trace: Trace) -> None:
        if sequence_positions(trace):
            self.stack.setCurrentWidget(self.sequence)
            return
        page = {"text": self.text, "patches": self.patches, "windows": self.bias}
        self.stack.setCurrentWidget(page[token_layout(trace.meta)])

    def update_selection(self, sel: Selection) -> None:
        trace = self.state.trace
        layout = token_layout(trace.meta)
        if sequence_positions(trace):
            self._sequence(trace, sel)
        elif layout == "text":
            self._text(trace, sel)
        elif layout == "patches":
            if self._shown != ("vit",):
                self.patches.set_table(trace["pos_embed/table"], trace.meta["patch_grid"][1],
                                       prefix_tokens(trace.meta))
                self._shown = ("vit",)
            p = prefix_tokens(trace.meta)
            self.patches.set_focus(None if sel.query is None or sel.query < p
                                   else sel.query - p)
        else:
            self._bias(trace, sel)

    # -- transformer -------------------------------------------------------------------
    def embed_site(self, trace: Trace, sel: Selection) -> str:
        return kind_of(trace.meta, sel.site).embedding

    def _text(self, trace: Trace, sel: Selection) -> None:
        t = self.text
        embed = self.embed_site(trace, sel)
        if self._shown != ("text", embed):
            table = trace[f"{embed}.pos/pe"]  # (max_len, D)
            L, D = table.shape
            positions = [str(i) for i in range(L)]
            dims = [str(i) for i in range(D)]
            t.table.set_matrix(table, positions, dims, tr("sinusoidal PE") + f" [{L}×{D}]",
                               signed=True, levels=(-1, 1))
            t.similarity.set_matrix(table @ table.T, positions, positions,
                                    f"PE·PEᵀ [{L}×{L}]", signed=True)
            chosen = t.chosen_dims(D)
            for line, dim in zip(t.lines, chosen + [None] * 8):
                line.setVisible(dim is not None)
                if dim is not None:
                    line.setData(np.arange(L), table[:, dim])
            colours = [HEAD_COLOURS[i].name() for i in range(len(chosen))]
            fit_title(t.curves, tr("PE(pos, dim) for dims") + " " + " ".join(
                str(d) for d in chosen), 9, colours={
                str(d): c for c, d in zip(colours, chosen)})
            tokens = trace.meta["source_tokens" if embed == "encoder.embed" else "target_tokens"]
            n = len(tokens)
            rows = [f"{i} {w}" for i, w in enumerate(tokens)]
            emb, total = trace[f"{embed}/tokens"], trace[f"{embed}/sum"]
            levels = float(np.abs(total).max())
            t.embedding.set_matrix(emb, rows, dims, tr("token embedding ×√d") + f" [{n}×{D}]",
                                   signed=True, levels=(-levels, levels))
            t.pe.set_matrix(table[:n], rows, dims, f"PE [{n}×{D}]", signed=True,
                            levels=(-levels, levels))
            t.total.set_matrix(total, rows, dims, tr("sum: the encoder's input" if embed ==
                                                     "encoder.embed" else
                                                     "sum: the decoder's input") + f" [{n}×{D}]",
                               signed=True, levels=(-levels, levels))
            self._shown = ("text", embed)
        position = sel.query
        t.table.set_highlight(position, None)
        t.similarity.set_highlight(position, position)
        for view in (t.embedding, t.pe, t.total):
            view.set_highlight(position, None)
        t.cursor.setVisible(position is not None)
        if position is not None:
            t.cursor.setValue(position)

    # -- language models -----------------------------------------------------------------
    def _sequence(self, trace: Trace, sel: Selection) -> None:
        page = self.sequence
        rotary = "rope/inv_freq" in trace
        tokens = trace.meta.get("tokens") or []
        n = len(tokens)
        rows = [f"{i} {w}" for i, w in enumerate(tokens)]
        learned = "pos_embed/weight" in trace
        page.learned.setVisible(learned)
        page.rotary.setVisible(rotary)
        if not rotary and not learned:
            page.note.setText(tr("Rotary positions are switched off by an intervention: q and "
                                 "k are not rotated, so attention cannot tell where a token is."))
            return
        if learned:
            if self._shown != ("learned",):
                table = trace["pos_embed/weight"][:n]  # (N, D): the rows this input used
                dims = [str(d) for d in range(table.shape[1])]
                page.table.set_matrix(table, rows, dims, tr("learned position embedding")
                                      + f" [{n}×{table.shape[1]}]", signed=True)
                unit = table / np.clip(np.linalg.norm(table, axis=1, keepdims=True), 1e-9, None)
                page.similarity.set_matrix(unit @ unit.T, rows, rows,
                                           tr("cosine similarity of positions") + f" [{n}×{n}]",
                                           signed=True, levels=(-1, 1))
                page.note.setText(tr("Learned absolute positions: one trained vector per "
                                     "position is added to the token's embedding. In a trained "
                                     "model nearby positions have similar vectors: a band along "
                                     "the diagonal of the similarity."))
                self._shown = ("learned",)
            page.table.set_highlight(sel.query, None)
            page.similarity.set_highlight(sel.query, sel.query)
            return
        inv_freq = trace["rope/inv_freq"]  # (dh/2,) radians per token, per dimension pair
        if self._shown != ("rope",):
            wavelength = 2 * np.pi / inv_freq
            page.wave_curve.setData(np.arange(len(inv_freq)), np.log10(wavelength))
            scaling = trace.meta.get("rope_scaling") or {}
            if scaling:
                pairs = np.arange(len(inv_freq))
                base = scaling["rope_theta"] ** (-2.0 * pairs / (2 * len(inv_freq)))
                page.unscaled_curve.setData(pairs, np.log10(2 * np.pi / base))
            else:
                page.unscaled_curve.setData([], [])
            page.length_line.setValue(np.log10(max(n, 1)))
            angles = np.cos(np.arange(n)[:, None] * inv_freq[None])
            page.angles.set_matrix(angles, rows, [str(i) for i in range(len(inv_freq))],
                                   tr("cos(position · θ_i)") + f" [{n}×{len(inv_freq)}]",
                                   signed=True,
                                   levels=(-1, 1))
            self._shown = ("rope",)
        page.angles.set_highlight(sel.query, None)
        site, head = sel.site, sel.head
        info = trace.meta["sites"][site]
        if info.get("rope") == "local" and "rope_local/inv_freq" in trace:
            inv_freq = trace["rope_local/inv_freq"]  # a sliding layer's own base (Gemma 3)
        i = n - 1 if sel.query is None else sel.query
        j = 0 if sel.key is None else min(sel.key, i)
        group = info["heads"] // info.get("kv_heads", info["heads"])
        q = trace[f"{site}/q_unrotated"][head, i]
        k = trace[f"{site}/k_unrotated"][head // group, j]
        offsets = np.arange(max(n, 64))
        page.pair_curve.setData(offsets, rope_scores(q, k, inv_freq, offsets))
        ones = np.ones_like(q)
        page.ones_curve.setData(offsets, rope_scores(ones, ones, inv_freq, offsets))
        page.actual.setData([i - j], [float(trace[f"{site}/scores"][head, i, j])])
        fit_title(page.distance, tr("{site} head {head}: query {i} ({query}) · key {j} ({key}) "
                                    "moved to every offset").format(
            site=site, head=head, i=i, j=j, query=tokens[i] if i < n else "",
            key=tokens[j] if j < n else ""), 9)
        page.note.setText(tr(
            "Rotary positions (RoPE): q and k are rotated, dimension pair i by position × "
            "θ_i, so a score depends only on how far apart the tokens are. Left: how many "
            "tokens each pair needs for a full turn (dashed: this input, {n} tokens). "
            "Middle: the selected pair's score if the query stood at each distance after "
            "the key (dot: where it really is, {offset}); grey: q = k = 1, the slow decay "
            "with distance. Point at a cell of the attention to choose the pair.").format(
            n=n, offset=i - j) + rope_scaling_note(trace.meta.get("rope_scaling") or {})
            + sliding_note(info))

    # -- swin ----------------------------------------------------------------------------
    def _bias(self, trace: Trace, sel: Selection) -> None:
        b = self.bias
        site, head = sel.site, sel.head
        window = trace.meta["sites"][site]["window_size"]
        side = 2 * window - 1
        if self._shown != ("swin", site, head, sel.window):
            table = trace[f"{site}/bias_table"][:, head].reshape(side, side)
            offsets = [str(d) for d in range(-(window - 1), window)]
            b.table.set_matrix(table, [f"Δy {o}" for o in offsets], [f"Δx {o}" for o in offsets],
                               tr("bias table head {head}").format(head=head)
                               + f" [{side}×{side}]", signed=True)
            labels, _ = axis_labels(trace, site, sel.window)
            b.expanded.set_matrix(window_bias(trace, site)[head], labels, labels,
                                  tr("bias of a window") + f" [{window**2}×{window**2}]"
                                  + ("" if f"{site}/bias" in trace else
                                     "  " + tr("(switched off)")),
                                  signed=True)
            self._shown = ("swin", site, head, sel.window)
        i, j = sel.query, sel.key
        b.expanded.set_highlight(i, j, locked=i is not None and j is not None)
        if i is None or j is None:
            b.table.set_highlight(None, None)
            b.note.setText(f"{site} · " + tr("head {head}: point at a pair of tokens").format(
                head=head))
            return
        (yi, xi), (yj, xj) = divmod(i, window), divmod(j, window)
        dy, dx = yi - yj, xi - xj
        b.table.set_highlight(dy + window - 1, dx + window - 1, locked=True)
        row = int(trace[f"{site}/bias_index"][i, j])
        off = "" if f"{site}/bias" in trace else \
            "  — " + tr("switched off by an intervention: the model adds nothing")
        b.note.setText(tr("pair ({i}, {j}): offset Δy={dy}, Δx={dx} → table row {row} → bias "
                          "{bias} (head {head})").format(
            i=i, j=j, dy=f"{dy:+d}", dx=f"{dx:+d}", row=row,
            bias=f"{window_bias(trace, site)[head, i, j]:+.3f}", head=head) + off)
