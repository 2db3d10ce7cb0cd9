"""Trace: named numpy records of one model run (see docs/trace-format.md).

Models call `record(site, key, tensor)`; it costs one global lookup when no trace is
active. Inside `with recording() as trace:` every call copies the tensor (batch item 0)
to CPU numpy, so no torch tensor and no autograd graph is kept alive.

Scale rule: a run records what grows linearly with the number of tokens N — per site q,
k, v, the outputs, the bias and the mask (a causal mask as a flag, `S/causal`). The N × N
matrices `S/scores`, `S/weights` (and a causal site's `S/mask`) are computed from those
when they are read, with the same torch operations as the explicit path of `attend()`, and
kept in a bounded least-recently-used cache. Reading code does not see the difference:
`trace["S/weights"]`, `"S/weights" in trace` and `keys()` behave as if they were stored.
`head_matrix` computes one head (and window) only: N² numbers instead of H·N².
"""
from __future__ import annotations

import json
import math
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch

from .sites import SiteKind

# One active trace per thread: the GUI's worker traces while tests or the bench may not.
_local = threading.local()

DERIVED = ("scores", "weights")  # computed on demand from q, k (+ bias, mask)
FORMAT_VERSION = 2  # meta["trace_version"]: 2 = N×N matrices derived; files say compact or not
# Derived matrices kept for reading again: 16 heads' weights at 1,024 tokens (one head
# is 4 MB); 256 MB held matrices no panel was showing any more.
CACHE_BYTES = 64 * 2**20
# The record key of a causal site's mask flag, `S/causal` (a record's name in the trace
# format, not a site kind): its N × N mask is derived from it.
CAUSAL_FLAG = "causal"
# ... and a sliding window's width, `S/window` beside it: keys more than w - 1 back masked too
WINDOW_FLAG = "window"


def causal_mask(n: int, device=None, n_keys: int | None = None,
                window: int | None = None) -> torch.Tensor:
    """Additive (1, 1, n, n_keys) mask: query t may see keys 0..t, -inf for the later ones
    (and, with a sliding `window` w, for keys t - w and before: t - w + 1..t are left).
    Here (not in attention.py) because both attending and deriving a trace's mask use it."""
    future = torch.ones(n, n if n_keys is None else n_keys, dtype=torch.bool,
                        device=device).triu(1)
    if window:
        future |= torch.ones_like(future).tril(-window)
    return torch.zeros(future.shape, device=device).masked_fill(future, float("-inf"))[
        None, None]


