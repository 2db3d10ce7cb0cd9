"""OPUS-MT translation folders (`model_type` "marian"): the encoder–decoder onto our
Transformer, and the sentencepiece tokenizer of `source.spm` with the folder's vocabulary."""
from __future__ import annotations

from pathlib import Path

import torch

from ..errors import CheckpointError, message
from .common import (
    LARGEST_DIMENSION,
    LARGEST_VALUE,
    HubModel,
    Renames,
    Rule,
    folder_json,
    folder_weights,
    rename,
    whole,
)

MARIAN_LAYER = {"self_attn_layer_norm": "norm1", "fc1": "ff.fc1", "fc2": "ff.fc2"}
MARIAN_ENCODER = {**MARIAN_LAYER, "self_attn": "self_attn", "final_layer_norm": "norm2"}
MARIAN_DECODER = {**MARIAN_LAYER, "self_attn": "self_attn", "encoder_attn": "cross_attn",
                  "encoder_attn_layer_norm": "norm2", "final_layer_norm": "norm3"}
ATTENTIONS = ("self_attn", "encoder_attn")  # with q, k, v and out projections
SIDES = (("encoder", MARIAN_ENCODER), ("decoder", MARIAN_DECODER))
MARIAN_COMMON = (
    # sinusoids: computed here
    Rule(r"model\.(?:encoder|decoder)\.embed_positions\.weight", None),
    Rule(r"final_logits_bias", "generator.bias", flatten=True),
    *(Rule(rf"model\.{side}\.layers\.(\d+)\.{part}\.(weight|bias)", rf"{side}.layers.\1.{ours}.\2")
      for side, table in SIDES for part, ours in table.items() if part not in ATTENTIONS),
    *(Rule(rf"model\.{side}\.layers\.(\d+)\.{part}\.((?:[qkv]|out)_proj)\.(weight|bias)",
           rf"{side}.layers.\1.{ours}.\2.\3")
      for side, table in SIDES for part, ours in table.items() if part in ATTENTIONS),
)
UNEXPECTED = message(" (layernorm_embedding and other mBART options are not supported)")
# one vocabulary: model.shared is every embedding and the generator; the copies of it that
# some files hold are not read
MARIAN_SHARED = Renames(unexpected=UNEXPECTED, rules=(
    *MARIAN_COMMON,
    Rule(r"model\.(?:encoder|decoder)\.embed_tokens\.weight|lm_head\.weight", None),
    Rule(r"model\.shared\.weight", ("encoder.embed.embed.weight", "decoder.embed.embed.weight",
                                     "generator.weight")),
))
# a vocabulary per side: an embedding each, the generator tied to the decoder's, or an
# lm_head of its own (a later rule: it wins)
MARIAN_SEPARATE = Renames(unexpected=UNEXPECTED, rules=(
    *MARIAN_COMMON,
    Rule(r"model\.encoder\.embed_tokens\.weight", "encoder.embed.embed.weight"),
    Rule(r"model\.decoder\.embed_tokens\.weight", ("decoder.embed.embed.weight",
                                                     "generator.weight")),
    Rule(r"lm_head\.weight", "generator.weight"),
))


class MarianTokenizer:
    """Marian's tokenisation: sentencepiece pieces of the source (`source.spm`), ids from
    `vocab.json`; output ids back to pieces and, through `target.spm`, to text."""

    def __init__(self, folder: Path, vocab: dict[str, int], eos: int, pad: int,
                 target_vocab: dict[str, int] | None = None) -> None:
        try:
            import sentencepiece
        except ImportError:
            raise CheckpointError("translation models need the sentencepiece package: "
                                  "pip install -e '.[real]'") from None
        try:
            self.source = sentencepiece.SentencePieceProcessor(
                model_file=str(folder / "source.spm"))
            self.target = sentencepiece.SentencePieceProcessor(
                model_file=str(folder / "target.spm"))
        except (OSError, RuntimeError) as error:
            raise CheckpointError("{folder}: source.spm/target.spm cannot be read ({error})",
                                  folder=folder.name, error=str(error)) from None
        self.index = vocab  # source pieces -> ids
        # output ids -> pieces: the target vocabulary when the model has its own for it
        self.piece_of = {i: p for p, i in (target_vocab or vocab).items()}
        self.unk = vocab.get("<unk>", pad)
        self.specials = {eos, pad}

    def pieces(self, text: str) -> tuple[list[str], list[str]]:
        """(source pieces, those not in the vocabulary)."""
        pieces = self.source.encode(text.strip(), out_type=str)
        return pieces, [p for p in pieces if p not in self.index]

    def ids(self, pieces: list[str]) -> list[int]:
        return [self.index.get(p, self.unk) for p in pieces]

    def decode_pieces(self, ids: list[int]) -> list[str]:
        return [self.piece_of.get(int(i), "<unk>") for i in ids]

    def text(self, ids: list[int]) -> str:
        return self.target.decode_pieces([self.piece_of[int(i)] for i in ids
                                          if int(i) not in self.specials and
                                          int(i) in self.piece_of])


