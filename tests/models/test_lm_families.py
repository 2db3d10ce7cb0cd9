"""The decoder-only (GPT-2 / Llama) and encoder-only (BERT) models, checked against their
definitions: the causal mask, grouped-query attention, RoPE's dependence on distance,
recorded steps that reproduce the output. Loading real folders: test_text_lms.py."""
import math

import numpy as np
import pytest
import torch

from models.decoder import Decoder, DecoderConfig, rope_frequencies
from models.encoder import Encoder, EncoderConfig
from models.trace import recording

GPT2 = dict(vocab_size=50, d_model=32, num_layers=2, num_heads=4, d_ff=64, max_len=24)
LLAMA = dict(vocab_size=50, d_model=32, num_layers=2, num_heads=4, num_kv_heads=2, d_ff=48,
             max_len=64, position="rope", norm="rmsnorm", mlp="swiglu", qkv_bias=False,
             out_bias=False, mlp_bias=False, tie_embeddings=False)


def model(**kw):
    torch.manual_seed(0)
    return Decoder(DecoderConfig(**kw)).eval()


@pytest.mark.parametrize("options", [GPT2, LLAMA], ids=["gpt2", "llama"])
def test_a_token_never_sees_the_ones_after_it(options):
    m = model(**options)
    ids = torch.randint(0, 50, (1, 10))
    changed = ids.clone()
    changed[0, 6:] = (changed[0, 6:] + 1) % 50
    with torch.no_grad():
        a, b = m(ids), m(changed)
    assert torch.allclose(a[0, :6], b[0, :6], atol=1e-6)
    assert not torch.allclose(a[0, 6:], b[0, 6:], atol=1e-3)


@pytest.mark.parametrize("options", [GPT2, LLAMA], ids=["gpt2", "llama"])
def test_recorded_steps_reproduce_the_fused_forward(options):
    m = model(**options)
    ids = torch.randint(0, 50, (1, 9))
    with torch.no_grad():
        fused = m(ids)
        with recording() as trace:
            traced = m(ids)
    assert torch.allclose(fused, traced, atol=1e-5)
    site = "layers.1.attn"
    q, k, v = (trace[f"{site}/{x}"].astype(np.float64) for x in "qkv")
    scores = q @ k.transpose(0, 2, 1) / math.sqrt(q.shape[-1])
    assert np.allclose(scores, trace[f"{site}/scores"], atol=1e-5)
    logits = scores + trace[f"{site}/mask"]
    weights = np.exp(logits - logits.max(-1, keepdims=True))
    weights /= weights.sum(-1, keepdims=True)
    assert np.allclose(weights, trace[f"{site}/weights"], atol=1e-6)
    assert np.allclose(np.triu(weights, 1), 0)  # nothing after the query
    assert np.allclose(weights @ v, trace[f"{site}/out"], atol=1e-5)


def test_query_heads_of_a_group_read_one_key_value_head():
    m = model(**LLAMA)  # 4 query heads, 2 key/value heads: heads 0,1 share one, 2,3 the other
    with torch.no_grad(), recording() as trace:
        m(torch.randint(0, 50, (1, 7)))
    k, v = trace["layers.0.attn/k"], trace["layers.0.attn/v"]
    assert np.array_equal(k[0], k[1]) and np.array_equal(k[2], k[3])
    assert not np.allclose(k[1], k[2])
    assert np.array_equal(v[0], v[1]) and np.array_equal(v[2], v[3])
    assert m.describe_sites()["layers.0.attn"]["kv_heads"] == 2
    assert m.layers[0].attn.k_proj.weight.shape == (2 * 8, 32)  # only 2 heads' worth stored


def test_rope_scores_depend_on_the_offset_only():
    """The same q and k vectors placed at positions (i, j) give a score that depends on
    i - j alone: RoPE turns absolute rotations into relative positions."""
    m = model(**LLAMA)
    cos, sin = m.rope(40, "cpu")
    rng = torch.Generator().manual_seed(1)
    q, k = torch.randn(8, generator=rng), torch.randn(8, generator=rng)

    def rotated(x, p):
        x1, x2 = x.chunk(2)
        return x * cos[p] + torch.cat((-x2, x1)) * sin[p]

    for offset in (0, 3, 17):
        scores = [float(rotated(q, i + offset) @ rotated(k, i)) for i in (0, 5, 20)]
        assert max(scores) - min(scores) < 1e-4
    assert abs(float(rotated(q, 3) @ rotated(k, 0)) - float(rotated(q, 9) @ rotated(k, 0))) > 1e-3


def test_rope_frequencies_follow_the_formula_and_scalings():
    base = rope_frequencies(DecoderConfig(vocab_size=5, d_model=32, num_heads=2,
                                          position="rope", rope_theta=100.0))
    expected = [100.0 ** (-2 * i / 16) for i in range(8)]
    assert np.allclose(base.numpy(), expected, rtol=1e-6)
    linear = rope_frequencies(DecoderConfig(vocab_size=5, d_model=32, num_heads=2,
                                            position="rope", rope_theta=100.0,
                                            rope_scaling={"rope_type": "linear", "factor": 4}))
    assert np.allclose(linear.numpy(), np.array(expected) / 4, rtol=1e-6)
    llama3 = rope_frequencies(DecoderConfig(
        vocab_size=5, d_model=32, num_heads=2, position="rope", rope_theta=10000.0,
        rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                      "high_freq_factor": 4.0, "original_max_position_embeddings": 64}))
    plain = rope_frequencies(DecoderConfig(vocab_size=5, d_model=32, num_heads=2,
                                           position="rope", rope_theta=10000.0))
    wavelength = 2 * math.pi / plain.numpy()
    short, long = wavelength < 64 / 4, wavelength > 64 / 1
    assert np.allclose(llama3.numpy()[short], plain.numpy()[short])  # fast ones kept
    assert np.allclose(llama3.numpy()[long], plain.numpy()[long] / 8)  # slow ones / factor


