"""Text model folders as `transformers` saves them: GPT-2, the Llama family (Llama, Mistral,
Qwen2) and BERT, with their tokenizer read by Hugging Face's `tokenizers` package.

Each reader maps the folder's tensor names onto ours (models/decoder.py, models/encoder.py)
and its config onto our config dataclass. What our models cannot compute exactly is refused
with the reason, never loaded approximately: ALiBi, mixture-of-experts, quantised weights,
rope_scaling types other than linear and llama3, partial rotary, GPT-2's per-layer attention
scaling, BERT's relative positions, multimodal folders and every other model_type. A sliding
window is accepted only as a limit on the input: our attention never reaches past it.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import torch

from .checkpoints import LARGEST_VALUE
from .errors import CheckpointError, InputError
from .hub import HubModel, folder_json, folder_weights

TEXT_FAMILIES = ("gpt2", "llama", "mistral", "qwen2", "bert")
# model_types people will try whose reason for refusal is worth saying plainly
REFUSED_FAMILIES = {
    "bloom": "ALiBi position biases", "mpt": "ALiBi position biases",
    "falcon": "a parallel attention/MLP block (and ALiBi in some)",
    "mixtral": "mixture-of-experts layers", "qwen2_moe": "mixture-of-experts layers",
    "qwen3_moe": "mixture-of-experts layers", "deepseek_v2": "mixture-of-experts layers",
    "llava": "an image encoder (multimodal)", "qwen2_vl": "an image encoder (multimodal)",
    "mllama": "an image encoder (multimodal)", "roberta": "RoBERTa's offset positions",
    "gpt_neox": "parallel residuals and partial rotary", "gpt_neo": "local attention layers",
    "gemma": "scaled embeddings and its own norm", "gemma2": "logit soft-capping",
    "phi": "partial rotary and a parallel block", "opt": "OPT's offset positions",
    "distilbert": "different tensor names and no token types",
}
ROPE_TYPES = ("default", "linear", "llama3")


@dataclass
class TextHubModel(HubModel):
    task: str = "causal-lm"  # or "masked-lm"
    limit_note: str = ""  # why the input is shorter than the positions (a sliding window)


def _need(config: dict, key: str, name: str):
    if config.get(key) is None:
        raise CheckpointError(f"{name}: config.json has no '{key}'")
    value = config[key]
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise CheckpointError(f"{name}: config.json's '{key}' must be a positive whole "
                              f"number, not {json.dumps(value)}")
    return value


def _token_id(config: dict, key: str, vocab: int) -> int | None:
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
        raise CheckpointError(f"{name}: quantised weights ({method}) are not supported; "
                              f"de-quantising would change the outputs")
    for key in ("num_local_experts", "num_experts", "n_routed_experts"):
        if config.get(key):
            raise CheckpointError(f"{name}: mixture-of-experts layers ({key} "
                                  f"{config[key]}) are not supported")
    for key in ("vision_config", "text_config", "audio_config"):
        if key in config:
            raise CheckpointError(f"{name}: a multimodal folder ({key}) cannot be opened; "
                                  f"only text models are")
    if config.get("add_cross_attention") or config.get("is_encoder_decoder"):
        raise CheckpointError(f"{name}: cross-attention layers are not supported here")


def read_text_folder(folder: Path, config: dict) -> TextHubModel:
    """A GPT-2, Llama, Mistral, Qwen2 or BERT folder (CheckpointError says why not)."""
    name = folder.name
    family = config.get("model_type")
    check_common(config, name)
    if family == "gpt2":
        values, reader = _gpt2_config(config, name), _gpt2_names
    elif family in ("llama", "mistral", "qwen2"):
        values, reader = _llama_config(config, family, name), _llama_names
    else:
        values, reader = _bert_config(config, name), _bert_names
    tensors = folder_weights(folder)
    ours = reader(tensors, values, name)
    _check_sizes(values, ours, name)
    tokenizer = read_tokenizer(folder, family, values["vocab_size"])
    note = config.pop("_limit_note", "")
    if family == "bert":
        values["pad_id"] = _token_id(config, "pad_token_id", values["vocab_size"])
        task, arch = "masked-lm", "encoder"
    else:
        task, arch = "causal-lm", "decoder"
    return TextHubModel(arch, family, values, ours, [], None, name, tokenizer, task=task,
                        limit_note=note)


def _check_sizes(values: dict, tensors: dict[str, torch.Tensor], name: str) -> None:
    """The config's sizes against the tensors, before anything is allocated: the number of
    layers, the width and the vocabulary come from the weights, so a config.json that
    disagrees (or asks for a huge model) is refused here."""
    embed = tensors.get("embed.weight", tensors.get("embed.word.weight"))
    if embed is None or embed.dim() != 2:
        raise CheckpointError(f"{name}: the weights have no token embedding")
    if tuple(embed.shape) != (values["vocab_size"], values["d_model"]):
        raise CheckpointError(f"{name}: the token embedding is {list(embed.shape)}, but "
                              f"config.json says vocab_size {values['vocab_size']} × width "
                              f"{values['d_model']}")
    layers = {int(m.group(1)) for k in tensors if (m := re.match(r"layers\.(\d+)\.", k))}
    if layers != set(range(values["num_layers"])):
        raise CheckpointError(f"{name}: config.json says {values['num_layers']} layers, the "
                              f"weights hold {len(layers)}")


# -- GPT-2 -----------------------------------------------------------------------------------

GPT2_ACTIVATIONS = {"gelu_new": "gelu_new", "gelu_pytorch_tanh": "gelu_new", "gelu": "gelu",
                    "relu": "relu"}  # gelu_pytorch_tanh is gelu_new's formula in one kernel


def _gpt2_config(config: dict, name: str) -> dict:
    act = config.get("activation_function", "gelu_new")
    if act not in GPT2_ACTIVATIONS:
        raise CheckpointError(f"{name}: activation_function '{act}' is not supported "
                              f"(gelu_new, gelu, relu are)")
    if config.get("scale_attn_by_inverse_layer_idx"):
        raise CheckpointError(f"{name}: scale_attn_by_inverse_layer_idx is not supported "
                              f"(scores scaled per layer)")
    if not config.get("scale_attn_weights", True):
        raise CheckpointError(f"{name}: scale_attn_weights false is not supported (our "
                              f"scores are always divided by √dh)")
    width, heads = _need(config, "n_embd", name), _need(config, "n_head", name)
    if width % heads:
        raise CheckpointError(f"{name}: n_embd {width} does not split into {heads} heads")
    vocab = _need(config, "vocab_size", name)
    return dict(vocab_size=vocab, d_model=width, num_layers=_need(config, "n_layer", name),
                num_heads=heads,
                d_ff=config.get("n_inner") or 4 * width,
                max_len=_need(config, "n_positions", name), position="learned",
                norm="layernorm", norm_eps=float(config.get("layer_norm_epsilon", 1e-5)),
                mlp=GPT2_ACTIVATIONS[act], qkv_bias=True, out_bias=True, mlp_bias=True,
                tie_embeddings=bool(config.get("tie_word_embeddings", True)),
                bos_id=_token_id(config, "bos_token_id", vocab),
                eos_id=_token_id(config, "eos_token_id", vocab),
                pad_id=_token_id(config, "pad_token_id", vocab))


GPT2_BUFFERS = (".attn.bias", ".attn.masked_bias")  # the causal mask, saved by old versions


def _gpt2_names(tensors: dict[str, torch.Tensor], values: dict, name: str) -> dict:
    """GPT-2's names onto ours; its Conv1D weights are stored [in, out]: transposed here,
    and c_attn split into q, k and v."""
    ours: dict[str, torch.Tensor] = {}
    width = values["d_model"]
    simple = {"wte.weight": "embed.weight", "wpe.weight": "pos_embed.weight",
              "ln_f.weight": "norm.weight", "ln_f.bias": "norm.bias"}
    for key in list(tensors):
        value = tensors.pop(key)  # (the file's copy goes as its transposed one comes)
        inner = key[len("transformer."):] if key.startswith("transformer.") else key
        if inner in simple:
            ours[simple[inner]] = value
        elif key == "lm_head.weight":
            ours["lm_head.weight"] = value
        elif key.endswith(GPT2_BUFFERS):
            continue
        elif m := re.fullmatch(r"h\.(\d+)\.(ln_1|ln_2|attn\.c_attn|attn\.c_proj|mlp\.c_fc|"
                               r"mlp\.c_proj)\.(weight|bias)", inner):
            layer, part, kind = m.groups()
            prefix = f"layers.{layer}."
            value = value.t().contiguous() if kind == "weight" and value.dim() == 2 else value
            if part == "attn.c_attn":
                if value.shape[0] != 3 * width:
                    raise CheckpointError(f"{name}: '{key}' has shape {list(value.shape)}, "
                                          f"not {3 * width} wide")
                for proj, chunk in zip(("q", "k", "v"), value.split(width, 0)):
                    ours[f"{prefix}attn.{proj}_proj.{kind}"] = chunk.contiguous()
            else:
                target = {"ln_1": "norm1", "ln_2": "norm2", "attn.c_proj": "attn.o_proj",
                          "mlp.c_fc": "mlp.fc1", "mlp.c_proj": "mlp.fc2"}[part]
                ours[f"{prefix}{target}.{kind}"] = value
        else:
            raise CheckpointError(f"{name}: unexpected tensor '{key}'")
    return _tie(ours, values, name, "embed.weight", "lm_head.weight")


def _tie(ours: dict, values: dict, name: str, embed: str, head: str) -> dict:
    """A tied output layer is the embedding (transformers ties it whatever the file holds);
    an untied one must be in the file."""
    if embed not in ours:
        raise CheckpointError(f"{name}: the weights have no token embedding")
    if values["tie_embeddings"]:
        ours[head] = ours[embed]
    elif head not in ours:
        raise CheckpointError(f"{name}: no {head.replace('decoder.', '')} in the weights, and "
                              f"tie_word_embeddings is false")
    return ours


# -- Llama, Mistral, Qwen2 -------------------------------------------------------------------

def rope_settings(config: dict, name: str) -> tuple[float, dict | None]:
    """(rope_theta, rope_scaling) from either layout: transformers 5's `rope_parameters` or
    the older `rope_theta` + `rope_scaling` (whose type was once called "type")."""
    params = config.get("rope_parameters")
    if isinstance(params, dict) and "rope_type" not in params and params:
        # per-layer-type parameters ({"full_attention": {...}}): one set must serve all
        sets = list(params.values())
        if any(s != sets[0] for s in sets) or not isinstance(sets[0], dict):
            raise CheckpointError(f"{name}: different rope parameters per layer type are "
                                  f"not supported")
        params = sets[0]
    scaling = dict(params) if isinstance(params, dict) else dict(config.get("rope_scaling") or {})
    theta = float((params or {}).get("rope_theta", config.get("rope_theta", 10000.0)))
    kind = scaling.pop("rope_type", scaling.pop("type", "default")) or "default"
    scaling.pop("rope_theta", None)
    if kind not in ROPE_TYPES:
        raise CheckpointError(f"{name}: rope_scaling type '{kind}' is not supported (only "
                              f"linear and llama3 are computed exactly here)")
    partial = scaling.pop("partial_rotary_factor", config.get("partial_rotary_factor", 1.0))
    if partial not in (None, 1, 1.0):
        raise CheckpointError(f"{name}: partial rotary (factor {partial}) is not supported")
    if kind == "default":
        return theta, None
    keys = {"linear": ("factor",),
            "llama3": ("factor", "low_freq_factor", "high_freq_factor",
                       "original_max_position_embeddings")}[kind]
    missing = [k for k in keys if not isinstance(scaling.get(k), (int, float))]
    if missing:
        raise CheckpointError(f"{name}: rope_scaling '{kind}' lacks {', '.join(missing)}")
    extra = [k for k in scaling if k not in keys and scaling[k] is not None]
    if extra:  # e.g. attention_factor, mscale: they change the numbers
        raise CheckpointError(f"{name}: rope_scaling option(s) {', '.join(extra)} are not "
                              f"supported")
    return theta, {"rope_type": kind, **{k: scaling[k] for k in keys}}


def _sliding_window(config: dict, family: str, layers: int) -> int | None:
    """The attention window some layers use (None: every layer sees the whole input)."""
    window = config.get("sliding_window")
    if not window:
        return None
    if family == "qwen2":  # only with use_sliding_window, and then per layer_types
        types = config.get("layer_types") or []
        if not config.get("use_sliding_window") and "sliding_attention" not in types:
            return None
    return int(window)


def _llama_config(config: dict, family: str, name: str) -> dict:
    act = config.get("hidden_act", "silu")
    if act != "silu":
        raise CheckpointError(f"{name}: hidden_act '{act}' is not supported (the SwiGLU MLP "
                              f"uses silu)")
    width, heads = _need(config, "hidden_size", name), _need(config, "num_attention_heads", name)
    kv = config.get("num_key_value_heads") or heads
    if not isinstance(kv, int) or kv <= 0 or heads % kv:
        raise CheckpointError(f"{name}: {heads} heads cannot share {kv} key/value heads")
    head_dim = config.get("head_dim") or width // heads
    if not isinstance(head_dim, int) or head_dim <= 0 or head_dim % 2:
        raise CheckpointError(f"{name}: head_dim {head_dim} is not an even whole number")
    if config.get("head_dim") is None and width % heads:
        raise CheckpointError(f"{name}: hidden_size {width} does not split into {heads} heads")
    theta, scaling = rope_settings(config, name)
    layers = _need(config, "num_hidden_layers", name)
    max_len = _need(config, "max_position_embeddings", name)
    window = _sliding_window(config, family, layers)
    if window is not None and window < max_len:
        # an input within the window is computed exactly; a longer one would need the window
        max_len = window
        config["_limit_note"] = f"its sliding window of {window} tokens"
    longest = LARGEST_VALUE["max_len"]
    if max_len > longest:
        # RoPE allocates nothing per position: the number is only the longest input, and an
        # input far longer than this app can show live would only cost minutes and gigabytes
        max_len = longest
        config["_limit_note"] = f"this app's limit ({longest:,} tokens)"
    bias = bool(config.get("attention_bias", False))
    vocab = _need(config, "vocab_size", name)
    return dict(vocab_size=vocab, d_model=width, num_layers=layers, num_heads=heads,
                num_kv_heads=kv, head_dim=head_dim,
                d_ff=_need(config, "intermediate_size", name), max_len=max_len,
                position="rope", rope_theta=theta, rope_scaling=scaling, norm="rmsnorm",
                norm_eps=float(config.get("rms_norm_eps", 1e-6)), mlp="swiglu",
                qkv_bias=True if family == "qwen2" else bias,
                out_bias=False if family == "qwen2" else bias,
                mlp_bias=bool(config.get("mlp_bias", False)),
                tie_embeddings=bool(config.get("tie_word_embeddings", False)),
                bos_id=_token_id(config, "bos_token_id", vocab),
                eos_id=_token_id(config, "eos_token_id", vocab),
                pad_id=_token_id(config, "pad_token_id", vocab))


def _llama_names(tensors: dict[str, torch.Tensor], values: dict, name: str) -> dict:
    ours: dict[str, torch.Tensor] = {}
    for key, value in tensors.items():
        if key == "model.embed_tokens.weight":
            ours["embed.weight"] = value
        elif key == "model.norm.weight":
            ours["norm.weight"] = value
        elif key == "lm_head.weight":
            ours["lm_head.weight"] = value
        elif key.endswith("rotary_emb.inv_freq"):  # a buffer old versions saved: recomputed
            continue
        elif m := re.fullmatch(r"model\.layers\.(\d+)\.(input_layernorm|post_attention_layernorm"
                               r"|self_attn\.[qkvo]_proj|mlp\.(?:gate|up|down)_proj)\."
                               r"(weight|bias)", key):
            layer, part, kind = m.groups()
            target = {"input_layernorm": "norm1", "post_attention_layernorm": "norm2"}.get(
                part, part.replace("self_attn.", "attn."))
            ours[f"layers.{layer}.{target}.{kind}"] = value
        else:
            raise CheckpointError(f"{name}: unexpected tensor '{key}'")
    return _tie(ours, values, name, "embed.weight", "lm_head.weight")


# -- BERT ------------------------------------------------------------------------------------

def _bert_config(config: dict, name: str) -> dict:
    act = config.get("hidden_act", "gelu")
    if act not in ("gelu", "gelu_new", "relu"):
        raise CheckpointError(f"{name}: hidden_act '{act}' is not supported (gelu, gelu_new "
                              f"and relu are)")
    position = config.get("position_embedding_type", "absolute")
    if position != "absolute":
        raise CheckpointError(f"{name}: position_embedding_type '{position}' is not supported "
                              f"(only absolute)")
    if config.get("is_decoder"):
        raise CheckpointError(f"{name}: a BERT used as a decoder (is_decoder) is not supported")
    width, heads = _need(config, "hidden_size", name), _need(config, "num_attention_heads", name)
    if width % heads:
        raise CheckpointError(f"{name}: hidden_size {width} does not split into {heads} heads")
    if not config.get("tie_word_embeddings", True):
        raise CheckpointError(f"{name}: an output layer apart from the embedding "
                              f"(tie_word_embeddings false) is not supported for BERT")
    return dict(vocab_size=_need(config, "vocab_size", name), d_model=width,
                num_layers=_need(config, "num_hidden_layers", name), num_heads=heads,
                d_ff=_need(config, "intermediate_size", name),
                max_len=_need(config, "max_position_embeddings", name),
                type_vocab_size=int(config.get("type_vocab_size", 2)),
                norm_eps=float(config.get("layer_norm_eps", 1e-12)), activation=act)


BERT_LAYER = {"attention.self.query": "attn.q_proj", "attention.self.key": "attn.k_proj",
              "attention.self.value": "attn.v_proj", "attention.output.dense": "attn.out_proj",
              "attention.output.LayerNorm": "norm1", "intermediate.dense": "mlp.fc1",
              "output.dense": "mlp.fc2", "output.LayerNorm": "norm2"}
BERT_SIMPLE = {"embeddings.word_embeddings": "embed.word", "embeddings.position_embeddings":
               "embed.position", "embeddings.token_type_embeddings": "embed.token_type",
               "embeddings.LayerNorm": "embed.norm", "cls.predictions.transform.dense":
               "mlm.dense", "cls.predictions.transform.LayerNorm": "mlm.norm",
               "cls.predictions.decoder": "mlm.decoder"}
# not on the masked-LM path: the pooler and next-sentence head of BertForPreTraining, and
# the position ids buffer
BERT_UNUSED = ("bert.pooler.", "pooler.", "cls.seq_relationship.", "embeddings.position_ids")


def _bert_names(tensors: dict[str, torch.Tensor], values: dict, name: str) -> dict:
    ours: dict[str, torch.Tensor] = {}
    for key, value in tensors.items():
        if key.startswith(BERT_UNUSED) or key.endswith("embeddings.position_ids"):
            continue
        inner = key[len("bert."):] if key.startswith("bert.") else key
        stem, _, kind = inner.rpartition(".")
        kind = {"gamma": "weight", "beta": "bias"}.get(kind, kind)  # TF-era LayerNorm names
        if inner == "cls.predictions.bias" or inner == "cls.predictions.decoder.bias":
            ours["mlm.bias"] = value
        elif stem in BERT_SIMPLE and kind in ("weight", "bias"):
            ours[f"{BERT_SIMPLE[stem]}.{kind}"] = value
        elif (m := re.fullmatch(r"encoder\.layer\.(\d+)\.(.+)", stem)) and \
                m.group(2) in BERT_LAYER and kind in ("weight", "bias"):
            ours[f"layers.{m.group(1)}.{BERT_LAYER[m.group(2)]}.{kind}"] = value
        else:
            raise CheckpointError(f"{name}: unexpected tensor '{key}'")
    if "mlm.dense.weight" not in ours or "mlm.bias" not in ours:
        raise CheckpointError(f"{name}: no masked-LM head (cls.predictions) in the weights: a "
                              f"BertModel or a fine-tuned classifier cannot fill in [MASK]")
    return _tie(ours, {"tie_embeddings": True}, name, "embed.word.weight",
                "mlm.decoder.weight")


# -- tokenizers ------------------------------------------------------------------------------

def _bytes_to_unicode() -> dict[int, str]:
    """GPT-2's byte-level alphabet: every byte as a printable character (printable Latin-1
    bytes as themselves, the rest shifted past 255), from the GPT-2 paper's released encoder;
    the inverse turns a byte-level token back into its bytes for display."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + \
        list(range(ord("®"), ord("ÿ") + 1))
    chars, extra = {}, 0
    for b in range(256):
        if b in keep:
            chars[b] = chr(b)
        else:
            chars[b] = chr(256 + extra)
            extra += 1
    return chars


