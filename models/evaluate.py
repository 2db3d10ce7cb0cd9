"""Held-out figures for every preset (the `eval` command and the end of training)."""
from __future__ import annotations

import numpy as np
import torch

from . import trace as tracing
from .session import Session
from .sites import kind
from .tasks import induction, reverse, translation
from .tasks.digits import load_heldout, mouse_digits, prepare_digit
from .transformer import BOS, EOS, PAD

TRANSLATION_SPLIT = dict(seed=7, n_train=200_000, n_heldout=1_000)
REVERSE_SPLIT = dict(seed=11, n_train=60_000, n_heldout=1_000)
BARS = {"translation": {"exact_match": 0.95, "alignment": 0.90, "reference_agreement": 0.95},
        "reverse": {"exact_match": 0.98}, "digits": {"accuracy": 0.97, "mouse_accuracy": 0.9},
        # by preset where the task (causal-lm) is shared with opened models
        "induction": {"repeat_accuracy": 0.95, "induction_score": 0.8,
                      "previous_token_score": 0.8}}
INDUCTION_BARS = BARS["induction"]
DIGIT_SOURCES = ("strokes", "fonts", "scans")


def text_pairs(task: str, heldout: bool = True):
    """(source tokens, target tokens, alignment or None) of the fixed split."""
    if task == "translation":
        seed, n_train, n_heldout = (TRANSLATION_SPLIT[k] for k in ("seed", "n_train",
                                                                    "n_heldout"))
        held = translation.heldout_pairs(seed, n_heldout)
        if heldout:
            pairs = held
        else:  # the training stream never repeats a held-out sentence
            stream = translation.training_stream(seed + 1, {" ".join(p.source) for p in held})
            pairs = [next(stream) for _ in range(n_train)]
        return [(p.source, p.target, p.alignment) for p in pairs]
    train, held = reverse.make_split(**REVERSE_SPLIT)
    return [(s, t, None) for s, t in (held if heldout else train)]


def pad_batch(rows: list[list[int]]) -> torch.Tensor:
    width = max(len(r) for r in rows)
    return torch.tensor([r + [PAD] * (width - len(r)) for r in rows])


LENGTH_BUCKETS = translation.LENGTH_BUCKETS  # source words: 1-8, 9-16, 17-24


def by_length(pairs, hits: list[bool]) -> dict[str, float | None]:
    """Exact match per bucket of source length ('1-4': …); None for an empty bucket."""
    figures: dict[str, float | None] = {}
    for low, high in LENGTH_BUCKETS:
        chosen = [hit for (source, _, _), hit in zip(pairs, hits) if low <= len(source) <= high]
        figures[f"{low}-{high}"] = sum(chosen) / len(chosen) if chosen else None
    return figures


@torch.inference_mode()
def predictions(session: Session, pairs, batch: int = 250) -> list[list[str]]:
    """The greedy output words of every pair's source."""
    model, vs, vt = session.model, session.src_vocab, session.tgt_vocab
    outputs = []
    for start in range(0, len(pairs), batch):
        chunk = pairs[start: start + batch]
        src = pad_batch([vs.encode(s) + [EOS] for s, _, _ in chunk]).to(session.device)
        for row in model.greedy(src).tolist():
            outputs.append(vt.decode(row[: row.index(EOS)] if EOS in row else row))
    return outputs


def exact_hits(session: Session, pairs) -> list[bool]:
    """For each pair: is the greedy output exactly the target?"""
    return [out == tgt for out, (_, tgt, _) in zip(predictions(session, pairs), pairs)]


SUPERVISED_HEAD = 0  # the one head of the last cross-attention layer trained to align
SIMILARITY_BAR = 0.8  # the last cross-attention layer's heads: mean pairwise cosine below


