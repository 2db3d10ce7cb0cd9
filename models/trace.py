"""Trace: named numpy records of one model run (see DESIGN.md, "Trace contract").

Models call `record(site, key, tensor)`; it costs one global lookup when no trace is
active. Inside `with recording() as trace:` every call copies the tensor (batch item 0)
to CPU numpy, so no torch tensor and no autograd graph is kept alive.
"""
from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch

# One active trace per thread: the GUI's worker traces while tests or the bench may not.
_local = threading.local()


class Trace:
    def __init__(self) -> None:
        self.records: dict[str, np.ndarray] = {}
        self.meta: dict[str, Any] = {}

    # -- writing -------------------------------------------------------------
    def add(self, site: str, key: str, value: Any) -> None:
        self.records[f"{site}/{key}"] = _to_numpy(value)

    # -- reading -------------------------------------------------------------
    def __getitem__(self, name: str) -> np.ndarray:
        return self.records[name]

    def __contains__(self, name: str) -> bool:
        return name in self.records

    def get(self, name: str, default: Any = None) -> Any:
        return self.records.get(name, default)

    def keys(self) -> list[str]:
        return list(self.records)

    def sites(self, kind: str | None = None) -> list[str]:
        """Attention site names in model order (optionally of one kind)."""
        sites = self.meta.get("sites", {})
        return [s for s, info in sites.items() if kind is None or info.get("kind") == kind]

    # -- files ---------------------------------------------------------------
    def save_npz(self, path: str) -> None:
        """Write to exactly `path` (numpy would add `.npz` to a name without it)."""
        with open(path, "wb") as file:
            np.savez_compressed(file, meta=np.array(json.dumps(self.meta)), **self.records)

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