class Trace:
    # a corpus run's (models/corpus.py): attention sites record q, k, v, bias and mask of
    # every input of the batch, not only the first (the rest of the trace stays item 0's)
    whole_batch = False

    def __init__(self) -> None:
        self.records: dict[str, np.ndarray] = {}
        self.meta: dict[str, Any] = {}
        self.derivers: dict[str, Any] = {}  # name -> a function computing it when read
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cached_bytes = 0
        self._lock = threading.Lock()  # the worker may fill the cache while panels read
        self.last_stream: tuple | None = None  # while recording: (tensor, point) last streamed
        self.last_resid: tuple | None = None  # while recording: the same, kept until the next
        self.last_record: tuple | None = None  # while recording: (tensor, name) last recorded
        # records that are the sum (or difference) of two others, computed when read:
        # name -> (a, b, sign, shape): a + sign · b (the residual stream, docs/trace-format.md)
        self.sums: dict[str, tuple[str, str, int, tuple]] = {}
        # whether the residual stream is recorded (`P/resid`, `P/write`, `S/o_weight`): off
        # for a run inside `without_stream()` (the app's live runs while no panel reads it)
        self.residual = True

    # -- writing -------------------------------------------------------------
    def add(self, site: str, key: str, value: Any) -> None:
        self.records[f"{site}/{key}"] = _to_numpy(value)

    def add_derived(self, site: str, key: str, compute: Any) -> None:
        """`site/key` computed by `compute()` when first read (e.g. a language model's
        [N, V] probabilities, ~200 MB at 1,024 tokens, which no panel needs whole)."""
        self.derivers[f"{site}/{key}"] = compute

    # -- reading -------------------------------------------------------------
    def __getitem__(self, name: str) -> np.ndarray:
        found = self.records.get(name)
        if found is not None:
            return found
        if not self._derivable(name):
            raise KeyError(name)
        with self._lock:
            if name in self._cache:
                self._cache.move_to_end(name)
                return self._cache[name]
        value = _to_numpy(self.derivers[name]()) if name in self.derivers else \
            self._sum(name) if name in self.sums else self._derive(*name.rsplit("/", 1))
        with self._lock:
            self._remember(name, value)
        return value

    def __contains__(self, name: str) -> bool:
        return name in self.records or self._derivable(name)

    def get(self, name: str, default: Any = None) -> Any:
        return self[name] if name in self else default

    def keys(self) -> list[str]:
        return list(self.records) + self.derived_keys() + list(self.derivers) + \
            list(self.sums)

    def _sum(self, name: str) -> np.ndarray:
        """A stream record derived from two others, with the model's own float32 operation
        (the previous stream plus the attention's output is the stream exactly)."""
        a, b, sign, shape = self.sums[name]
        return (self[a] + self[b] if sign > 0 else self[a] - self[b]).reshape(shape)

    def attention_sites(self) -> list[str]:
        """Sites whose q, k and out were recorded (every attention site of a run)."""
        return [name[:-2] for name in self.records if name.endswith("/q")
                and f"{name[:-2]}/k" in self.records and f"{name[:-2]}/out" in self.records]

    def derived_keys(self) -> list[str]:
        """The N×N records computed when read: scores and weights of every site, and the
        mask of a causal site."""
        keys = []
        for site in self.attention_sites():
            keys += [f"{site}/{key}" for key in DERIVED if f"{site}/{key}" not in self.records]
            if f"{site}/{CAUSAL_FLAG}" in self.records and f"{site}/mask" not in self.records:
                keys.append(f"{site}/mask")
        return keys

    def _derivable(self, name: str) -> bool:
        if name in self.derivers or name in self.sums:
            return True
        site, _, key = name.rpartition("/")
        if key in DERIVED:
            return f"{site}/q" in self.records and f"{site}/k" in self.records and \
                f"{site}/out" in self.records
        return key == "mask" and f"{site}/{CAUSAL_FLAG}" in self.records

    def head_matrix(self, site: str, key: str, head: int, window: int | None = None
                    ) -> np.ndarray:
        """(Nq, Nk) `key` ("scores", "weights" or "mask") of one head (and Swin window),
        computing only that head when the site's matrices are not at hand already."""
        name = f"{site}/{key}"
        if name in self.records or name in self._cache or key == "mask":
            full = self[name]
            if key == "mask":  # broadcastable: (1, Nq, Nk), (nW, 1, N, N), …
                full = full[window] if window is not None and full.ndim == 4 else full
                return full.reshape(full.shape[-2:])
            return full[window, head] if window is not None else full[head]
        one = self._head_name(site, key, head, window)
        with self._lock:
            if one in self._cache:
                self._cache.move_to_end(one)
                return self._cache[one]
        value = self._derive(site, key, head, window)
        with self._lock:
            self._remember(one, value)
        return value

    def has_head_matrix(self, site: str, key: str, head: int, window: int | None = None
                        ) -> bool:
        """Whether `head_matrix` returns at once: recorded, or computed already."""
        name = f"{site}/{key}"
        with self._lock:
            return name in self.records or name in self._cache or \
                self._head_name(site, key, head, window) in self._cache

    @staticmethod
    def _head_name(site: str, key: str, head: int, window: int | None) -> str:
        return f"{site}/{key}#{head}" + ("" if window is None else f"@{window}")

    def _derive(self, site: str, key: str, head: int | None = None,
                window: int | None = None) -> np.ndarray:
        """The same operations as attend()'s explicit path, in float32 torch."""
        n_q = self.records[f"{site}/q"].shape[-2]
        n_k = self.records[f"{site}/k"].shape[-2]
        if key == "mask":  # causal: query i sees keys 0..i (within a window, if it has one)
            window = self.records.get(f"{site}/{WINDOW_FLAG}")
            return causal_mask(n_q, n_keys=n_k,
                               window=None if window is None else int(window))[0].numpy()

        scores, weights = self._attention(site, head, window, key == "weights")
        result = (weights if key == "weights" else scores).numpy()
        return result.reshape(result.shape[-2:]) if head is not None else result

    def _attention(self, site: str, head: int | None, window: int | None,
                   with_weights: bool) -> tuple[torch.Tensor, torch.Tensor | None]:
        """A site's scores and, when asked, its weights from one q kᵀ (all heads, or one
        head and Swin window)."""
        def part(array: np.ndarray) -> torch.Tensor:
            if window is not None and array.ndim == 4:
                array = array[window]
            if head is not None and array.ndim >= 3 and array.shape[-3] > 1:
                array = array[..., head: head + 1, :, :]
            return torch.from_numpy(np.ascontiguousarray(array))

        q, k = part(self.records[f"{site}/q"]), part(self.records[f"{site}/k"])
        scores = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(q.shape[-1]))
        if not with_weights:
            return scores, None
        logits = scores
        if f"{site}/bias" in self.records:
            logits = logits + part(self.records[f"{site}/bias"])
        mask = self.records.get(f"{site}/mask")
        if mask is not None:
            logits = logits + part(mask)
        elif f"{site}/{CAUSAL_FLAG}" in self.records:
            logits = logits + torch.from_numpy(self._derive(site, "mask"))
        return scores, logits.softmax(dim=-1)

    def _remember(self, name: str, value: np.ndarray) -> None:
        self._cache[name] = value
        self._cached_bytes += value.nbytes
        while self._cached_bytes > CACHE_BYTES and len(self._cache) > 1:
            _, dropped = self._cache.popitem(last=False)
            self._cached_bytes -= dropped.nbytes

    def materialize(self, limit_bytes: int = 32 * 2**20) -> bool:
        """Compute every derived matrix now (in the worker), when all of them together
        take at most `limit_bytes`: a small model's panels then read plain arrays."""
        sizes = {}
        for name in self.derived_keys():
            site, key = name.rsplit("/", 1)
            q, k = self.records[f"{site}/q"], self.records[f"{site}/k"]
            sizes[name] = q.size // q.shape[-1] * k.shape[-2] * 4
        if sum(sizes.values()) > limit_bytes:
            return False
        for name in sizes:  # scores and weights of a site from one q kᵀ
            site, key = name.rsplit("/", 1)
            if name in self.records:
                continue
            if key == "mask":
                self.records[name] = self[name]
                continue
            scores, weights = self._attention(site, None, None, f"{site}/weights" in sizes)
            if f"{site}/scores" in sizes:
                self.records[f"{site}/scores"] = scores.numpy()
            if weights is not None:
                self.records[f"{site}/weights"] = weights.numpy()
        return True

    def nbytes(self) -> int:
        """Bytes held by the records (the derived matrices in the cache left out)."""
        held = {id(a if a.base is None else a.base): a if a.base is None else a.base
                for a in self.records.values()}  # a record kept as a view of another: once
        return sum(a.nbytes for a in held.values())

    def sites(self, kind: SiteKind | str | None = None) -> list[str]:
        """Attention site names in model order (optionally of one kind: a `SiteKind` such
        as `models.sites.CROSS`, or its key as a trace writes it)."""
        key = kind.key if isinstance(kind, SiteKind) else kind
        sites = self.meta.get("sites", {})
        return [s for s, info in sites.items() if key is None or info.get("kind") == key]

    # -- files ---------------------------------------------------------------
    def save_npz(self, path: str, compact: bool = False) -> None:
        """Write to exactly `path` (numpy would add `.npz` to a name without it). By default
        every N×N matrix is written out (a file is for analysis); `compact` writes the
        linear records only, from which `load_npz` derives the same matrices."""
        records = {name: value for name, value in self.records.items()
                   if not (compact and self._derivable(name))}
        records.update({name: self[name] for name in self.derivers})  # (linear in N)
        if not compact:
            records.update({name: self[name] for name in self.derived_keys()})
            records.update({name: self[name] for name in self.sums})
        meta = {**self.meta, "trace_version": FORMAT_VERSION, "compact": compact}
        if compact and self.sums:  # what load_npz derives them from
            meta["sums"] = {name: [a, b, sign, list(shape)]
                            for name, (a, b, sign, shape) in self.sums.items()}
        with open(path, "wb") as file:
            np.savez_compressed(file, meta=np.array(json.dumps(meta)), **records)

    @classmethod
    def load_npz(cls, path: str) -> Trace:
        trace = cls()
        with np.load(path, allow_pickle=False) as data:
            for name in data.files:
                if name == "meta":
                    trace.meta = json.loads(str(data["meta"]))
                else:
                    trace.records[name] = data[name]
        trace.sums = {name: (a, b, sign, tuple(shape)) for name, (a, b, sign, shape)
                      in trace.meta.pop("sums", {}).items() if name not in trace.records}
        return trace


