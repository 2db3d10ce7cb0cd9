"""Decoder-only language models: GPT-2 and the Llama family, as options of one model.

The decoder half of "Attention Is All You Need" on its own: masked (causal) self-attention
and a feed-forward layer per block, no encoder and no cross-attention; row i of the output
is the distribution of the token after token i.

    GPT-2 (Radford et al. 2019): learned absolute positions, pre-norm LayerNorm, an MLP with
        the tanh approximation of GELU ("gelu_new", which GPT-2 really uses), biases
        everywhere, the output tied to the token embedding.
    Llama (Touvron et al. 2023) and its relatives: rotary position embedding (RoPE, Su et al.
        2021) on q and k, RMSNorm, a SwiGLU MLP (down(silu(gate(x)) · up(x))), no biases,
        grouped-query attention (Ainslie et al. 2023: `num_kv_heads` < `num_heads` key/value
        heads, each shared by a group of query heads). Qwen2: q/k/v biases. Qwen3: RMSNorm of
        each head's q and k before RoPE. Gemma 3: the embedding × √d, RMSNorm as x̂·(1 + w),
        norms after attention and the MLP too, q/k norms, scores ÷ √query_pre_attn_scalar,
        GeGLU, sliding-window layers with their own RoPE base, soft-capped logits.

Parameter names are our own (one set for both families; the readers in models/checkpoints/
map the libraries' names onto them):
    embed, pos_embed (learned positions only), layers.{i}.norm1, layers.{i}.attn.{q,k,v,o}_proj,
    layers.{i}.norm2, layers.{i}.mlp.{fc1,fc2} or layers.{i}.mlp.{gate,up,down}_proj, norm,
    lm_head.

Attention sites: layers.{i}.attn (kind "causal"; "sliding" where the layer attends within a
sliding window of `window` tokens: query i sees keys i-w+1..i). K and V are recorded
expanded to every query head (head h reads key/value head h // (num_heads // num_kv_heads)),
so each head's matrices read like any other model's; the site description says which heads
share one.
"""
from __future__ import annotations

import math
from contextlib import contextmanager
from dataclasses import asdict, dataclass

import torch
from torch import nn

from .attention import attend, merge_heads
from .protocol import ModelBase
from .sites import CAUSAL, SLIDING
from .trace import (
    add_attention,
    add_write,
    is_recording,
    name_sites,
    record,
    record_from,
    record_output_projection,
    record_raw,
    stream,
)


@dataclass
class DecoderConfig:
    vocab_size: int
    d_model: int = 64
    num_layers: int = 2
    num_heads: int = 4
    num_kv_heads: int | None = None  # grouped-query attention; None: one per query head
    head_dim: int | None = None  # None: d_model // num_heads
    d_ff: int = 256
    max_len: int = 128  # positions: the learned table's size, or RoPE's trained context
    position: str = "learned"  # learned (GPT-2) | rope (Llama)
    rope_theta: float = 10000.0
    rope_scaling: dict | None = None  # {"rope_type": "linear" | "llama3", "factor": …, …}
    norm: str = "layernorm"  # layernorm | rmsnorm
    norm_eps: float = 1e-5
    mlp: str = "gelu_new"  # gelu_new | gelu | relu | swiglu | none (attention only)
    qkv_bias: bool = True
    out_bias: bool = True
    mlp_bias: bool = True
    tie_embeddings: bool = True
    dropout: float = 0.0
    bos_id: int | None = None  # put before the text by the tokenizer (Llama), not by us
    eos_id: int | None = None
    pad_id: int | None = None
    # -- Qwen3, Gemma 3, sliding windows (defaults: none of it; every preset unchanged) --
    qk_norm: bool = False  # Qwen3, Gemma 3: RMSNorm of each head's q and k before RoPE
    norm_offset: float = 0.0  # Gemma: RMSNorm multiplies by (offset + weight)
    sandwich_norm: bool = False  # Gemma 3: a norm after attention and after the MLP too
    embed_scale: bool = False  # Gemma: the embedding times √d_model (in the weights' dtype)
    attn_scalar: float | None = None  # Gemma's query_pre_attn_scalar: scores / √it, not √dh
    logit_softcap: float | None = None  # Gemma: logits = c · tanh(logits / c)
    sliding_window: int | None = None  # keys more than this many tokens back are masked ...
    layer_types: list[str] | None = None  # ... in the "sliding_attention" layers (None: all)
    rope_local_theta: float | None = None  # Gemma 3: the sliding layers' own RoPE base

    @property
    def kv_heads(self) -> int:
        return self.num_kv_heads or self.num_heads

    @property
    def dh(self) -> int:
        return self.head_dim or self.d_model // self.num_heads

    def to_dict(self) -> dict:
        """Every field, but the newer options only where they are set: a preset's config
        (and its traces' meta["config"]) reads as it did before they existed."""
        values = asdict(self)
        return {k: v for k, v in values.items()
                if k not in NEWER_OPTIONS or v != NEWER_OPTIONS[k]}


