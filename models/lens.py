"""The logit lens and direct logit attribution, derived from a trace's residual records.

The read-out is the model's own: a language model's final norm and unembedding (BERT's
masked-LM head), the translation decoder's final norm and output projection, ViT's final
norm and classifier on the class token (DeiT: the mean of its two heads), Swin's final norm
and classifier on the mean of the last stage's tokens. Applied to the stream at each point
of `ModelBase.residual_points()` it gives the logit lens; the stream at the last point read
this way is the model's output.

Direct logit attribution splits one logit (or the difference of two) into what each part
wrote into the stream: the embeddings, each head (its output through its slice of W_O),
each MLP, and the bias terms (attention output biases, the LayerNorms' biases, the head's
bias). Every LayerNorm's (or RMSNorm's) scale is taken from the run and frozen, the
convention TransformerLens uses, so the read-out is linear in the stream and the parts sum
to the logit. A post-norm model (BERT, OPUS-MT) passes each part through every later
sublayer norm with its frozen scale. Two read-outs are not linear even so: BERT's MLM head
(dense, GELU, LayerNorm before the unembedding) is linearised at the run's stream (each
part's value is the gradient of the logit times the part) and the rest is one "bias" part,
"the head's nonlinear remainder"; Swin's earlier stages (their widths differ from the
classifier's) reach the last stage as one "embed" part, the stream the last stage starts from.

Pure torch and numpy; nothing here is N × V except `lens_grid`'s chunks (128 rows at once).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from .errors import InputError
from .trace import Trace, head_writes

CHUNK = 128  # rows read out at once (128 × 50,257 floats ≈ 26 MB)


@dataclass
class Reader:
    """How one stack's stream is read out. `reads`: (position or "mean", weight, linear)
    for a classifier read at fixed positions; None for a read-out at every token."""
    stack: str
    points: list[str]
    norm: nn.Module | None = None
    linear: nn.Module | None = None  # token read-out: rows of `linear.weight` are the outputs
    reads: list[tuple[Any, float, nn.Module]] | None = None
    head: nn.Module | None = None  # a nonlinear head applied to the stream (BERT's MLM)
    forbid: list[int] = field(default_factory=list)  # outputs the model never gives (-inf)
    post_norms: dict[str, nn.Module] = field(default_factory=dict)  # point -> its LayerNorm
    # point -> the norm its sublayer's output passes before joining the stream (Gemma 3's
    # sandwich: x + post_attn_norm(attn(…))); an MLP's recorded write is after it already
    write_norms: dict[str, nn.Module] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)  # other stacks: why no read-out

    @property
    def per_token(self) -> bool:
        return self.reads is None

    # -- the read-out ---------------------------------------------------------------
    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """Stream rows (n, D) -> logits: (n, V) per token, or (1, classes) for a classifier."""
        if self.head is not None:
            out = self.head(x)
        elif self.per_token:
            out = unembed(self.linear, self._norm(x))
        else:
            h = self._norm(x)
            out = sum(weight * linear(h.mean(0) if at == "mean" else h[at])
                      for at, weight, linear in self.reads)[None]
        if self.forbid:
            out = out.index_fill(-1, torch.tensor(self.forbid), float("-inf"))
        return out

    def _norm(self, x: torch.Tensor) -> torch.Tensor:
        return x if self.norm is None else self.norm(x)

    def rows(self, resid: np.ndarray, position: int | None) -> np.ndarray:
        """The stream rows the read-out takes: one token's, or all (a classifier)."""
        return resid[position: position + 1] if self.per_token else resid


UNEMBED_BLOCK = 256  # vocabulary rows a block (the same numbers, a third less time)


