"""Encoder–decoder Transformer ("Attention Is All You Need", Vaswani et al. 2017).

Differences from the paper, for fast, stable training of tiny models on a CPU:
pre-norm residual blocks (LayerNorm before each sub-layer, plus a final LayerNorm),
GELU in the feed-forward layer. Everything else follows the paper: scaled token
embeddings plus sinusoidal encodings, encoder self-attention, masked decoder
self-attention, encoder–decoder (cross) attention, a linear generator.

Attention sites: encoder.layers.{i}.self_attn, decoder.layers.{i}.self_attn,
decoder.layers.{i}.cross_attn.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from .attention import Mlp, MultiHeadAttention, causal_mask
from .positional import TokenEmbedding
from .protocol import ModelBase
from .sites import CROSS, DECODER_SELF, ENCODER_SELF
from .trace import add_write, name_sites, record, stream, sublayer

PAD, BOS, EOS, UNK = 0, 1, 2, 3


@dataclass
class TransformerConfig:
    src_vocab: int
    tgt_vocab: int
    d_model: int = 64
    num_heads: int = 4
    enc_layers: int = 2
    dec_layers: int = 2
    d_ff: int = 256
    max_len: int = 32
    dropout: float = 0.1
    # What OPUS-MT (Marian) models need; the defaults are the presets' own choices.
    norm_first: bool = True  # pre-norm + a final LayerNorm; False: post-norm (the paper's)
    activation: str = "gelu"  # gelu | swish | relu
    scale_embeddings: bool = True  # token embedding × √d_model
    position_layout: str = "interleaved"  # or "halves": all sines, then all cosines
    shared_embeddings: bool = False  # one matrix for source, target and the generator
    pad_id: int = 0
    bos_id: int = 1  # the decoder's first input (Marian: its pad id)
    eos_id: int = 2
    forbid_pad: bool = False  # never generate pad (Marian's bad_words_ids)

    def to_dict(self) -> dict:
        return asdict(self)


def padding_mask(ids: torch.Tensor, pad_id: int = PAD) -> torch.Tensor | None:
    """Additive key mask (B, 1, 1, N): -inf at PAD keys; None when nothing is padded."""
    pad = ids == pad_id
    if not bool(pad.any()):
        return None
    return torch.zeros(pad.shape, dtype=torch.float32, device=ids.device).masked_fill(
        pad, float("-inf")
    )[:, None, None, :]


def one_context_vector(memory: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """The seq2seq bottleneck (before attention): every encoder state replaced by their mean
    (padding left out). Cross-attention over N identical keys and values gives each its
    weight 1/N and returns that one vector: every decoding step sees the same context, exactly
    as if the encoder had handed over a single vector. Shapes stay as they are, so every panel
    still shows the (uniform) cross-attention."""
    if mask is None:
        context = memory.mean(dim=1, keepdim=True)  # (B, 1, D)
    else:
        keep = torch.isfinite(mask[:, 0, 0, :]).to(memory.dtype)[..., None]  # (B, S, 1)
        context = (memory * keep).sum(1, keepdim=True) / keep.sum(1, keepdim=True)
    return context.expand_as(memory)


class EncoderLayer(nn.Module):
    def __init__(self, cfg: TransformerConfig) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(cfg.d_model)
        self.self_attn = MultiHeadAttention(cfg.d_model, cfg.num_heads)
        self.norm2 = nn.LayerNorm(cfg.d_model)
        self.ff = Mlp(cfg.d_model, cfg.d_ff, cfg.dropout, cfg.activation)
        self.drop = nn.Dropout(cfg.dropout)
        self.norm_first = cfg.norm_first

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        if self.norm_first:
            h = self.norm1(x)
            x = stream(self.self_attn,
                       x + sublayer(self.self_attn, self.drop(self.self_attn(h, h, mask))))
            x = add_write(self.ff, x, self.drop(self.ff(self.norm2(x))))
        else:  # post-norm: LayerNorm after each residual sum (the paper; Marian)
            x = stream(self.self_attn, self.norm1(
                x + sublayer(self.self_attn, self.drop(self.self_attn(x, x, mask)))))
            w = sublayer(self.ff, self.drop(self.ff(x)))
            x = stream(self.ff, self.norm2(x + w), w)
        record(self.site_name, "out", x)
        return x


class DecoderLayer(nn.Module):
    def __init__(self, cfg: TransformerConfig) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(cfg.d_model)
        self.self_attn = MultiHeadAttention(cfg.d_model, cfg.num_heads)
        self.norm2 = nn.LayerNorm(cfg.d_model)
        self.cross_attn = MultiHeadAttention(cfg.d_model, cfg.num_heads)
        self.norm3 = nn.LayerNorm(cfg.d_model)
        self.ff = Mlp(cfg.d_model, cfg.d_ff, cfg.dropout, cfg.activation)
        self.drop = nn.Dropout(cfg.dropout)
        self.norm_first = cfg.norm_first

    def forward(
        self,
        x: torch.Tensor,
        memory: torch.Tensor,
        self_mask: torch.Tensor,
        memory_mask: torch.Tensor | None,
    ) -> torch.Tensor:
        if self.norm_first:
            h = self.norm1(x)
            x = stream(self.self_attn,
                       x + sublayer(self.self_attn, self.drop(self.self_attn(h, h, self_mask))))
            x = stream(self.cross_attn, x + sublayer(self.cross_attn, self.drop(
                self.cross_attn(self.norm2(x), memory, memory_mask))))
            x = add_write(self.ff, x, self.drop(self.ff(self.norm3(x))))
        else:
            x = stream(self.self_attn, self.norm1(
                x + sublayer(self.self_attn, self.drop(self.self_attn(x, x, self_mask)))))
            x = stream(self.cross_attn, self.norm2(x + sublayer(self.cross_attn, self.drop(
                self.cross_attn(x, memory, memory_mask)))))
            w = sublayer(self.ff, self.drop(self.ff(x)))
            x = stream(self.ff, self.norm3(x + w), w)
        record(self.site_name, "out", x)
        return x


class Encoder(nn.Module):
    def __init__(self, cfg: TransformerConfig) -> None:
        super().__init__()
        self.embed = TokenEmbedding(cfg.src_vocab, cfg.d_model, cfg.max_len,
                                    cfg.scale_embeddings, cfg.position_layout)
        self.layers = nn.ModuleList(EncoderLayer(cfg) for _ in range(cfg.enc_layers))
        self.norm = nn.LayerNorm(cfg.d_model) if cfg.norm_first else nn.Identity()
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, src: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        x = stream("encoder.embed", self.drop(self.embed(src)))  # (B, S, D)
        for layer in self.layers:
            x = layer(x, mask)
        return self.norm(x)


class Decoder(nn.Module):
    def __init__(self, cfg: TransformerConfig) -> None:
        super().__init__()
        self.embed = TokenEmbedding(cfg.tgt_vocab, cfg.d_model, cfg.max_len,
                                    cfg.scale_embeddings, cfg.position_layout)
        self.layers = nn.ModuleList(DecoderLayer(cfg) for _ in range(cfg.dec_layers))
        self.norm = nn.LayerNorm(cfg.d_model) if cfg.norm_first else nn.Identity()
        self.pad_id, self.bos_id = cfg.pad_id, cfg.bos_id
        self.drop = nn.Dropout(cfg.dropout)
        self.use_mask = True  # an intervention: let each position see the later ones

    def forward(
        self, tgt: torch.Tensor, memory: torch.Tensor, memory_mask: torch.Tensor | None
    ) -> torch.Tensor:
        self_mask = causal_mask(tgt.shape[1], tgt.device)
        if not self.use_mask:
            self_mask = torch.zeros_like(self_mask)
        keys = tgt
        if self.bos_id == self.pad_id:  # Marian starts decoding with its pad token: not padding
            keys = tgt.clone()
            keys[:, 0] = -1
        pad = padding_mask(keys, self.pad_id)
        if pad is not None:
            self_mask = self_mask + pad
        x = stream("decoder.embed", self.drop(self.embed(tgt)))  # (B, T, D)
        for layer in self.layers:
            x = layer(x, memory, self_mask, memory_mask)
        return self.norm(x)


class Transformer(ModelBase):
    arch, input_kind, form, decodes = "transformer", "text", "seq2seq", True
    LAYERS = {"enc_layers": r"encoder\.layers\.(\d+)\.",
              "dec_layers": r"decoder\.layers\.(\d+)\."}  # layer counts: the weights' names

    def __init__(self, cfg: TransformerConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.encoder = Encoder(cfg)
        self.decoder = Decoder(cfg)
        self.generator = nn.Linear(cfg.d_model, cfg.tgt_vocab)
        if cfg.shared_embeddings:  # Marian: one matrix (and the generator keeps its bias)
            self.decoder.embed.embed.weight = self.encoder.embed.embed.weight
            self.generator.weight = self.encoder.embed.embed.weight
        # an intervention: the classic seq2seq bottleneck, one context vector for all steps
        self.bottleneck = False
        name_sites(self)

    def encode(self, src: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        mask = padding_mask(src, self.cfg.pad_id)
        return self.encoder(src, mask), mask

    def decode(
        self, tgt: torch.Tensor, memory: torch.Tensor, memory_mask: torch.Tensor | None
    ) -> torch.Tensor:
        if self.bottleneck:
            memory = one_context_vector(memory, memory_mask)
        logits = self.generator(self.decoder(tgt, memory, memory_mask))  # (B, T, V)
        if self.cfg.forbid_pad:
            logits = logits.index_fill(-1, torch.tensor([self.cfg.pad_id],
                                                        device=logits.device), float("-inf"))
        record("generator", "logits", logits)
        return logits

    def forward(self, src: torch.Tensor, tgt: torch.Tensor) -> torch.Tensor:
        """Teacher forcing: logits (B, T, V) for decoder input `tgt` (starts with BOS)."""
        memory, mask = self.encode(src)
        return self.decode(tgt, memory, mask)

    @torch.no_grad()
    def greedy(self, src: torch.Tensor, max_new: int | None = None,
               guess: list[int] | None = None,
               encoded: tuple[torch.Tensor, torch.Tensor | None] | None = None) -> torch.Tensor:
        """Greedy decoding; returns (B, T) target ids without BOS, ending in EOS or cut.

        With the causal mask on, decoded in parallel (Jacobi iteration): a teacher-forced
        pass over a guess gives every row's choice at once; row t's choice is the greedy
        token whenever the guess is right before t, so each pass fixes at least one more
        token, and a guess that reproduces itself is exactly the greedy output. A few passes
        over the whole sequence cost less than one small pass per token (op overhead
        dominates at these sizes), and `guess` (say, the previous input's output) helps.
        `encoded`: `self.encode(src)` when the caller has it already.
        """
        max_new = max_new or self.cfg.max_len - 1
        if not self.decoder.use_mask or any(
                getattr(m, "head_mean", None) is not None for m in self.decoder.modules()):
            # rows would see the future (no mask; a head's mean over every position)
            return self.greedy_stepwise(src, max_new, encoded)
        memory, mask = encoded or self.encode(src)
        B, device = src.shape[0], src.device
        length = min(max_new, 2 * src.shape[1] + 4)  # most outputs fit; longer ones extend
        PAD, BOS, EOS = self.cfg.pad_id, self.cfg.bos_id, self.cfg.eos_id  # noqa: N806
        rows = torch.full((B, length), PAD, dtype=torch.long, device=device)
        if guess:
            start = torch.tensor(guess[:length], dtype=torch.long, device=device)
            rows[:, : len(start)] = start
        bos = torch.full((B, 1), BOS, dtype=torch.long, device=device)
        for _ in range(max_new + 1):
            choice = self.decode(torch.cat([bos, rows[:, :-1]], 1), memory, mask).argmax(-1)
            ended = (choice == EOS).cumsum(1) > 0
            ends = torch.where(ended.any(1), ended.int().argmax(1) + 1, choice.shape[1])
            upto = torch.arange(choice.shape[1], device=device)[None] < ends[:, None]
            if bool(((choice == rows) | ~upto).all()):
                if bool((ends < choice.shape[1]).all()) or choice.shape[1] >= max_new:
                    break  # every row reproduces itself up to its EOS: the greedy output
                # a row runs past the window without an EOS: widen it and go on
                grow = min(max_new, 2 * choice.shape[1]) - choice.shape[1]
                choice = torch.cat([choice, choice.new_full((B, grow), PAD)], 1)
            rows = choice
        out = rows.masked_fill(~upto, PAD)
        return out[:, : int(ends.max())]

    @torch.no_grad()
    def greedy_stepwise(self, src: torch.Tensor, max_new: int | None = None,
                        encoded: tuple | None = None) -> torch.Tensor:
        """Greedy decoding one token at a time (the textbook loop; also without the mask)."""
        max_new = max_new or self.cfg.max_len - 1
        memory, mask = encoded or self.encode(src)
        PAD, BOS, EOS = self.cfg.pad_id, self.cfg.bos_id, self.cfg.eos_id  # noqa: N806
        out = torch.full((src.shape[0], 1), BOS, dtype=torch.long, device=src.device)
        done = torch.zeros(src.shape[0], dtype=torch.bool, device=src.device)
        for _ in range(max_new):
            next_id = self.decode(out, memory, mask)[:, -1].argmax(-1)
            next_id = next_id.masked_fill(done, PAD)
            out = torch.cat([out, next_id[:, None]], dim=1)
            done |= next_id == EOS
            if bool(done.all()):
                break
        return out[:, 1:]

    # -- the model protocol (models/protocol.py) ---------------------------------
    def describe_sites(self) -> dict[str, dict]:
        """Encoder self-attention, then each decoder layer's masked self- and
        cross-attention."""
        cfg, sites = self.cfg, {}
        for stack, layers in (("encoder", self.encoder.layers), ("decoder", self.decoder.layers)):
            for i, layer in enumerate(layers):
                kinds = ((("self_attn", ENCODER_SELF),) if stack == "encoder" else
                         (("self_attn", DECODER_SELF), ("cross_attn", CROSS)))
                for attr, kind in kinds:
                    heads = getattr(layer, attr).num_heads
                    sites[f"{stack}.layers.{i}.{attr}"] = {
                        "kind": kind.key, "heads": heads, "head_dim": cfg.d_model // heads}
        return sites

    def residual_points(self) -> dict[str, list[str]]:
        points = {"encoder": ["encoder.embed"], "decoder": ["decoder.embed"]}
        for i in range(len(self.encoder.layers)):
            points["encoder"] += [f"encoder.layers.{i}.self_attn", f"encoder.layers.{i}.ff"]
        for i in range(len(self.decoder.layers)):
            points["decoder"] += [f"decoder.layers.{i}.{sub}"
                                  for sub in ("self_attn", "cross_attn", "ff")]
        return points

    def example_input(self) -> tuple[torch.Tensor, ...]:
        """Source ids (EOS) and target ids (BOS)."""
        return torch.tensor([[EOS]]), torch.tensor([[BOS]])