# the options added for Qwen3, Gemma 3 and sliding windows, with their defaults
NEWER_OPTIONS = dict(qk_norm=False, norm_offset=0.0, sandwich_norm=False, embed_scale=False,
                     attn_scalar=None, logit_softcap=None, sliding_window=None,
                     layer_types=None, rope_local_theta=None)


def rope_frequencies(cfg: DecoderConfig) -> torch.Tensor:
    """(dh/2,) inverse frequencies θ^(-2i/dh), rescaled as `rope_scaling` says.

    linear: every frequency / factor. llama3 (Llama 3.1): wavelengths longer than
    original_context / low_freq_factor are divided by factor, shorter than
    original_context / high_freq_factor kept, the ones between interpolated smoothly
    (the formulas of transformers' `_compute_llama3_parameters`)."""
    dim = cfg.dh
    inv_freq = 1.0 / (cfg.rope_theta ** (torch.arange(0, dim, 2, dtype=torch.int64).float()
                                         / dim))
    scaling = cfg.rope_scaling or {}
    kind = scaling.get("rope_type", scaling.get("type", "default"))
    if kind == "linear":
        return inv_freq / scaling["factor"]
    if kind == "llama3":
        factor, low, high = (scaling["factor"], scaling["low_freq_factor"],
                             scaling["high_freq_factor"])
        context = scaling["original_max_position_embeddings"]
        wavelen = 2 * math.pi / inv_freq
        scaled = torch.where(wavelen > context / low, inv_freq / factor, inv_freq)
        smooth = (context / wavelen - low) / (high - low)
        smoothed = (1 - smooth) * scaled / factor + smooth * scaled
        medium = ~(wavelen < context / high) * ~(wavelen > context / low)
        return torch.where(medium, smoothed, scaled)
    if kind != "default":
        raise ValueError(f"rope_scaling type '{kind}' is not implemented")
    return inv_freq


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    """(x1, x2) -> (-x2, x1) on the two halves of the last axis: each dimension pair
    (i, i + dh/2) rotated by 90°."""
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


class RMSNorm(nn.Module):
    """x / √(mean(x²) + eps) · weight (Zhang & Sennrich 2019), computed in float32.
    With an `offset` (Gemma: 1) the factor is (offset + weight), applied in float32 before
    the result goes back to the input's dtype."""

    def __init__(self, dim: int, eps: float, offset: float = 0.0) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps, self.offset = eps, offset

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x.float()
        h = h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + self.eps)
        if self.offset:
            return (h * (self.offset + self.weight.float())).to(x.dtype)
        return self.weight * h.to(x.dtype)


def make_norm(cfg: DecoderConfig, dim: int | None = None) -> nn.Module:
    if cfg.norm == "rmsnorm":
        return RMSNorm(dim or cfg.d_model, cfg.norm_eps, cfg.norm_offset)
    if cfg.norm == "layernorm":
        return nn.LayerNorm(cfg.d_model, eps=cfg.norm_eps)
    raise ValueError(f"unknown norm '{cfg.norm}'")