@torch.inference_mode()
def head_figures(session: Session, pairs) -> dict[str, dict]:
    """Per attention site, teacher forced on the gold target of each pair: every head's
    entropy (nats, mean over query rows), the mean and the lowest pairwise cosine similarity
    of the heads' weight matrices (mean over sentences), and for cross-attention every
    head's alignment (share of aligned target words whose argmax is a gold source word)."""
    model, vs, vt = session.model, session.src_vocab, session.tgt_vocab
    reading = {site for site, info in session.describe()["sites"].items()
               if kind(info["kind"]).reads_encoder}  # cross-attention: rows align to words
    sums: dict[str, dict[str, np.ndarray]] = {}
    words = 0
    for src_words, tgt_words, gold in pairs:
        src = torch.tensor([vs.encode(src_words) + [EOS]], device=session.device)
        tgt = torch.tensor([[BOS] + vt.encode(tgt_words)], device=session.device)
        with tracing.recording() as t:
            model(src, tgt)
        for key in [k for k in t.keys() if k.endswith("/weights")]:
            site, w = key[: -len("/weights")], t[key].astype(np.float64)  # (H, Nq, Nk)
            heads = w.shape[0]
            acc = sums.setdefault(site, {"entropy": np.zeros(heads),
                                         "similarity": np.zeros((heads, heads)),
                                         "alignment": np.zeros(heads)})
            acc["entropy"] += -(w * np.log(w + 1e-12)).sum(-1).mean(-1)
            flat = w.reshape(heads, -1)
            flat = flat / np.linalg.norm(flat, axis=1, keepdims=True).clip(1e-12)
            acc["similarity"] += flat @ flat.T
            if site in reading:
                best = w[:, : len(gold)].argmax(-1)  # (H, T)
                acc["alignment"] += [sum(int(best[h, row]) in sources
                                         for row, sources in enumerate(gold))
                                     for h in range(heads)]
        words += len(gold)
    figures = {}
    for site, acc in sums.items():
        heads = len(acc["entropy"])
        similarity = acc["similarity"] / len(pairs)
        pairwise = similarity[np.triu_indices(heads, 1)]
        figures[site] = {"entropy": (acc["entropy"] / len(pairs)).round(3).tolist(),
                         "mean_similarity": round(float(pairwise.mean()), 3),
                         "min_similarity": round(float(pairwise.min()), 3)}
        if site in reading:
            figures[site]["alignment"] = (acc["alignment"] / words).round(4).tolist()
    return figures


@torch.inference_mode()
def digit_predictions(session: Session, images: np.ndarray) -> np.ndarray:
    """(N, 32, 32) model inputs in [0, 1] -> predicted digits."""
    x = torch.from_numpy(np.asarray(images, np.float32))[:, None].to(session.device)
    return np.concatenate([session.model(chunk).argmax(-1).cpu().numpy()
                           for chunk in x.split(500)])


def mouse_accuracy(session: Session) -> tuple[float, int]:
    """Accuracy on the mouse-stroke test digits, each through the app's own image path."""
    images, labels = mouse_digits()
    prepared = np.stack([prepare_digit(image)[0] for image in images])
    return float((digit_predictions(session, prepared) == labels).mean()), len(labels)


def induction_batch(chunk: list[induction.Example]) -> torch.Tensor:
    """(B, N) ids: <bos> and the words, padded at the end (the causal mask keeps the padding
    out of every earlier row)."""
    rows = [e.ids() for e in chunk]
    width = max(map(len, rows))
    return torch.tensor([r + [induction.PAD] * (width - len(r)) for r in rows])


@torch.inference_mode()
def induction_scores(model, examples: list[induction.Example], batch: int = 250) -> dict:
    """What the model does on sequences with a repeated segment (models/tasks/induction.py),
    counted over token positions (word w of a sequence is position w + 1, after <bos>):

    repeat_accuracy: next-token accuracy where the answer is in the repeat (positions
        b + j, j < s - 1: the word after each repeated word but the last);
    first_accuracy: the same on the segment's first occurrence (a + j), where the next word
        is random: chance is about 1 / 300;
    previous_token[l][h]: mean weight of head h of layer l from a token to the one before
        it (every token after <bos>);
    induction[l][h]: mean weight from a token of the repeat (b + j, every j) to the token
        right after its earlier occurrence (a + j + 1)."""
    layers = list(model.layers)
    hits = {"repeat": [], "first": []}
    previous = np.zeros((len(layers), layers[0].attn.num_heads))
    induct = np.zeros_like(previous)
    n_previous = n_induct = 0
    for start in range(0, len(examples), batch):
        chunk = examples[start: start + batch]
        ids = induction_batch(chunk).to(next(model.parameters()).device)
        for layer in layers:
            layer.attn.kept_weights = []
        try:
            best = model(ids).argmax(-1).cpu()  # (B, N)
            weights = [layer.attn.kept_weights.pop().double().cpu().numpy()
                       for layer in layers]  # each (B, H, N, N)
        finally:
            for layer in layers:
                layer.attn.kept_weights = None
        ids = ids.cpu()
        for row, e in enumerate(chunk):
            for part, start_word in (("repeat", e.repeat), ("first", e.first)):
                at = np.arange(start_word, start_word + e.length - 1) + 1  # token positions
                hits[part].extend((best[row, at] == ids[row, at + 1]).tolist())
            n = len(e.words) + 1
            queries = np.arange(1, n)
            repeat = np.arange(e.repeat, e.repeat + e.length) + 1
            after_first = np.arange(e.first, e.first + e.length) + 2
            for i, w in enumerate(weights):
                previous[i] += w[row][:, queries, queries - 1].sum(-1)
                induct[i] += w[row][:, repeat, after_first].sum(-1)
            n_previous += len(queries)
            n_induct += len(repeat)
    return {"repeat_accuracy": float(np.mean(hits["repeat"])),
            "first_accuracy": float(np.mean(hits["first"])),
            "previous_token": (previous / n_previous).round(4).tolist(),
            "induction": (induct / n_induct).round(4).tolist()}


