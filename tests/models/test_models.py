"""Transformer, ViT and Swin: invariants checked against independent computations."""
import numpy as np
import pytest
import torch

from models.checkpoints.common import load_weights
from models.checkpoints.ours import read_checkpoint, save_checkpoint
from models.checkpoints.timm import load_timm_state_dict
from models.errors import CheckpointError
from models.swin import (
    Swin,
    SwinConfig,
    region_labels,
    shift_mask,
    token_windows,
    window_partition,
    window_reverse,
)
from models.trace import recording
from models.transformer import BOS, Transformer, TransformerConfig
from models.vit import ViT, ViTConfig


def small_transformer():
    torch.manual_seed(0)
    return Transformer(TransformerConfig(src_vocab=20, tgt_vocab=25, d_model=32,
                                         num_heads=4, max_len=16)).eval()


@pytest.fixture(scope="module")
def images():
    return torch.rand(2, 1, 32, 32, generator=torch.Generator().manual_seed(1))


@pytest.mark.parametrize("make", ["transformer", "vit", "swin"])
def test_traced_forward_equals_fused_forward(make, images):
    torch.manual_seed(0)
    if make == "transformer":
        model = small_transformer()
        inputs = (torch.randint(4, 20, (2, 6)), torch.randint(4, 25, (2, 5)))
    else:
        model = (ViT(ViTConfig()) if make == "vit" else Swin(SwinConfig())).eval()
        inputs = (images,)
    with torch.no_grad():
        fused = model(*inputs)
        with recording() as trace:
            explicit = model(*inputs)
    assert torch.allclose(fused, explicit, atol=1e-5)
    weights = [trace[k] for k in trace.keys() if k.endswith("/weights")]
    assert weights and all(np.allclose(w.sum(-1), 1, atol=1e-5) for w in weights)


def test_transformer_sites_and_positional_record():
    model = small_transformer()
    with torch.no_grad(), recording() as trace:
        model(torch.randint(4, 20, (1, 6)), torch.randint(4, 25, (1, 4)))
    sites = {k.split("/")[0] for k in trace.keys() if k.endswith("/weights")}
    assert sites == {"encoder.layers.0.self_attn", "encoder.layers.1.self_attn",
                     "decoder.layers.0.self_attn", "decoder.layers.1.self_attn",
                     "decoder.layers.0.cross_attn", "decoder.layers.1.cross_attn"}
    assert trace["encoder.embed.pos/pe"].shape == (16, 32)
    assert trace["decoder.layers.0.cross_attn/weights"].shape == (4, 4, 6)
    np.testing.assert_allclose(trace["encoder.embed/sum"],
                               trace["encoder.embed/tokens"] + trace["encoder.embed.pos/pe"][:6],
                               atol=1e-6)


def test_decoder_never_sees_the_future():
    model = small_transformer()
    src = torch.randint(4, 20, (1, 6))
    tgt = torch.randint(4, 25, (1, 5))
    changed = tgt.clone()
    changed[0, 3:] = 4  # change only the last two target tokens
    with torch.no_grad(), recording() as trace:
        a = model(src, tgt)
    with torch.no_grad():
        b = model(src, changed)
    assert torch.allclose(a[0, :3], b[0, :3], atol=1e-6)
    assert not torch.allclose(a[0, 3:], b[0, 3:])
    weights = trace["decoder.layers.0.self_attn/weights"]
    assert np.all(np.triu(np.ones((5, 5)), 1)[None] * weights == 0)