def sliding_layer(cfg: DecoderConfig, layer: int) -> bool:
    """Whether layer `layer` attends within the sliding window only."""
    if not cfg.sliding_window:
        return False
    return cfg.layer_types is None or cfg.layer_types[layer] == "sliding_attention"


class CausalSelfAttention(nn.Module):
    def __init__(self, cfg: DecoderConfig, layer: int = 0) -> None:
        super().__init__()
        if cfg.num_heads % cfg.kv_heads:
            raise ValueError(f"{cfg.num_heads} query heads do not split into groups of "
                             f"{cfg.kv_heads} key/value heads")
        self.num_heads, self.num_kv_heads, self.dh = cfg.num_heads, cfg.kv_heads, cfg.dh
        self.q_proj = nn.Linear(cfg.d_model, cfg.num_heads * cfg.dh, bias=cfg.qkv_bias)
        self.k_proj = nn.Linear(cfg.d_model, cfg.kv_heads * cfg.dh, bias=cfg.qkv_bias)
        self.v_proj = nn.Linear(cfg.d_model, cfg.kv_heads * cfg.dh, bias=cfg.qkv_bias)
        self.o_proj = nn.Linear(cfg.num_heads * cfg.dh, cfg.d_model, bias=cfg.out_bias)
        if cfg.qk_norm:  # one RMSNorm over each head's dh numbers, shared by the heads
            self.q_norm = RMSNorm(cfg.dh, cfg.norm_eps, cfg.norm_offset)
            self.k_norm = RMSNorm(cfg.dh, cfg.norm_eps, cfg.norm_offset)
        self.window = cfg.sliding_window if sliding_layer(cfg, layer) else None
        self.local_rope = self.window is not None and cfg.rope_local_theta is not None
        # query_pre_attn_scalar: q scaled so that q·k/√dh is the model's q·k/√scalar
        self.q_scale = None if cfg.attn_scalar is None else math.sqrt(cfg.dh / cfg.attn_scalar)
        self.head_gate: torch.Tensor | None = None
        self.head_mean: torch.Tensor | None = None  # (H,) bool: mean-ablated heads
        self.use_mask = True  # an intervention: let each token see the later ones too
        self.kept_weights: list | None = None  # training: collect weights for a loss
        self.kv_cache: KVCache | None = None  # generating: the earlier tokens' keys, values

    def forward(self, x: torch.Tensor, rope: tuple[torch.Tensor, torch.Tensor] | None
                ) -> torch.Tensor:
        B, N, _ = x.shape
        q = self.q_proj(x).view(B, N, self.num_heads, self.dh).transpose(1, 2)  # (B, H, N, dh)
        k = self.k_proj(x).view(B, N, self.num_kv_heads, self.dh).transpose(1, 2)  # (B, Hkv…)
        v = self.v_proj(x).view(B, N, self.num_kv_heads, self.dh).transpose(1, 2)
        renormed = False
        if hasattr(self, "q_norm"):  # Qwen3, Gemma 3: each head's q and k normalised
            # (the pipeline shows them before and after: q_proj's output, then the norm's)
            record(self.site_name, "q_before_norm", q)
            record(self.site_name, "k_before_norm", k)  # (Hkv, N, dh)
            q, k = self.q_norm(q), self.k_norm(k)
            renormed = rope is not None and self.record_renormed(q.dtype, x.device)
        if rope is not None:
            cos, sin = (r.to(q.dtype) for r in rope)  # (N, dh) each
            # before the rotation: the positions panel rotates these to show how a score
            # depends on the distance between query and key
            if not renormed:
                record(self.site_name, "q_unrotated", q)
                record(self.site_name, "k_unrotated", k)  # (Hkv, N, dh): one per kv head
            q = q * cos + rotate_half(q) * sin
            k = k * cos + rotate_half(k) * sin
        if self.q_scale is not None:
            q = q * self.q_scale
        if self.kv_cache is not None:  # generating: this token's k, v after the earlier ones
            k, v = self.kv_cache.extend(k, v, self.window if self.use_mask else None)
            if self.window and self.use_mask and N == 1:  # one query: its band is the last w
                k, v = k[:, :, -self.window:], v[:, :, -self.window:]
        group = self.num_heads // self.num_kv_heads
        if group > 1:  # query head h reads key/value head h // group
            k = k.repeat_interleave(group, dim=1)
            v = v.repeat_interleave(group, dim=1)
        # (a cached step's one query sees every key it is given: no mask then; a sliding
        # window gave it the last w only)
        out = attend(self.site_name, q, k, v, causal=self.use_mask and k.shape[2] == N,
                     head_gate=self.head_gate, head_mean=self.head_mean,
                     keep_weights=self.kept_weights,
                     window=self.window if self.use_mask else None)
        y = self.o_proj(merge_heads(out))
        record(self.site_name, "proj", y)
        record_output_projection(self.site_name, self.o_proj)
        return y

    def record_renormed(self, dtype: torch.dtype, device: torch.device) -> bool:
        """q and k after their norm (`S/q_unrotated`, `S/k_unrotated`), derived when read
        from the records before it by this norm's own operations in `dtype`, on a copy of
        its weights: the same numbers, not stored (a third of a Qwen3 trace's q and k).
        On CPU only (another device's arithmetic may round differently); whether done."""
        if device.type != "cpu" or not is_recording():
            return False
        done = True
        for key, norm in (("q", self.q_norm), ("k", self.k_norm)):
            frozen = RMSNorm(norm.weight.shape[0], norm.eps, norm.offset)
            frozen.weight = nn.Parameter(norm.weight.detach().clone(), requires_grad=False)

            def compute(x: torch.Tensor, frozen=frozen) -> torch.Tensor:
                with torch.inference_mode():
                    return frozen(x.to(dtype))
            done = record_from(self.site_name, f"{key}_unrotated", f"{key}_before_norm",
                               compute) and done
        return done


