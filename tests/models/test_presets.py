"""Shipped weights: they load, reproduce recorded outputs, and meet the bar on held-out data."""
import json

import numpy as np
import pytest
import torch

from models.checkpoints.ours import read_checkpoint
from models.evaluate import BARS, evaluate
from models.presets import PRESETS
from models.session import load_preset
from models.tasks.digits import load_heldout, mouse_digits
from models.train import train

from .record_outputs import OUT, preset_input


@pytest.fixture(scope="module")
def recorded():
    return json.loads(OUT.read_text())


@pytest.mark.parametrize("name", list(PRESETS))
def test_shipped_weights_reproduce_the_recorded_output(name, recorded):
    preset = PRESETS[name]
    assert preset.weights.stat().st_size < 5_000_000
    _, meta = read_checkpoint(preset.weights)
    assert meta["preset"] == name and meta["config"]
    result = load_preset(name).run(preset_input(name))
    assert result.meta["prediction"] == recorded[name]["prediction"]
    np.testing.assert_allclose(result["prediction/probs"], recorded[name]["probs"], atol=1e-5)


@pytest.mark.parametrize("name, limit", [("translate", 150), ("reverse", 150),
                                         ("vit-digits", None), ("swin-digits", None)])
def test_a_heldout_slice_meets_the_bar(name, limit):
    figures = evaluate(load_preset(name), limit=limit)
    for key, bar in BARS[PRESETS[name].task].items():
        assert figures[key] >= bar, (key, figures)


def test_translation_reports_unknown_words_and_translates_the_rest():
    session = load_preset("translate")
    result = session.run("the purple cat sleeps")
    assert result.meta["unknown"] == ["purple"]
    assert result.meta["source_tokens"][1] == "purple"
    assert "chat" in result.meta["prediction"] and "dort" in result.meta["prediction"]


def test_training_a_few_steps_lowers_the_loss():
    from models.evaluate import text_pairs

    pairs = text_pairs("reverse", heldout=True)[:64]  # tiny data: 64 pairs
    _, losses = train("reverse", steps=40, batch=32, pairs=pairs, quiet=True)
    assert np.mean(losses[-5:]) < np.mean(losses[:5]) - 0.3
    images, labels, _ = load_heldout()
    torch.manual_seed(0)
    _, losses = train("vit-digits", steps=40, batch=32, images=(images[:64], labels[:64]),
                      quiet=True)
    assert np.mean(losses[-5:]) < np.mean(losses[:5])


@pytest.mark.parametrize("name", ["vit-digits", "swin-digits"])
def test_digits_drawn_with_a_mouse_are_recognised(name):
    """40 hand-made digits × 4 pens (light on dark, dark on light; thin, thick), each through
    the same path as a drawing on the canvas: session.run(uint8 array)."""
    session = load_preset(name)
    images, labels = mouse_digits()
    hits = [session.run(image, trace=False).meta["prediction"] == str(label)
            for image, label in zip(images, labels)]
    assert len(hits) >= 30 and np.mean(hits) >= BARS["digits"]["mouse_accuracy"]
