"""Numbers computed from a trace: head statistics and attention rollout. numpy only."""
from __future__ import annotations

import math

import numpy as np

from .sites import WINDOW, kind_of
from .trace import Trace

SPECIAL_TOKENS = {"<bos>", "<eos>", "<pad>", "CLS", "DIST"}


def prefix_tokens(meta: dict) -> int:
    """How many tokens come before the patches (ViT: CLS, DeiT: CLS and DIST; Swin: none),
    from the trace's own description (traces before it existed: 1 for ViT)."""
    return int(meta.get("prefix_tokens", 1 if meta.get("arch") == "vit" else 0))


def token_positions(trace: Trace, site: str) -> tuple[np.ndarray, np.ndarray, str] | None:
    """(query positions, key positions, unit) used for attention distance, or None."""
    meta = trace.meta
    info = meta["sites"][site]
    kind = kind_of(meta, site)
    if kind.distance is None:  # cross-attention: queries and keys in different sequences
        return None
    if kind.layout == "text":
        n = trace[f"{site}/k"].shape[-2]  # (the weights' side, without deriving them)
        pos = np.arange(n, dtype=np.float32)[:, None]
        return pos, pos, kind.distance
    if kind.windowed:  # original-image pixel position of every token of every window
        scale = meta["config"]["img_size"] / info["resolution"][0]
        pos = (window_cells(trace, site).astype(np.float32) + 0.5) * scale  # (nW, N, 2)
        return pos, pos, kind.distance
    # patches (ViT): patch centres in pixels; CLS (and DIST) get NaN (left out)
    g = info["grid"][1]
    patch = meta["config"]["patch_size"]
    rows, cols = np.divmod(np.arange(g * g), g)
    centres = np.stack([rows, cols], 1).astype(np.float32) * patch + patch / 2
    pos = np.vstack([np.full((prefix_tokens(meta), 2), np.nan), centres])
    return pos, pos, kind.distance


def head_statistics(trace: Trace, site: str, window: int | None = None) -> list[dict]:
    """Per head: mean entropy of a query's weights (nats), mean attention distance, the
    mean weight given to special tokens (CLS, <bos>, <eos>; a language model's own: [CLS],
    [SEP], <s>) and to the first token (the "attention sink" of language models, Xiao et al.
    2023); NaN where it does not apply. One head's weights at a time (`Trace.head_matrix`),
    so a long input never holds every head's N × N at once."""
    return [head_figures(trace, site, head, _head_weights(trace, site, head))
            for head in range(trace.meta["sites"][site]["heads"])]


def _head_weights(trace: Trace, site: str, head: int) -> np.ndarray:
    """(Nq, Nk) weights of one head; Swin: (nW, N, N), every window of it."""
    if kind_of(trace.meta, site).windowed:
        return trace[f"{site}/weights"][:, head]
    return trace.head_matrix(site, "weights", head)


def head_figures(trace: Trace, site: str, head: int, weights: np.ndarray) -> dict:
    """The statistics of one head from its weights ((Nq, Nk), or Swin's (nW, N, N))."""
    weights = weights.astype(np.float64)
    windowed = weights.ndim == 3
    entropy = float(-(weights * np.log(np.clip(weights, 1e-12, None))).sum(-1).mean())
    distance = special = first = math.nan
    positions = token_positions(trace, site)
    if positions is not None:
        q_pos, k_pos, _ = positions
        if windowed:
            d = np.linalg.norm(q_pos[:, :, None] - k_pos[:, None, :], axis=-1)  # (nW, N, N)
            distance = float((weights * d).sum(-1).mean())
        elif q_pos.shape[1] == 2:  # ViT: patches only, rows renormalised without CLS
            p = prefix_tokens(trace.meta)
            d = np.linalg.norm(q_pos[p:, None] - k_pos[None, p:], axis=-1)
            w = weights[p:, p:]
            w = w / np.clip(w.sum(-1, keepdims=True), 1e-12, None)
            distance = float((w * d).sum(-1).mean())
        else:
            distance = float((weights * np.abs(q_pos - k_pos.T)).sum(-1).mean())
    if not windowed:
        if kind_of(trace.meta, site).sequence:
            mask = np.zeros(weights.shape[-1], bool)
            mask[trace.meta.get("special", [])] = True
        else:
            mask = np.array([t in SPECIAL_TOKENS for t in _key_tokens(trace, site)])
        if mask.any():
            special = float(weights[:, mask].sum(-1).mean())
        first = float(weights[:, 0].mean())
    return {"head": head, "entropy": entropy, "distance": distance, "special": special,
            "first": first}


def sequence_figures(weights: np.ndarray, distance: bool) -> dict[str, np.ndarray]:
    """Every head's entropy, distance (in tokens; NaN without `distance`, as a
    cross-attention site has) and first-token weight at once, from a token sequence site's
    (H, Nq, Nk) weights: `head_figures`'s numbers, to the last bit (the same reductions,
    row by row)."""
    weights = weights.astype(np.float64)
    heads, _, n = weights.shape
    entropy = -(weights * np.log(np.clip(weights, 1e-12, None))).sum(-1).mean(-1)
    far = np.full(heads, math.nan)
    if distance:
        pos = np.arange(n, dtype=np.float32)[:, None]
        far = (weights * np.abs(pos - pos.T)).sum(-1).mean(-1)
    first = np.ascontiguousarray(weights[:, :, 0]).mean(-1)
    return {"entropy": entropy, "distance": far, "first": first}


