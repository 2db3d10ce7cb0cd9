"""Swin Transformer (Liu et al. 2021, "Hierarchical Vision Transformer using Shifted Windows").

Layout follows timm's `SwinTransformer` (tokens kept as (B, H, W, C); patch merging at
the start of stages 1, 2, ...), with the same parameter names: `patch_embed.proj`,
`patch_embed.norm`, `layers.{s}.downsample.norm/reduction`,
`layers.{s}.blocks.{b}.norm1/attn.qkv/attn.proj/attn.relative_position_bias_table/
norm2/mlp.fc1/mlp.fc2`, `norm`, `head.fc`.

Blocks alternate W-MSA (shift 0) and SW-MSA (shift W//2). A shifted block rolls the
grid by (-s, -s), attends inside windows with a mask that keeps the nine regions of the
rolled grid apart, and rolls back by (+s, +s). Windows are numbered row-major over the
(rolled) grid, tokens row-major inside a window. When a stage's resolution is not larger
than the window, the window is the whole grid and there is no shift.

Attention sites: layers.{s}.blocks.{b}.attn, records shaped (nW, H, N, N).
"""
from __future__ import annotations

import functools
from dataclasses import asdict, dataclass, field

import torch
from torch import nn

from .attention import Mlp, attend, merge_heads
from .positional import relative_position_index
from .protocol import ModelBase, layers_present
from .sites import WINDOW
from .trace import (
    add_write,
    is_recording,
    name_sites,
    record,
    record_output_projection,
    record_raw,
    stream,
    sublayer,
)

MASK_VALUE = -100.0  # the reference implementation's additive mask value


@dataclass
class SwinConfig:
    img_size: int = 32
    patch_size: int = 2
    in_chans: int = 1
    num_classes: int = 10
    embed_dim: int = 32
    depths: list[int] = field(default_factory=lambda: [2, 2, 2])
    num_heads: list[int] = field(default_factory=lambda: [2, 4, 8])
    window_size: int = 4
    mlp_ratio: float = 2.0
    dropout: float = 0.1

    def stage_resolution(self, stage: int) -> int:
        return self.img_size // self.patch_size // (2**stage)

    def stage_window(self, stage: int) -> tuple[int, int]:
        """(window, shift) of a stage's shifted blocks; no shift when one window covers all."""
        res = self.stage_resolution(stage)
        if res <= self.window_size:
            return res, 0
        return self.window_size, self.window_size // 2

    def to_dict(self) -> dict:
        return asdict(self)


