"""Head roles: what kind of pattern each attention head draws, as scores from 0 to 1.

On the current input (every site of a trace), per head, averaged over the query rows:

    previous_token   weight on the token just before (rows 1…)
    duplicate_token  weight on earlier copies of the same token (rows that have one)
    first_token      weight on the first token (an "attention sink")
    local            weight within `BAND` tokens either side (the diagonal band)

An induction score comes from a probe, as TransformerLens's head detector does it: a
sequence of random tokens followed by the same tokens again; a head's score is its mean
weight from each token of the repeat to the token right after that token's first occurrence
(where an induction head looks, to copy what came next). Its previous-token score is read on
the probe too, where no real text pattern helps it.

Vision sites: class_token (weight on the class token, ViT/DeiT) and local (weight on the
query's own patch and its 8 neighbours; Swin: inside its window).

A role is named when its score reaches `NAMED` (0.4); `roles()` gives each head's best.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

from .sites import kind_of
from .trace import Trace, recording

BAND = 2  # the local band: |query - key| ≤ 2
NAMED = 0.4  # a role is named at this score or more
PROBE_LENGTH = 20  # random tokens, then the same again
TEXT_ROLES = ("previous_token", "duplicate_token", "first_token", "local")


def text_scores(weights: np.ndarray, ids: np.ndarray) -> dict[str, np.ndarray]:
    """weights (H, N, N), ids (N,) -> {role: (H,)} over the query rows."""
    n = weights.shape[-1]
    rows = np.arange(n)
    scores = {"previous_token": weights[:, rows[1:], rows[1:] - 1].mean(-1) if n > 1
              else np.zeros(len(weights)),
              "first_token": weights[:, :, 0].mean(-1)}
    distance = np.abs(rows[:, None] - rows[None, :])
    scores["local"] = (weights * (distance <= BAND)).sum(-1).mean(-1)
    same = (ids[:, None] == ids[None, :]) & (rows[None, :] < rows[:, None])
    has = same.any(-1)
    scores["duplicate_token"] = ((weights * same).sum(-1)[:, has].mean(-1) if has.any()
                                 else np.zeros(len(weights)))
    return scores


def vision_scores(trace: Trace, site: str) -> dict[str, np.ndarray]:
    """A patch site: class_token and local; a window site: local inside its window."""
    info = trace.meta["sites"][site]
    weights = trace[f"{site}/weights"]
    if weights.ndim == 4:  # Swin: (nW, H, n, n), local inside each window's grid
        side = info["window_size"]
        pos = np.stack(np.divmod(np.arange(side * side), side), -1)
        near = np.abs(pos[:, None] - pos[None]).max(-1) <= 1
        return {"local": (weights * near).sum(-1).mean(-1).mean(0)}
    prefix = trace.meta.get("prefix_tokens", 1)
    g = info["grid"][1]
    cells = np.arange(weights.shape[-1]) - prefix
    pos = np.stack(np.divmod(np.maximum(cells, 0), g), -1)
    near = (np.abs(pos[:, None] - pos[None]).max(-1) <= 1) & (cells[:, None] >= 0) & (
        cells[None] >= 0)
    patches = weights[:, prefix:]
    return {"class_token": weights[:, :, 0].mean(-1),
            "local": (patches * near[prefix:]).sum(-1).mean(-1)}


def probe_ids(vocab: int, special: set[int], length: int, seed: int = 0) -> list[int]:
    """Random ordinary tokens, then the same tokens again."""
    rng = np.random.default_rng(seed)
    allowed = np.array([i for i in range(vocab) if i not in special])
    first = rng.choice(allowed, size=length, replace=len(allowed) < length).tolist()
    return first + first


@torch.inference_mode()
def probe_run(model: torch.nn.Module, prefix: list[int], vocab: int, special: set[int],
              length: int = PROBE_LENGTH) -> tuple[Trace, int, int]:
    """The induction probe's forward: `prefix` + a repeated random sequence, recorded
    (nothing derived yet); with where the random tokens start and their length. The only
    part of the probe that runs the model."""
    limit = getattr(model.cfg, "max_len", None)
    if limit is not None and model.cfg.__dict__.get("position", "learned") == "learned":
        length = max(2, min(length, (limit - len(prefix)) // 2))
    ids = prefix + probe_ids(vocab, special, length)
    device = next(model.parameters()).device
    with recording() as trace:
        model(torch.tensor([ids], device=device))
    trace.meta["sites"] = model.describe_sites()
    return trace, len(prefix), length


def probe_scores(probe: tuple[Trace, int, int]) -> dict[str, dict[str, np.ndarray]]:
    """{site: {"induction": (H,), "previous_token": (H,)}} from `probe_run`'s trace: numpy
    on its records, no model."""
    trace, start, length = probe
    repeat = np.arange(start + length, start + 2 * length)
    after_first = repeat - length + 1
    out = {}
    for site in trace.meta["sites"]:
        w = trace[f"{site}/weights"]
        queries = np.arange(start + 1, start + 2 * length)
        out[site] = {"induction": w[:, repeat, after_first].mean(-1),
                     "previous_token": w[:, queries, queries - 1].mean(-1)}
    return out


def induction_probe(model: torch.nn.Module, prefix: list[int], vocab: int,
                    special: set[int], length: int = PROBE_LENGTH) -> dict[str, np.ndarray]:
    """{site: {"induction": (H,), "previous_token": (H,)}} on `prefix` + a repeated random
    sequence, for a language model (its forward takes ids)."""
    return probe_scores(probe_run(model, prefix, vocab, special, length))


def head_scores(trace: Trace, probe: dict | None = None) -> dict[str, dict[str, list]]:
    """{site: {role: [score per head]}} from a trace (and an induction probe's scores)."""
    out: dict[str, dict[str, list]] = {}
    for site in trace.sites():
        kind = kind_of(trace.meta, site)
        if kind.layout != "text":
            scores = vision_scores(trace, site)
        else:
            if kind.distance is None:  # cross-attention: queries and keys differ
                continue
            tokens = trace.records.get("input/decoder_ids" if kind.decoding_steps
                                       else "input/ids")
            weights = trace[f"{site}/weights"]
            if tokens is None or len(tokens) != weights.shape[-1]:
                continue
            scores = text_scores(weights, np.asarray(tokens))
        if probe and site in probe:
            scores["induction"] = probe[site]["induction"]
            scores["probe_previous_token"] = probe[site]["previous_token"]
        out[site] = {role: [round(float(v), 4) for v in values]
                     for role, values in scores.items()}
    return out


# the specific roles first: a previous-token head also scores high on "local"
PRIORITY = ("induction", "previous_token", "duplicate_token", "first_token", "class_token",
            "local")


def roles(scores: dict[str, dict[str, list]]) -> dict[str, list[str | None]]:
    """{site: [each head's role: the first of PRIORITY scoring ≥ NAMED, or None]}."""
    named: dict[str, list[Any]] = {}
    for site, by_role in scores.items():
        heads = len(next(iter(by_role.values())))
        named[site] = [next((r for r in PRIORITY if r in by_role and by_role[r][h] >= NAMED),
                            None) for h in range(heads)]
    return named


def probes(session: Any, trace: Trace) -> bool:
    """Whether `session_scores` runs the model (an induction probe): a language model's
    trace of token ids. Else its scores are numpy on the trace alone."""
    return session.model.form == "lm" and "input/ids" in trace.records


def session_probe(session: Any, trace: Trace) -> tuple[Trace, int, int] | None:
    """`probe_run` as `session_scores` runs it (None where it does not probe): the input's
    leading special tokens (BOS, [CLS]), then random ordinary tokens twice; special ids
    (the input's, the config's) are never drawn. A forward of the model."""
    if not probes(session, trace):
        return None
    ids = [int(i) for i in trace.records["input/ids"]]
    where = set(trace.meta.get("special") or [])  # positions of the special tokens
    prefix = []
    while len(prefix) < len(ids) and len(prefix) in where:
        prefix.append(ids[len(prefix)])
    cfg = session.model.cfg
    special = {ids[i] for i in where if i < len(ids)} | {
        getattr(cfg, name, None) for name in ("bos_id", "eos_id", "pad_id")}
    special.discard(None)
    return probe_run(session.model, prefix, cfg.vocab_size, special)


def session_scores(session: Any, trace: Trace, probed: tuple | None = None
                   ) -> dict[str, dict[str, list]]:
    """Every site's scores on `trace` (the session's run), with an induction probe for a
    language model (`session_probe`; `probed`: its result, run already — on the model's
    thread — so that nothing here runs the model)."""
    if probed is None:
        probed = session_probe(session, trace)
    return head_scores(trace, probe_scores(probed) if probed is not None else None)


def best_heads(scores: dict[str, dict[str, list]], role: str) -> list[tuple[str, int, float]]:
    """(site, head, score) by `role`'s score, highest first."""
    found = [(site, h, v) for site, by_role in scores.items() if role in by_role
             for h, v in enumerate(by_role[role])]
    return sorted(found, key=lambda t: -t[2])