BYTE_OF = {c: b for b, c in _bytes_to_unicode().items()}
SHOWN = {" ": "␣", "\n": "↵", "\t": "⇥", "\r": "␍"}


def readable(token: str, byte_level: bool) -> str:
    """A token as panels show it: spaces as ␣ (GPT-2's Ġ, sentencepiece's ▁), a newline as ↵,
    a byte that is not a whole character as <0xNN>; `##` continuations and sentencepiece's
    byte tokens (<0x0A>) as they are."""
    if byte_level and token and all(c in BYTE_OF for c in token):
        raw = bytes(BYTE_OF[c] for c in token)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:  # part of a multi-byte character
            text = "".join(chr(b) if b < 128 else f"<0x{b:02X}>" for b in raw)
    else:
        text = token.replace("▁", " ")
    return "".join(SHOWN.get(c, c if c.isprintable() else f"<0x{ord(c):02X}>") for c in text)


class TextTokenizer:
    """A folder's tokenizer through the `tokenizers` package: normaliser, pre-tokeniser,
    model and post-processor exactly as the folder describes them."""

    def __init__(self, backend, vocab_size: int, source: str, mask_token: str | None = None,
                 add_bos: int | None = None) -> None:
        self.backend, self.vocab_size, self.source = backend, vocab_size, source
        self.mask_token = mask_token
        self.add_bos = add_bos  # tokenizer_config's add_bos_token, when the template lacks it
        self.byte_level = '"ByteLevel"' in backend.to_str()

    def encode(self, text: str) -> tuple[list[int], list[bool]]:
        """(ids with the special tokens the post-processor adds, special-token mask);
        InputError for an id the model has no embedding for."""
        if self.mask_token and self.mask_token != "[MASK]":
            text = text.replace("[MASK]", self.mask_token)
        encoding = self.backend.encode(text)
        ids, special = list(encoding.ids), [bool(s) for s in encoding.special_tokens_mask]
        if self.add_bos is not None and (not ids or ids[0] != self.add_bos):
            ids, special = [self.add_bos] + ids, [True] + special
        bad = [i for i in ids if i >= self.vocab_size]
        if bad:
            raise InputError("the tokenizer gave id {id}, but the model has only {size} "
                             "embeddings", id=bad[0], size=self.vocab_size)
        return ids, special

    def tokens(self, ids) -> list[str]:
        return [readable(self.backend.id_to_token(int(i)) or f"<{int(i)}>", self.byte_level)
                for i in ids]

    def text(self, ids) -> str:
        return self.backend.decode([int(i) for i in ids], skip_special_tokens=False)

    def id_of(self, token: str) -> int | None:
        return self.backend.token_to_id(token)