def _to_numpy(value: Any) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        value = value.detach()
        if value.is_floating_point():
            value = value.float()
        return value.cpu().numpy().copy()
    return np.asarray(value).copy()


def is_recording() -> bool:
    return getattr(_local, "trace", None) is not None


def whole_batch() -> bool:
    """Whether the active trace keeps every batch item of an attention site's inputs."""
    return getattr(getattr(_local, "trace", None), "whole_batch", False)


def record(site: str, key: str, value: Any) -> None:
    """Store `value` under `site/key` when a trace is active; drop the batch axis first."""
    trace = getattr(_local, "trace", None)
    if trace is not None:
        same = getattr(trace, "last_stream", None)
        if same is not None and same[0] is value:  # a block's output: the stream's record
            name = f"{same[1]}/resid"
            if name in trace.sums:  # (derived: so is the block's output)
                trace.sums[f"{site}/{key}"] = (*trace.sums[name][:3], tuple(value.shape[1:]))
            else:
                trace.records[f"{site}/{key}"] = trace.records[name].reshape(
                    value.shape[1:])  # (a view)
            trace.last_stream = None
            return
        if isinstance(value, torch.Tensor) and value.dim() > 0:
            trace.last_record = (value, f"{site}/{key}")
            value = value[0]
        trace.add(site, key, value)


