"""Activation patching: which activations carry the difference between two inputs.

Two inputs of the same length, a clean one and a corrupted one, and a metric: the logit
difference m = logit(a) - logit(b) of two targets at one position (default: the clean run's
prediction minus the corrupted run's). A patched run is the corrupted input with some
activations replaced by the clean run's; its score is normalised,

    score = (m_patched - m_corrupt) / (m_clean - m_corrupt)     0: corrupted, 1: clean.

Sweeps (`SWEEPS`, docs/patching.md): `resid` the residual stream by layer × position,
`attn` / `mlp` a sublayer's output (its write into the stream) by layer × position, `heads`
one head's output at every position (sites × heads), `heads-by-pos` one head at one
position. Patched runs are batched: `batch` copies of the corrupted input per forward,
each with its own patch. `path_patch` patches one head's output only into the queries,
keys or values of a later head.

How: a `Plan`, active on the running thread (models/trace.py `patching`), is consulted by
the hooks every model already calls: `stream` (the stream after each point), `sublayer`
(a sublayer's write before it is added, or normed in a post-norm model) and `attend` (each
site's q, k, v and per-head outputs, models/attention.py). It records a clean run's values
and hands back copies with rows replaced in the patched runs. Without a plan each hook
costs one thread-local lookup.

Where the metric is read: a causal language model's last token, BERT's first [MASK] (else
its last word, as the lens opens), a classifier's class logits, and for a translation the
first decoding step where the clean and corrupted outputs differ: the decoder is
teacher-forced on the clean output up to there on both runs, so its last position is the
step that chooses between the two words.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from .errors import InputError
from .lens import token_position
from .runs import image as image_run
from .runs import lm as lm_run
from .runs import seq2seq as seq2seq_run
from .trace import Trace, patching, recording

SWEEPS = ("resid", "attn", "mlp", "heads", "heads-by-pos")
PARTS = ("q", "k", "v")


# -- the plan the hooks consult ---------------------------------------------------------
class Plan:
    """Records values (`keep`: kinds "resid", "write", "q", "k", "v", "out", or (kind,
    name) pairs) into `kept`, and applies `edits`: {(kind, name): [(batch item, head or
    None, position or None, value)]} where value is a batch-1 tensor of the same layout
    (positions: token index; a Swin site's head output: (window, index in window)). A
    tensor whose token count differs from its value's (a generation step) is left alone.

    `copies`: the run's input is ONE corrupted input, and it becomes that many copies at
    the first tensor edited: everything before the first patch is computed once."""

    def __init__(self, keep: set | None = None, copies: int | None = None) -> None:
        self.keep = keep or set()
        self.kept: dict[tuple[str, str], torch.Tensor] = {}
        self.edits: dict[tuple[str, str], list[tuple]] = {}
        self.copies = copies
        # the input itself as that many copies (`_run`): where the first edit is inside a
        # windowed site, whose shifted-window mask is made for the batch it was given
        self.input_copies = 0

    def _copied(self, x: torch.Tensor, per: int = 1) -> torch.Tensor:
        """`x` of one input (`per` rows: a Swin site's windows) as `copies` inputs; else a
        copy of it to edit."""
        if self.copies and x.shape[0] == per:
            return x.repeat(self.copies, *[1] * (x.dim() - 1))
        return x.clone(memory_format=torch.contiguous_format)

    def add(self, kind: str, name: str, item: int, head: int | None, position: Any,
            value: torch.Tensor) -> None:
        self.edits.setdefault((kind, name), []).append((item, head, position, value))

    def _keep(self, kind: str, name: str, x: torch.Tensor) -> None:
        if kind in self.keep or (kind, name) in self.keep:
            self.kept[(kind, name)] = x.detach().clone()

    def tensor(self, kind: str, name: str, x: torch.Tensor) -> torch.Tensor:
        """The stream (kind "resid") or a write ("write"): (B, N, D), Swin (B, H, W, C)."""
        self._keep(kind, name, x)
        edits = self.edits.get((kind, name))
        if not edits or edits[0][3].shape[1:] != x.shape[1:]:
            return x
        x = self._copied(x)
        rows = x.view(x.shape[0], -1, x.shape[-1])
        for item, _, position, value in edits:
            source = value.reshape(-1, rows.shape[1], rows.shape[2])[0]
            if position is None:
                rows[item] = source
            else:
                rows[item, position] = source[position]
        return x

    def heads(self, kind: str, site: str, t: torch.Tensor, windows: int) -> torch.Tensor:
        """q, k, v or the per-head output ("out") of `site`: (B, H, N, dh), a Swin site's
        (B·nW, H, n, dh)."""
        self._keep(kind, site, t)
        edits = self.edits.get((kind, site))
        if not edits or edits[0][3].shape[1:] != t.shape[1:]:
            return t
        per = windows or 1
        t = self._copied(t, per)
        grouped = t.view(-1, per, *t.shape[1:])  # (B, nW, H, n, dh)
        for item, head, position, value in edits:
            source = value.reshape(-1, per, *value.shape[1:])[0]  # (nW, H, n, dh)
            if position is None:
                grouped[item, :, head] = source[:, head]
            elif windows:
                window, inside = position
                grouped[item, window, head, inside] = source[window, head, inside]
            else:
                grouped[item, 0, head, position] = source[0, head, position]
        return t


# -- a pair of inputs, prepared for the model -------------------------------------------
@dataclass
class Pair:
    """Clean and corrupted model inputs (batch 1 each), where the metric is read, the
    column labels, and per stack of residual points the position each column is."""
    form: str
    clean: tuple
    corrupt: tuple
    shown: tuple[list, list]  # what check_pair returns
    position: int | None
    columns: list[str]
    stack_columns: dict[str, list[int | None]] = field(default_factory=dict)


def _stacks(model) -> dict[str, list[str]]:
    return model.residual_points()


def prepare(session, clean: Any, corrupt: Any) -> Pair:
    """Both inputs as the model takes them; InputError when their token counts differ."""
    model, form = session.model, session.model.form
    stacks = _stacks(model)
    if form == "lm":
        ids_c, special = lm_run.encode(session, str(clean))
        ids_x, _ = lm_run.encode(session, str(corrupt))
        _same_length(len(ids_c), len(ids_x))
        tok_c, tok_x = session.tokenizer.tokens(ids_c), session.tokenizer.tokens(ids_x)
        columns = [c if c == x else f"{c}/{x}" for c, x in zip(tok_c, tok_x)]
        pair = Pair(form, (_ids(session, ids_c),), (_ids(session, ids_x),), (ids_c, ids_x),
                    token_position(session, ids_c,
                                   [i for i, s in enumerate(special) if s]), columns)
        pair.stack_columns = {s: list(range(len(ids_c))) for s in stacks}
        return pair
    if form == "seq2seq":
        return _seq2seq_pair(session, str(clean), str(corrupt), stacks)
    x_c, x_x = image_run.prepare(session, clean)[0], image_run.prepare(session, corrupt)[0]
    meta = model.extra_meta()
    tokens = meta.get("tokens")
    grid = meta["patch_grid"][0]
    pair = Pair(form, (x_c,), (x_x,), (x_c[0].cpu().numpy(), x_x[0].cpu().numpy()), None,
                tokens if tokens else [str(i) for i in range(grid * grid)])
    for stack, points in stacks.items():
        if tokens:  # ViT, DeiT: one stream of tokens
            pair.stack_columns[stack] = list(range(len(tokens)))
            continue
        side = _grid_side(session, points[0])  # Swin: this stage's grid
        f = grid // side
        pair.stack_columns[stack] = [(p // grid // f) * side + (p % grid) // f
                                     for p in range(grid * grid)]
    return pair


def _grid_side(session, point: str) -> int:
    """A Swin stage's grid side: the resolution of its blocks."""
    stage = point.split(".")[1] if point.startswith("layers.") else "0"
    return session.model.layers[int(stage)].blocks[0].resolution


def _ids(session, ids: list[int]) -> torch.Tensor:
    return torch.tensor([ids], device=session.device)


def _same_length(clean: int, corrupt: int) -> None:
    if clean != corrupt:
        raise InputError("the clean input has {clean} tokens and the corrupted one {corrupt}:"
                         " patching needs the same number in both", clean=clean,
                         corrupt=corrupt)


def _seq2seq_pair(session, clean: str, corrupt: str, stacks) -> Pair:
    model = session.model
    cfg = model.cfg
    src_c, tok_c, _ = seq2seq_run.source(session, clean)
    src_x, tok_x, _ = seq2seq_run.source(session, corrupt)
    _same_length(src_c.shape[1], src_x.shape[1])
    limit = min(cfg.max_len - 1, seq2seq_run.output_limit(src_c.shape[1]))
    with torch.inference_mode():
        outs = [model.greedy(src, max_new=limit)[0].tolist() for src in (src_c, src_x)]
    outs = [o[: o.index(cfg.eos_id) + 1] if cfg.eos_id in o else o for o in outs]
    out_c, out_x = outs
    # the first step where the two outputs part (else the clean output's last)
    step = next((i for i, (a, b) in enumerate(zip(out_c, out_x)) if a != b),
                max(0, min(len(out_c), len(out_x)) - 1))
    step = min(step, max(0, len(out_c) - 1))
    decoder_in = _ids(session, [cfg.bos_id] + out_c[:step])
    eos = seq2seq_run.words(session, [cfg.eos_id])[0]
    source_cols = [c if c == x else f"{c}/{x}" for c, x in zip(tok_c + [eos], tok_x + [eos])]
    target_cols = seq2seq_run.words(session, decoder_in[0].tolist())
    ids_c, ids_x = src_c[0].tolist(), src_x[0].tolist()
    pair = Pair("seq2seq", (src_c, decoder_in), (src_x, decoder_in), (ids_c, ids_x), step,
                source_cols + target_cols)
    s, t = len(source_cols), len(target_cols)
    pair.stack_columns = {"encoder": list(range(s)) + [None] * t,
                          "decoder": [None] * s + list(range(t))}
    return pair


def check_pair(session, clean: Any, corrupt: Any) -> tuple[list, list]:
    """The two inputs as the model reads them (token ids; a picture's pixels); InputError
    when their token counts differ (saying both)."""
    return prepare(session, clean, corrupt).shown


# -- running the model ------------------------------------------------------------------
def _logits(session, pair: Pair, inputs: tuple) -> torch.Tensor:
    """(B, V) float64 logits where the metric is read."""
    model = session.model
    if pair.form == "lm":
        out = model.output_head()(model.hidden(inputs[0])[:, pair.position])
    elif pair.form == "seq2seq":
        out = model(*inputs)[:, pair.position]
    else:
        out = model(inputs[0])
    return out.double()


def _run(session, pair: Pair, inputs: tuple, plan: Plan | None = None) -> torch.Tensor:
    if plan is not None and plan.input_copies:
        inputs = tuple(x.repeat(plan.input_copies, *[1] * (x.dim() - 1)) for x in inputs)
    with torch.inference_mode(), patching(plan if plan is not None else Plan()):
        return _logits(session, pair, inputs)


def _capture(session, pair: Pair, which: str, keep: set) -> tuple[dict, torch.Tensor]:
    """(kept values, logits) of the clean or corrupted run."""
    plan = Plan(keep)
    logits = _run(session, pair, getattr(pair, which), plan)
    return plan.kept, logits[0]


# -- targets ----------------------------------------------------------------------------
def target_id(session, text: str) -> int:
    """A target named by the user: a class label or index (a classifier), else one token of
    the model's vocabulary; InputError showing how the tokenizer splits anything longer."""
    text = str(text)
    model = session.model
    if model.form == "image":
        labels = [str(label) for label in session.labels]
        if text.strip() in labels:
            return labels.index(text.strip())
        if text.strip().isdigit() and int(text) < len(labels):
            return int(text)
        raise InputError("'{text}' is not one of this model's classes", text=text)
    if model.form == "seq2seq":
        if session.tokenizer is not None:
            pieces, _ = session.tokenizer.pieces(text)
            ids = session.tokenizer.ids(pieces)
            found = session.tokenizer.id_of(text) if hasattr(session.tokenizer, "id_of") \
                else None
        else:
            pieces = session.task.split(text)
            ids = [session.tgt_vocab.index[p] for p in pieces if p in session.tgt_vocab.index]
            found = session.tgt_vocab.index.get(text)
            if len(ids) != len(pieces):
                ids = []
    else:
        encoded, special = session.tokenizer.encode(text) if text.strip() else ([], [])
        ids = [i for i, s in zip(encoded, special) if not s]
        pieces = session.tokenizer.tokens(ids)
        found = session.tokenizer.id_of(text)
    if len(ids) == 1:
        return int(ids[0])
    if found is not None:
        return int(found)
    raise InputError("a target is one token; '{text}' is {count} here: {pieces}", text=text,
                     count=len(pieces), pieces=" | ".join(pieces) or "(none)")


def _target_names(session, targets: tuple[int, int]) -> tuple[str, str]:
    if session.model.form == "image":
        return tuple(str(session.labels[t]) for t in targets)
    if session.model.form == "seq2seq":
        return tuple(seq2seq_run.words(session, list(targets)))
    return tuple(session.tokenizer.tokens(list(targets)))


def _default(clean_logits: torch.Tensor, corrupt_logits: torch.Tensor) -> tuple[int, int]:
    """The clean run's prediction, and the corrupted run's (its best other token when both
    predict the same)."""
    a = int(clean_logits.argmax())
    ranked = corrupt_logits.argsort(descending=True).tolist()
    return a, int(next(t for t in ranked if t != a))


def default_targets(session, clean: Any, corrupt: Any) -> tuple[int, int]:
    """(a, b): the clean run's prediction where the metric is read, and the corrupted
    run's (its best token other than a, when both predict a)."""
    pair = prepare(session, clean, corrupt)
    return _default(_run(session, pair, pair.clean)[0], _run(session, pair, pair.corrupt)[0])


def _targets(session, targets, clean_logits, corrupt_logits) -> tuple[int, int]:
    if targets is None:
        return _default(clean_logits, corrupt_logits)
    size = clean_logits.shape[-1]
    chosen = tuple(t if isinstance(t, int) else target_id(session, t) for t in targets)
    for t in chosen:
        if not 0 <= t < size:
            raise InputError("target {target}? this model has outputs 0 to {last}", target=t,
                             last=size - 1)
    return chosen


# -- the result -------------------------------------------------------------------------
@dataclass
class PatchResult:
    sweep: str
    targets: tuple[int, int]
    target_names: tuple[str, str]
    clean: float  # the metric logit(a) - logit(b) on the clean run
    corrupt: float
    rows: list[str]
    columns: list[str]
    scores: np.ndarray  # (rows, columns), NaN where a row has no such column
    cells: list[dict]  # one per score, in scores.ravel() order

    def to_json(self) -> dict:
        def number(v):
            return None if v is None or (isinstance(v, float) and np.isnan(v)) else float(v)
        return {"sweep": self.sweep, "targets": list(self.targets),
                "target_names": list(self.target_names), "clean": float(self.clean),
                "corrupt": float(self.corrupt), "rows": list(self.rows),
                "columns": list(self.columns),
                "cells": [{**cell, "score": number(cell["score"])} for cell in self.cells]}


# -- what a sweep patches ---------------------------------------------------------------
def _layer(name: str) -> int | None:
    found = re.findall(r"\.(\d+)(?:\.|$)", name)
    return int(found[-1]) if found else None


def _prefix(stacks: dict, stack: str) -> str:
    if len(stacks) == 1:
        return ""
    short = {"encoder": "enc", "decoder": "dec"}.get(stack)
    if short is None:  # Swin: "layers.1" -> "stage 1"
        short = "stage " + stack.rsplit(".", 1)[-1]
    return short + " "


def _site_label(session, stacks, stack: str, site: str) -> str:
    """"3", "dec 1 cross", "stage 2 0": stack, layer, and the sublayer where a layer has
    several attention sites."""
    sites = session.model.describe_sites()
    layer = _layer(site)
    same_layer = [s for s in stacks[stack] if s in sites and _layer(s) == layer]
    sub = ""
    if len(same_layer) > 1:
        sub = " " + site.rsplit(".", 1)[-1].replace("_attn", "")
    return f"{_prefix(stacks, stack)}{layer}{sub}"


@dataclass
class _Row:
    label: str
    stack: str
    layer: int
    kind: str  # "resid", "write", "out"
    name: str  # the point or site
    head: int | None = None


def _rows(session, kind: str) -> list[_Row]:
    model = session.model
    stacks, sites = _stacks(model), model.describe_sites()
    rows = []
    for stack, points in stacks.items():
        p = _prefix(stacks, stack)
        if kind == "resid":  # the stack's start, then each layer's output
            start = "merge" if points[0].endswith("downsample") else "embed"
            rows.append(_Row(p + start, stack, -1, "resid", points[0]))
            ends: dict[int, str] = {}
            for point in points[1:]:
                ends[_layer(point)] = point
            rows += [_Row(f"{p}{layer}", stack, layer, "resid", point)
                     for layer, point in ends.items()]
        elif kind == "attn":
            rows += [_Row(_site_label(session, stacks, stack, point), stack, _layer(point),
                          "write", point) for point in points[1:] if point in sites]
        elif kind == "mlp":
            rows += [_Row(f"{p}{_layer(point)}", stack, _layer(point), "write", point)
                     for point in points[1:] if point not in sites]
        else:
            for site in (s for s in points if s in sites):
                label = _site_label(session, stacks, stack, site)
                if kind == "heads":
                    rows.append(_Row(label, stack, _layer(site), "out", site))
                else:
                    rows += [_Row(f"{label} h{h}", stack, _layer(site), "out", site, h)
                             for h in range(sites[site]["heads"])]
    if not rows:
        raise InputError("this model has no {kind} outputs to patch", kind=kind)
    return rows


def _head_position(session, site: str, position: int) -> Any:
    """A Swin site's token position as (window, index inside it); else the position."""
    info = session.model.describe_sites()[site]
    if not info.get("num_windows"):
        return position
    from .swin import token_windows

    block = session.model.get_submodule(site.rsplit(".", 1)[0])
    window, inside = token_windows(block.resolution, block.resolution, block.window,
                                   block.shift)
    return int(window.reshape(-1)[position]), int(inside.reshape(-1)[position])


def _cells(session, pair: Pair, kind: str) -> tuple[list[str], list[str], list[dict]]:
    """Rows, columns, and each cell: its dict and its patch (kind, name, head, position)
    or None (a column its row does not have, a head its site does not have)."""
    rows = _rows(session, kind)
    sites = session.model.describe_sites()
    cells = []
    if kind == "heads":
        most = max(sites[r.name]["heads"] for r in rows)
        columns = [str(h) for h in range(most)]
        for row in rows:
            for h in range(most):
                ok = h < sites[row.name]["heads"]
                cells.append(dict(sweep=kind, layer=row.layer, head=h, position=None,
                                  site=row.name, point=None,
                                  patch=("out", row.name, h, None) if ok else None))
        return [r.label for r in rows], columns, cells
    for row in rows:
        for position in pair.stack_columns[row.stack]:
            patch = None
            if position is not None:
                where = position if row.kind != "out" else \
                    _head_position(session, row.name, position)
                patch = (row.kind, row.name, row.head, where)
            cells.append(dict(sweep=kind, layer=row.layer, head=row.head, position=position,
                              site=None if row.kind == "resid" else row.name,
                              point=row.name if row.kind == "resid" else None, patch=patch))
    return [r.label for r in rows], list(pair.columns), cells


def _cell_patch(session, pair: Pair, cell: dict) -> tuple | None:
    """The patch a cell (of a sweep's `cells`, or written by hand) stands for."""
    if cell.get("point") is not None:
        return ("resid", cell["point"], None, cell.get("position"))
    site = cell.get("site")
    if site is None:
        raise InputError("a cell names a 'point' (the stream) or a 'site' (a sublayer or a "
                         "head) to patch")
    head, position = cell.get("head"), cell.get("position")
    if head is None:
        return ("write", site, None, position)
    where = None if position is None else _head_position(session, site, position)
    return ("out", site, head, where)


def _kinds(patches) -> set:
    return {p[0] for p in patches if p is not None}


def _score(m: torch.Tensor, clean: float, corrupt: float) -> np.ndarray:
    return ((m - corrupt) / (clean - corrupt)).cpu().numpy()


def _metric(logits: torch.Tensor, targets: tuple[int, int]) -> torch.Tensor:
    return logits[..., targets[0]] - logits[..., targets[1]]


def _baseline(session, pair: Pair, keep: set, targets):
    """Clean values kept, targets, and the metric on the clean and corrupted runs."""
    kept, clean_logits = _capture(session, pair, "clean", keep)
    corrupt_logits = _run(session, pair, pair.corrupt)[0]
    targets = _targets(session, targets, clean_logits, corrupt_logits)
    m_clean = float(_metric(clean_logits, targets))
    m_corrupt = float(_metric(corrupt_logits, targets))
    if abs(m_clean - m_corrupt) < 1e-6 * max(1.0, abs(m_clean)):
        names = _target_names(session, targets)
        raise InputError("the metric logit({a}) - logit({b}) is {value:.4g} on both inputs: "
                         "choose targets that tell them apart", a=names[0], b=names[1],
                         value=m_clean)
    return kept, targets, m_clean, m_corrupt


def sweep(session, clean: Any, corrupt: Any, kind: str, targets=None, progress=None,
          batch: int = 16) -> PatchResult:
    """Patch each cell of a `kind` sweep (SWEEPS) alone into the corrupted run, `batch`
    patched runs per forward; `progress(done, total)` after each forward may raise to stop."""
    if kind not in SWEEPS:
        raise InputError("sweep '{kind}'? choose one of {choices}", kind=kind,
                         choices=", ".join(SWEEPS))
    if type(batch) is not int or batch < 1:
        raise InputError("batch {batch}? patched runs per forward: 1 or more", batch=batch)
    pair = prepare(session, clean, corrupt)
    rows, columns, cells = _cells(session, pair, kind)
    patches = [cell.pop("patch") for cell in cells]
    kept, targets, m_clean, m_corrupt = _baseline(session, pair, _kinds(patches), targets)
    unique = list(dict.fromkeys(p for p in patches if p is not None))
    found: dict[tuple, float] = {}
    total = len(unique)
    if progress is not None:
        progress(0, total)
    for start in range(0, total, batch):
        chunk = unique[start:start + batch]
        plan = Plan(copies=len(chunk))
        for item, (where, name, head, position) in enumerate(chunk):
            plan.add(where, name, item, head, position, kept[(where, name)])
        logits = _run(session, pair, pair.corrupt, plan).expand(len(chunk), -1)
        for patch, score in zip(chunk, _score(_metric(logits, targets), m_clean, m_corrupt)):
            found[patch] = float(score)
        if progress is not None:
            progress(start + len(chunk), total)
    for cell, patch in zip(cells, patches):
        cell["score"] = found[patch] if patch is not None else float("nan")
    scores = np.array([c["score"] for c in cells], np.float32).reshape(len(rows), len(columns))
    return PatchResult(kind, targets, _target_names(session, targets), m_clean, m_corrupt,
                       rows, columns, scores, cells)


def patch_score(session, clean: Any, corrupt: Any, cells: list[dict], targets=None) -> float:
    """The normalised score of one run with every cell of `cells` patched together."""
    pair = prepare(session, clean, corrupt)
    patches = [_cell_patch(session, pair, cell) for cell in cells]
    kept, targets, m_clean, m_corrupt = _baseline(session, pair, _kinds(patches), targets)
    plan = Plan()
    for where, name, head, position in patches:
        _check_name(session, where, name, head)
        plan.add(where, name, 0, head, position, kept[(where, name)])
    logits = _run(session, pair, pair.corrupt, plan)
    return float(_score(_metric(logits, targets), m_clean, m_corrupt)[0])


def _check_name(session, kind: str, name: str, head: int | None) -> None:
    model = session.model
    points = [p for ps in _stacks(model).values() for p in ps]
    sites = model.describe_sites()
    if kind in ("resid", "write") and name not in points:
        raise InputError("no point '{name}' in this model's stream", name=name)
    if kind not in ("resid", "write"):
        if name not in sites:
            raise InputError("no attention site '{name}' in this model", name=name)
        if head is None or not 0 <= head < sites[name]["heads"]:
            raise InputError("no head {head} at '{site}'", head=head, site=name)


def patched_run(session, clean: Any, corrupt: Any, cell: dict) -> Trace:
    """The corrupted input run with one cell patched from the clean run, traced as
    `Session.run` traces (meta["patched"] = the cell) for every panel. A path sweep's cell
    (it names a "receiver"): the sender head's clean output reaches only the receiver
    head's queries, keys or values (`path_patch`'s run, traced)."""
    pair = prepare(session, clean, corrupt)
    if cell.get("receiver") is not None:
        plan = _path_cell_plan(session, pair, cell)
    else:
        patch = _cell_patch(session, pair, cell)
        where, name, head, position = patch
        _check_name(session, where, name, head)
        kept, _ = _capture(session, pair, "clean", {where})
        plan = Plan()
        plan.add(where, name, 0, head, position, kept[(where, name)])
    cell = {k: v for k, v in cell.items() if k != "patch"}
    if pair.form != "seq2seq":
        with patching(plan):
            result = session.run(corrupt)
    else:
        result = _seq2seq_trace(session, pair, plan, str(corrupt))
    result.meta["patched"] = cell
    return result


def _path_cell_plan(session, pair: Pair, cell: dict) -> Plan:
    """The plan of a path sweep's cell: the receiver head's `part` replaced by what it
    reads when only the sender head's output is the clean run's."""
    try:
        sender = (cell["site"], int(cell["head"]))
        receiver = (cell["receiver"], int(cell["receiver_head"]))
        part = cell["part"]
    except (KeyError, TypeError, ValueError):
        raise InputError("a path cell names its sender ('site', 'head'), its receiver "
                         "('receiver', 'receiver_head') and the 'part' (q, k or v)") from None
    _check_path(session, sender, receiver, part)
    kept, _ = _capture(session, pair, "clean", {("out", sender[0])})
    frozen, _ = _capture(session, pair, "corrupt", {"write"})
    return _path_plan(session, pair, kept, frozen, sender[0], [sender[1]], receiver, part)


def _seq2seq_trace(session, pair: Pair, plan: Plan, text: str) -> Trace:
    """The teacher-forced pass of the corrupted source over the clean output's start (the
    decoder rows the metric reads), patched and traced."""
    src, decoder_in = pair.corrupt
    result = Trace()
    with torch.inference_mode(), recording(result), patching(plan):
        logits = session.model(src, decoder_in)[0]
    probs = logits.float().softmax(-1)
    top = probs.topk(min(5, probs.shape[-1]), dim=-1)
    choice = probs.argmax(-1).tolist()
    result.add("prediction", "probs", probs)
    result.add("input", "ids", src[0])
    result.add("input", "decoder_ids", decoder_in[0])
    result.add("prediction", "ids", torch.tensor(choice))
    tokens, _ = seq2seq_run.encode_text(session, text)
    cfg = session.model.cfg
    out_words = seq2seq_run.words(session, choice)
    result.meta.update(
        input=text, unknown=[], notice="", prediction=" ".join(out_words),
        source_tokens=tokens + [seq2seq_run.words(session, [cfg.eos_id])[0]],
        target_tokens=seq2seq_run.words(session, decoder_in[0].tolist()),
        output_tokens=out_words,
        top5=[[[w, float(p)] for p, w in zip(ps.tolist(), seq2seq_run.words(
            session, ids.tolist()))] for ps, ids in zip(top.values, top.indices)])
    result.meta.update(session.describe())
    result.materialize()
    return result


def _order(session) -> list[str]:
    return [p for ps in _stacks(session.model).values() for p in ps]


def _check_path(session, sender: tuple[str, int], receiver: tuple[str, int],
                part: str) -> None:
    if part not in PARTS:
        raise InputError("part '{part}'? choose q, k or v", part=part)
    (s_site, s_head), (r_site, r_head) = sender, receiver
    _check_name(session, "out", s_site, s_head)
    _check_name(session, part, r_site, r_head)
    order = _order(session)
    if order.index(r_site) <= order.index(s_site):
        raise InputError("the receiver '{receiver}' must come after the sender '{sender}'",
                         receiver=r_site, sender=s_site)


def _path_plan(session, pair: Pair, kept: dict, frozen: dict, site: str, heads: list[int],
               receiver: tuple[str, int], part: str) -> Plan:
    """The path's first forward, and the plan of its second: one copy of the corrupted
    input per sender head of `site` in `heads`, that head's clean output patched (`kept`)
    and every sublayer between it and the receiver frozen at its corrupted write
    (`frozen`); the receiver's `part` kept there is what the returned plan puts in, item i
    the receiver head's as heads[i] alone sends to it."""
    r_site, r_head = receiver
    order = _order(session)
    between = order[order.index(site) + 1: order.index(r_site)]
    plan = Plan({(part, r_site)}, copies=len(heads))
    for item, h in enumerate(heads):
        plan.add("out", site, item, h, None, kept[("out", site)])
        for point in between:
            if ("write", point) in frozen:
                plan.add("write", point, item, None, None, frozen[("write", point)])
    _run(session, pair, pair.corrupt, plan)
    received = plan.kept[(part, r_site)]
    per = received.shape[0] // len(heads)  # a Swin site's windows (else 1)
    final = Plan(copies=len(heads))
    if per > 1 and len(heads) > 1:  # copied at the receiver's q, its k, v and mask were not
        final.copies, final.input_copies = None, len(heads)
    for item in range(len(heads)):
        final.add(part, r_site, item, r_head, None, received[item * per:(item + 1) * per])
    return final


def path_patch(session, clean: Any, corrupt: Any, sender: tuple[str, int],
               receiver: tuple[str, int], part: str, targets=None) -> float:
    """The normalised score when sender head's clean output reaches only the receiver
    head's `part` ("q", "k" or "v") by the direct path: run the corrupted input with the
    sender patched and every sublayer between the two frozen at its corrupted output, keep
    the receiver's `part`, then run the corrupted input with only that part replaced."""
    _check_path(session, sender, receiver, part)
    s_site, s_head = sender
    pair = prepare(session, clean, corrupt)
    kept, targets, m_clean, m_corrupt = _baseline(session, pair, {("out", s_site)}, targets)
    frozen, _ = _capture(session, pair, "corrupt", {"write"})
    final = _path_plan(session, pair, kept, frozen, s_site, [s_head], receiver, part)
    logits = _run(session, pair, pair.corrupt, final)
    return float(_score(_metric(logits, targets), m_clean, m_corrupt)[0])


def _senders(session, receiver_site: str) -> list[str]:
    """The attention sites before `receiver_site`, in the order the model runs them."""
    order, sites = _order(session), session.model.describe_sites()
    return [s for s in order[:order.index(receiver_site)] if s in sites]


def path_sweep(session, clean: Any, corrupt: Any, receiver: tuple[str, int], part: str,
               targets=None, progress=None, senders: list[str] | None = None) -> PatchResult:
    """`path_patch` for every head of every attention site before the receiver (or of the
    sites `senders` only), into the receiver head's `part`: rows the sender sites, columns
    their heads (sweep "path"). One site's heads share two forwards (one copy of the
    corrupted input per head); `progress(done, total)` after each forward may raise."""
    if part not in PARTS:
        raise InputError("part '{part}'? choose q, k or v", part=part)
    r_site, r_head = receiver
    _check_name(session, part, r_site, r_head)
    before = _senders(session, r_site)
    for site in senders or []:
        _check_name(session, "out", site, 0)
        if site not in before:
            raise InputError("the receiver '{receiver}' must come after the sender "
                             "'{sender}'", receiver=r_site, sender=site)
    senders = [s for s in before if senders is None or s in senders]
    if not senders:
        raise InputError("no attention site comes before '{receiver}': nothing can send to "
                         "it", receiver=r_site)
    pair = prepare(session, clean, corrupt)
    kept, targets, m_clean, m_corrupt = _baseline(
        session, pair, {("out", s) for s in senders}, targets)
    frozen, _ = _capture(session, pair, "corrupt", {"write"})
    sites, stacks = session.model.describe_sites(), _stacks(session.model)
    stack_of = {p: stack for stack, points in stacks.items() for p in points}
    most = max(sites[s]["heads"] for s in senders)
    found: dict[tuple[str, int], float] = {}
    total = 2 * len(senders)
    if progress is not None:
        progress(0, total)
    for i, site in enumerate(senders):
        heads = sites[site]["heads"]
        final = _path_plan(session, pair, kept, frozen, site, list(range(heads)), receiver,
                           part)
        if progress is not None:
            progress(2 * i + 1, total)
        logits = _run(session, pair, pair.corrupt, final).expand(heads, -1)
        for h, score in enumerate(_score(_metric(logits, targets), m_clean, m_corrupt)):
            found[(site, h)] = float(score)
        if progress is not None:
            progress(2 * i + 2, total)
    cells = []
    for site in senders:
        for h in range(most):
            cells.append(dict(sweep="path", layer=_layer(site), head=h, position=None,
                              site=site, point=None, receiver=r_site, receiver_head=r_head,
                              part=part, score=found.get((site, h), float("nan"))))
    scores = np.array([c["score"] for c in cells], np.float32).reshape(len(senders), most)
    rows = [_site_label(session, stacks, stack_of[s], s) for s in senders]
    return PatchResult("path", targets, _target_names(session, targets), m_clean, m_corrupt,
                       rows, [str(h) for h in range(most)], scores, cells)
