"""Vision Transformer (Dosovitskiy et al. 2021, "An Image is Worth 16x16 Words").

Conv patch embedding, a CLS token, learned position embeddings, pre-norm blocks and a
linear head on the CLS token. Parameter names equal timm's `VisionTransformer`
(`cls_token`, `pos_embed`, `patch_embed.proj`, `blocks.{i}.norm1`, `blocks.{i}.attn.qkv`,
`blocks.{i}.attn.proj`, `blocks.{i}.norm2`, `blocks.{i}.mlp.fc1/fc2`, `norm`, `head`), so
a timm state dict with the same dimensions loads.

Attention sites: blocks.{i}.attn. Token 0 is CLS (then DeiT's distillation token when
`distilled`), token P + r*G + c is patch (r, c), P = cfg.prefix_tokens.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from .attention import Mlp, SelfAttention
from .protocol import ModelBase
from .sites import PATCH_SELF
from .trace import add_write, name_sites, record, record_raw, stream, sublayer


@dataclass
class ViTConfig:
    img_size: int = 32
    patch_size: int = 4
    in_chans: int = 1
    num_classes: int = 10
    embed_dim: int = 64
    depth: int = 4
    num_heads: int = 4
    mlp_ratio: float = 2.0
    dropout: float = 0.1
    norm_eps: float = 1e-6  # timm's; transformers' ViT uses 1e-12
    distilled: bool = False  # DeiT: a distillation token after CLS, with its own head

    @property
    def prefix_tokens(self) -> int:
        return 2 if self.distilled else 1

    @property
    def grid(self) -> int:
        return self.img_size // self.patch_size

    def to_dict(self) -> dict:
        return asdict(self)


class PatchEmbed(nn.Module):
    """Cut the image into P×P patches and project each to D with one strided conv."""

    def __init__(self, cfg: ViTConfig) -> None:
        super().__init__()
        self.proj = nn.Conv2d(cfg.in_chans, cfg.embed_dim, cfg.patch_size, cfg.patch_size)

    def forward(self, img: torch.Tensor) -> torch.Tensor:  # (B, C, H, W)
        x = self.proj(img)  # (B, D, G, G)
        x = x.flatten(2).transpose(1, 2)  # (B, G*G, D), patches row-major
        record(self.site_name, "tokens", x)
        record_raw(self.site_name, "filters", self.proj.weight[:, 0])  # (D, P, P)
        return x


class Block(nn.Module):
    def __init__(self, cfg: ViTConfig) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(cfg.embed_dim, eps=cfg.norm_eps)
        self.attn = SelfAttention(cfg.embed_dim, cfg.num_heads)
        self.norm2 = nn.LayerNorm(cfg.embed_dim, eps=cfg.norm_eps)
        self.mlp = Mlp(cfg.embed_dim, int(cfg.embed_dim * cfg.mlp_ratio), cfg.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = stream(self.attn, x + sublayer(self.attn, self.attn(self.norm1(x))))
        x = add_write(self.mlp, x, self.mlp(self.norm2(x)))
        record(self.site_name, "out", x)
        return x


class ViT(ModelBase):
    arch, input_kind, form = "vit", "image", "image"
    LAYERS = {"depth": r"blocks\.(\d+)\."}  # layer counts: the weights' names

    def __init__(self, cfg: ViTConfig) -> None:
        super().__init__()
        self.cfg = cfg
        n = cfg.grid * cfg.grid
        self.patch_embed = PatchEmbed(cfg)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, cfg.embed_dim))
        if cfg.distilled:
            self.dist_token = nn.Parameter(torch.zeros(1, 1, cfg.embed_dim))
        self.pos_embed = nn.Parameter(torch.randn(1, n + cfg.prefix_tokens, cfg.embed_dim) * 0.02)
        self.pos_drop = nn.Dropout(cfg.dropout)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.depth))
        self.norm = nn.LayerNorm(cfg.embed_dim, eps=cfg.norm_eps)
        self.head = nn.Linear(cfg.embed_dim, cfg.num_classes)
        if cfg.distilled:
            self.head_dist = nn.Linear(cfg.embed_dim, cfg.num_classes)
        self.use_position = True  # an intervention: switch the position embedding off
        nn.init.normal_(self.cls_token, std=0.02)
        name_sites(self)

    def forward(self, img: torch.Tensor) -> torch.Tensor:  # (B, C, H, W) -> (B, classes)
        record_raw("input", "image", img[0, 0])
        record_raw("input", "pixels", img[0])  # (C, H, W): exactly what the model saw
        g = self.cfg.grid
        record_raw("patch_embed", "grid", torch.arange(g * g).view(g, g))
        x = self.patch_embed(img)  # (B, N, D)
        prefix = [self.cls_token] + ([self.dist_token] if self.cfg.distilled else [])
        x = torch.cat([t.expand(x.shape[0], -1, -1) for t in prefix] + [x], dim=1)  # (B, P+N, D)
        record_raw("pos_embed", "table", self.pos_embed[0])
        if self.use_position:
            x = x + self.pos_embed
        record("pos_embed", "sum", x)
        x = stream("pos_embed", x)
        x = self.pos_drop(x)
        for block in self.blocks:
            x = block(x)
        x = self.norm(x)
        logits = self.head(x[:, 0])
        if self.cfg.distilled:  # DeiT at inference: the mean of the two heads
            logits = (logits + self.head_dist(x[:, 1])) / 2
        record("head", "logits", logits)
        return logits

    # -- the model protocol (models/protocol.py) ---------------------------------
    def describe_sites(self) -> dict[str, dict]:
        cfg, g = self.cfg, self.cfg.grid
        return {f"blocks.{i}.attn": {"kind": PATCH_SELF.key, "heads": cfg.num_heads,
                                     "head_dim": cfg.embed_dim // cfg.num_heads,
                                     "cls_token": True, "grid": [g, g]}
                for i in range(len(self.blocks))}

    def extra_meta(self) -> dict:
        """The patch grid, the tokens' names (CLS, DeiT's DIST, the patches) and how many
        come before the patches."""
        cfg, g = self.cfg, self.cfg.grid
        return {"patch_grid": [g, g],
                "tokens": ["CLS"] + (["DIST"] if cfg.distilled else []) + [
                    str(i) for i in range(g * g)],
                "prefix_tokens": cfg.prefix_tokens}

    def residual_points(self) -> dict[str, list[str]]:
        return {"blocks": ["pos_embed"] + [f"blocks.{i}.{sub}" for i in range(len(self.blocks))
                                           for sub in ("attn", "mlp")]}

    def example_input(self) -> tuple[torch.Tensor, ...]:
        cfg = self.cfg
        return (torch.zeros(1, cfg.in_chans, cfg.img_size, cfg.img_size),)