def record_from(site: str, key: str, source: str, compute: Any) -> bool:
    """`site/key` derived when read as `compute(x)` of the record `site/source` (a torch
    tensor of it, float32), not stored: for what the model computes from one record by an
    operation that reads nothing else (a per-head norm), repeated exactly on read. False
    (nothing done) when no trace is active or the source is not recorded."""
    trace = getattr(_local, "trace", None)
    kept = None if trace is None else trace.records.get(f"{site}/{source}")
    if kept is None:
        return False
    trace.add_derived(site, key, lambda: compute(torch.from_numpy(kept)))
    return True


def record_raw(site: str, key: str, value: Any) -> None:
    """Like `record` but keeps every axis (for values that carry no batch axis)."""
    trace = getattr(_local, "trace", None)
    if trace is not None:
        trace.add(site, key, value)


@contextmanager
def _set_local(name: str, value: Any) -> Iterator[None]:
    """This thread's `name` (the trace, the no-stream flag, the patch plan) set for a block,
    and put back after it."""
    previous = getattr(_local, name, None)
    setattr(_local, name, value)
    try:
        yield
    finally:
        setattr(_local, name, previous)


@contextmanager
def recording(trace: Trace | None = None) -> Iterator[Trace]:
    trace = trace if trace is not None else Trace()
    if getattr(_local, "no_stream", False):
        trace.residual = False
    try:
        with _set_local("trace", trace):
            yield trace
    finally:
        # no tensor of the run kept alive by the trace
        trace.last_stream = trace.last_resid = trace.last_record = None


@contextmanager
def without_stream() -> Iterator[None]:
    """Traces started inside this block (on this thread) record no residual stream, only
    the attention records: the app's live runs while no panel reads it (docs/performance.md)."""
    with _set_local("no_stream", True):
        yield


@contextmanager
def paused() -> Iterator[None]:
    """Run a block untraced inside a recording (e.g. greedy decoding steps)."""
    with _set_local("trace", None):
        yield


def name_sites(model: torch.nn.Module) -> None:
    """Give every module its dotted name, so records are keyed like the state dict."""
    for name, module in model.named_modules():
        module.site_name = name  # type: ignore[attr-defined]


# -- the residual stream (docs/trace-format.md, "The residual stream") -----------------
# A point is named as in `ModelBase.residual_points()`: the module whose output the stream
# holds there. `P/resid` is the stream after P, `P/write` what an MLP point added to it;
# an attention site's heads' writes are derived on read from `S/out` and `S/o_weight`.
def _tokens(value: torch.Tensor) -> torch.Tensor:
    """Batch item 0 as (N, D): Swin's (H, W, C) grid read row-major."""
    value = value[0]
    return value.reshape(-1, value.shape[-1])


def _name(point: Any) -> str:
    """A stream point given as a module or as its name: the name."""
    return point if isinstance(point, str) else point.site_name


