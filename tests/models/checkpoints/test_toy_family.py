"""Adding a format family takes one reader module and one table entry (issue 27): a made-up
decoder-only model_type, "toy-decoder" (toy_family.py, its own tensor names), registered at
run time, opens in the app, every panel draws it, and its probabilities equal a plain torch
forward pass of the same weights written here. No other file knows the family."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from models.checkpoints import registry
from models.errors import CheckpointError
from models.presets import PRESETS

from . import toy_family

tokenizers = pytest.importorskip("tokenizers")

CORPUS = ["the cat sat on the mat and the dog sat on the log",
          "a small model reads a short text one token at a time",
          "every panel shows what the model computed for this input"] * 8
TEXT = "the cat reads a short text"
SIZES = dict(width=24, heads=3, depth=2, ffn=40, context=128)


def toy_tokenizer():
    """Byte-level BPE trained here, with an end token."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(CORPUS, trainers.BpeTrainer(
        vocab_size=290, special_tokens=["<|end|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False))
    return tok


def toy_weights(vocab: int, seed: int = 7) -> dict[str, torch.Tensor]:
    """Random weights under the toy family's own names (none of GPT-2's or Llama's)."""
    g = torch.Generator().manual_seed(seed)
    d, f = SIZES["width"], SIZES["ffn"]

    def randn(*shape, scale=0.3):
        return torch.randn(*shape, generator=g) * scale

    tensors = {"tok_emb.weight": randn(vocab, d, scale=1.0),
               "pos_emb.weight": randn(SIZES["context"], d, scale=0.5),
               "ln_out.weight": 1 + randn(d, scale=0.1), "ln_out.bias": randn(d, scale=0.1),
               "unembed.weight": randn(vocab, d)}
    for i in range(SIZES["depth"]):
        b = f"blocks.{i}."
        tensors.update({
            b + "ln_a.weight": 1 + randn(d, scale=0.1), b + "ln_a.bias": randn(d, scale=0.1),
            b + "mix.qkv.weight": randn(3 * d, d), b + "mix.qkv.bias": randn(3 * d, scale=0.1),
            b + "mix.out.weight": randn(d, d), b + "mix.out.bias": randn(d, scale=0.1),
            b + "ln_b.weight": 1 + randn(d, scale=0.1), b + "ln_b.bias": randn(d, scale=0.1),
            b + "ff.up.weight": randn(f, d), b + "ff.up.bias": randn(f, scale=0.1),
            b + "ff.down.weight": randn(d, f), b + "ff.down.bias": randn(d, scale=0.1)})
    return tensors


def plain_forward(w: dict[str, torch.Tensor], ids: list[int]) -> np.ndarray:
    """The toy model's next-token probabilities [N, V], written out with torch functions:
    pre-norm blocks, causal softmax attention over d/heads dimensions per head, ReLU MLP."""
    d, heads = SIZES["width"], SIZES["heads"]
    dh, n = d // heads, len(ids)
    x = w["tok_emb.weight"][ids] + w["pos_emb.weight"][:n]
    causal = torch.ones(n, n).tril().bool()
    for i in range(SIZES["depth"]):
        b = f"blocks.{i}."
        h = F.layer_norm(x, (d,), w[b + "ln_a.weight"], w[b + "ln_a.bias"], 1e-5)
        qkv = h @ w[b + "mix.qkv.weight"].T + w[b + "mix.qkv.bias"]
        q, k, v = (t.reshape(n, heads, dh).transpose(0, 1) for t in qkv.split(d, -1))
        scores = (q @ k.transpose(1, 2) / math.sqrt(dh)).masked_fill(~causal, float("-inf"))
        mixed = (scores.softmax(-1) @ v).transpose(0, 1).reshape(n, d)
        x = x + mixed @ w[b + "mix.out.weight"].T + w[b + "mix.out.bias"]
        h = F.layer_norm(x, (d,), w[b + "ln_b.weight"], w[b + "ln_b.bias"], 1e-5)
        up = torch.relu(h @ w[b + "ff.up.weight"].T + w[b + "ff.up.bias"])
        x = x + up @ w[b + "ff.down.weight"].T + w[b + "ff.down.bias"]
    x = F.layer_norm(x, (d,), w["ln_out.weight"], w["ln_out.bias"], 1e-5)
    return (x @ w["unembed.weight"].T).softmax(-1).double().numpy()


@pytest.fixture(scope="module")
def toy_folder(tmp_path_factory):
    from safetensors.torch import save_file

    folder = tmp_path_factory.mktemp("toy") / "tiny-toy"
    folder.mkdir()
    tok = toy_tokenizer()
    tok.save(str(folder / "tokenizer.json"))
    vocab = tok.get_vocab_size()
    (folder / "config.json").write_text(json.dumps(
        {"model_type": toy_family.MODEL_TYPE, "vocab": vocab, "eos_id": tok.token_to_id(
            "<|end|>"), **SIZES}))
    weights = toy_weights(vocab)
    save_file({k: v.contiguous() for k, v in weights.items()}, str(folder / "model.safetensors"))
    yield folder, weights, tok
    PRESETS.pop(folder.name, None)


@pytest.fixture
def registered(monkeypatch):
    """The toy family's one table entry, for this test only."""
    monkeypatch.setattr(registry, "FAMILIES", dict(registry.FAMILIES))
    registry.register(toy_family.MODEL_TYPE, toy_family.FAMILY)


def test_unregistered_the_family_is_refused_with_the_list_it_is_not_in(toy_folder):
    folder, _, _ = toy_folder
    with pytest.raises(CheckpointError) as refused:
        registry.read_model(folder)
    assert str(refused.value) == (
        'tiny-toy: model_type "toy-decoder" cannot be opened (only vit, deit, swin, marian, '
        'gpt2, llama, mistral, qwen2, qwen3, phi3, gemma3_text and bert are, and timm '
        'folders)')


def test_registered_it_is_in_every_list_of_families(registered, toy_folder):
    assert registry.supported() == ("only vit, deit, swin, marian, gpt2, llama, mistral, "
                                    "qwen2, qwen3, phi3, gemma3_text, bert and toy-decoder "
                                    "are, and timm folders")
    assert registry.titles("causal-lm").endswith(", Toy decoder")
    opened = registry.read_model(toy_folder[0])
    assert (opened.arch, opened.family, opened.task) == ("decoder", "toy-decoder", "causal-lm")
    assert not any(k.startswith(("transformer.", "model.", "h.")) for k in toy_weights(300))


def test_a_toy_folder_opens_in_the_app_and_every_panel_draws_it(registered, toy_folder,
                                                                make_explorer):
    from explorer.export import PANEL_NAMES

    folder, weights, tok = toy_folder
    e = make_explorer("vit-digits")
    name = e.open_model(folder)
    assert name == "tiny-toy" and e.preset == name
    e.set_input(TEXT)
    e.wait()
    assert e.error == "" and e.trace.meta["task"] == "causal-lm"
    ids = tok.encode(TEXT).ids  # the tokenizer itself, not the app's reader of it
    assert e.trace["input/ids"].tolist() == ids
    np.testing.assert_allclose(e.trace["prediction/probs"], plain_forward(weights, ids),
                               atol=1e-5)
    e.select(site="layers.1.attn", head=2, query=3)
    for panel in PANEL_NAMES:
        e.show(panel)
        image = e.grab(panel).toImage()
        assert not image.isNull() and image.width() > 100 and image.height() > 100, panel
        step = max(1, min(image.width(), image.height()) // 40)
        colours = {image.pixel(x, y) for x in range(0, image.width(), step)
                   for y in range(0, image.height(), step)}
        assert len(colours) > 4, f"{panel} drew nothing ({len(colours)} colours)"
        assert e.error == "", panel
    assert e.window.panels["tokens"].strip.queries == e.trace.meta["tokens"]
