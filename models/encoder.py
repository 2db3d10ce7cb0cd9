"""Encoder-only Transformer: BERT (Devlin et al. 2019) with its masked-language-model head.

The encoder half of "Attention Is All You Need" on its own: every token attends to every
other (no mask), post-norm residual blocks as in the paper (LayerNorm after each sum),
GELU. Input embedding = token + learned absolute position + token type ("segment"),
then LayerNorm. The masked-LM head: dense → activation → LayerNorm → a decoder tied to
the token embedding, plus a bias per word; row i is the distribution of the word at i
(what BERT guesses for a `[MASK]` there).

Parameter names are our own; models/checkpoints/bert.py maps transformers' `bert.*` / `cls.*` names:
    embed.word, embed.position, embed.token_type, embed.norm,
    layers.{i}.attn.{q,k,v,o}_proj, layers.{i}.norm1, layers.{i}.mlp.{fc1,fc2},
    layers.{i}.norm2, mlm.dense, mlm.norm, mlm.decoder (tied to embed.word), mlm.bias.

Attention sites: layers.{i}.attn (kind "bidirectional").
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from .attention import MultiHeadAttention
from .protocol import ModelBase
from .sites import BIDIRECTIONAL
from .trace import name_sites, record, record_raw, stream, sublayer

ACTIVATIONS = {"gelu": lambda: nn.GELU(), "gelu_new": lambda: nn.GELU(approximate="tanh"),
               "relu": lambda: nn.ReLU()}


@dataclass
class EncoderConfig:
    vocab_size: int
    d_model: int = 64
    num_layers: int = 2
    num_heads: int = 4
    d_ff: int = 256
    max_len: int = 128  # learned positions
    type_vocab_size: int = 2
    norm_eps: float = 1e-12
    activation: str = "gelu"  # gelu | gelu_new | relu
    dropout: float = 0.0
    pad_id: int | None = 0

    def to_dict(self) -> dict:
        return asdict(self)


class Embeddings(nn.Module):
    def __init__(self, cfg: EncoderConfig) -> None:
        super().__init__()
        self.word = nn.Embedding(cfg.vocab_size, cfg.d_model)
        self.position = nn.Embedding(cfg.max_len, cfg.d_model)
        self.token_type = nn.Embedding(cfg.type_vocab_size, cfg.d_model)
        self.norm = nn.LayerNorm(cfg.d_model, eps=cfg.norm_eps)
        self.use_position = True  # an intervention: no position information at all

    def forward(self, ids: torch.Tensor, token_types: torch.Tensor) -> torch.Tensor:
        N = ids.shape[1]
        tokens = self.word(ids)  # (B, N, D)
        record("embed", "tokens", tokens)
        record_raw("pos_embed", "weight", self.position.weight[:N])
        x = tokens + self.token_type(token_types)
        if self.use_position:
            x = x + self.position.weight[:N]
        x = self.norm(x)
        record("embed", "sum", x)
        return stream("embed", x)


class Layer(nn.Module):
    """Post-norm: norm1(x + attn(x)), then norm2(h + mlp(h))."""

    def __init__(self, cfg: EncoderConfig) -> None:
        super().__init__()
        self.attn = MultiHeadAttention(cfg.d_model, cfg.num_heads)
        self.norm1 = nn.LayerNorm(cfg.d_model, eps=cfg.norm_eps)
        self.mlp = nn.Sequential()
        self.mlp.fc1 = nn.Linear(cfg.d_model, cfg.d_ff)
        self.mlp.act = ACTIVATIONS[cfg.activation]()
        self.mlp.fc2 = nn.Linear(cfg.d_ff, cfg.d_model)
        self.norm2 = nn.LayerNorm(cfg.d_model, eps=cfg.norm_eps)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        x = stream(self.attn, self.norm1(x + sublayer(self.attn, self.attn(x, x, mask))))
        w = sublayer(self.mlp, self.mlp(x))
        x = stream(self.mlp, self.norm2(x + w), w)
        record(self.site_name, "out", x)
        return x


class MaskedLMHead(nn.Module):
    def __init__(self, cfg: EncoderConfig) -> None:
        super().__init__()
        self.dense = nn.Linear(cfg.d_model, cfg.d_model)
        self.act = ACTIVATIONS[cfg.activation]()
        self.norm = nn.LayerNorm(cfg.d_model, eps=cfg.norm_eps)
        self.decoder = nn.Linear(cfg.d_model, cfg.vocab_size, bias=False)
        self.bias = nn.Parameter(torch.zeros(cfg.vocab_size))

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.norm(self.act(self.dense(h)))) + self.bias


class Encoder(ModelBase):
    arch, input_kind, form, assign_weights = "encoder", "text", "lm", True
    LAYERS = {"num_layers": r"layers\.(\d+)\."}  # layer counts: the weights' names

    def __init__(self, cfg: EncoderConfig) -> None:
        super().__init__()
        if cfg.activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation '{cfg.activation}'")
        self.cfg = cfg
        self.embed = Embeddings(cfg)
        self.layers = nn.ModuleList(Layer(cfg) for _ in range(cfg.num_layers))
        self.mlm = MaskedLMHead(cfg)
        self.mlm.decoder.weight = self.embed.word.weight
        for module in self.modules():
            if isinstance(module, (nn.Linear, nn.Embedding)):  # BERT's initialisation
                nn.init.normal_(module.weight, std=0.02)
                if getattr(module, "bias", None) is not None:
                    nn.init.zeros_(module.bias)
        name_sites(self)

    def hidden(self, ids: torch.Tensor, token_types: torch.Tensor | None = None,
               mask: torch.Tensor | None = None) -> torch.Tensor:
        """ids (B, N) -> the last layer's states (B, N, D); `mask`: additive, broadcastable
        to (B, H, N, N) (padding), None for one unpadded sentence."""
        if ids.shape[1] > self.cfg.max_len:
            raise ValueError(f"{ids.shape[1]} tokens; this model has {self.cfg.max_len} "
                             f"positions")
        if token_types is None:
            token_types = torch.zeros_like(ids)
        x = self.embed(ids, token_types)
        for layer in self.layers:
            x = layer(x, mask)
        return x

    def forward(self, ids: torch.Tensor, token_types: torch.Tensor | None = None,
                mask: torch.Tensor | None = None) -> torch.Tensor:
        """ids (B, N) -> masked-LM logits (B, N, V)."""
        return self.mlm(self.hidden(ids, token_types, mask))

    # -- the model protocol (models/protocol.py) ---------------------------------
    def describe_sites(self) -> dict[str, dict]:
        cfg = self.cfg
        return {f"layers.{i}.attn": {"kind": BIDIRECTIONAL.key, "layer": i,
                                     "heads": cfg.num_heads,
                                     "head_dim": cfg.d_model // cfg.num_heads,
                                     "kv_heads": cfg.num_heads}
                for i in range(cfg.num_layers)}

    def residual_points(self) -> dict[str, list[str]]:
        return {"layers": ["embed"] + [f"layers.{i}.{sub}" for i in range(self.cfg.num_layers)
                                       for sub in ("attn", "mlp")]}

    def example_input(self) -> tuple[torch.Tensor, ...]:
        return (torch.tensor([[0]]),)

    def output_head(self) -> nn.Module:
        """What turns a hidden state into each position's word guesses (BERT's MLM head)."""
        return self.mlm
