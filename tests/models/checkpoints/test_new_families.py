"""Qwen3, Phi-3 and Gemma 3 (text) folders, sliding windows and sharded folders: small random
models built and saved by transformers, opened by our readers: the same ids as the folder's
tokenizer, the same probabilities as the library at every position (traced and untraced),
the same greedy continuation as `generate`; a sliding window is a band mask, exact for
inputs longer than the window; a sharded folder is read shard by shard and checked."""
import json
import re
import shutil

import numpy as np
import pytest
import torch

from main import main
from models.errors import CheckpointError
from models.session import load_folder
from models.sites import SLIDING, kind_of
from models.trace import Trace
from tests.models.lm_folders import NEW_FAMILIES, build, build_new

transformers = pytest.importorskip("transformers")
pytest.importorskip("tokenizers")

TEXT = ("The capital of France is Paris. She picked up the book and started to read. "
        "Once upon a time")


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("new-lms")
    return {family: (root / family, build_new(family, root / family))
            for family in NEW_FAMILIES}


def library(folder, model, text=TEXT):
    ids = transformers.AutoTokenizer.from_pretrained(folder)(text)["input_ids"]
    with torch.inference_mode():
        probs = model(torch.tensor([ids])).logits.softmax(-1)[0]
    return ids, probs.numpy()


def check_exact(folder, model, text=TEXT):
    ids, probs = library(folder, model, text)
    session = load_folder(folder)
    for traced in (True, False):
        trace = session.run(text, trace=traced)
        assert trace["input/ids"].tolist() == ids
        np.testing.assert_allclose(trace["prediction/probs"], probs, atol=1e-4)
    return ids, trace


@pytest.mark.parametrize("family", NEW_FAMILIES)
def test_probabilities_equal_the_library_traced_and_untraced(folders, family):
    folder, model = folders[family]
    ids, trace = check_exact(folder, model)
    assert trace.meta["task"] == "causal-lm" and len(trace.meta["tokens"]) == len(ids)


@pytest.mark.parametrize("family", NEW_FAMILIES)
def test_the_greedy_continuation_equals_generate(folders, family, tmp_path):
    folder, model = folders[family]
    ids, _ = library(folder, model)
    with torch.inference_mode():
        expected = model.generate(torch.tensor([ids]), max_new_tokens=8, do_sample=False,
                                  num_beams=1, pad_token_id=model.config.eos_token_id)
    expected = expected[0, len(ids):].tolist()
    out = tmp_path / "run.npz"
    assert main(["trace", "--weights", str(folder), "--input", TEXT, "--generate", "8",
                 "-o", str(out)]) == 0
    assert Trace.load_npz(str(out))["prediction/ids"].tolist() == expected


def test_qwen3_normalises_each_heads_q_and_k_before_rope(folders):
    """The recorded q before the rotation is RMSNorm(q_proj(x)) per head, times q_norm's
    weight: each head's vector has the norm's root-mean-square times the weight's."""
    folder, model = folders["qwen3"]
    trace = load_folder(folder).run(TEXT)
    q = trace["layers.0.attn/q_unrotated"]  # (H, N, dh)
    weight = model.model.layers[0].self_attn.q_norm.weight.detach().numpy()
    unit = q / weight
    np.testing.assert_allclose(np.sqrt((unit ** 2).mean(-1)), 1, atol=1e-3)


def test_phi3_fused_projections_are_split_into_q_k_v_and_gate_up(folders):
    folder, model = folders["phi3"]
    session = load_folder(folder)
    theirs = model.model.layers[1]
    ours = session.model.layers[1]
    fused = theirs.self_attn.qkv_proj.weight.detach()
    q, k = ours.attn.q_proj.weight.detach(), ours.attn.k_proj.weight.detach()
    v = ours.attn.v_proj.weight.detach()
    assert q.shape == (32, 32) and k.shape == v.shape == (16, 32)  # 4 query, 2 kv heads of 8
    assert torch.equal(torch.cat([q, k, v]), fused)
    gate_up = theirs.mlp.gate_up_proj.weight.detach()
    assert torch.equal(ours.mlp.gate_proj.weight, gate_up[:48])
    assert torch.equal(ours.mlp.up_proj.weight, gate_up[48:])


