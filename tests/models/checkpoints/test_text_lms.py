"""GPT-2, Llama (grouped-query attention), Qwen2 and BERT folders (issue 17): small random
models built and saved by transformers, each with a tokenizer trained here by `tokenizers`,
opened by our readers: the same ids as the folder's own tokenizer, the same probabilities
as the library's softmax(logits) at every position, the same greedy continuation as
`generate`; what cannot be computed exactly is refused with the reason."""
import json

import numpy as np
import pytest
import torch

from main import main
from models.checkpoints.tokenizer import readable
from models.errors import CheckpointError
from models.session import load_folder
from models.trace import Trace
from tests.models.lm_folders import FAMILIES, build

transformers = pytest.importorskip("transformers")
pytest.importorskip("tokenizers")

TEXT = {"gpt2": "The quick brown fox jumps over the lazy dog.\nOnce upon a time",
        "llama": "The capital of France is Paris.\nCafé 東京",
        "qwen2": "She picked up the book and started to read. Ça coûte 5 €",
        "bert": "The capital of France is [MASK], and [MASK] drinks tea."}


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("lms")
    return {family: (root / family, build(family, root / family)) for family in FAMILIES}


def library(folder, model, text):
    """(ids, probabilities) by transformers itself: its tokenizer for the folder, its model."""
    ids = transformers.AutoTokenizer.from_pretrained(folder)(text)["input_ids"]
    with torch.inference_mode():
        probs = model(torch.tensor([ids])).logits.softmax(-1)[0]
    return ids, probs.numpy()


@pytest.mark.parametrize("family", FAMILIES)
def test_ids_and_probabilities_equal_the_library_traced_and_untraced(folders, family):
    folder, model = folders[family]
    ids, probs = library(folder, model, TEXT[family])
    session = load_folder(folder)
    for traced in (True, False):
        trace = session.run(TEXT[family], trace=traced)
        assert trace["input/ids"].tolist() == ids
        # computed when read (no panel needs [N, V] whole), written whole by `trace`
        assert "prediction/probs" not in trace.records and "prediction/probs" in trace.keys()
        assert trace["prediction/probs"].shape == probs.shape  # [N, V]
        np.testing.assert_allclose(trace["prediction/probs"], probs, atol=1e-4)
    meta = trace.meta
    assert meta["task"] == ("masked-lm" if family == "bert" else "causal-lm")
    assert len(meta["tokens"]) == len(ids) == len(meta["topk"])
    best = probs.argmax(-1)
    assert [row[0][1] for row in meta["topk"]] == pytest.approx(probs.max(-1).tolist(),
                                                                abs=1e-4)
    tokenizer = session.tokenizer
    assert [row[0][0] for row in meta["topk"]] == tokenizer.tokens(best.tolist())


def test_special_tokens_are_where_the_tokenizer_puts_them(folders):
    llama = load_folder(folders["llama"][0]).run("hello")
    assert llama.meta["tokens"][0] == "<s>" and llama.meta["special"] == [0]  # BOS
    bert = load_folder(folders["bert"][0]).run(TEXT["bert"])
    tokens = bert.meta["tokens"]
    assert tokens[0] == "[CLS]" and tokens[-1] == "[SEP]"
    masked = [i for i, t in enumerate(tokens) if t == "[MASK]"]
    assert bert.meta["masked"] == masked and len(masked) == 2
    # the sentence with each [MASK] filled by its most likely word
    top = [bert.meta["topk"][i][0][0] for i in masked]
    assert all(word in bert.meta["prediction"] for word in top)
    gpt2 = load_folder(folders["gpt2"][0]).run("fox\nfox")
    assert "↵" in gpt2.meta["tokens"] and not any("Ġ" in t or "Ċ" in t
                                                  for t in gpt2.meta["tokens"])


@pytest.mark.parametrize("family", ["gpt2", "llama", "qwen2"])
def test_the_greedy_continuation_equals_generate(folders, family, tmp_path):
    folder, model = folders[family]
    ids, _ = library(folder, model, TEXT[family])
    with torch.inference_mode():
        expected = model.generate(torch.tensor([ids]), max_new_tokens=8, do_sample=False,
                                  num_beams=1, pad_token_id=model.config.eos_token_id)
    expected = expected[0, len(ids):].tolist()
    out = tmp_path / "run.npz"
    assert main(["trace", "--weights", str(folder), "--input", TEXT[family], "--generate",
                 "8", "-o", str(out)]) == 0
    trace = Trace.load_npz(str(out))
    assert trace["prediction/ids"].tolist() == expected
    assert trace["input/ids"].tolist() == ids  # the trace is of the input as typed
    assert len(trace.meta["continuation"]) == len(expected)


