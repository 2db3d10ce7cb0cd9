"""Data generators, tokenisation and image conversion."""
import random

import numpy as np
import pytest
import torch
from PIL import Image

from models.errors import InputError
from models.tasks import reverse, translation
from models.tasks.digits import FIT, augment, load_heldout, mouse_digits, open_image, prepare_digit


def test_generators_are_deterministic_for_a_seed():
    a = [translation.sample_pair(random.Random(5)) for _ in range(3)]
    b = [translation.sample_pair(random.Random(5)) for _ in range(3)]
    assert a == b
    assert reverse.make_split(3, 50, 10) == reverse.make_split(3, 50, 10)
    assert translation.make_split(3, 50, 10) != translation.make_split(4, 50, 10)


@pytest.fixture(scope="module")
def generated():
    rng = random.Random(0)
    return [translation.sample_balanced(rng) for _ in range(3000)]


def test_translation_grammar_meets_the_brief(generated):
    assert len(translation.source_words()) >= 150
    lengths = [len(p.source) for p in generated]
    assert min(lengths) == 1 and max(lengths) == 24
    for low, high in translation.LENGTH_BUCKETS:  # long sentences are as common as short
        assert sum(low <= n <= high for n in lengths) > len(generated) / 4
    for p in generated:
        assert len(p.alignment) == len(p.target)
        assert all(0 <= i < len(p.source) for a in p.alignment for i in a)
    # reordering: the verb is the last target word (or before "pas") but not the last source word
    crossing = sum(any(a[0] > b[0] for a, b in zip(p.alignment, p.alignment[1:]))
                   for p in generated)
    assert crossing > len(generated) // 2
    assert any(len(a) > 1 for p in generated for a in p.alignment)  # devant, ne
    assert any("pas" in p.target for p in generated)  # "not" -> ne ... pas
    # the new constructions occur: plurals, two adjectives, "and" in both roles, adverbs
    assert any("les" in p.target for p in generated)
    assert any("et" in p.target for p in generated)
    assert any(set(p.source) & set(translation.ADVERBS) for p in generated)


def test_agreement_in_gender_and_number(generated):
    for p in generated:
        for word, aligned in zip(p.target, p.alignment):
            if p.source[aligned[0]] == "the" and len(aligned) == 1:
                assert word in ("le", "la", "les")
    cases = {"the cats sleep": "les chats dorment",
             "the cat sleeps": "le chat dort",
             "the small girls do not sing": "les filles petites ne chantent pas",
             "the cat and the dog eat an apple": "le chat et le chien une pomme mangent",
             "two old women see the big black horse":
                 "deux femmes vieilles le cheval grand noir voient",
             "the boy sleeps and the girls run quickly":
                 "le garcon dort et les filles vite courent",
             "the mice in front of the house do not eat the cake":
                 "les souris devant la maison le gateau ne mangent pas",
             "cats": "chats", "the old house": "la maison vieille"}
    for english, french in cases.items():
        assert " ".join(translation.reference_translation(english.split()).translation) \
            == french, english


def test_reference_translator_agrees_with_the_generators_gold(generated):
    """The parser reads every generated sentence back, exactly one way, and lays it out to
    the generator's own target and alignment."""
    for p in generated:
        ref = translation.reference_translation(p.source)
        assert ref.outside is None, (p.source, ref.outside)
        assert ref.translation == p.target and ref.alignment == p.alignment


@pytest.mark.parametrize("sentence, reason", [
    ("the purple cat sleeps", "unknown word: 'purple'"),
    ("the cats sleeps", "'sleeps' does not agree with its plural subject"),
    ("the cat does not sleeps", "after 'not' the verb is written 'sleep'"),
    ("a cats sleep", "'a' does not go with the plural 'cats'"),
    ("a old tree falls", "write 'an' before 'old'"),
    ("the cat sees", "stops too early"),
    ("the cat sees the dog and the bird and the cow runs", "'and' cannot follow 'bird' (word 9)"),
    ("the small big old cat sleeps", "'old' cannot follow 'big'"),
    ("the two old cats sleep", "'two' cannot follow 'the' (word 2)"),
    (" ".join(["the cat sees the dog"] * 5), "25 words: longer than any training sentence"),
])
def test_reference_translator_says_why_a_sentence_is_outside(sentence, reason):
    ref = translation.reference_translation(sentence.split())
    assert ref.translation is None and reason in ref.outside


def test_heldout_translation_sentences_are_not_in_training():
    train, held = translation.make_split(7, 2000, 200)
    seen = {" ".join(p.source) for p in train}
    assert not any(" ".join(p.source) in seen for p in held)


def test_reverse_pairs():
    train, held = reverse.make_split(0, 100, 10)
    assert all(t == s[::-1] for s, t in train + held)


def test_augment_keeps_shape_and_range():
    images, _, _ = load_heldout()
    out = augment(torch.from_numpy(images[:16])[:, None], torch.Generator().manual_seed(0))
    assert out.shape == (16, 1, 32, 32)
    assert float(out.min()) >= 0 and float(out.max()) <= 1.0 + 1e-6


def save(image, tmp_path, name):
    path = tmp_path / name
    image.save(path)
    return path


def test_a_drawn_digit_reaches_the_model_at_full_resolution():
    """No 8×8 step on the way: a thin stroke drawn on a 192-px canvas arrives as a thin
    stroke, not as 4×4 blocks of one value."""
    images, labels = mouse_digits()
    prepared, notes = prepare_digit(images[labels.tolist().index(7)])
    assert prepared.shape == (32, 32) and not notes["blank"]
    blocks = prepared.reshape(8, 4, 8, 4).transpose(0, 2, 1, 3).reshape(64, 16)
    inked = blocks.max(1) > 0.3
    # most inked 4×4 patches hold more than one level (they would be flat after 8×8)
    assert (blocks[inked].std(1) > 0.05).mean() > 0.8
    # an independent framing: crop the ink box by hand and scale it to FIT with PIL
    ink = images[labels.tolist().index(7)].astype(np.float32) / 255
    ys, xs = np.nonzero(ink > 0.2)
    crop = Image.fromarray(ink[ys.min(): ys.max() + 1, xs.min(): xs.max() + 1])
    h, w = ys.max() + 1 - ys.min(), xs.max() + 1 - xs.min()
    size = (round(w * FIT / max(h, w)), round(h * FIT / max(h, w)))
    small = np.asarray(crop.resize(size, Image.Resampling.BOX))
    top, left = (32 - size[1]) // 2, (32 - size[0]) // 2
    np.testing.assert_allclose(prepared[top: top + size[1], left: left + size[0]],
                               small / small.max(), atol=1e-5)


def test_dark_on_light_and_light_on_dark_give_the_same_input():
    images, _ = mouse_digits()  # pens: light 6 px, light 22 px, dark 8 px, dark 28 px
    light, dark = images[0], 255 - images[0]
    np.testing.assert_allclose(prepare_digit(light)[0], prepare_digit(dark)[0], atol=1e-6)


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
