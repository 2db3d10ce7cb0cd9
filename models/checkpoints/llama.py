"""The Llama family's folders as `transformers` saves them (`model_type` llama, mistral,
qwen2, qwen3, phi3): config.json onto our DecoderConfig (models/decoder.py), the names onto
ours. RoPE (with `rope_theta`, `rope_scaling` linear and llama3), RMSNorm, SwiGLU,
grouped-query attention; Qwen3's per-head q/k norms; Phi-3's fused qkv_proj and
gate_up_proj split into our q/k/v and gate/up projections. A sliding window (Mistral, Phi-3:
every layer; Qwen2/Qwen3: with use_sliding_window, the layers from max_window_layers or as
layer_types say) is computed as a band mask, for inputs of any length. Refused: other
rope_scaling types and their extra options, partial rotary, another activation. What tells
the relatives apart is a `Variant`, data."""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import CheckpointError
from .common import LARGEST_VALUE, HubModel, Renames, Rule, whole
from .text import check_common, language_model, need, token_id

ROPE_TYPES = ("default", "linear", "llama3")


@dataclass(frozen=True)
class Variant:
    """What a relative of Llama does differently: q/k/v and output biases (None: config's
    attention_bias says), a sliding window only when the config asks for it (Qwen2's
    use_sliding_window, then per layer_types) rather than whenever it gives one, q/k norms
    (Qwen3), fused projections (Phi-3: `renames` is its own table)."""
    qkv_bias: bool | None = None
    out_bias: bool | None = None
    window_when_asked: bool = False
    qk_norm: bool = False
    fused: bool = False


LLAMA = Variant()
MISTRAL = Variant()
QWEN2 = Variant(qkv_bias=True, out_bias=False, window_when_asked=True)
QWEN3 = Variant(window_when_asked=True, qk_norm=True)
PHI3 = Variant(qkv_bias=False, out_bias=False, fused=True)

LLAMA_LAYER = {"input_layernorm": "norm1", "post_attention_layernorm": "norm2",
               **{f"self_attn.{p}_proj": f"attn.{p}_proj" for p in "qkvo"},
               "self_attn.q_norm": "attn.q_norm", "self_attn.k_norm": "attn.k_norm",
               **{f"mlp.{p}_proj": f"mlp.{p}_proj" for p in ("gate", "up", "down")}}
OUTER = (Rule(r"model\.embed_tokens\.weight", "embed.weight"),
         Rule(r"model\.norm\.weight", "norm.weight"),
         Rule(r"lm_head\.weight", "lm_head.weight"),
         Rule(r".*rotary_emb\.inv_freq", None))  # a buffer old versions saved: recomputed


def layer_rules(parts: dict[str, str]) -> tuple[Rule, ...]:
    return tuple(Rule(rf"model\.layers\.(\d+)\.{re.escape(part)}\.(weight|bias)",
                      rf"layers.\1.{ours}.\2") for part, ours in parts.items())


# the Llama family's names -> ours (Qwen3's q_norm and k_norm included)
LLAMA_RENAMES = Renames(rules=(*OUTER, *layer_rules(LLAMA_LAYER)))
# Phi-3: q, k and v in one matrix (rows: all query heads, then the key heads, then the value
# heads), gate and up in another (gate's rows first)
PHI3_RENAMES = Renames(rules=(
    *OUTER,
    Rule(r"model\.layers\.(\d+)\.self_attn\.qkv_proj\.weight",
         (r"layers.\1.attn.q_proj.weight", r"layers.\1.attn.k_proj.weight",
          r"layers.\1.attn.v_proj.weight"), split=("q_rows", "kv_rows", "kv_rows")),
    Rule(r"model\.layers\.(\d+)\.mlp\.gate_up_proj\.weight",
         (r"layers.\1.mlp.gate_proj.weight", r"layers.\1.mlp.up_proj.weight"), split="d_ff"),
    *layer_rules({k: v for k, v in LLAMA_LAYER.items() if "norm" in k or "o_proj" in k
                  or "down_proj" in k}),
))


def rope_settings(config: dict, name: str) -> tuple[float, dict | None]:
    """(rope_theta, rope_scaling) from either layout: transformers 5's `rope_parameters` or
    the older `rope_theta` + `rope_scaling` (whose type was once called "type")."""
    params = config.get("rope_parameters")
    if isinstance(params, dict) and "rope_type" not in params and params:
        # per-layer-type parameters ({"full_attention": {...}}): one set must serve all
        sets = list(params.values())
        if any(s != sets[0] for s in sets) or not isinstance(sets[0], dict):
            raise CheckpointError("{name}: different rope parameters per layer type are not "
                                  "supported", name=name)
        params = sets[0]
    scaling = dict(params) if isinstance(params, dict) else dict(config.get("rope_scaling") or {})
    theta = float((params or {}).get("rope_theta", config.get("rope_theta", 10000.0)))
    kind = scaling.pop("rope_type", scaling.pop("type", "default")) or "default"
    scaling.pop("rope_theta", None)
    if kind not in ROPE_TYPES:
        raise CheckpointError("{name}: rope_scaling type '{kind}' is not supported (only linear "
                              "and llama3 are computed exactly here)", name=name, kind=kind)
    partial = scaling.pop("partial_rotary_factor", config.get("partial_rotary_factor", 1.0))
    if partial not in (None, 1, 1.0):
        raise CheckpointError("{name}: partial rotary (factor {partial}) is not supported",
                              name=name, partial=partial)
    if kind == "default":
        return theta, None
    keys = {"linear": ("factor",),
            "llama3": ("factor", "low_freq_factor", "high_freq_factor",
                       "original_max_position_embeddings")}[kind]
    missing = [k for k in keys if not isinstance(scaling.get(k), (int, float))]
    if missing:
        raise CheckpointError("{name}: rope_scaling '{kind}' lacks {missing}", name=name,
                              kind=kind, missing=', '.join(missing))
    extra = [k for k in scaling if k not in keys and scaling[k] is not None]
    if extra:  # e.g. attention_factor, mscale: they change the numbers
        raise CheckpointError("{name}: rope_scaling option(s) {extra} are not supported",
                              name=name, extra=', '.join(extra))
    return theta, {"rope_type": kind, **{k: scaling[k] for k in keys}}