SPECIAL_KEYS = ("bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token",
                "mask_token")


def _special_tokens(folder: Path) -> dict[str, str]:
    """The special tokens transformers would register (tokenizer_config.json, then
    special_tokens_map.json): name -> token text."""
    found: dict[str, str] = {}
    for file in ("special_tokens_map.json", "tokenizer_config.json"):
        data = folder_json(folder, file, required=False)
        for key in SPECIAL_KEYS:
            value = data.get(key)
            if isinstance(value, dict):
                value = value.get("content")
            if isinstance(value, str):
                found[key] = value
    return found


def read_tokenizer(folder: Path, family: str, vocab_size: int) -> TextTokenizer:
    """tokenizer.json; else BERT's vocab.txt or GPT-2's vocab.json + merges.txt, built with
    the `tokenizers` package's own WordPiece and byte-level BPE."""
    try:
        from tokenizers import AddedToken, Tokenizer
        from tokenizers.implementations import BertWordPieceTokenizer, ByteLevelBPETokenizer
    except ImportError:
        raise CheckpointError("text models need the tokenizers package: pip install -e "
                              "'.[real]'") from None
    name = folder.name
    settings = folder_json(folder, "tokenizer_config.json", required=False)
    special = _special_tokens(folder)
    try:
        if (folder / "tokenizer.json").is_file():
            backend = Tokenizer.from_file(str(folder / "tokenizer.json"))
        elif family == "bert" and (folder / "vocab.txt").is_file():
            backend = BertWordPieceTokenizer(
                str(folder / "vocab.txt"), lowercase=bool(settings.get("do_lower_case", True)),
                strip_accents=settings.get("strip_accents"),
                handle_chinese_chars=bool(settings.get("tokenize_chinese_chars", True)))
            backend = Tokenizer.from_str(backend._tokenizer.to_str())
        elif (folder / "vocab.json").is_file() and (folder / "merges.txt").is_file():
            backend = ByteLevelBPETokenizer(
                str(folder / "vocab.json"), str(folder / "merges.txt"),
                add_prefix_space=bool(settings.get("add_prefix_space", False)))
            backend = Tokenizer.from_str(backend._tokenizer.to_str())
        else:
            spm = " (only tokenizer.model: save the tokenizer with transformers to get a " \
                "tokenizer.json)" if (folder / "tokenizer.model").is_file() else ""
            raise CheckpointError(f"{name}: no tokenizer: tokenizer.json, vocab.txt (BERT) "
                                  f"or vocab.json and merges.txt (GPT-2) expected{spm}")
    except CheckpointError:
        raise
    except Exception as error:  # the tokenizers package's own parse errors
        raise CheckpointError(f"{name}: its tokenizer cannot be read ({error})") from None
    # transformers registers its special tokens with the backend, so typed "[MASK]" or
    # "<|endoftext|>" becomes that token; the same here
    known = [t for t in special.values() if backend.token_to_id(t) is not None]
    if known:
        backend.add_special_tokens([AddedToken(t, special=True, normalized=False)
                                    for t in dict.fromkeys(known)])
    add_bos = None
    bos = special.get("bos_token")
    if settings.get("add_bos_token") and bos is not None and backend.token_to_id(bos) is not None:
        add_bos = backend.token_to_id(bos)  # only used when the post-processor lacks it
        probe = backend.encode("a").ids
        if probe and probe[0] == add_bos:
            add_bos = None
    mask = special.get("mask_token") or ("[MASK]" if family == "bert" else None)
    if family == "bert" and (mask is None or backend.token_to_id(mask) is None):
        raise CheckpointError(f"{name}: the tokenizer has no mask token ([MASK])")
    return TextTokenizer(backend, vocab_size, name, mask, add_bos)
