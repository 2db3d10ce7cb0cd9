"""The attention core, positional encodings and the trace: checked against direct computations."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from models import attention
from models.attention import attend
from models.positional import relative_position_index, sinusoidal_table
from models.trace import Trace, is_recording, recording


def random_qkv(B=2, H=3, Nq=5, Nk=7, dh=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(B, H, n, dh, generator=g) for n in (Nq, Nk, Nk)]


def naive_attention(q, k, v, additive=None):
    """Independent reference: loops over nothing clever, plain formula in float64."""
    q, k, v = q.double(), k.double(), v.double()
    scores = torch.einsum("bhqd,bhkd->bhqk", q, k) / math.sqrt(q.shape[-1])
    if additive is not None:
        scores = scores + additive.double()
    w = torch.exp(scores - scores.max(-1, keepdim=True).values)
    w = w / w.sum(-1, keepdim=True)
    return torch.einsum("bhqk,bhkd->bhqd", w, v).float(), w.float()


def test_fused_equals_explicit_and_reference():
    q, k, v = random_qkv()
    bias = torch.randn(1, 3, 5, 7)
    mask = torch.zeros(2, 1, 5, 7)
    mask[:, :, :, -2:] = float("-inf")
    fused = attend("s", q, k, v, bias, mask)
    with recording() as trace:
        explicit = attend("s", q, k, v, bias, mask)
    reference, weights = naive_attention(q, k, v, bias + mask)
    assert torch.allclose(fused, explicit, atol=1e-5)
    assert torch.allclose(explicit, reference, atol=1e-5)
    np.testing.assert_allclose(trace["s/weights"], weights[0].numpy(), atol=1e-6)


def test_records_follow_the_contract():
    q, k, v = random_qkv()
    mask = torch.zeros(1, 1, 5, 7)
    mask[..., 0] = float("-inf")
    with recording() as trace:
        attend("site", q, k, v, mask=mask)
    scale = 1 / math.sqrt(8)
    expected_scores = (q[0] @ k[0].transpose(-1, -2) * scale).numpy()
    np.testing.assert_allclose(trace["site/scores"], expected_scores, rtol=1e-5, atol=1e-6)
    assert trace["site/q"].shape == (3, 5, 8) and trace["site/k"].shape == (3, 7, 8)
    weights = trace["site/weights"]
    np.testing.assert_allclose(weights.sum(-1), 1.0, atol=1e-6)
    assert np.all(weights[..., 0] == 0)  # masked key gets exactly zero weight
    np.testing.assert_allclose(trace["site/out"], weights @ trace["site/v"], atol=1e-5)
    assert "site/bias" not in trace
    assert np.isneginf(trace["site/mask"][..., 0]).all()


def test_no_trace_uses_fused_path_and_copies_nothing(monkeypatch):
    calls = []
    real = F.scaled_dot_product_attention

    def spy(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(attention.F, "scaled_dot_product_attention", spy)
    q, k, v = random_qkv()
    assert not is_recording()
    attend("s", q, k, v)
    assert calls == [1]
    with recording() as trace:
        attend("s", q, k, v)
    assert calls == [1, 1]  # fused while tracing too: the weights are derived when read
    assert "s/weights" not in trace.records and "s/weights" in trace


def test_head_gate_zeroes_one_head():
    q, k, v = random_qkv()
    gate = torch.tensor([1.0, 0.0, 1.0])
    out = attend("s", q, k, v, head_gate=gate)
    assert torch.all(out[:, 1] == 0)
    assert torch.allclose(out[:, 0], attend("s", q, k, v)[:, 0])


def test_sinusoidal_table_is_the_paper_formula():
    table = sinusoidal_table(50, 16).numpy()
    for pos in (0, 1, 7, 49):
        for i in range(8):
            angle = pos / 10000 ** (2 * i / 16)
            assert table[pos, 2 * i] == pytest.approx(math.sin(angle), abs=1e-6)
            assert table[pos, 2 * i + 1] == pytest.approx(math.cos(angle), abs=1e-6)


def test_relative_position_index_depends_only_on_offset():
    w = 4
    index = relative_position_index(w).numpy()
    coords = [(y, x) for y in range(w) for x in range(w)]
    by_offset = {}
    for i, (yi, xi) in enumerate(coords):
        for j, (yj, xj) in enumerate(coords):
            by_offset.setdefault((yi - yj, xi - xj), set()).add(int(index[i, j]))
    assert all(len(v) == 1 for v in by_offset.values())  # one table row per offset
    assert len(by_offset) == (2 * w - 1) ** 2  # and every offset its own row
    assert index.min() == 0 and index.max() == (2 * w - 1) ** 2 - 1


def test_trace_npz_round_trip(tmp_path):
    trace = Trace()
    trace.add("a.b", "x", torch.arange(6.0).view(2, 3))
    trace.add("a.b", "labels", np.arange(4))
    trace.meta = {"arch": "vit", "sites": {"a.b": {"kind": "self"}}}
    trace.save_npz(tmp_path / "t.npz")
    again = Trace.load_npz(tmp_path / "t.npz")
    assert again.meta == {**trace.meta, "trace_version": 2, "compact": False}
    assert again.keys() == trace.keys()
    np.testing.assert_array_equal(again["a.b/x"], trace["a.b/x"])