LAYER_TYPES = ("sliding_attention", "full_attention")


def layer_types(config: dict, layers: int, name: str, default: list[str]) -> list[str]:
    """config.json's `layer_types` (checked: one known type per layer), else `default`."""
    types = config.get("layer_types")
    if types is None:
        return default
    if not isinstance(types, list) or len(types) != layers or any(
            t not in LAYER_TYPES for t in types):
        raise CheckpointError("{name}: layer_types must name sliding_attention or "
                              "full_attention for each of the {layers} layers", name=name,
                              layers=layers)
    return list(types)


def sliding_window(config: dict, variant: Variant, layers: int, name: str
                   ) -> tuple[int | None, list[str] | None]:
    """(the window, which layers use it: None for all) — (None, None) when no layer has one.
    Mistral and Phi-3: every layer, whenever sliding_window is set. Qwen2/Qwen3: only with
    use_sliding_window, then as layer_types says (else the layers from max_window_layers)."""
    window = config.get("sliding_window")
    if window is None or window is False:
        return None, None
    window = whole(window, "sliding_window", name, 1, 10**9)
    if not variant.window_when_asked:
        return window, None
    if not config.get("use_sliding_window"):
        return None, None  # (transformers sets the window to None then)
    first = config.get("max_window_layers", 28)
    first = first if isinstance(first, int) else 28
    types = layer_types(config, layers, name, ["sliding_attention" if i >= first else
                                               "full_attention" for i in range(layers)])
    if "sliding_attention" not in types:
        return None, None
    return window, types


def llama_config(config: dict, variant: Variant, name: str) -> tuple[dict, str]:
    """Our DecoderConfig's values, and why the input is limited ("" when it is not)."""
    act = config.get("hidden_act", "silu")
    if act != "silu":
        raise CheckpointError("{name}: hidden_act '{act}' is not supported (the SwiGLU MLP uses "
                              "silu)", name=name, act=act)
    width, heads = need(config, "hidden_size", name), need(config, "num_attention_heads", name)
    kv = config.get("num_key_value_heads") or heads
    if not isinstance(kv, int) or kv <= 0 or heads % kv:
        raise CheckpointError("{name}: {heads} heads cannot share {kv} key/value heads",
                              name=name, heads=heads, kv=kv)
    head_dim = config.get("head_dim") or width // heads
    if not isinstance(head_dim, int) or head_dim <= 0 or head_dim % 2:
        raise CheckpointError("{name}: head_dim {head_dim} is not an even whole number",
                              name=name, head_dim=head_dim)
    if config.get("head_dim") is None and width % heads:
        raise CheckpointError("{name}: hidden_size {width} does not split into {heads} heads",
                              name=name, width=width, heads=heads)
    theta, scaling = rope_settings(config, name)
    layers = need(config, "num_hidden_layers", name)
    max_len = need(config, "max_position_embeddings", name)
    window, types = sliding_window(config, variant, layers, name)
    note = ""
    longest = LARGEST_VALUE["max_len"]
    if max_len > longest:
        # RoPE allocates nothing per position: the number is only the longest input, and an
        # input far longer than this app can show live would only cost minutes and gigabytes
        max_len = longest
        note = f"this app's limit ({longest:,} tokens)"
    if window is not None and window >= max_len:  # no input this app takes reaches past it
        window, types = None, None
    bias = bool(config.get("attention_bias", False))
    vocab = need(config, "vocab_size", name)
    values = dict(vocab_size=vocab, d_model=width, num_layers=layers, num_heads=heads,
                  num_kv_heads=kv, head_dim=head_dim,
                  d_ff=need(config, "intermediate_size", name), max_len=max_len,
                  position="rope", rope_theta=theta, rope_scaling=scaling, norm="rmsnorm",
                  norm_eps=float(config.get("rms_norm_eps", 1e-6)), mlp="swiglu",
                  qkv_bias=bias if variant.qkv_bias is None else variant.qkv_bias,
                  out_bias=bias if variant.out_bias is None else variant.out_bias,
                  mlp_bias=bool(config.get("mlp_bias", False)),
                  tie_embeddings=bool(config.get("tie_word_embeddings", False)),
                  bos_id=token_id(config, "bos_token_id", vocab),
                  eos_id=token_id(config, "eos_token_id", vocab),
                  pad_id=token_id(config, "pad_token_id", vocab),
                  qk_norm=variant.qk_norm, sliding_window=window, layer_types=types)
    return values, note


def read_llama_folder(folder: Path, config: dict, variant: Variant = LLAMA) -> HubModel:
    check_common(config, folder.name)
    values, note = llama_config(config, variant, folder.name)
    rows = values["head_dim"] * values["num_heads"], values["head_dim"] * values["num_kv_heads"]
    return language_model(folder, config, values, PHI3_RENAMES if variant.fused else
                          LLAMA_RENAMES, "decoder", "embed.weight", "lm_head.weight",
                          values["tie_embeddings"], note=note,
                          sizes=dict(q_rows=rows[0], kv_rows=rows[1]))


def reader(variant: Variant):
    """The reader of one relative: `read_llama_folder` with its variant."""
    return functools.partial(read_llama_folder, variant=variant)