def test_gemma3_layers_are_sliding_or_global_each_with_its_own_mask(folders):
    folder, model = folders["gemma3_text"]
    trace = load_folder(folder).run(TEXT)
    n = len(trace.meta["tokens"])
    assert n > 5 * 3
    sites = trace.meta["sites"]
    assert [kind_of(trace.meta, s).key for s in sites] == ["sliding", "causal", "sliding"]
    assert sites["layers.0.attn"]["window"] == 5 and sites["layers.0.attn"]["rope"] == "local"
    i, j = np.indices((n, n))
    band = (j <= i) & (j > i - 5)
    weights = trace["layers.0.attn/weights"]
    assert np.all(weights[:, ~band] == 0) and np.all(weights[:, band] > 0)
    np.testing.assert_allclose(weights.sum(-1), 1, atol=1e-5)
    assert np.all(np.isinf(trace["layers.0.attn/mask"][0][~band]))
    full = trace["layers.1.attn/weights"]
    assert np.all(full[:, j > i] == 0) and np.all(full[:, j <= i] > 0)
    assert not np.allclose(trace["rope/inv_freq"], trace["rope_local/inv_freq"])


def test_gemma3_the_older_config_layout_is_read_the_same(folders, tmp_path):
    """sliding_window_pattern, rope_theta and rope_local_base_freq instead of layer_types and
    rope_parameters: transformers reads the edited folder, and so do we, to the same numbers."""
    source, _ = folders["gemma3_text"]
    folder = tmp_path / "old"
    shutil.copytree(source, folder)
    config = json.loads((folder / "config.json").read_text())
    for key in ("layer_types", "rope_parameters"):
        config.pop(key, None)
    config.update(sliding_window_pattern=2, rope_theta=50000.0, rope_local_base_freq=500.0)
    (folder / "config.json").write_text(json.dumps(config))
    model = transformers.AutoModelForCausalLM.from_pretrained(folder).eval()
    assert model.config.layer_types == ["sliding_attention", "full_attention",
                                        "sliding_attention"]
    check_exact(folder, model)


@pytest.mark.parametrize("family, options, kinds", [
    ("mistral", dict(sliding_window=6), ["sliding", "sliding"]),
    ("qwen2", dict(sliding_window=6, use_sliding_window=True, max_window_layers=1),
     ["causal", "sliding"]),
], ids=["mistral", "qwen2"])
def test_a_sliding_window_is_exact_for_inputs_longer_than_it(family, options, kinds,
                                                            tmp_path):
    model = build(family, tmp_path / "m", **options)
    ids, trace = check_exact(tmp_path / "m", model)
    assert len(ids) > 3 * options["sliding_window"]
    assert [kind_of(trace.meta, s).key for s in trace.meta["sites"]] == kinds
    assert trace.meta["config"]["max_len"] == 64  # no longer cut to the window


def test_phi3_sliding_window(tmp_path):
    model = build_new("phi3", tmp_path / "m", sliding_window=4)
    _, trace = check_exact(tmp_path / "m", model)
    assert all(kind_of(trace.meta, s) is SLIDING for s in trace.meta["sites"])


REFUSED = [
    ({"model_type": "gemma3", "text_config": {}, "vision_config": {}},
     "an image encoder (multimodal Gemma 3"),
    ({"attn_logit_softcapping": 50.0}, "attn_logit_softcapping"),
    ({"hidden_activation": "gelu"}, "hidden_activation 'gelu'"),
    ({"layer_types": ["sliding_attention"]}, "layer_types must name"),
    ({"use_bidirectional_attention": True}, "use_bidirectional_attention"),
]


@pytest.mark.parametrize("change, reason", REFUSED, ids=[next(iter(c)) for c, _ in REFUSED])
def test_what_gemma3_cannot_compute_exactly_is_refused(folders, change, reason, tmp_path,
                                                       capsys):
    folder = tmp_path / "g"
    shutil.copytree(folders["gemma3_text"][0], folder)
    config = json.loads((folder / "config.json").read_text())
    config.update(change)
    (folder / "config.json").write_text(json.dumps(config))
    assert_refused(folder, reason, tmp_path, capsys)


