"""A run records what is linear in the number of tokens; the N×N matrices are derived when
read. Checked against an independent float64 computation for every preset and every kind of
site (encoder, decoder with its causal mask, cross, ViT, Swin windows with bias and mask, a
causal language model with grouped-query attention), and for the bytes a run keeps."""
import numpy as np
import pytest
import torch

from models.decoder import Decoder, DecoderConfig
from models.presets import PRESETS
from models.session import load_preset
from models.trace import Trace, recording


def eager(trace: Trace, site: str) -> tuple[np.ndarray, np.ndarray]:
    """(scores, weights) from the recorded q, k, bias and mask, in float64 numpy."""
    q, k = trace[f"{site}/q"].astype(np.float64), trace[f"{site}/k"].astype(np.float64)
    scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    logits = scores.copy()
    if f"{site}/bias" in trace.records:
        logits = logits + trace[f"{site}/bias"]
    if f"{site}/mask" in trace.records:
        logits = logits + trace[f"{site}/mask"]
    if f"{site}/causal" in trace.records:
        n_q, n_k = scores.shape[-2:]
        logits = np.where(np.triu(np.ones((n_q, n_k), bool), 1), -np.inf, logits)
    logits = logits - logits.max(-1, keepdims=True)
    weights = np.exp(logits)
    return scores, weights / weights.sum(-1, keepdims=True)


def check_every_site(trace: Trace) -> int:
    sites = trace.attention_sites()
    for site in sites:
        scores, weights = eager(trace, site)
        np.testing.assert_allclose(trace[f"{site}/scores"], scores, atol=1e-5, rtol=1e-5)
        np.testing.assert_allclose(trace[f"{site}/weights"], weights, atol=1e-6)
        # the fused forward's recorded output is these weights times v
        out = weights @ trace[f"{site}/v"].astype(np.float64)
        if not np.allclose(trace[f"{site}/out"], 0):  # (a head switched off: zero)
            np.testing.assert_allclose(trace[f"{site}/out"], out, atol=1e-5)
        for head in (0, weights.shape[-3] - 1):  # one head alone, as a panel asks
            window = 0 if weights.ndim == 4 else None
            one = trace.head_matrix(site, "weights", head, window)
            expected = weights[0, head] if window is not None else weights[head]
            np.testing.assert_allclose(one, expected, atol=1e-6)
    return len(sites)


@pytest.mark.parametrize("name", ["translate", "reverse", "vit-digits", "swin-digits"])
def test_derived_matrices_equal_the_eager_ones_for_every_preset(name):
    session = load_preset(name)
    trace = session.run(PRESETS[name].default_input if PRESETS[name].input_kind == "text"
                        else "resources/samples/digits/digit_3.png")
    kinds = {info["kind"] for info in trace.meta["sites"].values()}
    assert check_every_site(trace) == len(trace.meta["sites"]) > 0
    if "window" in kinds:  # Swin: the bias and the shifted windows' mask were used
        assert any(f"{s}/mask" in trace.records for s in trace.meta["sites"])
        assert all(f"{s}/bias" in trace.records for s in trace.meta["sites"])


def test_a_causal_language_model_with_grouped_query_attention():
    torch.manual_seed(0)
    model = Decoder(DecoderConfig(vocab_size=40, d_model=32, num_layers=2, num_heads=4,
                                  num_kv_heads=2, d_ff=48, max_len=64, position="rope",
                                  norm="rmsnorm", mlp="swiglu", qkv_bias=False,
                                  out_bias=False, mlp_bias=False)).eval()
    with torch.no_grad(), recording() as trace:
        model(torch.randint(0, 40, (1, 21)))
    assert "layers.0.attn/weights" not in trace.records  # derived, not recorded
    assert check_every_site(trace) == 2
    assert np.isneginf(trace["layers.0.attn/mask"][0, 3, 4])


def gpt2_trace(tokens: int) -> Trace:
    torch.manual_seed(0)
    model = Decoder(DecoderConfig(vocab_size=300, d_model=64, num_layers=3, num_heads=4,
                                  d_ff=128, max_len=1024)).eval()
    with torch.no_grad(), recording() as trace:
        model(torch.randint(0, 300, (1, tokens)))
    return trace