class KVCache:
    """One attention module's keys and values of the tokens so far, (B, Hkv, L, dh) each,
    after RoPE and before the key/value heads are shared out: a generation step computes
    the newest token's only."""

    def __init__(self) -> None:
        self.k: torch.Tensor | None = None
        self.v: torch.Tensor | None = None

    def extend(self, k: torch.Tensor, v: torch.Tensor, window: int | None = None
               ) -> tuple[torch.Tensor, torch.Tensor]:
        """The new tokens' k, v appended; returns every token's (kept: the last `window`
        - 1 only, where a sliding window will never let a later query see the others)."""
        if self.k is not None:
            k, v = torch.cat([self.k, k], dim=2), torch.cat([self.v, v], dim=2)
        start = 0 if not window else max(k.shape[2] - (window - 1), 0)
        self.k, self.v = k[:, :, start:], v[:, :, start:]
        return k, v


class GatedMlp(nn.Module):
    """SwiGLU (Shazeer 2020): down(silu(gate(x)) · up(x)); GeGLU with GELU's tanh
    approximation in place of silu (Gemma, cfg.mlp "geglu_tanh")."""

    def __init__(self, cfg: DecoderConfig) -> None:
        super().__init__()
        self.gate_proj = nn.Linear(cfg.d_model, cfg.d_ff, bias=cfg.mlp_bias)
        self.up_proj = nn.Linear(cfg.d_model, cfg.d_ff, bias=cfg.mlp_bias)
        self.down_proj = nn.Linear(cfg.d_ff, cfg.d_model, bias=cfg.mlp_bias)
        self.act = nn.GELU(approximate="tanh") if cfg.mlp == "geglu_tanh" else nn.SiLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.down_proj(self.act(self.gate_proj(x)) * self.up_proj(x))


class PlainMlp(nn.Module):
    """fc2(act(fc1(x))); GPT-2's act is GELU's tanh approximation ("gelu_new")."""

    def __init__(self, cfg: DecoderConfig) -> None:
        super().__init__()
        self.fc1 = nn.Linear(cfg.d_model, cfg.d_ff, bias=cfg.mlp_bias)
        self.fc2 = nn.Linear(cfg.d_ff, cfg.d_model, bias=cfg.mlp_bias)
        self.act = {"gelu_new": nn.GELU(approximate="tanh"), "gelu": nn.GELU(),
                    "relu": nn.ReLU()}[cfg.mlp]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.act(self.fc1(x)))