def assert_refused(folder, reason: str, tmp_path, capsys) -> None:
    """Refused with `reason` when read, and on the command line in one line, exit 2."""
    with pytest.raises(CheckpointError, match=re.escape(reason)):
        load_folder(folder)
    code = main(["trace", "--weights", str(folder), "--input", "hi", "-o",
                 str(tmp_path / "t.npz")])
    err = capsys.readouterr().err
    assert code == 2 and reason in err and err.count("\n") == 1


# -- shards ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def sharded(tmp_path_factory):
    """A Qwen3 folder saved in shards of at most 20 kB (transformers' own index)."""
    root = tmp_path_factory.mktemp("shards")
    model = build_new("qwen3", root / "single")
    folder = root / "sharded"
    shutil.copytree(root / "single", folder)
    (folder / "model.safetensors").unlink()
    model.save_pretrained(folder, max_shard_size="20KB")
    return folder, model


def test_a_sharded_folder_opens_exactly(sharded):
    folder, model = sharded
    shards = sorted(folder.glob("model-*-of-*.safetensors"))
    assert len(shards) > 2 and (folder / "model.safetensors.index.json").is_file()
    assert not (folder / "model.safetensors").exists()
    check_exact(folder, model)


def broken_copy(sharded, tmp_path, change):
    folder = tmp_path / "broken"
    shutil.copytree(sharded[0], folder)
    index = json.loads((folder / "model.safetensors.index.json").read_text())
    change(folder, index["weight_map"])
    (folder / "model.safetensors.index.json").write_text(json.dumps(index))
    return folder


def drop_shard(folder, mapping):
    (folder / sorted(set(mapping.values()))[-1]).unlink()


def map_elsewhere(folder, mapping):
    """One tensor named in the index under another shard than the one holding it."""
    name = next(iter(mapping))
    mapping[name] = next(f for f in sorted(set(mapping.values())) if f != mapping[name])


def twice(folder, mapping):
    """A tensor stored in two shards (the index can name it once only)."""
    from safetensors.torch import load_file, save_file

    name = next(iter(mapping))
    other = next(f for f in sorted(set(mapping.values())) if f != mapping[name])
    value = load_file(folder / mapping[name])[name]
    tensors = load_file(folder / other)
    tensors[name] = value
    save_file(tensors, folder / other, metadata={"format": "pt"})


def unmapped(folder, mapping):
    mapping.pop("model.norm.weight")


def outside(folder, mapping):
    mapping["model.norm.weight"] = "../model.safetensors"


def wrong_width(folder, mapping):
    from safetensors.torch import load_file, save_file

    file = mapping["model.norm.weight"]
    tensors = load_file(folder / file)
    tensors["model.norm.weight"] = torch.ones(7)
    save_file(tensors, folder / file, metadata={"format": "pt"})


BROKEN = [(drop_shard, "named in model.safetensors.index.json is missing"),
          (map_elsewhere, "which model.safetensors.index.json maps to it"),
          (twice, "is in more than one shard"),
          (unmapped, "which model.safetensors.index.json does not map to it"),
          (outside, "not a .safetensors file of the folder"),
          (wrong_width, "wrong shape: norm.weight")]


@pytest.mark.parametrize("change, reason", BROKEN, ids=[c.__name__ for c, _ in BROKEN])
def test_a_broken_sharded_folder_is_refused_in_one_line(sharded, change, reason, tmp_path,
                                                        capsys):
    folder = broken_copy(sharded, tmp_path, change)
    assert_refused(folder, reason, tmp_path, capsys)


# -- dtype -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def bf16(tmp_path_factory):
    """A Gemma 3 folder whose weights are stored in bfloat16 (tied embeddings)."""
    folder = tmp_path_factory.mktemp("bf16") / "g"
    model = build_new("gemma3_text", folder)
    model.to(torch.bfloat16).save_pretrained(folder)
    return folder, model


@pytest.fixture
def keep_dtype():
    from models import session

    yield session.set_weights_dtype
    session.set_weights_dtype(None)