@pytest.mark.parametrize("family, files", [("bert", "vocab.txt"), ("gpt2", "vocab.json")])
def test_folders_without_tokenizer_json_open_with_their_vocabulary_files(family, files,
                                                                         tmp_path):
    folder = tmp_path / family
    model = build(family, folder, files)
    assert not (folder / "tokenizer.json").exists()
    ids, probs = library(folder, model, TEXT[family])
    trace = load_folder(folder).run(TEXT[family])
    assert trace["input/ids"].tolist() == ids
    np.testing.assert_allclose(trace["prediction/probs"], probs, atol=1e-4)


@pytest.mark.parametrize("options", [
    dict(rope_scaling={"rope_type": "linear", "factor": 2.0}),
    dict(rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                       "high_freq_factor": 4.0, "original_max_position_embeddings": 16},
         rope_theta=500000.0),
    dict(num_key_value_heads=1, head_dim=16, attention_bias=True, mlp_bias=True,
         tie_word_embeddings=True),
], ids=["linear", "llama3", "mqa-headdim-biases"])
def test_llama_options_are_computed_exactly(options, tmp_path):
    model = build("llama", tmp_path / "m", **options)
    ids, probs = library(tmp_path / "m", model, TEXT["llama"])
    trace = load_folder(tmp_path / "m").run(TEXT["llama"])
    assert trace["input/ids"].tolist() == ids
    np.testing.assert_allclose(trace["prediction/probs"], probs, atol=1e-4)


def test_a_sliding_window_is_computed_not_a_limit_on_the_input(tmp_path):
    """Mistral with a window of 12: an input longer than the window is exact too (the band
    mask; more in test_new_families.py)."""
    model = build("mistral", tmp_path / "m", sliding_window=12)
    session = load_folder(tmp_path / "m")
    ids, probs = library(tmp_path / "m", model, TEXT["gpt2"])
    assert len(ids) > 12
    np.testing.assert_allclose(session.run(TEXT["gpt2"])["prediction/probs"], probs,
                               atol=1e-4)


def test_gqa_query_heads_read_their_groups_kv_head(folders):
    trace = load_folder(folders["llama"][0]).run("hello world")
    site = trace.meta["sites"]["layers.0.attn"]
    assert site["heads"] == 4 and site["kv_heads"] == 2
    k = trace["layers.0.attn/k"]  # (H, N, dh), expanded: heads 0, 1 share KV head 0
    np.testing.assert_array_equal(k[0], k[1])
    np.testing.assert_array_equal(k[2], k[3])
    assert not np.allclose(k[1], k[2])


def test_readable_tokens():
    assert readable("Ġthe", True) == "␣the"
    assert readable("Ċ", True) == "↵"
    assert readable("ĠcafÃ©", True) == "␣café"
    assert readable("Ã", True) == "<0xC3>"  # half of a character
    assert readable("▁the", False) == "␣the"
    assert readable("##ing", False) == "##ing"
    assert readable("<0x0A>", False) == "<0x0A>"


def edit_config(folder, **changes):
    config = json.loads((folder / "config.json").read_text())
    config.update(changes)
    (folder / "config.json").write_text(json.dumps(config))


REFUSED = [
    ("llama", {"quantization_config": {"quant_method": "gptq"}}, "quantised weights (gptq)"),
    ("llama", {"rope_parameters": {"rope_type": "yarn", "factor": 4.0, "rope_theta": 1e4}},
     "rope_scaling type 'yarn' is not supported"),
    ("llama", {"rope_parameters": {"rope_type": "dynamic", "factor": 2.0, "rope_theta": 1e4}},
     "rope_scaling type 'dynamic'"),
    ("llama", {"num_local_experts": 8}, "mixture-of-experts"),
    ("llama", {"model_type": "mixtral"}, "mixture-of-experts layers is not supported"),
    ("llama", {"model_type": "bloom"}, "ALiBi"),
    ("llama", {"vision_config": {}}, "multimodal"),
    ("llama", {"hidden_act": "gelu"}, "hidden_act 'gelu'"),
    ("llama", {"num_hidden_layers": 3}, "says 3 layers, the weights hold 2"),
    ("llama", {"partial_rotary_factor": 0.5}, "partial rotary"),
    ("gpt2", {"scale_attn_by_inverse_layer_idx": True}, "scale_attn_by_inverse_layer_idx"),
    ("gpt2", {"activation_function": "silu"}, "activation_function 'silu'"),
    ("gpt2", {"vocab_size": 999}, "vocab_size 999"),
    ("bert", {"position_embedding_type": "relative_key"}, "relative_key"),
]