class Block(nn.Module):
    """Pre-norm: x + attn(norm1(x)), then + mlp(norm2(x)) (no MLP when cfg.mlp is "none").
    Gemma 3's sandwich: x + post_attn_norm(attn(norm1(x))), x + post_mlp_norm(mlp(norm2(x)))."""

    def __init__(self, cfg: DecoderConfig, layer: int = 0) -> None:
        super().__init__()
        self.norm1 = make_norm(cfg)
        self.attn = CausalSelfAttention(cfg, layer)
        if cfg.sandwich_norm:
            self.post_attn_norm = make_norm(cfg)
        if cfg.mlp != "none":
            self.norm2 = make_norm(cfg)
            self.mlp = GatedMlp(cfg) if cfg.mlp in ("swiglu", "geglu_tanh") else PlainMlp(cfg)
            if cfg.sandwich_norm:
                self.post_mlp_norm = make_norm(cfg)

    def forward(self, x, rope):
        if isinstance(rope, dict):  # {"global": …, "local": …}: Gemma 3's two RoPE bases
            rope = rope["local" if self.attn.local_rope else "global"]
        y = self.attn(self.norm1(x), rope)
        x = add_attention(self.attn, x, self.post_attn_norm(y) if hasattr(
            self, "post_attn_norm") else y)
        if hasattr(self, "mlp"):
            y = self.mlp(self.norm2(x))
            x = add_write(self.mlp, x, self.post_mlp_norm(y) if hasattr(self, "post_mlp_norm")
                          else y)
        record(self.site_name, "out", x)
        return x


class SoftcappedHead(nn.Module):
    """The output layer, its logits soft-capped: c · tanh(logits / c) (Gemma)."""

    def __init__(self, head: nn.Linear, cap: float) -> None:
        super().__init__()
        self.head, self.cap = head, cap

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.head(x) / self.cap) * self.cap