def test_bf16_weights_are_computed_in_float32_by_default(bf16):
    folder, model = bf16
    session = load_folder(folder)
    assert session.model.embed.weight.dtype == torch.float32
    model_ = session.model  # tied: still one tensor's memory, not two converted copies
    assert model_.lm_head.weight.data_ptr() == model_.embed.weight.data_ptr()
    trace = session.run(TEXT)
    assert (trace.meta["dtype"], trace.meta["weights_dtype"]) == ("float32", "bfloat16")
    assert session.dtype_note() == "bfloat16 weights computed in float32"
    ids = transformers.AutoTokenizer.from_pretrained(folder)(TEXT)["input_ids"]
    with torch.inference_mode():  # the library's model, the same bf16 numbers in float32
        expected = model.float()(torch.tensor([ids])).logits.softmax(-1)[0].numpy()
    model.to(torch.bfloat16)
    np.testing.assert_allclose(trace["prediction/probs"], expected, atol=1e-4)


def test_dtype_keeps_bf16_weights_and_writes_float32_traces(bf16, keep_dtype, tmp_path):
    folder, model = bf16
    keep_dtype("bfloat16")
    session = load_folder(folder)
    assert session.model.layers[0].attn.q_proj.weight.dtype == torch.bfloat16
    trace = session.run(TEXT)
    assert (trace.meta["dtype"], trace.meta["weights_dtype"]) == ("bfloat16", "bfloat16")
    assert trace["layers.0.attn/q"].dtype == np.float32
    assert trace["prediction/probs"].dtype == np.float32
    ids = transformers.AutoTokenizer.from_pretrained(folder)(TEXT)["input_ids"]
    with torch.inference_mode():
        expected = model(torch.tensor([ids])).logits.float().softmax(-1)[0].numpy()
    assert model.dtype == torch.bfloat16
    # bf16 keeps 8 bits of mantissa: the same computation within its rounding
    np.testing.assert_allclose(trace["prediction/probs"], expected, atol=2e-2)
    out = tmp_path / "t.npz"
    keep_dtype(None)
    assert main(["trace", "--weights", str(folder), "--dtype", "bfloat16", "--input", TEXT,
                 "-o", str(out)]) == 0
    assert Trace.load_npz(str(out)).meta["dtype"] == "bfloat16"


def test_a_dtype_the_device_cannot_run_is_refused_in_one_line(bf16, keep_dtype, monkeypatch,
                                                              tmp_path, capsys):
    folder, _ = bf16

    def cannot(*args, **kwargs):
        raise RuntimeError('"addmm_impl_cpu_" not implemented for \'BFloat16\'')

    monkeypatch.setattr(torch.nn.functional, "linear", cannot)
    code = main(["trace", "--weights", str(folder), "--dtype", "bfloat16", "--input", "hi",
                 "-o", str(tmp_path / "t.npz")])
    err = capsys.readouterr().err
    assert code == 2 and "the device cpu cannot compute in bfloat16" in err
    assert err.count("\n") == 1


def test_a_recast_session_is_the_folder_opened_in_that_dtype(bf16, monkeypatch):
    """The window's Device menu casts the model on screen (Session.recast): bit for bit the
    folder opened with --dtype bfloat16 (Gemma 3: two RoPE bases stay float32 buffers, the
    tied output stays the embedding's memory), and back to float32 the float32 run; a
    device that refuses the dtype leaves the model as it was."""
    from models import session as sessions

    folder, _ = bf16
    session = load_folder(folder)
    before = session.run(TEXT)["prediction/probs"]
    monkeypatch.setattr(sessions, "dtype_refusal", lambda dtype, device: "no kernels")
    with pytest.raises(CheckpointError, match=r"^the device cpu cannot compute in bfloat16 "
                                              r"\(no kernels\)$"):
        session.recast("bfloat16")
    assert session.model.embed.weight.dtype == torch.float32
    monkeypatch.undo()
    assert session.recast("float16") is False  # stored in bf16: float32 it stays
    assert session.recast("bfloat16") is True
    model = session.model
    assert model.lm_head.weight.data_ptr() == model.embed.weight.data_ptr()
    assert model.inv_freq.dtype == model.local_inv_freq.dtype == torch.float32
    opened = load_folder(folder, keep="bfloat16")
    for (name, a), b in zip(model.state_dict().items(), opened.model.state_dict().values()):
        assert a.dtype == b.dtype and torch.equal(a, b), name
    np.testing.assert_array_equal(session.run(TEXT)["prediction/probs"],
                                  opened.run(TEXT)["prediction/probs"])
    assert session.recast("float32") is True
    np.testing.assert_array_equal(session.run(TEXT)["prediction/probs"], before)