@pytest.mark.parametrize("family, change, reason", REFUSED,
                         ids=[f"{f}-{next(iter(c))}" for f, c, _ in REFUSED])
def test_what_cannot_be_computed_exactly_is_refused_with_the_reason(folders, family, change,
                                                                    reason, tmp_path, capsys):
    folder = tmp_path / family
    folder.mkdir()
    for file in folders[family][0].iterdir():
        (folder / file.name).write_bytes(file.read_bytes())
    edit_config(folder, **change)
    with pytest.raises(CheckpointError, match=reason.replace("(", r"\(").replace(")", r"\)")):
        load_folder(folder)
    code = main(["trace", "--weights", str(folder), "--input", "hi", "-o",
                 str(tmp_path / "t.npz")])
    err = capsys.readouterr().err
    assert code == 2 and reason in err and err.count("\n") == 1


def test_unknown_tensors_and_missing_tokenizers_are_refused(folders, tmp_path, capsys):
    from safetensors.torch import load_file, save_file

    folder = tmp_path / "m"
    folder.mkdir()
    for file in folders["gpt2"][0].iterdir():
        (folder / file.name).write_bytes(file.read_bytes())
    tensors = load_file(folder / "model.safetensors")
    save_file({**tensors, "transformer.h.0.attn.alibi": torch.zeros(2)},
              folder / "model.safetensors")
    with pytest.raises(CheckpointError, match="unexpected tensor 'transformer.h.0.attn.alibi'"):
        load_folder(folder)
    save_file(tensors, folder / "model.safetensors")
    for file in ("tokenizer.json", "tokenizer_config.json"):
        (folder / file).unlink()
    with pytest.raises(CheckpointError, match="no tokenizer"):
        load_folder(folder)


@pytest.mark.parametrize("text, reason", [
    ("   ", "the input is empty"),
    ("fox " * 70, "this model takes at most 64"),
])
def test_bad_input_says_why_in_one_line(folders, text, reason, tmp_path, capsys):
    code = main(["trace", "--weights", str(folders["gpt2"][0]), "--input", text, "-o",
                 str(tmp_path / "t.npz")])
    err = capsys.readouterr().err
    assert code == 2 and reason in err and err.count("\n") == 1


def test_generate_is_only_for_causal_models_and_counts_against_the_limit(folders, tmp_path,
                                                                          capsys):
    out = str(tmp_path / "t.npz")
    assert main(["trace", "--weights", str(folders["bert"][0]), "--input", "a [MASK]",
                 "--generate", "3", "-o", out]) == 2
    assert "causal language model" in capsys.readouterr().err
    assert main(["trace", "--weights", str(folders["gpt2"][0]), "--input", "fox " * 30,
                 "--generate", "40", "-o", out]) == 2
    assert "plus 40 to generate" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exited:  # argparse's own check of the number
        main(["trace", "--weights", str(folders["gpt2"][0]), "--input", "fox",
              "--generate", "1000", "-o", out])
    assert exited.value.code == 2 and "at most 200" in capsys.readouterr().err


@pytest.mark.parametrize("family, dropped", [
    ("gpt2", "transformer.h.1.attn.c_attn.weight"),
    ("llama", "model.layers.1.self_attn.q_proj.weight"),
    ("qwen2", "model.layers.0.mlp.down_proj.weight"),
    ("bert", "bert.encoder.layer.1.attention.self.query.weight")])
def test_a_missing_tensor_is_named_as_the_folder_names_it(folders, family, dropped, tmp_path):
    """Not by the app's own name (GPT-2's fused c_attn is our q, k and v: said once)."""
    import shutil

    from safetensors.torch import load_file, save_file

    folder = tmp_path / family
    shutil.copytree(folders[family][0], folder)
    tensors = load_file(folder / "model.safetensors")
    key = next(k for k in tensors if k.endswith(dropped.split(".", 1)[1]) and
               k.split(".")[0] in dropped)
    del tensors[key]
    save_file(tensors, folder / "model.safetensors", metadata={"format": "pt"})
    with pytest.raises(CheckpointError) as error:
        load_folder(folder)
    message = str(error.value)
    assert f"missing: {key})" in message, message