class Decoder(ModelBase):
    arch, input_kind, form, assign_weights = "decoder", "text", "lm", True
    LAYERS = {"num_layers": r"layers\.(\d+)\."}  # layer counts: the weights' names

    def __init__(self, cfg: DecoderConfig) -> None:
        super().__init__()
        if cfg.position not in ("learned", "rope"):
            raise ValueError(f"unknown position '{cfg.position}' (learned or rope)")
        if cfg.mlp not in ("gelu_new", "gelu", "relu", "swiglu", "geglu_tanh", "none"):
            raise ValueError(f"unknown mlp '{cfg.mlp}'")
        if cfg.position == "rope" and cfg.dh % 2:
            raise ValueError(f"RoPE needs an even head size, not {cfg.dh}")
        if cfg.layer_types is not None and (len(cfg.layer_types) != cfg.num_layers or any(
                t not in ("sliding_attention", "full_attention") for t in cfg.layer_types)):
            raise ValueError(f"layer_types must name sliding_attention or full_attention for "
                             f"each of the {cfg.num_layers} layers")
        self.cfg = cfg
        self.embed = nn.Embedding(cfg.vocab_size, cfg.d_model)
        if cfg.position == "learned":
            self.pos_embed = nn.Embedding(cfg.max_len, cfg.d_model)
        else:
            self.register_buffer("inv_freq", rope_frequencies(cfg), persistent=False)
            if cfg.rope_local_theta is not None:
                self.register_buffer("local_inv_freq", self.local_frequencies(),
                                     persistent=False)
        self.layers = nn.ModuleList(Block(cfg, i) for i in range(cfg.num_layers))
        self.norm = make_norm(cfg)
        self.lm_head = nn.Linear(cfg.d_model, cfg.vocab_size, bias=False)
        if cfg.tie_embeddings:
            self.lm_head.weight = self.embed.weight
        self.use_position = True  # an intervention: no position information at all
        self.cache_start = 0  # generating with a cache: the position of ids[:, 0]
        for module in self.modules():
            if getattr(getattr(module, "weight", None), "is_meta", False):
                continue  # shapes only (the weights come from a file): nothing to draw
            if isinstance(module, (nn.Linear, nn.Embedding)):  # GPT-2's initialisation
                nn.init.normal_(module.weight, std=0.02)
                if getattr(module, "bias", None) is not None:
                    nn.init.zeros_(module.bias)
        name_sites(self)

    def restore_buffers(self) -> None:
        """After loading weights into a model built on the meta device (assign): the
        buffers no file holds, computed again."""
        if self.cfg.position == "rope":
            self.inv_freq = rope_frequencies(self.cfg)
            if self.cfg.rope_local_theta is not None:
                self.local_inv_freq = self.local_frequencies()

    def local_frequencies(self) -> torch.Tensor:
        """The sliding layers' inverse frequencies: their own base, no scaling (Gemma 3)."""
        from dataclasses import replace
        return rope_frequencies(replace(self.cfg, rope_theta=self.cfg.rope_local_theta,
                                        rope_scaling=None))

    def rope(self, n: int, device, start: int = 0, inv_freq: torch.Tensor | None = None
             ) -> tuple[torch.Tensor, torch.Tensor]:
        """(cos, sin), each (n, dh), of positions start … start + n - 1: position p rotates
        dimension pair (i, i + dh/2) by p · inv_freq[i]."""
        inv_freq = self.inv_freq if inv_freq is None else inv_freq
        positions = torch.arange(start, start + n, device=device, dtype=torch.float32)
        freqs = positions[:, None] * inv_freq.to(device)[None]  # (n, dh/2)
        angles = torch.cat((freqs, freqs), dim=-1)  # (n, dh)
        return angles.cos(), angles.sin()

    def hidden(self, ids: torch.Tensor) -> torch.Tensor:
        """ids (B, N) -> final-normed hidden states (B, N, D)."""
        B, N = ids.shape
        start = self.cache_start  # 0 unless generating with a cache
        if start + N > self.cfg.max_len and self.cfg.position == "learned":
            raise ValueError(f"{start + N} tokens; this model has {self.cfg.max_len} positions")
        x = self.embed(ids)  # (B, N, D)
        if self.cfg.embed_scale:  # Gemma: √d rounded to the weights' dtype first
            x = x * torch.tensor(self.cfg.d_model ** 0.5, dtype=torch.float32).to(x.dtype)
        record("embed", "tokens", x)
        rope = None
        if self.cfg.position == "learned":
            record_raw("pos_embed", "weight", self.pos_embed.weight[start:start + N])
            if self.use_position:
                x = x + self.pos_embed.weight[start:start + N]
        elif self.use_position:
            rope = self.rope(N, ids.device, start)
            record_raw("rope", "inv_freq", self.inv_freq)
            if self.cfg.rope_local_theta is not None:  # Gemma 3: two bases
                rope = {"global": rope, "local": self.rope(N, ids.device, start,
                                                         self.local_inv_freq)}
                record_raw("rope_local", "inv_freq", self.local_inv_freq)
        record("embed", "sum", x)
        x = stream("embed", x)
        for layer in self.layers:
            x = layer(x, rope)
        return self.norm(x)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        """ids (B, N) -> logits (B, N, V): row i is the distribution of token i + 1."""
        return self.output_head()(self.hidden(ids))

    @torch.no_grad()
    def generate(self, ids: torch.Tensor, steps: int, stop_at_eos: bool = True,
                 progress=None) -> torch.Tensor:
        """Greedy continuation (B, ≤ steps): the most likely token each step, as
        transformers' generate with do_sample=False; stops after `eos_id` (batch 1) when
        asked. The input runs once, then each new token alone against the earlier tokens'
        keys and values (a key/value cache); `progress(done, steps)` is called after each
        token (it may raise to stop the continuation there)."""
        if not all(layer.attn.use_mask and layer.attn.head_mean is None
                   for layer in self.layers):
            # every token sees the later ones (no mask; a head's mean over all positions):
            # each step changes the earlier tokens' keys
            return self._generate_without_cache(ids, steps, stop_at_eos, progress)
        new: list[torch.Tensor] = []
        with self._kv_cached():
            n = ids.shape[1]
            logits = None
            for _ in range(steps):
                if self.cfg.position == "learned" and n + len(new) >= self.cfg.max_len:
                    break
                if logits is None:  # the input, its keys and values kept
                    logits = self._last_logits(ids)
                else:  # only the newest token, at the next position
                    self.cache_start = n + len(new) - 1
                    logits = self._last_logits(new[-1])
                new.append(logits.argmax(-1, keepdim=True))  # (B, 1)
                if self._ends(new, steps, stop_at_eos, progress):
                    break
        return torch.cat(new, dim=1) if new else ids[:, :0]

    def _ends(self, new: list[torch.Tensor], steps: int, stop_at_eos: bool, progress) -> bool:
        """After each generated token: progress told (it may raise to stop there), and
        whether the continuation ends at `eos_id` (batch 1)."""
        if progress is not None:
            progress(len(new), steps)
        return stop_at_eos and self.cfg.eos_id is not None and bool(
            (new[-1] == self.cfg.eos_id).all())

    def _last_logits(self, ids: torch.Tensor) -> torch.Tensor:
        """(B, V): the logits after the last token only (the output head on one row)."""
        return self.output_head()(self.hidden(ids)[:, -1])

    @contextmanager
    def _kv_cached(self):
        """Every attention module keeps the keys and values it computes, for the block."""
        for layer in self.layers:
            layer.attn.kv_cache = KVCache()
        try:
            yield
        finally:
            self.cache_start = 0
            for layer in self.layers:
                layer.attn.kv_cache = None

    def _generate_without_cache(self, ids, steps, stop_at_eos, progress) -> torch.Tensor:
        """Greedy continuation re-running the whole sequence each step (the mask switched
        off, or a head mean-ablated: a token's keys then depend on the tokens after it)."""
        new = []
        for _ in range(steps):
            if self.cfg.position == "learned" and ids.shape[1] >= self.cfg.max_len:
                break
            new.append(self._last_logits(ids).argmax(-1, keepdim=True))  # (B, 1)
            ids = torch.cat([ids, new[-1]], dim=1)
            if self._ends(new, steps, stop_at_eos, progress):
                break
        return torch.cat(new, dim=1) if new else ids[:, :0]

    # -- the model protocol (models/protocol.py) ---------------------------------
    def describe_sites(self) -> dict[str, dict]:
        """Every attention site and what a panel needs to read it."""
        cfg = self.cfg
        sites = {f"layers.{i}.attn": {"kind": CAUSAL.key, "layer": i, "heads": cfg.num_heads,
                                      "head_dim": cfg.dh, "kv_heads": cfg.kv_heads}
                 for i in range(cfg.num_layers)}
        for i, layer in enumerate(self.layers):  # a sliding window: its own kind of mask
            if layer.attn.window is not None:
                sites[f"layers.{i}.attn"].update(kind=SLIDING.key, window=layer.attn.window)
                if layer.attn.local_rope:
                    sites[f"layers.{i}.attn"]["rope"] = "local"
        return sites

    def residual_points(self) -> dict[str, list[str]]:
        subs = ("attn",) if self.cfg.mlp == "none" else ("attn", "mlp")
        return {"layers": ["embed"] + [f"layers.{i}.{sub}" for i in range(self.cfg.num_layers)
                                       for sub in subs]}

    def example_input(self) -> tuple[torch.Tensor, ...]:
        return (torch.tensor([[0]]),)

    def output_head(self) -> nn.Module:
        """What turns a hidden state into the next token's logits."""
        if self.cfg.logit_softcap:
            if not hasattr(self, "_softcapped"):  # (not a submodule: no second name)
                self.__dict__["_softcapped"] = SoftcappedHead(self.lm_head,
                                                              self.cfg.logit_softcap)
            return self.__dict__["_softcapped"]
        return self.lm_head
