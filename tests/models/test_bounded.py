"""Sizes and words the models must not take silently (issue 22)."""
import pytest

from models.errors import CheckpointError
from models.presets import PRESETS
from models.session import build_model, load_preset
from models.tasks.text import split_words


def test_non_latin_words_are_unknown_words_not_dropped():
    assert split_words("The 猫 sleeps, café!") == ["the", "猫", "sleeps", "café"]
    session = load_preset("translate")
    meta = session.run("the 猫 sleeps").meta
    assert meta["unknown"] == ["猫"]
    assert meta["source_tokens"] == ["the", "猫", "sleeps", "<eos>"]
    assert meta["outside"] and "猫" in meta["outside"]
    unk = session.src_vocab.index["<unk>"]
    assert session.run("the 猫 sleeps")["input/ids"].tolist()[1] == unk


@pytest.mark.parametrize("preset, change", [
    ("vit-digits", {"depth": 100_000}),
    ("swin-digits", {"depths": [2, 2, 100_000]}),
    ("translate", {"enc_layers": 100_000}),
])
def test_the_layers_a_config_asks_for_are_the_layers_the_weights_hold(preset, change):
    tensors = build_model(PRESETS[preset]).state_dict()
    with pytest.raises(CheckpointError, match=r"100000\]?, the weights hold"):
        build_model(PRESETS[preset], {**PRESETS[preset].config, **change}, "w", tensors)


@pytest.mark.parametrize("key, value", [("img_size", 100_000), ("max_len", 100_000)])
def test_sizes_no_weight_bounds_are_bounded(key, value):
    preset = "swin-digits" if key == "img_size" else "reverse"
    tensors = build_model(PRESETS[preset]).state_dict()
    with pytest.raises(CheckpointError, match=f"'{key}' must be a whole number from 1 to"):
        build_model(PRESETS[preset], {**PRESETS[preset].config, key: value}, "w", tensors)
