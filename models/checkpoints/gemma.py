"""Gemma 3's text models as `transformers` saves them (`model_type` gemma3_text: Gemma 3
270M and 1B) onto our DecoderConfig (models/decoder.py).

What Gemma 3 does that Llama does not, each a DecoderConfig option: the token embedding
multiplied by √hidden_size (rounded to the weights' dtype), RMSNorm as x̂ · (1 + w), a norm
after attention and after the MLP as well as before ("sandwich"), RMSNorm of each head's q
and k before RoPE, scores divided by √query_pre_attn_scalar instead of √head_dim, a GeGLU
MLP (GELU's tanh approximation), sliding-window layers (`layer_types`, or the older
`sliding_window_pattern`: every n-th layer global) whose RoPE has its own base
(`rope_local_base_freq`), tied embeddings, and the final logits soft-capped when the config
says so. Refused: attention-score soft-capping (Gemma 2's), bidirectional attention, RoPE
scaling of the local layers, and the multimodal `gemma3` folders (an image encoder).
"""
from __future__ import annotations

from pathlib import Path

from ..errors import CheckpointError
from .common import LARGEST_VALUE, HubModel, Renames, real, whole
from .llama import OUTER, layer_rules, layer_types, rope_settings
from .text import check_common, language_model, need, token_id

GEMMA3_LAYER = {"input_layernorm": "norm1", "post_attention_layernorm": "post_attn_norm",
                "pre_feedforward_layernorm": "norm2",
                "post_feedforward_layernorm": "post_mlp_norm",
                **{f"self_attn.{p}_proj": f"attn.{p}_proj" for p in "qkvo"},
                "self_attn.q_norm": "attn.q_norm", "self_attn.k_norm": "attn.k_norm",
                **{f"mlp.{p}_proj": f"mlp.{p}_proj" for p in ("gate", "up", "down")}}
GEMMA3_RENAMES = Renames(rules=(*OUTER, *layer_rules(GEMMA3_LAYER)))
DEFAULT_THETA = {"full_attention": 1_000_000.0, "sliding_attention": 10_000.0}


def gemma3_rope(config: dict, name: str) -> tuple[float, dict | None, float]:
    """(global base, global scaling, local base) from either layout: `rope_parameters` per
    layer type (transformers 5), or rope_theta + rope_scaling + rope_local_base_freq."""
    params = config.get("rope_parameters")
    if isinstance(params, dict) and set(params) <= set(DEFAULT_THETA) and params:
        sets = {kind: dict(params.get(kind) or {}) for kind in DEFAULT_THETA}
    else:
        sets = {"full_attention": {**(config.get("rope_scaling") or {}),
                                   "rope_theta": config.get("rope_theta",
                                                            DEFAULT_THETA["full_attention"])},
                "sliding_attention": {"rope_theta": config.get(
                    "rope_local_base_freq", DEFAULT_THETA["sliding_attention"])}}
    found = {}
    for kind, values in sets.items():
        values.setdefault("rope_theta", DEFAULT_THETA[kind])
        values["rope_type"] = values.pop("rope_type", values.pop("type", None)) or "default"
        found[kind] = rope_settings({"rope_parameters": values}, name)
    local_theta, local_scaling = found["sliding_attention"]
    if local_scaling is not None:
        raise CheckpointError("{name}: RoPE scaling of the sliding-window layers is not "
                              "supported", name=name)
    theta, scaling = found["full_attention"]
    for base, key in ((theta, "rope_theta"), (local_theta, "rope_local_base_freq")):
        real(base, key, name, 1.0, LARGEST_VALUE["rope_theta"])
    return theta, scaling, local_theta


