"""Compare mode's pieces that need no widget: the difference of two traces, whether two
traces can be subtracted, a one-word change of a sentence, and the two answers side by side.

`DiffTrace(a, b)` reads like a Trace: a float record of the same shape in both runs reads as
A − B (the N × N matrices too, derived per head as `head_matrix` does), anything else (token
ids, masks, flags, meta) as A's. Panels that read one trace from the state need no change.
"""
from __future__ import annotations

import random
from typing import Any

import numpy as np

from models.trace import Trace

VIEWS = ("A", "B", "A-B")  # what the panels show in compare mode
# records with a row per token: equal in both runs (a decoder that wrote the same words),
# their difference is zero, never a constant to read as A's
PER_TOKEN = {"q", "k", "v", "out", "proj", "resid", "sum", "q_unrotated", "k_unrotated",
             "scores", "weights", "heads", "concat"}


def positions(trace: Trace) -> int:
    """The number of query positions of the trace's first attention site (tokens or
    patches): what A and B must agree on to be subtracted."""
    for site in trace.sites():
        if f"{site}/q" in trace.records:
            return int(trace.records[f"{site}/q"].shape[-2])
    return 0


def shapes_agree(a: Trace, b: Trace) -> bool:
    """The same model, the same records, every record of the same shape."""
    if a.meta.get("preset") != b.meta.get("preset") or set(a.records) != set(b.records):
        return False
    return all(a.records[name].shape == b.records[name].shape for name in a.records)


def _subtractable(x: np.ndarray, y: np.ndarray) -> bool:
    return x.shape == y.shape and np.issubdtype(x.dtype, np.floating) and \
        np.issubdtype(y.dtype, np.floating)


class DiffTrace(Trace):
    """A − B for the float records of equal shape, A's for the rest (read the module doc):
    masks, and model constants (records the same in both runs while others differ)."""

    def __init__(self, a: Trace, b: Trace) -> None:
        super().__init__()
        self.a, self.b = a, b
        self.meta = {**a.meta, "compare": {"view": "A-B"}}
        self.residual = a.residual and b.residual  # (the lens asks for a run with it)
        same = {name for name, value in a.records.items() if name in b.records
                and np.array_equal(value, b.records[name])}
        everything = len(same) == len(a.records)  # B is A's input: A − B is zero throughout
        for name, value in a.records.items():
            other = b.records.get(name)
            # a mask (0 / -inf) is where attention may look, not a number to subtract; a
            # model constant (RoPE's frequencies, a position table: the same in both runs
            # while other records differ) is read as it is, not as zeros to divide by
            constant = name in same and not everything and \
                name.rsplit("/", 1)[-1] not in PER_TOKEN
            self.records[name] = value - other if other is not None and not constant and \
                not name.endswith("/mask") and _subtractable(value, other) else value
        self.derivers = dict(a.derivers)

    def __getitem__(self, name: str) -> np.ndarray:
        found = self.records.get(name)
        if found is not None:
            return found
        with self._lock:
            if name in self._cache:
                return self._cache[name]
        x = self.a[name]
        if name.rsplit("/", 1)[-1] != "mask" and name in self.b:
            y = self.b[name]
            x = x - y if _subtractable(x, y) else x
        with self._lock:
            self._remember(name, x)
        return x

    def _derivable(self, name: str) -> bool:
        return self.a._derivable(name)

    def head_matrix(self, site: str, key: str, head: int, window: int | None = None
                    ) -> np.ndarray:
        x = self.a.head_matrix(site, key, head, window)
        if key == "mask":
            return x
        y = self.b.head_matrix(site, key, head, window)
        return x - y if _subtractable(x, y) else x

    def has_head_matrix(self, site: str, key: str, head: int, window: int | None = None
                        ) -> bool:
        return self.a.has_head_matrix(site, key, head, window) and \
            self.b.has_head_matrix(site, key, head, window)


def runs_of(trace: Trace) -> tuple[Trace, Trace] | None:
    """(A, B) when `trace` is compare mode's A − B, else None: for what a panel derives
    from a run non-linearly (a rollout, a lens), whose A − B is the difference of what it
    derives from A and from B, not what it derives from A − B's records."""
    return (trace.a, trace.b) if isinstance(trace, DiffTrace) else None


def signed_levels(x: np.ndarray) -> tuple[float, float]:
    """A diverging scale centred on 0 that holds every finite value of `x`."""
    finite = np.abs(x[np.isfinite(x)]) if x.size else np.zeros(0)
    peak = float(finite.max()) if finite.size else 1.0
    return -max(peak, 1e-6), max(peak, 1e-6)


def change_one_word(text: str, pool: list[str], seed: int | None = None) -> str:
    """`text` with one word replaced by another word of `pool` (words the model knows: its
    sample sentences'), the same number of words; the text itself when nothing can change."""
    words = text.split()
    others = sorted({w for w in pool} - set(words))
    if not words or not others:
        return text
    rng = random.Random(seed if seed is not None else text)
    i = rng.randrange(len(words))
    words[i] = rng.choice(others)
    return " ".join(words)


def answers(meta: dict, k: int = 5) -> list[tuple[str, float]]:
    """The final answer's top-k (name, probability): a language model's at its last
    position, a classifier's classes, a seq2seq model's first output step."""
    if "topk" in meta and meta["topk"]:
        return [(str(w), float(p)) for w, p in meta["topk"][-1][:k]]
    if "probs" in meta and meta.get("labels") is not None:
        probs = np.asarray(meta["probs"], dtype=float).ravel()
        order = np.argsort(-probs)[:k]
        labels = meta["labels"]
        return [(str(labels[i]) if i < len(labels) else str(i), float(probs[i]))
                for i in order]
    if "probs" in meta:
        probs = np.asarray(meta["probs"], dtype=float).ravel()
        order = np.argsort(-probs)[:k]
        return [(str(i), float(probs[i])) for i in order]
    if meta.get("top5"):
        return [(str(w), float(p)) for w, p in meta["top5"][0][:k]]
    return []


def prob_of(meta: dict, name: str) -> float | None:
    """The probability the answer gives `name`, where the trace says it (None: not among
    what it kept, e.g. outside a language model's top 5)."""
    found = dict(answers(meta, k=10**6))
    return found.get(name)


def compare_rows(a: dict, b: dict, k: int = 5) -> list[tuple[str, float, Any, Any]]:
    """For each of A's top-k: (name, p in A, p in B or None, p_B − p_A or None)."""
    rows = []
    for name, p in answers(a, k):
        q = prob_of(b, name)
        change = None if q is None else q - p
        if change is not None and abs(change) < 5e-4:  # not "-0.000"
            change = 0.0
        rows.append((name, p, q, change))
    return rows