def test_greedy_generation_appends_the_most_likely_token():
    m = model(**GPT2)
    ids = torch.randint(0, 50, (1, 5))
    new = m.generate(ids, 4, stop_at_eos=False)
    assert new.shape == (1, 4)
    with torch.no_grad():
        whole = m(torch.cat([ids, new], 1))
    assert torch.equal(whole[0, 4:8].argmax(-1), new[0])


def test_bert_sees_both_directions_and_its_head_is_tied():
    torch.manual_seed(0)
    bert = Encoder(EncoderConfig(vocab_size=50, d_model=32, num_layers=2, num_heads=4,
                                 d_ff=64, max_len=24)).eval()
    ids = torch.randint(0, 50, (1, 10))
    changed = ids.clone()
    changed[0, 9] = (changed[0, 9] + 1) % 50
    with torch.no_grad():
        a, b = bert(ids), bert(changed)
        with recording() as trace:
            traced = bert(ids)
    assert not torch.allclose(a[0, 0], b[0, 0], atol=1e-4)  # the first word sees the last
    assert torch.allclose(a, traced, atol=1e-5)
    assert bert.mlm.decoder.weight is bert.embed.word.weight
    assert "layers.0.attn/mask" not in trace
    assert np.allclose(trace["layers.0.attn/weights"].sum(-1), 1, atol=1e-5)
    assert set(bert.describe_sites()) == {"layers.0.attn", "layers.1.attn"}



GEMMA_LIKE = dict(vocab_size=50, d_model=32, num_layers=3, num_heads=4, num_kv_heads=1,
                  head_dim=8, d_ff=48, max_len=4096, position="rope", norm="rmsnorm",
                  mlp="geglu_tanh", qkv_bias=False, out_bias=False, mlp_bias=False,
                  qk_norm=True, norm_offset=1.0, sandwich_norm=True, embed_scale=True,
                  attn_scalar=12.0, logit_softcap=3.0, sliding_window=4,
                  layer_types=["sliding_attention", "full_attention", "sliding_attention"],
                  rope_local_theta=100.0)


def test_a_sliding_window_is_a_causal_band_in_both_paths():
    """Fused (SDPA with the band as an additive mask) and explicit (the weights kept for a
    loss) attention agree, and a token never sees one w or more tokens back."""
    m = model(**GEMMA_LIKE)
    ids = torch.randint(0, 50, (1, 13))
    changed = ids.clone()
    changed[0, 0] = (changed[0, 0] + 1) % 50  # seen by the global layer only
    attn = m.layers[0].attn
    with torch.no_grad():
        fused = m(ids)
        attn.kept_weights = []
        explicit = m(ids)
        weights = attn.kept_weights[0][0]  # (H, N, N)
        attn.kept_weights = None
    assert torch.allclose(fused, explicit, atol=1e-5)
    i, j = torch.meshgrid(torch.arange(13), torch.arange(13), indexing="ij")
    band = (j <= i) & (j > i - 4)
    assert torch.all(weights[:, ~band] == 0) and torch.all(weights[:, band] > 0)
    with torch.no_grad(), recording() as trace:
        m(ids)
    assert int(trace["layers.0.attn/window"]) == 4 and "layers.1.attn/window" not in trace
    np.testing.assert_allclose(trace["layers.0.attn/weights"], weights.numpy(), atol=1e-6)
    assert m.describe_sites()["layers.0.attn"]["kind"] == "sliding"
    assert m.describe_sites()["layers.1.attn"]["kind"] == "causal"
    with torch.no_grad():  # the first token reaches the end through the global layer only
        assert not torch.allclose(m(changed)[0, -1], fused[0, -1], atol=1e-6)


def test_a_sliding_window_trace_is_linear_in_length_and_reads_back(tmp_path):
    from models.trace import Trace

    m = model(**GEMMA_LIKE)

    def run(n):
        with torch.no_grad(), recording() as trace:
            m(torch.randint(0, 50, (1, n)))
        return trace

    small, large = run(1024), run(2048)
    assert large.nbytes() <= 2.2 * small.nbytes()
    assert large.nbytes() < 3 * 4 * 2048 * 2048 * 4 / 8  # far below one N×N per head
    trace = run(20)
    trace.meta = {"sites": {}}
    trace.save_npz(tmp_path / "c.npz", compact=True)
    back = Trace.load_npz(tmp_path / "c.npz")
    np.testing.assert_array_equal(back["layers.2.attn/mask"], trace["layers.2.attn/mask"])
    np.testing.assert_allclose(back["layers.2.attn/weights"], trace["layers.2.attn/weights"],
                               atol=1e-6)
    assert np.isneginf(back["layers.2.attn/mask"][0, 10, 6])  # 4 back: outside the window
    assert back["layers.2.attn/mask"][0, 10, 7] == 0


def test_newer_options_leave_the_config_dict_of_a_plain_model_as_it_was():
    assert set(DecoderConfig(**LLAMA).to_dict()) == {
        f for f in DecoderConfig.__dataclass_fields__ if f not in (
            "qk_norm", "norm_offset", "sandwich_norm", "embed_scale", "attn_scalar",
            "logit_softcap", "sliding_window", "layer_types", "rope_local_theta")}
    assert DecoderConfig(**GEMMA_LIKE).to_dict()["sliding_window"] == 4
