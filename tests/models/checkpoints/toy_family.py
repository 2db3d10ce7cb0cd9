"""A made-up decoder-only family, model_type "toy-decoder", read the way a new family's
reader is written: its config.json onto our DecoderConfig (models/decoder.py), its own
tensor names onto ours with a renaming table. Nothing else in the repository knows it:
test_toy_family.py registers it with one entry (`FAMILY`) and opens a folder of it.

Its names: tok_emb, pos_emb, blocks.N.ln_a, blocks.N.mix.qkv (q, k and v in one [3D, D]
tensor), blocks.N.mix.out, blocks.N.ln_b, blocks.N.ff.up / ff.down (ReLU), ln_out, and an
output layer of its own, unembed.
"""
from __future__ import annotations

import re
from pathlib import Path

from models.checkpoints.common import HubModel, Renames, Rule
from models.checkpoints.registry import Family
from models.checkpoints.text import check_common, language_model, need, token_id
from models.checkpoints.tokenizer import PLAIN
from models.errors import CheckpointError

MODEL_TYPE = "toy-decoder"
TOY_LAYER = {"ln_a": "norm1", "mix.out": "attn.o_proj", "ln_b": "norm2", "ff.up": "mlp.fc1",
             "ff.down": "mlp.fc2"}
TOY_RENAMES = Renames(rules=(
    Rule(r"tok_emb\.weight", "embed.weight"),
    Rule(r"pos_emb\.weight", "pos_embed.weight"),
    Rule(r"ln_out\.(weight|bias)", r"norm.\1"),
    Rule(r"unembed\.weight", "lm_head.weight"),
    Rule(r"blocks\.(\d+)\.mix\.qkv\.(weight|bias)",
         tuple(rf"layers.\1.attn.{p}_proj.\2" for p in "qkv"), split="d_model"),
    *(Rule(rf"blocks\.(\d+)\.{re.escape(part)}\.(weight|bias)", rf"layers.\1.{ours}.\2")
      for part, ours in TOY_LAYER.items()),
))


def read_toy_folder(folder: Path, config: dict) -> HubModel:
    name = folder.name
    check_common(config, name)
    width, heads = need(config, "width", name), need(config, "heads", name)
    if width % heads:
        raise CheckpointError(f"{name}: width {width} does not split into {heads} heads")
    vocab = need(config, "vocab", name)
    values = dict(vocab_size=vocab, d_model=width, num_layers=need(config, "depth", name),
                  num_heads=heads, d_ff=need(config, "ffn", name),
                  max_len=need(config, "context", name), position="learned",
                  norm="layernorm", norm_eps=float(config.get("eps", 1e-5)), mlp="relu",
                  qkv_bias=True, out_bias=True, mlp_bias=True, tie_embeddings=False,
                  eos_id=token_id(config, "eos_id", vocab))
    return language_model(folder, config, values, TOY_RENAMES, "decoder", "embed.weight",
                          "lm_head.weight", tied=False)


FAMILY = Family(read_toy_folder, "causal-lm", "Toy decoder", PLAIN)
