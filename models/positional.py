"""Positional information: the paper's sinusoids, and Swin's relative position index.

Sinusoidal encoding ("Attention Is All You Need", section 3.5):
    PE(pos, 2i)   = sin(pos / 10000^(2i / d_model))
    PE(pos, 2i+1) = cos(pos / 10000^(2i / d_model))
ViT's learned position embedding is a plain parameter (`pos_embed`) in vit.py.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from .trace import record, record_raw


def sinusoidal_table(max_len: int, d_model: int, layout: str = "interleaved") -> torch.Tensor:
    """(max_len, d_model) table of the paper's formula; `layout` "halves" puts every sine
    first and every cosine after them (Marian's layout: the same numbers, reordered)."""
    position = torch.arange(max_len, dtype=torch.float64)[:, None]  # (L, 1)
    two_i = torch.arange(0, d_model, 2, dtype=torch.float64)  # (d/2,)
    angle = position / torch.pow(10000.0, two_i / d_model)  # (L, d/2)
    table = torch.zeros(max_len, d_model, dtype=torch.float64)
    if layout == "halves":
        half = (d_model + 1) // 2
        table[:, :half] = torch.sin(angle)
        table[:, half:] = torch.cos(angle[:, : d_model // 2])
        return table.float()
    table[:, 0::2] = torch.sin(angle)
    table[:, 1::2] = torch.cos(angle[:, : d_model // 2])
    return table.float()


class TokenEmbedding(nn.Module):
    """Token embedding × √d_model plus the sinusoidal encoding (paper, section 3.4–3.5).

    Records `<site>/tokens` (scaled embeddings), `<site>.pos/pe` (the whole table,
    [max_len, d_model]) and `<site>/sum` (what enters the first layer).
    """

    def __init__(self, vocab_size: int, d_model: int, max_len: int, scale: bool = True,
                 layout: str = "interleaved") -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab_size, d_model)
        # std d^-1/2, so that embedding × √d has unit scale like the encoding it is added to
        # (with PyTorch's default N(0, 1) the positions would be drowned out 8:1).
        nn.init.normal_(self.embed.weight, std=d_model**-0.5)
        self.scale = math.sqrt(d_model) if scale else 1.0
        self.register_buffer("pe", sinusoidal_table(max_len, d_model, layout), persistent=False)
        self.use_position = True  # an intervention: switch the encoding off

    def forward(self, ids: torch.Tensor) -> torch.Tensor:  # ids (B, N)
        tokens = self.embed(ids) * self.scale  # (B, N, D)
        record(self.site_name, "tokens", tokens)
        record_raw(self.site_name + ".pos", "pe", self.pe)
        if not self.use_position:
            record(self.site_name, "sum", tokens)
            return tokens
        x = tokens + self.pe[: ids.shape[1]]
        record(self.site_name, "sum", x)
        return x


def relative_position_index(window: int) -> torch.Tensor:
    """(N, N) index into a ((2W-1)², H) bias table, N = W².

    For tokens i=(yi, xi), j=(yj, xj) in a window (row-major), the offset
    (yi-yj+W-1, xi-xj+W-1) is flattened as dy*(2W-1)+dx, as in the Swin paper §3.2.
    """
    coords = torch.stack(
        torch.meshgrid(torch.arange(window), torch.arange(window), indexing="ij")
    ).flatten(1)  # (2, N)
    rel = coords[:, :, None] - coords[:, None, :]  # (2, N, N)
    rel = rel + (window - 1)
    return rel[0] * (2 * window - 1) + rel[1]
