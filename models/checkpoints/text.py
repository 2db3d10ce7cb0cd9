"""What the language-model readers share (GPT-2, the Llama family and BERT, a module each):
config.json's numbers and special tokens, what no supported family may have, and
`language_model`, which reads a folder's weights through the family's renaming table, checks
them against the config and reads the tokenizer.

What our models cannot compute exactly is refused with the reason, never loaded
approximately: quantised weights, mixture-of-experts, multimodal folders, cross-attention
(and, in each family's module, that family's own options).
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import torch

from ..errors import CheckpointError
from .common import HubModel, Renames, folder_weights, rename, tie
from .tokenizer import PLAIN, TokenizerStyle, read_tokenizer


def need(config: dict, key: str, name: str):
    """A positive whole number config.json must have."""
    if config.get(key) is None:
        raise CheckpointError("{name}: config.json has no '{key}'", name=name, key=key)
    value = config[key]
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise CheckpointError("{name}: config.json's '{key}' must be a positive whole number, "
                              "not {value}", name=name, key=key, value=json.dumps(value))
    return value


def token_id(config: dict, key: str, vocab: int) -> int | None:
    """A special token id from config.json (None when it has none or one outside the
    vocabulary; a list, as some configs give for eos, counts by its first id)."""
    value = config.get(key)
    if isinstance(value, list):
        value = value[0] if value else None
    return value if isinstance(value, int) and 0 <= value < vocab else None


def check_common(config: dict, name: str) -> None:
    """What no supported family may have: quantised weights, experts, an image encoder."""
    if config.get("quantization_config"):
        method = config["quantization_config"].get("quant_method", "?") \
            if isinstance(config["quantization_config"], dict) else "?"
        raise CheckpointError("{name}: quantised weights ({method}) are not supported; "
                              "de-quantising would change the outputs", name=name, method=method)
    for key in ("num_local_experts", "num_experts", "n_routed_experts"):
        if config.get(key):
            raise CheckpointError("{name}: mixture-of-experts layers ({key} {count}) are not "
                                  "supported", name=name, key=key, count=config[key])
    for key in ("vision_config", "text_config", "audio_config"):
        if key in config:
            raise CheckpointError("{name}: a multimodal folder ({key}) cannot be opened; only "
                                  "text models are", name=name, key=key)
    if config.get("add_cross_attention") or config.get("is_encoder_decoder"):
        raise CheckpointError("{name}: cross-attention layers are not supported here", name=name)


def check_sizes(values: dict, tensors: dict[str, torch.Tensor], name: str, embed: str) -> None:
    """The config's sizes against the tensors, before anything is allocated: the number of
    layers, the width and the vocabulary come from the weights, so a config.json that
    disagrees (or asks for a huge model) is refused here."""
    weight = tensors.get(embed)
    if weight is None or weight.dim() != 2:
        raise CheckpointError("{name}: the weights have no token embedding", name=name)
    if tuple(weight.shape) != (values["vocab_size"], values["d_model"]):
        raise CheckpointError("{name}: the token embedding is {shape}, but config.json says "
                              "vocab_size {vocab_size} × width {d_model}", name=name,
                              shape=list(weight.shape), vocab_size=values['vocab_size'],
                              d_model=values['d_model'])
    layers = {int(m.group(1)) for k in tensors if (m := re.match(r"layers\.(\d+)\.", k))}
    if layers != set(range(values["num_layers"])):
        raise CheckpointError("{name}: config.json says {num_layers} layers, the weights hold "
                              "{count}", name=name, num_layers=values['num_layers'],
                              count=len(layers))


def language_model(folder: Path, config: dict, values: dict, renames: Renames, arch: str,
                   embed: str, head: str, tied: bool, style: TokenizerStyle = PLAIN,
                   note: str = "", check: Callable[[dict, str], None] | None = None,
                   sizes: dict | None = None) -> HubModel:
    """A text model folder whose config.json was read into our `values`: its weights under
    our names (`renames`; the output layer `head` is the embedding `embed` when `tied`),
    checked against the config, and its tokenizer. `note`: why the input is limited;
    `check(tensors, name)`: the family's own check of the renamed tensors; `sizes`: more
    sizes for the table's splits than our config's values."""
    name = folder.name
    ours = rename(folder_weights(folder), renames, name, {**values, **(sizes or {})})
    if check is not None:
        check(ours, name)
    ours = tie(ours, tied, name, embed, head)
    check_sizes(values, ours, name, embed)
    tokenizer = read_tokenizer(folder, values["vocab_size"], style)
    return HubModel(arch, config.get("model_type"), values, ours, [], None, name, tokenizer,
                    limit_note=note)
