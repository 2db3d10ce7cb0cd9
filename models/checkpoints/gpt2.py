"""GPT-2 folders as `transformers` saves them (`model_type` "gpt2"): config.json onto our
DecoderConfig (models/decoder.py), the tensor names onto ours. GPT-2's Conv1D weights are
stored [in, out] (turned here) and c_attn holds q, k and v (split here). Refused: another
activation, per-layer attention scaling, unscaled attention scores."""
from __future__ import annotations

import re
from pathlib import Path

from ..errors import CheckpointError
from .common import HubModel, Renames, Rule
from .text import check_common, language_model, need, token_id

GPT2_ACTIVATIONS = {"gelu_new": "gelu_new", "gelu_pytorch_tanh": "gelu_new", "gelu": "gelu",
                    "relu": "relu"}  # gelu_pytorch_tanh is gelu_new's formula in one kernel
GPT2_LAYER = {"ln_1": "norm1", "ln_2": "norm2", "attn.c_proj": "attn.o_proj",
              "mlp.c_fc": "mlp.fc1", "mlp.c_proj": "mlp.fc2"}
# GPT-2's names (after `transformer.`) -> ours
GPT2_RENAMES = Renames(strip=("transformer.",), rules=(
    Rule(r"wte\.weight", "embed.weight"),
    Rule(r"wpe\.weight", "pos_embed.weight"),
    Rule(r"ln_f\.(weight|bias)", r"norm.\1"),
    Rule(r"lm_head\.weight", "lm_head.weight"),
    Rule(r"h\.\d+\.attn\.(?:masked_)?bias", None),  # the causal mask, saved by old versions
    Rule(r"h\.(\d+)\.attn\.c_attn\.weight", tuple(rf"layers.\1.attn.{p}_proj.weight"
                                                  for p in "qkv"),
         transpose=True, split="d_model"),
    Rule(r"h\.(\d+)\.attn\.c_attn\.bias", tuple(rf"layers.\1.attn.{p}_proj.bias" for p in "qkv"),
         split="d_model"),
    *(Rule(rf"h\.(\d+)\.{re.escape(part)}\.weight", rf"layers.\1.{ours}.weight",
           transpose=True) for part, ours in GPT2_LAYER.items()),
    *(Rule(rf"h\.(\d+)\.{re.escape(part)}\.bias", rf"layers.\1.{ours}.bias")
      for part, ours in GPT2_LAYER.items()),
))


def gpt2_config(config: dict, name: str) -> dict:
    act = config.get("activation_function", "gelu_new")
    if act not in GPT2_ACTIVATIONS:
        raise CheckpointError("{name}: activation_function '{act}' is not supported (gelu_new, "
                              "gelu, relu are)", name=name, act=act)
    if config.get("scale_attn_by_inverse_layer_idx"):
        raise CheckpointError("{name}: scale_attn_by_inverse_layer_idx is not supported (scores "
                              "scaled per layer)", name=name)
    if not config.get("scale_attn_weights", True):
        raise CheckpointError("{name}: scale_attn_weights false is not supported (our scores "
                              "are always divided by √dh)", name=name)
    width, heads = need(config, "n_embd", name), need(config, "n_head", name)
    if width % heads:
        raise CheckpointError("{name}: n_embd {width} does not split into {heads} heads",
                              name=name, width=width, heads=heads)
    vocab = need(config, "vocab_size", name)
    return dict(vocab_size=vocab, d_model=width, num_layers=need(config, "n_layer", name),
                num_heads=heads,
                d_ff=config.get("n_inner") or 4 * width,
                max_len=need(config, "n_positions", name), position="learned",
                norm="layernorm", norm_eps=float(config.get("layer_norm_epsilon", 1e-5)),
                mlp=GPT2_ACTIVATIONS[act], qkv_bias=True, out_bias=True, mlp_bias=True,
                tie_embeddings=bool(config.get("tie_word_embeddings", True)),
                bos_id=token_id(config, "bos_token_id", vocab),
                eos_id=token_id(config, "eos_token_id", vocab),
                pad_id=token_id(config, "pad_token_id", vocab))


def read_gpt2_folder(folder: Path, config: dict) -> HubModel:
    check_common(config, folder.name)
    values = gpt2_config(config, folder.name)
    return language_model(folder, config, values, GPT2_RENAMES, "decoder", "embed.weight",
                          "lm_head.weight", values["tie_embeddings"])