def gemma3_config(config: dict, name: str) -> tuple[dict, str]:
    act = config.get("hidden_activation", config.get("hidden_act", "gelu_pytorch_tanh"))
    if act != "gelu_pytorch_tanh":
        raise CheckpointError("{name}: hidden_activation '{act}' is not supported (Gemma 3's "
                              "MLP uses gelu_pytorch_tanh)", name=name, act=act)
    if config.get("attn_logit_softcapping") is not None:
        raise CheckpointError("{name}: attn_logit_softcapping (soft-capped attention "
                              "scores) is not supported", name=name)
    if config.get("use_bidirectional_attention"):
        raise CheckpointError("{name}: use_bidirectional_attention is not supported (a "
                              "causal language model only)", name=name)
    width, heads = need(config, "hidden_size", name), need(config, "num_attention_heads", name)
    kv = config.get("num_key_value_heads") or heads
    if not isinstance(kv, int) or kv <= 0 or heads % kv:
        raise CheckpointError("{name}: {heads} heads cannot share {kv} key/value heads",
                              name=name, heads=heads, kv=kv)
    head_dim = whole(config.get("head_dim", 256), "head_dim", name)
    if head_dim % 2:
        raise CheckpointError("{name}: head_dim {head_dim} is not an even whole number",
                              name=name, head_dim=head_dim)
    layers = need(config, "num_hidden_layers", name)
    pattern = config.get("sliding_window_pattern", 6)
    pattern = whole(pattern, "sliding_window_pattern", name)
    types = layer_types(config, layers, name, [
        "sliding_attention" if (i + 1) % pattern else "full_attention" for i in range(layers)])
    window = config.get("sliding_window", 4096)
    window = None if window is None else whole(window, "sliding_window", name, 1, 10**9)
    theta, scaling, local_theta = gemma3_rope(config, name)
    max_len = need(config, "max_position_embeddings", name)
    note = ""
    if max_len > LARGEST_VALUE["max_len"]:
        max_len = LARGEST_VALUE["max_len"]
        note = f"this app's limit ({max_len:,} tokens)"
    if window is None or "sliding_attention" not in types:
        window = None
    elif window >= max_len:  # no input reaches past it: only the local layers' RoPE differs
        window = max_len
    scalar = real(config.get("query_pre_attn_scalar", 256), "query_pre_attn_scalar", name,
                  1e-6, 1e6)
    cap = config.get("final_logit_softcapping")
    cap = None if cap is None else real(cap, "final_logit_softcapping", name, 1e-6, 1e6)
    vocab = need(config, "vocab_size", name)
    values = dict(vocab_size=vocab, d_model=width, num_layers=layers, num_heads=heads,
                  num_kv_heads=kv, head_dim=head_dim,
                  d_ff=need(config, "intermediate_size", name), max_len=max_len,
                  position="rope", rope_theta=theta, rope_scaling=scaling, norm="rmsnorm",
                  norm_eps=float(config.get("rms_norm_eps", 1e-6)), mlp="geglu_tanh",
                  qkv_bias=bool(config.get("attention_bias", False)),
                  out_bias=bool(config.get("attention_bias", False)), mlp_bias=False,
                  tie_embeddings=bool(config.get("tie_word_embeddings", True)),
                  bos_id=token_id(config, "bos_token_id", vocab),
                  eos_id=token_id(config, "eos_token_id", vocab),
                  pad_id=token_id(config, "pad_token_id", vocab),
                  qk_norm=True, norm_offset=1.0, sandwich_norm=True, embed_scale=True,
                  attn_scalar=scalar, logit_softcap=cap, sliding_window=window,
                  layer_types=types if window else None,
                  rope_local_theta=local_theta if window else None)
    if not window and local_theta != theta:  # no sliding layer: the local base is unused
        values["rope_local_theta"] = None
    return values, note


def read_gemma3_folder(folder: Path, config: dict) -> HubModel:
    check_common(config, folder.name)
    values, note = gemma3_config(config, folder.name)
    return language_model(folder, config, values, GEMMA3_RENAMES, "decoder", "embed.weight",
                          "lm_head.weight", values["tie_embeddings"], note=note)