def thumbnail(matrix: np.ndarray, size: int) -> np.ndarray:
    """(size, size) picture of a matrix, scaled to its own maximum. Larger than `size`: the
    maximum of each block (max pooling keeps a one-token stripe visible at any length);
    smaller: each cell repeated (nearest neighbour)."""
    rows = (np.arange(size) * matrix.shape[0] // size)
    cols = (np.arange(size) * matrix.shape[1] // size)
    small = np.maximum.reduceat(np.maximum.reduceat(matrix, rows, axis=0), cols, axis=1)
    return (small / max(float(small.max()), 1e-9)).astype(np.float32)


def site_overview(trace: Trace, site: str, window: int = 0, size: int = 40
                  ) -> tuple[np.ndarray, list[dict]]:
    """(H, size, size) thumbnails and the head statistics of a site, computed one head at a
    time (Swin: thumbnails of `window`, statistics over every window)."""
    heads = trace.meta["sites"][site]["heads"]
    pictures = np.zeros((heads, size, size), np.float32)
    stats = []
    for head in range(heads):
        weights = _head_weights(trace, site, head)
        shown = weights[min(window, weights.shape[0] - 1)] if weights.ndim == 3 else weights
        pictures[head] = thumbnail(shown, size)
        stats.append(head_figures(trace, site, head, weights))
    return pictures, stats


def _key_tokens(trace: Trace, site: str) -> list[str]:
    return trace.meta[kind_of(trace.meta, site).key_tokens]


def _fuse(weights: np.ndarray, fusion: str) -> np.ndarray:
    """Combine heads (axis -3) by mean, max or min."""
    return {"mean": np.mean, "max": np.max, "min": np.min}[fusion](
        weights.astype(np.float64), axis=-3)


def _residual_step(fused: np.ndarray, discard: float) -> np.ndarray:
    """norm(W + I): the attention plus the residual path, rows renormalised to sum to 1.
    The lowest `discard` share of W is zeroed first (never the diagonal)."""
    n = fused.shape[-1]
    if discard > 0:
        cut = np.quantile(fused, discard)
        fused = np.where((fused < cut) & ~np.eye(n, dtype=bool), 0.0, fused)
    step = fused + np.eye(n)
    return step / step.sum(-1, keepdims=True)


def rollout(matrices: list[np.ndarray], fusion: str = "mean", discard: float = 0.0) -> np.ndarray:
    """Attention rollout (Abnar & Zuidema 2020) over layers of (H, N, N) weights:
    A_L ··· A_1 with A = norm(fuse(W) + I); every row of the result sums to 1."""
    result = np.eye(matrices[0].shape[-1])
    for weights in matrices:
        result = _residual_step(_fuse(weights, fusion), discard) @ result
    return result


def window_positions(trace: Trace, site: str) -> np.ndarray:
    """(nW, N) flat grid index (y*R + x, original coordinates) of each window's tokens."""
    block = site.rsplit(".", 1)[0]
    window_of = trace[f"{block}/window_of_token"].ravel()
    inside = trace[f"{block}/index_in_window"].ravel()
    info = trace.meta["sites"][site]
    positions = np.zeros((info["num_windows"], info["window_size"] ** 2), int)
    positions[window_of, inside] = np.arange(window_of.size)
    return positions


def window_cells(trace: Trace, site: str) -> np.ndarray:
    """(nW, N, 2) original grid cell (y, x) of each window's tokens: the un-roll of Swin's
    shift, read from the maps the model recorded, for every panel and statistic to share."""
    res = trace.meta["sites"][site]["resolution"][1]
    return np.stack(np.divmod(window_positions(trace, site), res), axis=-1)


def full_window_attention(trace: Trace, site: str, fusion: str = "mean") -> np.ndarray:
    """A Swin block's window attention as one (R², R²) matrix over the whole grid: block
    diagonal in the rolled grid, scattered back to the tokens' original places."""
    fused = _fuse(trace[f"{site}/weights"], fusion)  # (nW, N, N)
    res = trace.meta["sites"][site]["resolution"][0]
    positions = window_positions(trace, site)
    full = np.zeros((res * res, res * res))
    for w, pos in enumerate(positions):
        full[np.ix_(pos, pos)] = fused[w]
    return full


def merge_matrix(source: np.ndarray, previous_res: int) -> np.ndarray:
    """Patch merging as mixing: each new token is the mean of the 2×2 tokens it joins."""
    flat = source.reshape(-1, 4)
    merge = np.zeros((flat.shape[0], previous_res * previous_res))
    merge[np.arange(flat.shape[0])[:, None], flat] = 0.25
    return merge


def swin_rollout(trace: Trace, fusion: str = "mean") -> np.ndarray:
    """Rollout through windows, shifts and merging: (R_last², R_0²), rows summing to 1.

    Each block's windows become one grid-wide matrix (the shift is undone by placing every
    token at its original position), patch merging is a 2×2 average. The classifier pools
    the last stage, so its view of the input tokens is the mean of the rows."""
    sites = trace.sites(WINDOW)
    res0 = trace.meta["sites"][sites[0]]["resolution"][0]
    result = np.eye(res0 * res0)
    stage = 0
    for site in sites:
        info = trace.meta["sites"][site]
        if info["stage"] != stage:
            previous = trace.meta["sites"][site]["resolution"][0] * 2
            result = merge_matrix(trace[f"layers.{info['stage']}.downsample/source"],
                                  previous) @ result
            stage = info["stage"]
        result = _residual_step(full_window_attention(trace, site, fusion), 0.0) @ result
    return result