def read_marian_folder(folder: Path, config: dict) -> HubModel:
    """A Hugging Face MarianMTModel folder with its tokenizer files."""
    name = folder.name

    def need(key):
        if key not in config:
            raise CheckpointError("{name}: config.json has no '{key}'", name=name, key=key)
        return config[key]

    for a, b in (("encoder_attention_heads", "decoder_attention_heads"),
                 ("encoder_ffn_dim", "decoder_ffn_dim")):
        if need(a) != need(b):
            raise CheckpointError("{name}: {a} {value_a} differs from {b} {value_b}; this app's "
                                  "Transformer uses one value for both", name=name, a=a,
                                  value_a=config[a], b=b, value_b=config[b])
    act = config.get("activation_function", "gelu")
    if act not in ("gelu", "swish", "silu", "relu"):
        raise CheckpointError("{name}: activation_function '{act}' is not supported", name=name,
                              act=act)
    shared = bool(config.get("share_encoder_decoder_embeddings", True))
    vocab = folder_json(folder, "vocab.json")
    # separate vocabularies (share_encoder_decoder_embeddings false): the target's own
    # vocabulary file and size, an embedding per side, the generator tied to the decoder's
    target_vocab = vocab if shared else folder_json(folder, "target_vocab.json")
    def number(key, low=1, default=None, high=LARGEST_DIMENSION):
        return whole(need(key) if default is None else config.get(key, default), key, name,
                     low, high)

    target_size = number("vocab_size") if shared or not config.get("decoder_vocab_size") \
        else number("decoder_vocab_size")
    pad, eos = number("pad_token_id", 0), number("eos_token_id", 0)
    start = number("decoder_start_token_id", 0, pad)
    bad = folder_json(folder, "generation_config.json", required=False).get(
        "bad_words_ids") or []
    values = dict(src_vocab=number("vocab_size"), tgt_vocab=target_size,
                  d_model=number("d_model"), num_heads=number("encoder_attention_heads"),
                  enc_layers=number("encoder_layers"), dec_layers=number("decoder_layers"),
                  d_ff=number("encoder_ffn_dim"),
                  max_len=number("max_position_embeddings", 1, 512, LARGEST_VALUE["max_len"]),
                  dropout=0.0, norm_first=False, activation=act,
                  scale_embeddings=bool(config.get("scale_embedding", False)),
                  position_layout="halves", shared_embeddings=shared, pad_id=pad, bos_id=start,
                  eos_id=eos, forbid_pad=[pad] in bad)
    tensors = folder_weights(folder)
    own_head = "lm_head.weight" in tensors
    ours = rename(tensors, MARIAN_SHARED if shared else MARIAN_SEPARATE, name)
    if "generator.bias" not in ours:
        ours["generator.bias"] = torch.zeros(values["tgt_vocab"])
    if not shared and not own_head and \
            not config.get("tie_word_embeddings", True):
        raise CheckpointError("{name}: no lm_head.weight, and the output is not tied to the "
                              "decoder's embedding", name=name)
    return HubModel("transformer", "marian", values, ours, [], None, name,
                    MarianTokenizer(folder, vocab, eos, pad, None if shared else target_vocab))