def test_teacher_forced_rows_equal_each_greedy_step():
    """Row t of the one traced pass is the decoder as it was at decoding step t."""
    model = small_transformer()
    src = torch.randint(4, 20, (1, 6))
    out = model.greedy(src, max_new=5)[0]
    full = torch.cat([torch.tensor([BOS]), out[:-1]])[None]
    with torch.no_grad(), recording() as whole:
        model(src, full)
    for t in range(1, full.shape[1] + 1):
        with torch.no_grad(), recording() as step:
            logits = model(src, full[:, :t])
        assert int(logits[0, -1].argmax()) == int(out[t - 1])
        for site in ("decoder.layers.1.self_attn", "decoder.layers.1.cross_attn"):
            w_step = step[f"{site}/weights"][:, t - 1]
            w_all = whole[f"{site}/weights"][:, t - 1, : w_step.shape[-1]]
            np.testing.assert_allclose(w_step, w_all, atol=1e-5)


def test_vit_parameter_names_match_timm():
    names = set(ViT(ViTConfig(depth=2)).state_dict())
    for expected in ("cls_token", "pos_embed", "patch_embed.proj.weight", "patch_embed.proj.bias",
                     "blocks.0.norm1.weight", "blocks.0.attn.qkv.weight", "blocks.0.attn.proj.bias",
                     "blocks.1.norm2.bias", "blocks.1.mlp.fc1.weight", "blocks.1.mlp.fc2.bias",
                     "norm.weight", "head.weight", "head.bias"):
        assert expected in names


def test_swin_parameter_names_match_timm():
    names = set(Swin(SwinConfig()).state_dict())
    for expected in ("patch_embed.proj.weight", "patch_embed.norm.weight",
                     "layers.0.blocks.1.attn.relative_position_bias_table",
                     "layers.0.blocks.0.attn.qkv.weight", "layers.0.blocks.0.attn.proj.weight",
                     "layers.1.downsample.reduction.weight", "layers.1.downsample.norm.weight",
                     "layers.2.blocks.1.mlp.fc2.bias", "norm.weight", "head.fc.weight"):
        assert expected in names
    assert not any("relative_position_index" in n or "attn_mask" in n for n in names)


def test_timm_style_state_dict_loads():
    source, target = ViT(ViTConfig(depth=2)), ViT(ViTConfig(depth=2))
    load_timm_state_dict(target, source.state_dict())
    swin_a, swin_b = Swin(SwinConfig()), Swin(SwinConfig())
    state = dict(swin_a.state_dict())
    state["layers.0.blocks.0.attn.relative_position_index"] = torch.zeros(16, 16)
    load_timm_state_dict(swin_b, state)  # timm's buffers are ignored, the rest loads
    assert torch.equal(swin_b.head.fc.weight, swin_a.head.fc.weight)


def independent_region_labels(H, W, ws, s):
    """Region of each cell of the rolled grid from its coordinates, not slices."""
    def band(i, n):
        return 0 if i < n - ws else (1 if i < n - s else 2)
    return np.array([[band(y, H) * 3 + band(x, W) for x in range(W)] for y in range(H)])


