"""BERT folders as `transformers` saves them (`model_type` "bert", BertForMaskedLM or
BertForPreTraining): config.json onto our EncoderConfig (models/encoder.py), the names
onto ours, the WordPiece tokenizer with its [MASK]. Refused: relative positions, another
activation, a BERT used as a decoder, an output layer apart from the embedding, a folder
without the masked-LM head."""
from __future__ import annotations

import re
from pathlib import Path

from ..errors import CheckpointError
from .common import HubModel, Renames, Rule
from .text import check_common, language_model, need, token_id
from .tokenizer import TokenizerStyle

TOKENIZER = TokenizerStyle(wordpiece=True, mask="[MASK]")
BERT_LAYER = {"attention.self.query": "attn.q_proj", "attention.self.key": "attn.k_proj",
              "attention.self.value": "attn.v_proj", "attention.output.dense": "attn.out_proj",
              "attention.output.LayerNorm": "norm1", "intermediate.dense": "mlp.fc1",
              "output.dense": "mlp.fc2", "output.LayerNorm": "norm2"}
BERT_SIMPLE = {"embeddings.word_embeddings": "embed.word", "embeddings.position_embeddings":
               "embed.position", "embeddings.token_type_embeddings": "embed.token_type",
               "embeddings.LayerNorm": "embed.norm", "cls.predictions.transform.dense":
               "mlm.dense", "cls.predictions.transform.LayerNorm": "mlm.norm",
               "cls.predictions.decoder": "mlm.decoder"}
# BERT's names (after `bert.`; TF-era LayerNorm gamma/beta as weight/bias) -> ours
BERT_RENAMES = Renames(strip=("bert.",), aliases=((r"\.gamma$", ".weight"),
                                                  (r"\.beta$", ".bias")), rules=(
    # not on the masked-LM path: the pooler and next-sentence head of BertForPreTraining,
    # and the position ids buffer
    Rule(r"pooler\..*|cls\.seq_relationship\..*|.*embeddings\.position_ids", None),
    Rule(r"cls\.predictions\.bias", "mlm.bias"),
    Rule(r"cls\.predictions\.decoder\.bias", "mlm.bias"),
    *(Rule(rf"{re.escape(part)}\.(weight|bias)", rf"{ours}.\1")
      for part, ours in BERT_SIMPLE.items()),
    *(Rule(rf"encoder\.layer\.(\d+)\.{re.escape(part)}\.(weight|bias)", rf"layers.\1.{ours}.\2")
      for part, ours in BERT_LAYER.items()),
))


def bert_config(config: dict, name: str) -> dict:
    act = config.get("hidden_act", "gelu")
    if act not in ("gelu", "gelu_new", "relu"):
        raise CheckpointError("{name}: hidden_act '{act}' is not supported (gelu, gelu_new and "
                              "relu are)", name=name, act=act)
    position = config.get("position_embedding_type", "absolute")
    if position != "absolute":
        raise CheckpointError("{name}: position_embedding_type '{position}' is not supported "
                              "(only absolute)", name=name, position=position)
    if config.get("is_decoder"):
        raise CheckpointError("{name}: a BERT used as a decoder (is_decoder) is not supported",
                              name=name)
    width, heads = need(config, "hidden_size", name), need(config, "num_attention_heads", name)
    if width % heads:
        raise CheckpointError("{name}: hidden_size {width} does not split into {heads} heads",
                              name=name, width=width, heads=heads)
    if not config.get("tie_word_embeddings", True):
        raise CheckpointError("{name}: an output layer apart from the embedding "
                              "(tie_word_embeddings false) is not supported for BERT", name=name)
    return dict(vocab_size=need(config, "vocab_size", name), d_model=width,
                num_layers=need(config, "num_hidden_layers", name), num_heads=heads,
                d_ff=need(config, "intermediate_size", name),
                max_len=need(config, "max_position_embeddings", name),
                type_vocab_size=int(config.get("type_vocab_size", 2)),
                norm_eps=float(config.get("layer_norm_eps", 1e-12)), activation=act,
                pad_id=token_id(config, "pad_token_id", need(config, "vocab_size", name)))


def _masked_lm_head(tensors: dict, name: str) -> None:
    if "mlm.dense.weight" not in tensors or "mlm.bias" not in tensors:
        raise CheckpointError("{name}: no masked-LM head (cls.predictions) in the weights: a "
                              "BertModel or a fine-tuned classifier cannot fill in [MASK]",
                              name=name)


def read_bert_folder(folder: Path, config: dict) -> HubModel:
    check_common(config, folder.name)
    values = bert_config(config, folder.name)
    return language_model(folder, config, values, BERT_RENAMES, "encoder", "embed.word.weight",
                          "mlm.decoder.weight", True, TOKENIZER, check=_masked_lm_head)