def test_what_a_run_keeps_grows_linearly_with_its_length():
    small, large = gpt2_trace(256), gpt2_trace(512)
    assert large.nbytes() <= 2.2 * small.nbytes()
    # the matrices it would have kept before: 2 × layers × heads × N² floats
    assert large.nbytes() < 2 * 3 * 4 * 512 * 512 * 4 / 4


def test_compact_and_full_files_read_back_the_same(tmp_path):
    trace = gpt2_trace(40)
    trace.meta = {"sites": {}}
    assert trace.materialize()  # as a small run in the app: compact still leaves them out
    trace.save_npz(tmp_path / "full.npz")
    trace.save_npz(tmp_path / "compact.npz", compact=True)
    full, compact = Trace.load_npz(tmp_path / "full.npz"), Trace.load_npz(tmp_path / "compact.npz")
    assert "layers.1.attn/weights" in full.records
    assert "layers.1.attn/weights" not in compact.records
    assert compact.meta["compact"] and not full.meta["compact"]
    assert compact.meta["trace_version"] == full.meta["trace_version"] == 2
    assert sorted(full.keys()) == sorted(compact.keys())
    for name in full.keys():
        np.testing.assert_allclose(compact[name], full[name], atol=1e-6)
    assert (tmp_path / "compact.npz").stat().st_size < (tmp_path / "full.npz").stat().st_size


def newer_family_trace(family: str, tokens: int) -> tuple[Trace, Decoder]:
    """A small model with Qwen3's or Gemma 3's options (per-head q/k norms; Gemma: sliding
    windows of 512 tokens on 2 layers of 3, the embedding scaled, sandwich norms)."""
    torch.manual_seed(0)
    options = dict(vocab_size=300, d_model=64, num_layers=3, num_heads=4, num_kv_heads=2,
                   head_dim=16, d_ff=96, max_len=4096, position="rope", norm="rmsnorm",
                   mlp="swiglu", qkv_bias=False, out_bias=False, mlp_bias=False,
                   qk_norm=True, norm_eps=1e-6)
    if family == "gemma3":
        options.update(mlp="geglu_tanh", norm_offset=1.0, sandwich_norm=True,
                       embed_scale=True, attn_scalar=16, sliding_window=512,
                       layer_types=["sliding_attention", "full_attention",
                                    "sliding_attention"], rope_local_theta=10000.0)
    model = Decoder(DecoderConfig(**options)).eval()
    with torch.no_grad():  # norms away from 1: a norm not applied would show
        for name, p in model.named_parameters():
            if "norm" in name:
                p.add_(torch.randn_like(p) * 0.3)
    with torch.inference_mode(), recording() as trace:
        model.hidden(torch.randint(0, 300, (1, tokens)))
    return trace, model


@pytest.mark.parametrize("family", ["qwen3", "gemma3"])
def test_qwen3_and_gemma3_runs_keep_what_grows_linearly_up_to_2048_tokens(family):
    (small, _), (large, model) = newer_family_trace(family, 1024), \
        newer_family_trace(family, 2048)
    assert large.nbytes() <= 2.05 * small.nbytes()
    for name, value in large.records.items():  # no record grows faster than the length
        assert value.nbytes <= 2 * small.records[name].nbytes + 64, name
    assert large.nbytes() < 3 * 4 * 2048 * 2048 * 4 / 8  # far below one N² per head
    # q and k after their norm: derived from the records before it, not stored, and what
    # an RMSNorm with the model's weights gives (float64 numpy)
    site, offset = "layers.1.attn", 1.0 if family == "gemma3" else 0.0
    assert f"{site}/q_unrotated" not in large.records
    for key in ("q", "k"):
        x = large[f"{site}/{key}_before_norm"].astype(np.float64)
        weight = getattr(model.layers[1].attn, f"{key}_norm").weight.detach().double().numpy()
        expected = x / np.sqrt((x ** 2).mean(-1, keepdims=True) + 1e-6) * (offset + weight)
        got = large[f"{site}/{key}_unrotated"]
        assert got.dtype == np.float32 and np.allclose(got, expected, rtol=1e-4, atol=1e-5)
    if family == "gemma3":  # the band of the sliding layers is derived too, N × N on read
        mask = large["layers.0.attn/mask"][0]
        assert np.isneginf(mask[1000, 1000 - 512]) and mask[1000, 1000 - 511] == 0
        assert mask.shape == (2048, 2048) and "layers.0.attn/mask" not in large.records