def induction_figures(model, examples: list[induction.Example]) -> dict:
    """The eval of the induction preset: induction_scores, the best previous-token head of
    layer 0 and induction head of layer 1, and the repeat's accuracy with heads switched off
    (head_gate): the previous-token head; the best induction head; every layer-1 head whose
    induction score is at least 0.5 (a second induction head can stand in for the first)."""
    figures = induction_scores(model, examples)
    prev_head = int(np.argmax(figures["previous_token"][0]))
    ind_head = int(np.argmax(figures["induction"][1]))
    ind_heads = [h for h, score in enumerate(figures["induction"][1]) if score >= 0.5]
    figures.update(
        chance=1 / len(induction.words()), sequences=len(examples),
        previous_token_head=f"layers.0.attn head {prev_head}",
        previous_token_score=figures["previous_token"][0][prev_head],
        induction_head=f"layers.1.attn head {ind_head}",
        induction_score=figures["induction"][1][ind_head],
        induction_heads=[f"layers.1.attn head {h}" for h in ind_heads])
    for key, layer, heads in (("without_previous_token_head", 0, [prev_head]),
                              ("without_induction_head", 1, [ind_head]),
                              ("without_induction_heads", 1, ind_heads)):
        attn = model.layers[layer].attn
        before = attn.head_gate  # an intervention of the caller's, put back afterwards
        attn.head_gate = torch.ones(attn.num_heads, device=next(model.parameters()).device)
        if before is not None:
            attn.head_gate.copy_(before)
        attn.head_gate[heads] = 0.0
        try:
            figures[f"repeat_accuracy_{key}"] = induction_scores(model, examples)[
                "repeat_accuracy"]
        finally:
            attn.head_gate = before
    figures["passes"] = all(figures[k] >= bar for k, bar in INDUCTION_BARS.items())
    return figures


def bars(preset) -> dict[str, float]:
    """The bars a preset's held-out figures are held to."""
    return BARS.get(preset.name) or BARS[preset.task]


def evaluate(session: Session, limit: int | None = None) -> dict:
    """Held-out figures of one preset (`limit` takes a slice of the held-out set, for quick
    tests; the mouse-drawn digits are always all evaluated)."""
    task = session.preset.task
    if session.preset.name == "induction":  # its task, causal-lm, is also opened models'
        examples = induction.heldout()[:limit]
        return {**induction_figures(session.model, examples), "heldout": len(examples)}
    if task == "digits":
        images, labels, sources = (a[:limit] for a in load_heldout())
        hits = digit_predictions(session, images) == labels
        figures = {"accuracy": float(hits.mean()), "heldout": len(labels),
                   "accuracy_by_source": {name: float(hits[sources == k].mean())
                                          for k, name in enumerate(DIGIT_SOURCES)
                                          if (sources == k).any()}}
        figures["mouse_accuracy"], figures["mouse_digits"] = mouse_accuracy(session)
    else:
        pairs = text_pairs(task)[:limit]
        outputs = predictions(session, pairs)
        hits = [out == tgt for out, (_, tgt, _) in zip(outputs, pairs)]
        figures = {"exact_match": sum(hits) / len(hits), "heldout": len(pairs),
                   "exact_match_by_length": by_length(pairs, hits)}
        if task == "translation":
            # against the rule-based translator, an independent path from the gold targets
            figures["reference_agreement"] = sum(
                out == translation.reference_translation(source).translation
                for out, (source, _, _) in zip(outputs, pairs)) / len(pairs)
            heads = head_figures(session, pairs)
            last_cross = f"decoder.layers.{session.model.cfg.dec_layers - 1}.cross_attn"
            figures.update(alignment=heads[last_cross]["alignment"][SUPERVISED_HEAD],
                           alignment_site=f"{last_cross} head {SUPERVISED_HEAD}",
                           last_cross_similarity=heads[last_cross]["mean_similarity"],
                           heads=heads)
    figures["passes"] = all(figures[k] >= bar for k, bar in BARS[task].items())
    if task == "translation":
        figures["passes"] &= figures["last_cross_similarity"] < SIMILARITY_BAR
        figures["passes"] &= all(figures["exact_match_by_length"][bucket] >= BARS[task][
            "exact_match"] for bucket in figures["exact_match_by_length"]
            if figures["exact_match_by_length"][bucket] is not None)
    return figures
