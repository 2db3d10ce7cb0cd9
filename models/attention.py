"""Multi-head attention with a fused path and an explicit, recorded path.

    scores  = q kᵀ / √dh                     (recorded without bias or mask)
    weights = softmax(scores + bias + mask)  (bias: Swin only; mask: additive, -inf/-100)
    out     = weights v                      (per head, before concat and W_o)

The fused `F.scaled_dot_product_attention` runs whenever no weights are wanted for a loss,
also while tracing: a trace records q, k, v, the bias, the mask (a causal mask as the flag
`S/causal`) and the output, all linear in the number of tokens, and derives scores and
weights from them with the explicit path's operations when they are read (models/trace.py).
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .trace import (
    CAUSAL_FLAG,
    WINDOW_FLAG,
    causal_mask,
    is_recording,
    patch_plan,
    record,
    record_output_projection,
    record_raw,
    whole_batch,
)


def attend(
    site: str,
    q: torch.Tensor,  # (B, H, Nq, dh)
    k: torch.Tensor,  # (B, H, Nk, dh)
    v: torch.Tensor,  # (B, H, Nk, dh)
    bias: torch.Tensor | None = None,  # broadcastable to (B, H, Nq, Nk)
    mask: torch.Tensor | None = None,  # broadcastable to (B, H, Nq, Nk), additive
    windows: int = 0,  # Swin: B axis is (batch * windows); record the first image's windows
    head_gate: torch.Tensor | None = None,  # (H,) 1 keeps a head, 0 switches it off
    head_mean: torch.Tensor | None = None,  # (H,) bool: these heads' outputs -> their mean
    keep_weights: list | None = None,  # training: append the weights (with grad) here
    causal: bool = False,  # query i sees keys 0..i (instead of an N×N `mask`)
    window: int | None = None,  # causal within a sliding window: keys i-w+1..i
) -> torch.Tensor:
    """Return per-head outputs (B, H, Nq, dh)."""
    plan = patch_plan()
    if plan is not None:  # activation patching: q, k, v of some heads replaced
        q, k, v = (plan.heads(key, site, t, windows) for key, t in zip("qkv", (q, k, v)))
        # (cross-attention: one side copied already; a patched v alone: q and k follow it)
        n = max(q.shape[0], k.shape[0], v.shape[0])
        q, k, v = (t if t.shape[0] == n else t.repeat(n // t.shape[0], 1, 1, 1)
                   for t in (q, k, v))
    if causal and window and window < k.shape[-2] and keep_weights is None:
        # the band as an additive mask (SDPA has no sliding window of its own)
        if bias is not None or mask is not None:
            raise ValueError("a causal site takes no other mask or bias")
        band = causal_mask(q.shape[-2], q.device, k.shape[-2], window).to(q.dtype)
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=band)
    elif keep_weights is None:
        additive = bias if mask is None else (mask if bias is None else bias + mask)
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=additive,
                                             is_causal=causal and additive is None)
        if causal and additive is not None:
            raise ValueError("a causal site takes no other mask or bias")
    else:
        scale = 1.0 / math.sqrt(q.shape[-1])
        logits = (q @ k.transpose(-2, -1)) * scale  # (B, H, Nq, Nk)
        if bias is not None:
            logits = logits + bias
        if mask is not None:
            logits = logits + mask
        if causal:
            logits = logits + causal_mask(q.shape[-2], q.device, k.shape[-2], window)
        weights = logits.softmax(dim=-1)
        out = weights @ v  # (B, H, Nq, dh)
        keep_weights.append(weights)
    if is_recording():
        _record_inputs(site, windows, q, k, v, bias, mask, causal)
        if causal and window:
            record_raw(site, WINDOW_FLAG, np.array(window, np.int64))
    if head_gate is not None:
        out = out * head_gate.to(out.dtype)[:, None, None]
    if head_mean is not None:
        out = mean_over_positions(out, head_mean, windows)
    if plan is not None:
        out = plan.heads("out", site, out, windows)
    if is_recording():
        record_raw(site, "out", out[:windows] if windows else out[0])
    return out


def mean_over_positions(out: torch.Tensor, heads: torch.Tensor, windows: int = 0
                        ) -> torch.Tensor:
    """Mean ablation: each of `heads` (H,) bool gives, at every position, its output's mean
    over all positions of the input (Swin: over every window of the image) instead."""
    if windows:  # (B·nW, H, N, dh) -> one mean per image and head
        grid = out.reshape(-1, windows, *out.shape[1:])  # (B, nW, H, N, dh)
        mean = grid.mean((1, 3), keepdim=True).expand_as(grid).reshape(out.shape)
    else:
        mean = out.mean(-2, keepdim=True).expand_as(out)
    return torch.where(heads.to(out.device)[:, None, None], mean, out)


def _record_inputs(site, windows, q, k, v, bias, mask, causal) -> None:
    """Record image 0 (all its windows for Swin) of what the weights are computed from;
    every input of the batch for a corpus run (`Trace.whole_batch`)."""
    keep = (lambda t: t) if whole_batch() else (lambda t: t[:windows]) if windows else (
        lambda t: t[0])
    for key, value in (("q", q), ("k", k), ("v", v)):
        record_raw(site, key, keep(value))
    if bias is not None:
        record_raw(site, "bias", bias.reshape(bias.shape[-3:]) if bias.dim() > 3 else bias)
    if mask is not None:
        record_raw(site, "mask", keep(mask) if mask.shape[0] > 1 else mask[0])
    if causal:
        record_raw(site, CAUSAL_FLAG, np.ones((), np.int8))


def split_heads(x: torch.Tensor, heads: int) -> torch.Tensor:
    """(B, N, D) -> (B, H, N, dh)"""
    B, N, D = x.shape
    return x.view(B, N, heads, D // heads).transpose(1, 2)


def merge_heads(x: torch.Tensor) -> torch.Tensor:
    """(B, H, N, dh) -> (B, N, D): the concat of all heads."""
    B, H, N, dh = x.shape
    return x.transpose(1, 2).reshape(B, N, H * dh)


class SelfAttention(nn.Module):
    """timm-style self-attention: one `qkv` linear and a `proj` (W_o). Used by ViT."""

    def __init__(self, dim: int, num_heads: int, qkv_bias: bool = True) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim)
        self.head_gate: torch.Tensor | None = None
        self.head_mean: torch.Tensor | None = None

    def project_qkv(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        B, N, D = x.shape  # (B, N, D)
        qkv = self.qkv(x).view(B, N, 3, self.num_heads, D // self.num_heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)  # each (B, H, N, dh)
        return q, k, v

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        q, k, v = self.project_qkv(x)
        out = attend(self.site_name, q, k, v, mask=mask, head_gate=self.head_gate,
                     head_mean=self.head_mean)
        y = self.proj(merge_heads(out))
        record(self.site_name, "proj", y)
        record_output_projection(self.site_name, self.proj)
        return y


class MultiHeadAttention(nn.Module):
    """Paper-style attention with separate W_q, W_k, W_v, W_o (self- or cross-attention)."""

    def __init__(self, dim: int, num_heads: int) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.q_proj = nn.Linear(dim, dim)
        self.k_proj = nn.Linear(dim, dim)
        self.v_proj = nn.Linear(dim, dim)
        self.out_proj = nn.Linear(dim, dim)
        self.head_gate: torch.Tensor | None = None
        self.head_mean: torch.Tensor | None = None
        self.kept_weights: list | None = None  # set to [] to collect weights for a loss

    def forward(
        self, x_q: torch.Tensor, x_kv: torch.Tensor, mask: torch.Tensor | None = None
    ) -> torch.Tensor:
        q = split_heads(self.q_proj(x_q), self.num_heads)  # (B, H, Nq, dh)
        k = split_heads(self.k_proj(x_kv), self.num_heads)  # (B, H, Nk, dh)
        v = split_heads(self.v_proj(x_kv), self.num_heads)  # (B, H, Nk, dh)
        out = attend(self.site_name, q, k, v, mask=mask, head_gate=self.head_gate,
                     head_mean=self.head_mean, keep_weights=self.kept_weights)
        y = self.out_proj(merge_heads(out))
        record(self.site_name, "proj", y)
        record_output_projection(self.site_name, self.out_proj)
        return y


class Mlp(nn.Module):
    """timm-compatible names: fc1, fc2."""

    ACTIVATIONS = {"gelu": nn.GELU, "swish": nn.SiLU, "silu": nn.SiLU, "relu": nn.ReLU}

    def __init__(self, dim: int, hidden: int, dropout: float = 0.0,
                 activation: str = "gelu") -> None:
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = self.ACTIVATIONS[activation]()
        self.fc2 = nn.Linear(hidden, dim)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.drop(self.fc2(self.drop(self.act(self.fc1(x)))))