def window_partition(x: torch.Tensor, ws: int) -> torch.Tensor:
    """(B, H, W, C) -> (B*nW, ws*ws, C); windows row-major, tokens row-major inside."""
    B, H, W, C = x.shape
    x = x.view(B, H // ws, ws, W // ws, ws, C).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(-1, ws * ws, C)


def window_reverse(windows: torch.Tensor, ws: int, H: int, W: int) -> torch.Tensor:
    """(B*nW, ws*ws, C) -> (B, H, W, C), the inverse of window_partition."""
    C = windows.shape[-1]
    x = windows.view(-1, H // ws, W // ws, ws, ws, C).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(-1, H, W, C)


@functools.cache  # geometry only: computed once per grid (callers never modify it)
def region_labels(H: int, W: int, ws: int, shift: int) -> torch.Tensor:
    """(H, W) labels 0..8 of the rolled grid: 3 bands per axis, [0,H-ws) [H-ws,H-s) [H-s,H)."""
    labels = torch.zeros(H, W, dtype=torch.long, device="cpu")  # cached: never on meta
    bands = (slice(0, -ws), slice(-ws, -shift), slice(-shift, None))
    count = 0
    for hs in bands:
        for wsl in bands:
            labels[hs, wsl] = count
            count += 1
    return labels


def shift_mask(H: int, W: int, ws: int, shift: int) -> torch.Tensor:
    """(nW, N, N) additive mask: 0 where two tokens of a window share a region, else -100."""
    labels = region_labels(H, W, ws, shift)[None, :, :, None].float()  # (1, H, W, 1)
    windows = window_partition(labels, ws).squeeze(-1)  # (nW, N)
    differ = windows[:, None, :] != windows[:, :, None]  # (nW, N, N)
    return torch.zeros(differ.shape, device=differ.device).masked_fill(differ, MASK_VALUE)


@functools.cache  # recorded with every traced block: computed once per grid
def token_windows(H: int, W: int, ws: int, shift: int) -> tuple[torch.Tensor, torch.Tensor]:
    """For each token at its original (y, x): its window index and its index inside it."""
    y, x = torch.meshgrid(torch.arange(H, device="cpu"), torch.arange(W, device="cpu"),
                          indexing="ij")  # cached: never on meta
    ry, rx = (y - shift) % H, (x - shift) % W  # where roll(-shift) moves the token
    window = (ry // ws) * (W // ws) + rx // ws
    inside = (ry % ws) * ws + rx % ws
    return window, inside


class WindowAttention(nn.Module):
    def __init__(self, dim: int, num_heads: int, window: int) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.window = window
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)
        self.relative_position_bias_table = nn.Parameter(
            torch.randn((2 * window - 1) ** 2, num_heads) * 0.02
        )
        self.register_buffer(
            "relative_position_index", relative_position_index(window), persistent=False
        )
        self.head_gate: torch.Tensor | None = None
        self.head_mean: torch.Tensor | None = None
        self.use_bias = True  # an intervention: switch the relative position bias off

    def relative_bias(self) -> torch.Tensor:
        """(H, N, N) bias gathered from the table by relative offset."""
        N = self.window**2
        bias = self.relative_position_bias_table[self.relative_position_index.view(-1)]
        return bias.view(N, N, self.num_heads).permute(2, 0, 1)

    def forward(
        self, x: torch.Tensor, mask: torch.Tensor | None, windows: int
    ) -> torch.Tensor:  # x (B*nW, N, C); mask (nW, N, N)
        Bw, N, C = x.shape
        qkv = self.qkv(x).view(Bw, N, 3, self.num_heads, C // self.num_heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)  # each (B*nW, H, N, dh)
        bias = self.relative_bias()[None] if self.use_bias else None  # (1, H, N, N)
        if mask is not None:
            mask = mask.repeat(Bw // mask.shape[0], 1, 1)[:, None]  # (B*nW, 1, N, N)
        record_raw(self.site_name, "bias_table", self.relative_position_bias_table)
        record_raw(self.site_name, "bias_index", self.relative_position_index)
        out = attend(self.site_name, q, k, v, bias, mask, windows, self.head_gate,
                     self.head_mean)
        y = self.proj(merge_heads(out))  # (B*nW, N, C)
        record_raw(self.site_name, "proj", y[:windows])
        record_output_projection(self.site_name, self.proj)
        return y


class SwinBlock(nn.Module):
    def __init__(self, dim: int, heads: int, resolution: int, window: int, shift: int,
                 mlp_ratio: float, dropout: float) -> None:
        super().__init__()
        self.resolution, self.window, self.shift = resolution, window, shift
        self.norm1 = nn.LayerNorm(dim)
        self.attn = WindowAttention(dim, heads, window)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = Mlp(dim, int(dim * mlp_ratio), dropout)
        mask = shift_mask(resolution, resolution, window, shift) if shift else None
        self.register_buffer("attn_mask", mask, persistent=False)
        self.use_mask = True  # an intervention: let shifted windows see across regions

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, H, W, C)
        B, H, W, C = x.shape
        ws, s = self.window, self.shift
        nW = (H // ws) * (W // ws)
        if is_recording():
            self._record_geometry(H, W)
        h = self.norm1(x)
        if s:
            h = torch.roll(h, shifts=(-s, -s), dims=(1, 2))
        h = self.attn(window_partition(h, ws), self.attn_mask if self.use_mask else None, nW)
        h = window_reverse(h, ws, H, W)
        if s:
            h = torch.roll(h, shifts=(s, s), dims=(1, 2))
        x = stream(self.attn, x + sublayer(self.attn, h))
        x = add_write(self.mlp, x, self.mlp(self.norm2(x)))
        record(self.site_name, "out", x)
        return x

    def _record_geometry(self, H: int, W: int) -> None:
        window, inside = token_windows(H, W, self.window, self.shift)
        record_raw(self.site_name, "window_of_token", window)
        record_raw(self.site_name, "index_in_window", inside)
        if self.shift:
            record_raw(self.site_name, "regions", region_labels(H, W, self.window, self.shift))


class PatchMerging(nn.Module):
    """Concatenate each 2×2 neighbourhood (4C) and project to 2C (timm's order x0..x3)."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(4 * dim)
        self.reduction = nn.Linear(4 * dim, 2 * dim, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, H, W, C) -> (B, H/2, W/2, 2C)
        B, H, W, C = x.shape
        x = x.reshape(B, H // 2, 2, W // 2, 2, C).permute(0, 1, 3, 4, 2, 5).flatten(3)
        if is_recording():  # which 4 tokens (flat index y*W + x) each new token joins
            index = torch.arange(H * W).view(H // 2, 2, W // 2, 2).permute(0, 2, 3, 1)
            record_raw(self.site_name, "source", index.reshape(H // 2, W // 2, 4))
        return stream(self, self.reduction(self.norm(x)))


class SwinStage(nn.Module):
    def __init__(self, cfg: SwinConfig, stage: int) -> None:
        super().__init__()
        dim = cfg.embed_dim * 2**stage
        res = cfg.stage_resolution(stage)
        window, shift = cfg.stage_window(stage)
        self.downsample = PatchMerging(dim // 2) if stage > 0 else nn.Identity()
        self.blocks = nn.ModuleList(
            SwinBlock(dim, cfg.num_heads[stage], res, window, shift if b % 2 else 0,
                      cfg.mlp_ratio, cfg.dropout)
            for b in range(cfg.depths[stage])
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.downsample(x)
        for block in self.blocks:
            x = block(x)
        return x


class PatchEmbed(nn.Module):
    def __init__(self, cfg: SwinConfig) -> None:
        super().__init__()
        self.proj = nn.Conv2d(cfg.in_chans, cfg.embed_dim, cfg.patch_size, cfg.patch_size)
        self.norm = nn.LayerNorm(cfg.embed_dim)

    def forward(self, img: torch.Tensor) -> torch.Tensor:  # (B, C, H, W) -> (B, G, G, D)
        x = self.norm(self.proj(img).permute(0, 2, 3, 1))
        record(self.site_name, "tokens", x)
        record_raw(self.site_name, "filters", self.proj.weight[:, 0])  # (D, P, P)
        g = x.shape[1]
        record_raw(self.site_name, "grid", torch.arange(g * g).view(g, g))
        return x


class ClassifierHead(nn.Module):
    def __init__(self, dim: int, num_classes: int) -> None:
        super().__init__()
        self.fc = nn.Linear(dim, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, H, W, C)
        return self.fc(x.mean(dim=(1, 2)))


class Swin(ModelBase):
    arch, input_kind, form = "swin", "image", "image"

    def __init__(self, cfg: SwinConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.patch_embed = PatchEmbed(cfg)
        self.layers = nn.ModuleList(SwinStage(cfg, s) for s in range(len(cfg.depths)))
        self.norm = nn.LayerNorm(cfg.embed_dim * 2 ** (len(cfg.depths) - 1))
        self.head = ClassifierHead(self.norm.normalized_shape[0], cfg.num_classes)
        name_sites(self)

    def forward(self, img: torch.Tensor) -> torch.Tensor:  # (B, C, H, W) -> (B, classes)
        record_raw("input", "image", img[0, 0])
        record_raw("input", "pixels", img[0])  # (C, H, W): exactly what the model saw
        x = stream("patch_embed", self.patch_embed(img))
        for stage in self.layers:
            x = stage(x)
        logits = self.head(self.norm(x))
        record("head", "logits", logits)
        return logits

    def blocks(self) -> list[SwinBlock]:
        return [b for stage in self.layers for b in stage.blocks]

    # -- the model protocol (models/protocol.py) ---------------------------------
    def describe_sites(self) -> dict[str, dict]:
        sites = {}
        for s, stage in enumerate(self.layers):
            for b, block in enumerate(stage.blocks):
                res = block.resolution
                sites[f"layers.{s}.blocks.{b}.attn"] = {
                    "kind": WINDOW.key, "stage": s, "heads": block.attn.num_heads,
                    "head_dim": block.norm1.normalized_shape[0] // block.attn.num_heads,
                    "window_size": block.window, "shift": block.shift,
                    "resolution": [res, res],
                    "num_windows": (res // block.window) ** 2,
                }
        return sites

    def extra_meta(self) -> dict:
        g = self.cfg.stage_resolution(0)
        return {"patch_grid": [g, g]}

    def residual_points(self) -> dict[str, list[str]]:
        """One stack a stage; a later stage's stream starts after its patch merging."""
        points = {}
        for s, stage in enumerate(self.layers):
            start = "patch_embed" if s == 0 else f"layers.{s}.downsample"
            points[f"layers.{s}"] = [start] + [f"layers.{s}.blocks.{b}.{sub}"
                                               for b in range(len(stage.blocks))
                                               for sub in ("attn", "mlp")]
        return points

    def example_input(self) -> tuple[torch.Tensor, ...]:
        cfg = self.cfg
        return (torch.zeros(1, cfg.in_chans, cfg.img_size, cfg.img_size),)

    @classmethod
    def layer_counts(cls, cfg: SwinConfig) -> dict:
        return {"depths": list(cfg.depths)}

    @classmethod
    def held_layers(cls, tensors: dict[str, torch.Tensor]) -> dict:
        return {"depths": [layers_present(tensors, rf"layers\.{s}\.blocks\.(\d+)\.")
                           for s in range(layers_present(tensors, r"layers\.(\d+)\."))]}
