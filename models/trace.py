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
    def __init__(self) -> None:
        self.records: dict[str, np.ndarray] = {}
        self.meta: dict[str, Any] = {}
        self.derivers: dict[str, Any] = {}  # name -> a function computing it when read
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cached_bytes = 0
        self._lock = threading.Lock()  # the worker may fill the cache while panels read

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
            self._derive(*name.rsplit("/", 1))
        with self._lock:
            self._remember(name, value)
        return value

    def __contains__(self, name: str) -> bool:
        return name in self.records or self._derivable(name)

    def get(self, name: str, default: Any = None) -> Any:
        return self[name] if name in self else default

    def keys(self) -> list[str]:
        return list(self.records) + self.derived_keys() + list(self.derivers)

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
        if name in self.derivers:
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

        def part(array: np.ndarray) -> torch.Tensor:
            if window is not None and array.ndim == 4:
                array = array[window]
            if head is not None and array.ndim >= 3 and array.shape[-3] > 1:
                array = array[..., head: head + 1, :, :]
            return torch.from_numpy(np.ascontiguousarray(array))

        q, k = part(self.records[f"{site}/q"]), part(self.records[f"{site}/k"])
        scores = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(q.shape[-1]))
        if key == "weights":
            logits = scores
            if f"{site}/bias" in self.records:
                logits = logits + part(self.records[f"{site}/bias"])
            mask = self.records.get(f"{site}/mask")
            if mask is not None:
                logits = logits + part(mask)
            elif f"{site}/{CAUSAL_FLAG}" in self.records:
                logits = logits + torch.from_numpy(self._derive(site, "mask"))
            scores = logits.softmax(dim=-1)
        result = scores.numpy()
        return result.reshape(result.shape[-2:]) if head is not None else result

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
        for name in sizes:
            self.records[name] = self[name]
        return True

    def nbytes(self) -> int:
        """Bytes held by the records (the derived matrices in the cache left out)."""
        return sum(a.nbytes for a in self.records.values())

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
        meta = {**self.meta, "trace_version": FORMAT_VERSION, "compact": compact}
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


def record(site: str, key: str, value: Any) -> None:
    """Store `value` under `site/key` when a trace is active; drop the batch axis first."""
    trace = getattr(_local, "trace", None)
    if trace is not None:
        if isinstance(value, torch.Tensor) and value.dim() > 0:
            value = value[0]
        trace.add(site, key, value)


def record_raw(site: str, key: str, value: Any) -> None:
    """Like `record` but keeps every axis (for values that carry no batch axis)."""
    trace = getattr(_local, "trace", None)
    if trace is not None:
        trace.add(site, key, value)


@contextmanager
def _swap(trace: Trace | None) -> Iterator[None]:
    previous = getattr(_local, "trace", None)
    _local.trace = trace
    try:
        yield
    finally:
        _local.trace = previous


@contextmanager
def recording(trace: Trace | None = None) -> Iterator[Trace]:
    trace = trace if trace is not None else Trace()
    with _swap(trace):
        yield trace


@contextmanager
def paused() -> Iterator[None]:
    """Run a block untraced inside a recording (e.g. greedy decoding steps)."""
    with _swap(None):
        yield


def name_sites(model: torch.nn.Module) -> None:
    """Give every module its dotted name, so records are keyed like the state dict."""
    for name, module in model.named_modules():
        module.site_name = name  # type: ignore[attr-defined]
