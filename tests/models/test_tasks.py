"""Data generators, tokenisation and image conversion."""
import random

import numpy as np
import pytest
import torch
from PIL import Image

from models.tasks import reverse, translation
from models.tasks.digits import augment, load_heldout, open_image, prepare_digit, scans_to_input
from models.tasks.text import InputError


def test_generators_are_deterministic_for_a_seed():
    a = [translation.sample_pair(random.Random(5)) for _ in range(3)]
    b = [translation.sample_pair(random.Random(5)) for _ in range(3)]
    assert a == b
    assert reverse.make_split(3, 50, 10) == reverse.make_split(3, 50, 10)
    assert translation.make_split(3, 50, 10) != translation.make_split(4, 50, 10)


def test_translation_grammar_meets_the_brief():
    rng = random.Random(0)
    pairs = [translation.sample_pair(rng) for _ in range(3000)]
    assert len(translation.source_words()) >= 40 and len(translation.target_words()) >= 40
    assert all(3 <= len(p.source) <= 12 for p in pairs)
    assert min(len(p.source) for p in pairs) == 3 and max(len(p.source) for p in pairs) == 12
    for p in pairs:
        assert len(p.alignment) == len(p.target)
        assert all(0 <= i < len(p.source) for a in p.alignment for i in a)
    # reordering: the verb is the last target word (or before "pas") but not the last source word
    crossing = sum(any(a[0] > b[0] for a, b in zip(p.alignment, p.alignment[1:])) for p in pairs)
    assert crossing > len(pairs) // 2
    many_to_one = [a for p in pairs for a in p.alignment if len(a) > 1]  # devant, ne
    assert many_to_one
    one_to_many = [p for p in pairs if "pas" in p.target]  # "not" -> ne ... pas
    assert one_to_many


def test_gender_agreement_and_example():
    rng = random.Random(1)
    for _ in range(500):
        p = translation.sample_pair(rng)
        for word, aligned in zip(p.target, p.alignment):
            if p.source[aligned[0]] == "the" and len(aligned) == 1:
                assert word in ("le", "la")


def test_heldout_translation_sentences_are_not_in_training():
    train, held = translation.make_split(7, 2000, 200)
    seen = {" ".join(p.source) for p in train}
    assert not any(" ".join(p.source) in seen for p in held)


def test_reverse_pairs():
    train, held = reverse.make_split(0, 100, 10)
    assert all(t == s[::-1] for s, t in train + held)


def test_augment_keeps_shape_and_range():
    images, _ = load_heldout()
    out = augment(torch.from_numpy(images[:16]), torch.Generator().manual_seed(0))
    assert out.shape == (16, 1, 32, 32)
    assert float(out.min()) >= 0 and float(out.max()) <= 1.0 + 1e-6


def save(image, tmp_path, name):
    path = tmp_path / name
    image.save(path)
    return path


def test_prepared_scan_round_trips_through_the_bottleneck():
    images, _ = load_heldout()
    expected = scans_to_input(torch.from_numpy(images[:1]))[0, 0].numpy()
    array = (images[0] * 255).astype(np.uint8)  # white ink on black, 8x8
    prepared, notes = prepare_digit(array)
    assert prepared.shape == (32, 32) and not notes["inverted"]
    # the same digit, cropped and rescaled: strongly correlated with the scan itself
    assert np.corrcoef(prepared.ravel(), expected.ravel())[0, 1] > 0.6


@pytest.mark.parametrize("mode", ["L", "RGB", "RGBA", "P", "I;16", "I", "F", "1", "LA"])
def test_any_mode_converts(mode, tmp_path):
    base = Image.new("L", (70, 90), 255)
    for x in range(20, 50):
        base.putpixel((x, 45), 0)
        base.putpixel((x, 46), 0)
    image = base.convert(mode) if mode not in ("I;16",) else Image.fromarray(
        np.asarray(base, dtype=np.uint16) * 257)
    prepared, notes = prepare_digit(image)
    assert prepared.shape == (32, 32) and prepared.dtype == np.float32
    assert notes["inverted"] and not notes["blank"]  # dark ink on light paper
    assert 0 <= prepared.min() and prepared.max() <= 1.0 + 1e-6 and prepared.max() > 0.5


def test_transparent_strokes_use_a_contrasting_background():
    image = Image.new("RGBA", (40, 40), (0, 0, 0, 0))
    for y in range(5, 35):
        image.putpixel((20, y), (255, 255, 255, 255))  # white ink on transparency
    prepared, notes = prepare_digit(image)
    assert "black" in notes["conversion"] and prepared.max() > 0.5


def test_blank_huge_corrupt_and_odd_inputs(tmp_path):
    prepared, notes = prepare_digit(Image.new("L", (50, 50), 255))
    assert notes["blank"] and prepared.max() == 0
    with pytest.raises(InputError, match="not a readable image"):
        open_image(save_bytes(tmp_path / "x.png", b"garbage"))
    with pytest.raises(InputError, match="no such image"):
        open_image(tmp_path / "missing.png")
    with pytest.raises(InputError, match="must be 2-D"):
        open_image(np.zeros((2, 2, 2, 2)))
    wide, _ = prepare_digit(Image.new("RGB", (3000, 7), (0, 0, 0)))  # odd aspect, all ink
    assert wide.shape == (32, 32)
    prepared, _ = prepare_digit(np.ones((1, 1)))
    assert prepared.shape == (32, 32)


def test_decompression_bomb_is_refused(tmp_path, monkeypatch):
    import models.tasks.digits as digits

    path = save(Image.new("L", (400, 400), 0), tmp_path, "big.png")
    monkeypatch.setattr(digits, "MAX_PIXELS", 1000)
    with pytest.raises(InputError, match="too large"):
        open_image(path)


def save_bytes(path, data):
    path.write_bytes(data)
    return path



def test_an_image_over_the_pixel_limit_is_refused_from_its_header(tmp_path, monkeypatch):
    """9,999 × 9,999 (a small file: one bit per pixel) is refused before decoding."""
    from PIL import Image

    from models.tasks import digits

    path = tmp_path / "huge.png"
    Image.new("1", (9999, 9999)).save(path)
    decoded = []
    real_load = Image.Image.load
    monkeypatch.setattr(Image.Image, "load", lambda self: decoded.append(1) or real_load(self))
    with pytest.raises(InputError, match="huge.png is too large"):
        digits.prepare_digit(str(path))
    assert decoded == []


def test_a_large_photo_is_scaled_down_before_conversion(tmp_path):
    from PIL import Image, ImageDraw

    from models.tasks import digits

    image = Image.new("L", (4000, 3000), 255)
    ImageDraw.Draw(image).line([(2000, 500), (2000, 2500)], fill=0, width=200)
    path = tmp_path / "photo.png"
    image.save(path)
    x, notes = digits.prepare_digit(str(path))
    assert notes["original_size"] == [4000, 3000] and notes["inverted"]
    assert x.shape == (32, 32) and x.max() > 0.5
