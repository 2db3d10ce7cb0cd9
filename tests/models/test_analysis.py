"""Rollout and head statistics against direct computations."""
import numpy as np
import pytest

from models.analysis import (
    full_window_attention,
    head_statistics,
    rollout,
    swin_rollout,
    window_cells,
)
from models.session import load_preset

DIGIT = "resources/samples/digits/digit_4.png"


def test_rollout_of_identity_attention_is_the_identity():
    eye = np.stack([np.eye(6)] * 3)  # (H, N, N)
    np.testing.assert_allclose(rollout([eye] * 4), np.eye(6))
    np.testing.assert_allclose(rollout([eye] * 4, fusion="max", discard=0.5), np.eye(6))


def test_rollout_matches_a_direct_product_and_rows_sum_to_one():
    rng = np.random.default_rng(0)
    layers = []
    for _ in range(3):
        w = rng.random((2, 5, 5))
        layers.append(w / w.sum(-1, keepdims=True))
    expected = np.eye(5)
    for w in layers:  # written out: mean over heads, add identity, renormalise rows
        a = 0.5 * (w[0] + w[1]) + np.eye(5)
        a = a / a.sum(axis=1)[:, None]
        expected = a @ expected
    result = rollout(layers)
    np.testing.assert_allclose(result, expected, atol=1e-12)
    np.testing.assert_allclose(result.sum(-1), 1.0, atol=1e-12)
    np.testing.assert_allclose(rollout(layers, "max", 0.3).sum(-1), 1.0, atol=1e-12)


@pytest.fixture(scope="module")
def swin_trace():
    return load_preset("swin-digits").run(DIGIT)


def test_swin_rollout_rows_sum_to_one_and_follow_the_grid(swin_trace):
    result = swin_rollout(swin_trace)
    assert result.shape == (4 * 4, 16 * 16)
    np.testing.assert_allclose(result.sum(-1), 1.0, atol=1e-9)
    assert (result >= 0).all()


def test_swin_rollout_of_identity_attention_is_pure_merging(swin_trace):
    trace = swin_trace
    for site in trace.sites("window"):
        w = trace[f"{site}/weights"]
        trace.records[f"{site}/weights"] = np.broadcast_to(np.eye(w.shape[-1]), w.shape).copy()
    result = swin_rollout(trace)
    # each last-stage token (4×4 grid) is the mean of the 4×4-token square it came from
    for t in range(16):
        ty, tx = divmod(t, 4)
        row = result[t].reshape(16, 16)
        np.testing.assert_allclose(row[ty * 4: ty * 4 + 4, tx * 4: tx * 4 + 4], 1 / 16)
        assert row.sum() == pytest.approx(1.0)


def test_full_window_attention_places_tokens_at_their_original_positions(swin_trace):
    site = "layers.0.blocks.1.attn"
    full = full_window_attention(swin_trace, site)
    weights = swin_trace[f"{site}/weights"].mean(1)
    window_of = swin_trace["layers.0.blocks.1/window_of_token"]
    inside = swin_trace["layers.0.blocks.1/index_in_window"]
    for (y1, x1), (y2, x2) in [((0, 0), (15, 15)), ((2, 2), (3, 5)), ((1, 14), (14, 1))]:
        same = window_of[y1, x1] == window_of[y2, x2]
        value = full[y1 * 16 + x1, y2 * 16 + x2]
        if same:
            w = window_of[y1, x1]
            assert value == pytest.approx(weights[w, inside[y1, x1], inside[y2, x2]])
        else:
            assert value == 0
    # (0, 0) and (15, 15) share a window after the shift: the wrap-around one
    assert window_of[0, 0] == window_of[15, 15]


def test_window_cells_undo_the_roll(swin_trace):
    """The one un-roll every panel uses, from the maps the model recorded, equals the
    arithmetic: token (iy, ix) of window (wy, wx) of the grid rolled by -s sits at original
    cell ((wy·ws + iy + s) mod R, (wx·ws + ix + s) mod R)."""
    for site in swin_trace.sites("window"):
        info = swin_trace.meta["sites"][site]
        res, ws, shift = info["resolution"][0], info["window_size"], info["shift"]
        cells = window_cells(swin_trace, site)
        assert cells.shape == (info["num_windows"], ws * ws, 2)
        for w in range(info["num_windows"]):
            wy, wx = divmod(w, res // ws)
            for i in range(ws * ws):
                iy, ix = divmod(i, ws)
                assert tuple(cells[w, i]) == ((wy * ws + iy + shift) % res,
                                              (wx * ws + ix + shift) % res)


def test_head_statistics_for_vit():
    trace = load_preset("vit-digits").run(DIGIT)
    stats = head_statistics(trace, "blocks.0.attn")
    w = trace["blocks.0.attn/weights"][1].astype(np.float64)
    patch = w[1:, 1:] / w[1:, 1:].sum(-1, keepdims=True)
    centres = np.array([((p // 8) * 4 + 2, (p % 8) * 4 + 2) for p in range(64)])
    distance = np.sqrt(((centres[:, None] - centres[None]) ** 2).sum(-1))
    assert stats[1]["distance"] == pytest.approx((patch * distance).sum(-1).mean(), rel=1e-6)
    assert stats[1]["special"] == pytest.approx(w[:, 0].mean(), rel=1e-6)


@pytest.mark.parametrize("preset", ["induction", "translate"])
def test_every_heads_figures_at_once_equal_head_by_heads_to_the_last_bit(preset):
    """`sequence_figures` (the corpus command's, every head at once) gives the very numbers
    of `head_figures` (the Model view's, one head at a time), at every text site: causal,
    decoder self-attention and cross-attention (no distance), inputs of several lengths."""
    from models.analysis import head_figures, sequence_figures
    from models.resources import resource_path
    from models.sites import kind_of

    session = load_preset(preset)
    texts = (resource_path("samples/induction.txt").read_text().splitlines()[:4]
             if preset == "induction" else session.preset.task_info.samples()[:4])
    for text in texts:
        trace = session.run(text)
        for site in trace.sites():
            weights = trace[f"{site}/weights"]
            together = sequence_figures(weights, kind_of(trace.meta, site).distance is not None)
            for head in range(len(weights)):
                alone = head_figures(trace, site, head, weights[head])
                for name in ("entropy", "distance", "first"):
                    assert np.array_equal(together[name][head], alone[name], equal_nan=True)