def unembed(linear: nn.Linear, h: torch.Tensor) -> torch.Tensor:
    """linear(h) for a few stream rows (n, D) -> (n, V), `UNEMBED_BLOCK` output rows at a
    time: the blocks of the weight stay in the cache while each is used, and every logit is
    the same dot product (the result is bit for bit linear's)."""
    if h.shape[0] < 8 or linear.weight.shape[0] <= 4 * UNEMBED_BLOCK:
        return linear(h)
    weight, bias = linear.weight, linear.bias
    blocks = zip(weight.split(UNEMBED_BLOCK), bias.split(UNEMBED_BLOCK) if bias is not None
                 else [None] * -(-weight.shape[0] // UNEMBED_BLOCK))
    return torch.cat([nn.functional.linear(h, w, b) for w, b in blocks], -1)


def _param(module: nn.Module) -> torch.Tensor:
    return next(module.parameters())


def reader(model: nn.Module) -> Reader:
    """The read-out of `model`'s main stack (the decoder; Swin's last stage)."""
    points = model.residual_points()
    arch = model.arch
    if arch == "decoder":
        normed = {f"layers.{i}.attn": block.post_attn_norm
                  for i, block in enumerate(model.layers) if hasattr(block, "post_attn_norm")}
        return Reader("layers", points["layers"], model.norm, model.lm_head,
                      write_norms=normed)
    if arch == "encoder":
        post = {}
        for i, layer in enumerate(model.layers):
            post[f"layers.{i}.attn"], post[f"layers.{i}.mlp"] = layer.norm1, layer.norm2
        return Reader("layers", points["layers"], head=model.mlm, post_norms=post)
    if arch == "transformer":
        post = {}
        if not model.cfg.norm_first:
            for i, layer in enumerate(model.decoder.layers):
                post.update({f"decoder.layers.{i}.self_attn": layer.norm1,
                             f"decoder.layers.{i}.cross_attn": layer.norm2,
                             f"decoder.layers.{i}.ff": layer.norm3})
        norm = model.decoder.norm if model.cfg.norm_first else None
        forbid = [model.cfg.pad_id] if model.cfg.forbid_pad else []
        return Reader("decoder", points["decoder"], norm, model.generator, forbid=forbid,
                      post_norms=post, notes={"encoder": "the encoder's stream is read by "
                                              "cross-attention, not by the output projection"})
    if arch == "vit":
        reads = [(0, 1.0, model.head)]
        if model.cfg.distilled:
            reads = [(0, 0.5, model.head), (1, 0.5, model.head_dist)]
        return Reader("blocks", points["blocks"], model.norm, reads=reads)
    if arch == "swin":
        stacks = list(points)
        width = model.norm.normalized_shape[0]
        notes = {s: f"this stage is {model.layers[i].blocks[0].norm1.normalized_shape[0]} "
                    f"wide; the classifier reads {width}"
                 for i, s in enumerate(stacks[:-1])}
        return Reader(stacks[-1], points[stacks[-1]], model.norm,
                      reads=[("mean", 1.0, model.head.fc)], notes=notes)
    raise InputError("no read-out for this architecture: {arch}", arch=arch)


# -- the logit lens ----------------------------------------------------------------------
def _check_position(trace: Trace, read: Reader, position: int | None) -> int | None:
    if not read.per_token:
        return None
    n = trace[f"{read.points[0]}/resid"].shape[0]
    if position is None:
        raise InputError("a position is needed")
    if not -n <= position < n:
        raise InputError("no position {position}: the input has {n} tokens",
                         position=position, n=n)
    return position % n


@torch.inference_mode()
def lens_column(model: nn.Module, trace: Trace, position: int | None = None,
                target: int | None = None, k: int = 5) -> list[dict]:
    """The read-out of the stream at every point for one position (a classifier: its read
    positions): [{name, top: [[id, prob]…k], target_prob, target_rank}], embeddings first;
    the last is the model's output. `target` None: the model's prediction there."""
    read = reader(model)
    position = _check_position(trace, read, position)
    rows = torch.stack([torch.from_numpy(read.rows(trace[f"{p}/resid"], position))
                        for p in read.points])  # (P, n, D)
    dtype = _param(model).dtype
    device = _param(model).device
    if read.per_token:  # one read-out of every point's row at once
        logits = read.logits(rows[:, 0].to(device, dtype)).float().cpu()
    else:
        logits = torch.cat([read.logits(r.to(device, dtype)) for r in rows]).float().cpu()
    probs = logits.softmax(-1)  # (P, V)
    if target is None:
        target = int(probs[-1].argmax())
    _check_target(target, probs.shape[-1])
    top = probs.topk(min(k, probs.shape[-1]), dim=-1)
    rank = (probs > probs[:, target: target + 1]).sum(-1)
    return [{"name": name, "top": [[int(i), float(p)] for i, p in zip(ids, ps)],
             "target_prob": float(probs[j, target]), "target_rank": int(rank[j])}
            for j, (name, ids, ps) in enumerate(zip(read.points, top.indices.tolist(),
                                                    top.values.tolist()))]


@torch.inference_mode()
def lens_grid(model: nn.Module, trace: Trace, target: int | None = None,
              positions: list[int] | None = None, cancelled: Any = None,
              rows: Any = None, earlier: dict | None = None) -> dict:
    """Every point × every position (or `positions`): the top output id, its probability,
    and the probability of `target` (None: each position's own prediction), [P, n] arrays.
    Read out `CHUNK` rows at a time; `cancelled()` true stops early (None is returned).
    `rows`: only these points' rows (indices; the output's is always read), the others
    left for later: `filled` [P] says which are; `earlier`: a grid of the same positions
    whose filled rows are kept (the app shows the rows in view first, then the rest)."""
    read = reader(model)
    n = trace[f"{read.points[0]}/resid"].shape[0]
    positions = list(range(n)) if positions is None else positions
    if not read.per_token:
        positions = [0]
    shape = (len(read.points), len(positions))
    if earlier is not None:
        top, top_prob, target_prob = (earlier[k].copy() for k in ("top", "top_prob",
                                                                   "target_prob"))
        filled = earlier["filled"].copy()
    else:
        top, top_prob, target_prob = np.zeros(shape, np.int64), np.zeros(shape), \
            np.zeros(shape)
        filled = np.zeros(len(read.points), bool)
    wanted_rows = set(range(len(read.points)) if rows is None else rows) | {
        len(read.points) - 1}
    device, dtype = _param(model).device, _param(model).dtype
    for j, point in enumerate(reversed(read.points)):  # the output first: the targets
        row = len(read.points) - 1 - j
        if filled[row] or row not in wanted_rows:
            continue
        resid = trace[f"{point}/resid"]
        for start in range(0, len(positions), CHUNK):
            if cancelled is not None and cancelled():
                return None
            part = positions[start: start + CHUNK]
            x = torch.from_numpy(resid[part] if read.per_token else resid)
            probs = read.logits(x.to(device, dtype)).float().softmax(-1).cpu()
            best = probs.max(-1)
            top[row, start: start + len(part)] = best.indices.numpy()
            top_prob[row, start: start + len(part)] = best.values.numpy()
            wanted = (top[-1, start: start + len(part)] if target is None else
                      np.full(len(part), target))
            target_prob[row, start: start + len(part)] = probs.gather(
                -1, torch.from_numpy(wanted)[:, None]).squeeze(-1).numpy()
        filled[row] = True
    return {"points": list(read.points), "positions": positions, "top": top,
            "top_prob": top_prob, "target_prob": target_prob, "filled": filled}


def _check_target(target: int, size: int) -> None:
    if not 0 <= target < size:
        raise InputError("no output {target}: the read-out has {size}", target=target,
                         size=size)


# -- direct logit attribution ------------------------------------------------------------
def _layer(point: str) -> int | None:
    found = re.findall(r"\.(\d+)\.", point + ".")
    return int(found[-1]) if found else None


def _frozen(norm: nn.Module, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None,
                                                       bool]:
    """A norm's scale frozen at `y` (n, D): (1/σ · weight per row, its bias, centred)."""
    y = y.double()
    # (Gemma's RMSNorm multiplies by offset + weight, the offset being 1)
    weight = norm.weight.detach().double().cpu() + getattr(norm, "offset", 0.0)
    if isinstance(norm, nn.LayerNorm):
        var = y.var(-1, unbiased=False, keepdim=True)
        scale = weight / torch.sqrt(var + norm.eps)
        bias = norm.bias.detach().double().cpu() if norm.bias is not None else None
        return scale, bias, True
    rms = torch.sqrt(y.pow(2).mean(-1, keepdim=True) + norm.eps)  # RMSNorm
    return weight / rms, None, False


@torch.no_grad()
def attribution(model: nn.Module, trace: Trace, position: int | None = None,
                target: int | None = None, minus: int | None = None) -> dict:
    """{"value", "target", "minus", "parts": [{kind, layer, head, site, name, value}…]}: the
    logit of `target` (minus that of `minus`) at `position`, split into what each part wrote
    into the stream; the parts sum to the value."""
    read = reader(model)
    position = _check_position(trace, read, position)
    sites = model.describe_sites()
    last = trace[f"{read.points[-1]}/resid"]
    where = [position] if read.per_token else list(range(last.shape[0]))
    kinds, blocks = [], []  # part descriptions; (k, n, D) float64 blocks of parts
    n = len(where)

    def add(kind, point, vectors, heads=None, name=None):
        """One part (`vectors` (n, D) or (D,)), or one per head ((H, n, D), `heads`)."""
        layer = None if kind == "embed" else _layer(point)
        block = torch.as_tensor(np.asarray(vectors)).double()
        if heads is None:
            kinds.append({"kind": kind, "layer": layer, "head": None, "site": point,
                          "name": name or point})
            block = block.expand(n, -1)[None]
        else:
            kinds.extend({"kind": kind, "layer": layer, "head": h, "site": point,
                          "name": f"{point} head {h}"} for h in range(heads))
        blocks.append(block)

    for i, point in enumerate(read.points):
        if i == 0:
            add("embed", point, trace[f"{point}/resid"][where])
        elif point in sites:
            start = len(blocks)
            writes = head_writes(trace, point, where)
            add("head", point, writes, heads=writes.shape[0])
            if f"{point}/o_bias" in trace.records:
                add("bias", point, trace[f"{point}/o_bias"], name=f"{point} output bias")
            if point in read.write_norms:  # each part through the norm, its scale frozen
                own = torch.cat(blocks[start:])
                scale, bias, centred = _frozen(read.write_norms[point], own.sum(0))
                if centred:
                    own = own - own.mean(-1, keepdim=True)
                blocks[start:] = [own * scale]
                if bias is not None:
                    add("bias", point, bias, name=f"{point} norm bias")
        else:
            add("mlp", point, trace[f"{point}/write"][where])
        if point in read.post_norms:
            parts = torch.cat(blocks)
            scale, bias, centred = _frozen(read.post_norms[point], parts.sum(0))
            if centred:
                parts = parts - parts.mean(-1, keepdim=True)
            blocks = [parts * scale]
            if bias is not None:
                add("bias", point, bias, name=f"{point} LayerNorm bias")
    parts = torch.cat(blocks)  # (K, n, D)
    final = parts.sum(0)
    x = torch.from_numpy(read.rows(last, position)).to(_param(model).device,
                                                       _param(model).dtype)
    size = output_size(model)
    if target is None:  # the prediction: every output's logit there
        out = read.logits(x).double().cpu()  # one row: (1, V)
        target = int(out[0].argmax())
    _check_target(target, size)
    if minus is not None:
        _check_target(minus, size)
    value = float(_logits_of(read, x, [target] if minus is None else [target, minus]
                             ) @ torch.tensor([1.0] if minus is None else [1.0, -1.0],
                                              dtype=torch.float64))
    if read.head is not None:  # BERT: the head linearised at the run's stream
        param = _param(read.head)
        x = torch.from_numpy(last[position: position + 1]).to(param.device, param.dtype)
        x.requires_grad_(True)
        with torch.enable_grad():
            logit = read.head(x)[0]
            goal = logit[target] - (logit[minus] if minus is not None else 0.0)
            (grad,) = torch.autograd.grad(goal, x)
        values = (parts * grad.detach().double().cpu()).sum(-1)[:, 0]
        kinds.append({"kind": "bias", "layer": None, "head": None, "site": "",
                      "name": "the head's nonlinear remainder"})
        values = torch.cat([values, torch.tensor([value - float(values.sum())])])
    else:
        values = torch.zeros(len(kinds), dtype=torch.float64)
        bias_total = 0.0
        reads = [(None, 1.0, read.linear)] if read.per_token else read.reads
        for at, weight, linear in reads:
            u = _row(linear.weight, target)  # one row, not the V × D matrix in float64
            b = _row(linear.bias, target) if linear.bias is not None else 0.0
            if minus is not None:
                u = u - _row(linear.weight, minus)
                if linear.bias is not None:
                    b = b - _row(linear.bias, minus)
            rows = slice(None) if at in (None, "mean") else slice(at, at + 1)
            p, y = parts[:, rows], final[rows]
            if read.norm is not None:
                scale, bias, centred = _frozen(read.norm, y)
                if centred:
                    p = p - p.mean(-1, keepdim=True)
                p = p * scale
                if bias is not None:
                    bias_total += weight * float(bias @ u)
            contrib = (p @ u).mean(-1) if at == "mean" else (p @ u)[:, 0]
            values += weight * contrib
            bias_total += weight * float(b)
        kinds.append({"kind": "bias", "layer": None, "head": None, "site": "",
                      "name": "the read-out's biases"})
        values = torch.cat([values, torch.tensor([bias_total])])
    for info, v in zip(kinds, values.tolist()):
        info["value"] = v
    return {"position": position, "target": target, "minus": minus, "value": value,
            "parts": kinds}


def _logits_of(read: Reader, x: torch.Tensor, ids: list[int]) -> torch.Tensor:
    """The logits of `ids` only (float64) for the stream rows `x`, as `read.logits(x)[0]`
    gives them: a token read-out computes those rows of the unembedding alone."""
    if read.per_token and read.head is None and not set(ids) & set(read.forbid):
        h = read._norm(x)[0]
        weight = read.linear.weight.detach()[ids]
        out = weight @ h
        if read.linear.bias is not None:
            out = out + read.linear.bias.detach()[ids]
        return out.double().cpu()
    return read.logits(x).double().cpu()[0, ids]


def head_table(dla: dict) -> dict:
    """The heads' parts of an `attribution` as a layers × heads table: {"sites": attention
    sites in stream order, "values": (sites, most heads) float64, NaN where a site has fewer
    heads (Swin's early stages)}."""
    sites: list[str] = []
    found: dict[tuple[str, int], float] = {}
    for part in dla["parts"]:
        if part["kind"] == "head":
            if part["site"] not in sites:
                sites.append(part["site"])
            found[part["site"], part["head"]] = part["value"]
    heads = max((h for _, h in found), default=-1) + 1
    values = np.full((len(sites), heads), np.nan)
    for (site, head), value in found.items():
        values[sites.index(site), head] = value
    return {"sites": sites, "values": values}


def _row(weight: torch.Tensor, i: int) -> torch.Tensor:
    return weight.detach()[i].double().cpu()


def ranked(parts: list[dict], k: int = 10) -> list[dict]:
    """The parts with the largest |value| first (the bias terms too)."""
    return sorted(parts, key=lambda p: -abs(p["value"]))[:k]


# -- for the command line and the app ------------------------------------------------------
def default_position(session: Any, trace: Trace) -> int | None:
    """The position a lens opens on: a causal model's last token, BERT's first [MASK] (else
    its last word), a translation's first decoding step; None for a classifier."""
    read = reader(session.model)
    if not read.per_token:
        return None
    if session.model.arch == "transformer":
        return 0
    return token_position(session, [int(i) for i in trace.records["input/ids"]],
                          trace.meta.get("special") or [])


def token_position(session: Any, ids: list[int], special: list[int]) -> int:
    """Where a language model's answer is read (the lens opens there, patching scores
    there): a causal model's last token; BERT's first [MASK], else its last word (`special`:
    the positions of special tokens)."""
    n = len(ids)
    if session.model.arch != "encoder":
        return n - 1
    mask = getattr(session.tokenizer, "mask_id", None)
    if mask is None and getattr(session.tokenizer, "mask_token", None):
        mask = session.tokenizer.id_of(session.tokenizer.mask_token)
    if mask in ids:
        return ids.index(mask)
    words = [i for i in range(n) if i not in set(special)]
    return words[-1] if words else n - 1


def output_id(session: Any, text: str, size: int) -> int:
    """An output named by the user: its id (or class index), a token of the model's
    vocabulary, or a class label; InputError when there is none."""
    text = text.strip()
    if text.lstrip("-").isdigit():
        _check_target(int(text), size)
        return int(text)
    found = None
    if session.model.input_kind == "image":
        labels = list(session.labels)
        found = labels.index(text) if text in labels else None
    elif getattr(session, "tgt_vocab", None) is not None and session.model.arch == "transformer":
        found = session.tgt_vocab.index.get(text)
    else:
        found = session.tokenizer.id_of(text)
    if found is None:
        raise InputError("'{text}' is not one of this model's outputs (give a token of its "
                         "vocabulary, a class label, or an id)", text=text)
    return int(found)


def output_size(model: nn.Module) -> int:
    """How many outputs the read-out gives (vocabulary or classes), from its weights."""
    read = reader(model)
    if read.head is not None:  # BERT's MLM head: its last linear layer gives the words
        return [m for m in read.head.modules() if isinstance(m, nn.Linear)][-1].out_features
    linear = read.linear if read.per_token else read.reads[0][2]
    return int(linear.weight.shape[0])


def typed_output(session: Any, text: str, size: int) -> int:
    """An output the user typed (the Lens tab's target, or the one subtracted): a class
    label, a word of a preset's output vocabulary, a token of the model's vocabulary as
    written there, or a text the model's tokenizer reads as exactly one token (a leading
    space counts: ' Paris' and 'Paris' are often different tokens); `#id` for an id.
    InputError says how the tokenizer splits a text that is not one token."""
    if not text.strip():
        raise InputError("type a word or a token")
    plain = text.strip()
    if plain.startswith("#") and plain[1:].isdigit():
        _check_target(int(plain[1:]), size)
        return int(plain[1:])
    model = session.model
    tokenizer = getattr(session, "tokenizer", None)
    if model.input_kind == "image" or tokenizer is None or (
            getattr(session, "tgt_vocab", None) is not None and model.arch == "transformer"):
        if model.input_kind != "image" and len(plain.split()) > 1:
            raise InputError("'{text}' is {n} words: type one", text=plain,
                             n=len(plain.split()))
        return output_id(session, plain, size)
    for candidate in dict.fromkeys((text, plain)):  # a token as the vocabulary writes it
        found = tokenizer.id_of(candidate)
        if found is not None and 0 <= found < size:
            return int(found)
    ids, special = tokenizer.encode(text)
    ids = [i for i, s in zip(ids, special) if not s]
    if len(ids) == 1:
        _check_target(int(ids[0]), size)
        return int(ids[0])
    if not ids:
        raise InputError("'{text}' is no token of this model: its tokenizer reads only "
                         "special tokens there", text=text)
    pieces = " · ".join(f"'{t}'" for t in tokenizer.tokens(ids))
    raise InputError("'{text}' is {n} tokens for this model's tokenizer: {pieces}; type one "
                     "token", text=text, n=len(ids), pieces=pieces)


def report(session: Any, trace: Trace, position: int | None = None,
           target: str | int | None = None, minus: str | int | None = None) -> dict:
    """The `lens` command's JSON: position, target, minus, the lens column (one entry per
    stream point, embeddings first, the output last) and the attribution."""
    read = reader(session.model)
    if position is None:
        position = default_position(session, trace)
    elif not read.per_token:
        raise InputError("a classifier is read at its class token or its pooled tokens: "
                         "leave the position out")
    size = read.logits(torch.from_numpy(trace[f"{read.points[-1]}/resid"][:1]).to(
        _param(session.model).dtype)).shape[-1]
    target_id = output_id(session, str(target), size) if target is not None else None
    minus_id = output_id(session, str(minus), size) if minus is not None else None
    dla = attribution(session.model, trace, position, target_id, minus_id)
    layers = lens_column(session.model, trace, position, dla["target"])
    return {"position": dla["position"], "target": dla["target"], "minus": minus_id,
            "stack": read.stack, "layers": layers,
            "attribution": {"value": dla["value"], "parts": dla["parts"]},
            "notes": read.notes}
