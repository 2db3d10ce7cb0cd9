"""Numbers computed from a trace: head statistics and attention rollout. numpy only."""
from __future__ import annotations

import numpy as np

from .trace import Trace

SPECIAL_TOKENS = {"<bos>", "<eos>", "<pad>", "CLS"}


def token_positions(trace: Trace, site: str) -> tuple[np.ndarray, np.ndarray, str] | None:
    """(query positions, key positions, unit) used for attention distance, or None."""
    meta = trace.meta
    info = meta["sites"][site]
    kind = info["kind"]
    if kind in ("encoder_self", "decoder_self"):
        n = trace[f"{site}/weights"].shape[-1]
        pos = np.arange(n, dtype=np.float32)[:, None]
        return pos, pos, "tokens"
    if kind == "self":  # ViT: patch centres in pixels; CLS gets NaN (left out)
        g = info["grid"][1]
        patch = meta["config"]["patch_size"]
        rows, cols = np.divmod(np.arange(g * g), g)
        centres = np.stack([rows, cols], 1).astype(np.float32) * patch + patch / 2
        pos = np.vstack([[np.nan, np.nan], centres])
        return pos, pos, "pixels"
    if kind == "window":  # original-image pixel position of every token of every window
        res = info["resolution"][0]
        ws, shift = info["window_size"], info["shift"]
        scale = meta["config"]["img_size"] / res
        nW = info["num_windows"]
        iy, ix = np.divmod(np.arange(ws * ws), ws)
        wy, wx = np.divmod(np.arange(nW), res // ws)
        y = (wy[:, None] * ws + iy[None] + shift) % res
        x = (wx[:, None] * ws + ix[None] + shift) % res
        pos = (np.stack([y, x], -1).astype(np.float32) + 0.5) * scale  # (nW, N, 2)
        return pos, pos, "pixels"
    return None  # cross-attention: query and key positions are in different sequences


def head_statistics(trace: Trace, site: str) -> list[dict]:
    """Per head: mean entropy of a query's weights (nats), mean attention distance, and the
    mean weight given to special tokens (CLS, <bos>, <eos>); NaN where it does not apply."""
    weights = trace[f"{site}/weights"].astype(np.float64)  # (H, Nq, Nk) or (nW, H, N, N)
    windowed = weights.ndim == 4
    if windowed:
        weights = weights.transpose(1, 0, 2, 3)  # (H, nW, N, N)
    entropy = -(weights * np.log(np.clip(weights, 1e-12, None))).sum(-1)  # (H, ...)
    positions = token_positions(trace, site)
    distance = np.full(weights.shape[0], np.nan)
    if positions is not None:
        q_pos, k_pos, _ = positions
        if windowed:
            d = np.linalg.norm(q_pos[:, :, None] - k_pos[:, None, :], axis=-1)  # (nW, N, N)
            distance = (weights * d[None]).sum(-1).mean(axis=(1, 2))
        elif q_pos.shape[1] == 2:  # ViT: patches only, rows renormalised without CLS
            d = np.linalg.norm(q_pos[1:, None] - k_pos[None, 1:], axis=-1)
            w = weights[:, 1:, 1:]
            w = w / np.clip(w.sum(-1, keepdims=True), 1e-12, None)
            distance = (w * d[None]).sum(-1).mean(-1)
        else:
            d = np.abs(q_pos - k_pos.T)
            distance = (weights * d[None]).sum(-1).mean(-1)
    special = np.full(weights.shape[0], np.nan)
    if not windowed:
        keys = _key_tokens(trace, site)
        mask = np.array([t in SPECIAL_TOKENS for t in keys])
        if mask.any():
            special = weights[..., mask].sum(-1).mean(-1)
    entropy_mean = entropy.reshape(entropy.shape[0], -1).mean(-1)
    return [{"head": h, "entropy": float(entropy_mean[h]), "distance": float(distance[h]),
             "special": float(special[h])} for h in range(weights.shape[0])]


def _key_tokens(trace: Trace, site: str) -> list[str]:
    meta = trace.meta
    kind = meta["sites"][site]["kind"]
    if kind == "self":
        return meta["tokens"]
    if kind == "decoder_self":
        return meta["target_tokens"]
    return meta["source_tokens"]


def rollout(matrices: list[np.ndarray], fusion: str = "mean", discard: float = 0.0) -> np.ndarray:
    """Attention rollout (Abnar & Zuidema 2020) over layers of (H, N, N) weights.

    Heads are fused (mean, max or min); the lowest `discard` share of each fused matrix is
    set to zero (never the diagonal); the residual identity is added and rows renormalised:
    A = norm(W + I); the result is A_L ··· A_1, rows summing to 1.
    """
    fuse = {"mean": np.mean, "max": np.max, "min": np.min}[fusion]
    n = matrices[0].shape[-1]
    result = np.eye(n)
    for weights in matrices:
        fused = fuse(weights.astype(np.float64), axis=0)
        if discard > 0:
            flat = fused.reshape(-1).copy()
            cut = np.quantile(flat, discard)
            keep_diag = np.eye(n, dtype=bool)
            fused = np.where((fused < cut) & ~keep_diag, 0.0, fused)
        step = fused + np.eye(n)
        step /= step.sum(-1, keepdims=True)
        result = step @ result
    return result