def test_swin_mask_equals_mask_from_region_labels():
    H = W = 16
    ws, s = 4, 2
    labels = independent_region_labels(H, W, ws, s)
    np.testing.assert_array_equal(region_labels(H, W, ws, s).numpy(), labels)
    mask = shift_mask(H, W, ws, s).numpy()
    for w in range(16):
        wy, wx = divmod(w, W // ws)
        cells = [labels[wy * ws + i // ws, wx * ws + i % ws] for i in range(ws * ws)]
        for i in range(ws * ws):
            for j in range(ws * ws):
                assert mask[w, i, j] == (0.0 if cells[i] == cells[j] else -100.0)
    assert (mask[0] == 0).all()  # the top-left window lies in one region
    assert (mask[-1] != 0).any()  # the bottom-right one mixes four


def test_roll_partition_and_their_inverses():
    x = torch.randn(2, 16, 16, 5)
    rolled = torch.roll(x, shifts=(-2, -2), dims=(1, 2))
    assert torch.equal(torch.roll(rolled, shifts=(2, 2), dims=(1, 2)), x)
    windows = window_partition(x, 4)
    assert windows.shape == (2 * 16, 16, 5)
    assert torch.equal(window_reverse(windows, 4, 16, 16), x)
    # window 1 of image 0 is rows 0..3, columns 4..7, row-major
    assert torch.equal(windows[1], x[0, 0:4, 4:8].reshape(16, 5))


def test_token_windows_follow_the_roll():
    window, inside = token_windows(16, 16, 4, 2)
    rolled_window = torch.arange(16).view(4, 1, 4, 1).expand(4, 4, 4, 4).reshape(16, 16)
    rolled_window = torch.roll(rolled_window, shifts=(2, 2), dims=(0, 1))  # back to original
    assert torch.equal(window, rolled_window)
    assert window[2, 2] == 0 and inside[2, 2] == 0  # (2,2) lands at (0,0) after the roll
    assert window[0, 0] == 15  # (0,0) wraps to the bottom-right window


def test_swin_bias_is_relative_and_stages_follow_the_rules():
    model = Swin(SwinConfig()).eval()
    with torch.no_grad(), recording() as trace:
        model(torch.rand(1, 1, 32, 32))
    attn = model.layers[0].blocks[1].attn
    bias = trace["layers.0.blocks.1.attn/bias"]  # (H, N, N)
    table = attn.relative_position_bias_table.detach().numpy()
    for i, (yi, xi) in enumerate((y, x) for y in range(4) for x in range(4)):
        for j, (yj, xj) in enumerate((y, x) for y in range(4) for x in range(4)):
            row = (yi - yj + 3) * 7 + (xi - xj + 3)
            np.testing.assert_allclose(bias[:, i, j], table[row], atol=1e-7)
    assert trace["layers.0.blocks.1.attn/weights"].shape == (16, 2, 16, 16)
    assert "layers.0.blocks.0.attn/mask" not in trace  # W-MSA: no mask
    assert trace["layers.0.blocks.1.attn/mask"].shape == (16, 1, 16, 16)
    # stage 2 has 4x4 tokens = one window: no shift, no mask
    assert model.layers[2].blocks[1].shift == 0
    assert "layers.2.blocks.1.attn/mask" not in trace
    assert trace["layers.1.downsample/source"].shape == (8, 8, 4)
    np.testing.assert_array_equal(trace["layers.1.downsample/source"][0, 1], [2, 18, 3, 19])


def test_masked_window_pairs_get_no_weight():
    model = Swin(SwinConfig()).eval()
    with torch.no_grad(), recording() as trace:
        model(torch.rand(1, 1, 32, 32))
    mask = trace["layers.0.blocks.1.attn/mask"]
    weights = trace["layers.0.blocks.1.attn/weights"]
    assert np.all(weights[np.broadcast_to(mask, weights.shape) < 0] < 1e-30)


def test_safetensors_round_trip_reproduces_outputs(tmp_path, images):
    model = Swin(SwinConfig()).eval()
    save_checkpoint(tmp_path / "w.safetensors", model, {"arch": "swin", "config": {}})
    tensors, meta = read_checkpoint(tmp_path / "w.safetensors")
    assert meta["arch"] == "swin"
    again = Swin(SwinConfig()).eval()
    load_weights(again, tensors)
    with torch.no_grad():
        assert torch.equal(model(images), again(images))


def test_bad_checkpoints_give_clear_errors(tmp_path):
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"\x80\x04not a safetensors file at all")
    with pytest.raises(CheckpointError, match="not a valid safetensors"):
        read_checkpoint(junk)
    with pytest.raises(CheckpointError, match="no weights file"):
        read_checkpoint(tmp_path / "missing.safetensors")
    save_checkpoint(tmp_path / "vit.safetensors", ViT(ViTConfig(depth=2)), {})
    tensors, _ = read_checkpoint(tmp_path / "vit.safetensors")
    with pytest.raises(CheckpointError, match="missing"):
        load_weights(ViT(ViTConfig(depth=3)), tensors)
