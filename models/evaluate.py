"""Held-out figures for every preset (the `eval` command and the end of training)."""
from __future__ import annotations

import numpy as np
import torch

from . import trace as tracing
from .presets import Session
from .tasks import reverse, translation
from .tasks.digits import load_heldout, scans_to_input
from .transformer import BOS, EOS, PAD

TRANSLATION_SPLIT = dict(seed=7, n_train=60_000, n_heldout=1_000)
REVERSE_SPLIT = dict(seed=11, n_train=60_000, n_heldout=1_000)
BARS = {"translation": {"exact_match": 0.95, "alignment": 0.80},
        "reverse": {"exact_match": 0.98}, "digits": {"accuracy": 0.95}}


def text_pairs(task: str, heldout: bool = True):
    """(source tokens, target tokens, alignment or None) of the fixed split."""
    if task == "translation":
        train, held = translation.make_split(**TRANSLATION_SPLIT)
        return [(p.source, p.target, p.alignment) for p in (held if heldout else train)]
    train, held = reverse.make_split(**REVERSE_SPLIT)
    return [(s, t, None) for s, t in (held if heldout else train)]


def pad_batch(rows: list[list[int]]) -> torch.Tensor:
    width = max(len(r) for r in rows)
    return torch.tensor([r + [PAD] * (width - len(r)) for r in rows])


LENGTH_BUCKETS = ((1, 4), (5, 8), (9, 12), (13, 24))  # source words


def by_length(pairs, hits: list[bool]) -> dict[str, float | None]:
    """Exact match per bucket of source length ('1-4': …); None for an empty bucket."""
    figures: dict[str, float | None] = {}
    for low, high in LENGTH_BUCKETS:
        chosen = [hit for (source, _, _), hit in zip(pairs, hits) if low <= len(source) <= high]
        figures[f"{low}-{high}"] = sum(chosen) / len(chosen) if chosen else None
    return figures


@torch.inference_mode()
def exact_hits(session: Session, pairs, batch: int = 250) -> list[bool]:
    """For each pair: is the greedy output exactly the target?"""
    model, vs, vt = session.model, session.src_vocab, session.tgt_vocab
    hits = []
    for start in range(0, len(pairs), batch):
        chunk = pairs[start: start + batch]
        src = pad_batch([vs.encode(s) + [EOS] for s, _, _ in chunk]).to(session.device)
        out = model.greedy(src).tolist()
        for row, (_, tgt, _) in zip(out, chunk):
            words = row[: row.index(EOS)] if EOS in row else row
            hits.append(vt.decode(words) == tgt)
    return hits



@torch.inference_mode()
def alignment(session: Session, pairs, limit: int | None = None) -> tuple[float, int, list[float]]:
    """Share of aligned target words whose head-averaged cross-attention argmax (teacher
    forced on the gold target) falls on a gold-aligned source word, per decoder layer.
    Returns (best accuracy, best layer, accuracy of every layer)."""
    model, vs, vt = session.model, session.src_vocab, session.tgt_vocab
    layers = model.cfg.dec_layers
    hits, total = np.zeros(layers), 0
    for src_words, tgt_words, gold in pairs[:limit]:
        src = torch.tensor([vs.encode(src_words) + [EOS]], device=session.device)
        tgt = torch.tensor([[BOS] + vt.encode(tgt_words)], device=session.device)
        with tracing.recording() as t:
            model(src, tgt)
        for layer in range(layers):
            weights = t[f"decoder.layers.{layer}.cross_attn/weights"].mean(0)  # (T+1, S+1)
            for row, sources in enumerate(gold):
                hits[layer] += int(weights[row].argmax()) in sources
        total += len(gold)
    per_layer = (hits / total).tolist()
    best = int(np.argmax(per_layer))
    return per_layer[best], best, per_layer


@torch.inference_mode()
def digit_accuracy(session: Session, images: np.ndarray | None = None,
                   labels: np.ndarray | None = None) -> float:
    if images is None:
        images, labels = load_heldout()
    x = scans_to_input(torch.from_numpy(images)).to(session.device)
    predicted = session.model(x).argmax(-1).cpu().numpy()
    return float((predicted == labels).mean())


def evaluate(session: Session, limit: int | None = None) -> dict:
    """Held-out figures of one preset (`limit` takes a slice, for quick tests)."""
    task = session.preset.task
    if task == "digits":
        images, labels = load_heldout()
        images, labels = images[:limit], labels[:limit]
        figures = {"accuracy": digit_accuracy(session, images, labels), "heldout": len(labels)}
    else:
        pairs = text_pairs(task)[:limit]
        hits = exact_hits(session, pairs)
        figures = {"exact_match": sum(hits) / len(hits), "heldout": len(pairs),
                   "exact_match_by_length": by_length(pairs, hits)}
        if task == "translation":
            acc, layer, per_layer = alignment(session, pairs)
            figures.update(alignment=acc, alignment_layer=layer,
                           alignment_per_layer=per_layer)
    figures["passes"] = all(figures[k] >= bar for k, bar in BARS[task].items())
    return figures