def stream(point: Any, x: torch.Tensor, write: torch.Tensor | None = None,
           base: torch.Tensor | None = None, added: torch.Tensor | None = None
           ) -> torch.Tensor:
    """Record the stream `x` after `point` (a module or its name), and the sublayer's
    `write` when given; return `x` (unchanged unless a patch plan replaces some of its
    rows: callers use what it returns). Costs two lookups when not tracing or patching.

    `base`: x is `base` + the write (`write` an MLP's, `added` an attention's). Where `base`
    is the stream recorded last and all is float32, less is stored: an MLP's write is the
    stream minus the one before it, and the stream after an attention whose output was
    recorded (`S/proj`) is the one before plus it, exactly (`Trace.sums`)."""
    plan = getattr(_local, "plan", None)
    given = x
    if plan is not None:
        x = plan.tensor("resid", _name(point), x)
    trace = getattr(_local, "trace", None)
    if trace is not None and trace.residual:
        name = _name(point)
        before, made = trace.last_resid, trace.last_record
        summed = base is not None and x is given and before is not None and \
            before[0] is base and x.dtype == torch.float32
        if summed and added is not None and made is not None and made[0] is added and \
                made[1] in trace.records and added.shape == x.shape:
            shape = tuple(_tokens(x).shape)
            trace.sums[f"{name}/resid"] = (f"{before[1]}/resid", made[1], 1, shape)
        elif summed and write is not None:
            trace.add(name, "resid", _tokens(x))
            trace.sums[f"{name}/write"] = (f"{name}/resid", f"{before[1]}/resid", -1,
                                           tuple(_tokens(x).shape))
        elif made is not None and made[0] is x and made[1] in trace.records:
            # the stream is a tensor recorded just now (the embeddings' sum): one array
            trace.records[f"{name}/resid"] = trace.records[made[1]].reshape(
                _tokens(x).shape)
        else:
            trace.add(name, "resid", _tokens(x))
            if write is not None:
                trace.add(name, "write", _tokens(write))
        trace.last_stream = trace.last_resid = (x, name)  # a `record` of it shares the array
    return x


def add_write(point: Any, x: torch.Tensor, write: torch.Tensor) -> torch.Tensor:
    """x + write, recorded as the stream after `point` with its write (a pre-norm MLP)."""
    write = sublayer(point, write)
    return stream(point, x + write, write, base=x)


def add_attention(point: Any, x: torch.Tensor, write: torch.Tensor) -> torch.Tensor:
    """x + write, recorded as the stream after attention site `point` (pre-norm); its
    heads' writes are derived from `S/out` and `S/o_weight`."""
    write = sublayer(point, write)
    return stream(point, x + write, base=x, added=write)


# -- activation patching (models/patching.py) ------------------------------------------
# A patch plan, active on one thread inside `with patching(plan):`, sees every stream value,
# every sublayer's write before it is added (or normed, post-norm) and every site's q, k, v
# and per-head outputs; it may record them or hand back copies with some rows replaced.
def sublayer(point: Any, write: torch.Tensor) -> torch.Tensor:
    """The write of the sublayer at `point` (attention or MLP output, before it joins the
    stream); returns it, zeros where the module is `switched_off` (an intervention), or a
    patch plan's replacement. Two lookups when not patching."""
    if getattr(point, "switched_off", False):  # an MLP switched off: it writes nothing
        write = torch.zeros_like(write)
    plan = getattr(_local, "plan", None)
    if plan is None:
        return write
    return plan.tensor("write", _name(point), write)


def patch_plan() -> Any:
    """The patch plan active on this thread, or None (attention.py asks once per site)."""
    return getattr(_local, "plan", None)


@contextmanager
def patching(plan: Any) -> Iterator[Any]:
    """Run a block with `plan` consulted by `stream`, `sublayer` and `attend`."""
    with _set_local("plan", plan):
        yield plan


def record_output_projection(site: str, linear: torch.nn.Linear) -> None:
    """W_O [D, H·dh] (and its bias) of an attention site: each head's write into the
    stream is derived from it and `S/out` when read."""
    trace = getattr(_local, "trace", None)
    if trace is not None and trace.residual:
        trace.add(site, "o_weight", linear.weight)
        if linear.bias is not None:
            trace.add(site, "o_bias", linear.bias)


def head_writes(trace: Trace, site: str, positions: Any = None) -> np.ndarray:
    """[H, n, D]: what each head of `site` adds to the stream at `positions` (token order;
    all when None) — its output through its slice of W_O, without the bias."""
    out = trace.records[f"{site}/out"]
    weight = trace.records[f"{site}/o_weight"]  # (D, H·dh)
    if out.ndim == 4:  # Swin: (nW, H, n, dh) -> token order through the recorded windows
        block = site.rsplit(".", 1)[0]
        window = trace.records[f"{block}/window_of_token"].reshape(-1)
        inside = trace.records[f"{block}/index_in_window"].reshape(-1)
        out = out[window, :, inside].transpose(1, 0, 2)  # (H, N, dh)
    if positions is not None:
        out = out[:, positions]
    heads, dh = out.shape[0], out.shape[-1]
    w = torch.from_numpy(np.ascontiguousarray(weight)).view(weight.shape[0], heads, dh)
    o = torch.from_numpy(np.ascontiguousarray(out))
    return torch.einsum("hnd,ehd->hne", o, w).numpy()
