"""The seq2seq bottleneck intervention (issue 10, first part): the decoder gets one context
vector instead of attention, checked against a decoder fed that one vector directly."""
import numpy as np
import pytest
import torch

from main import main
from models.errors import InputError
from models.session import load_preset
from models.trace import Trace
from models.transformer import BOS, EOS, PAD

SENTENCE = "the small cat in front of the old house does not see the dog"


@pytest.fixture(scope="module")
def session():
    return load_preset("translate")


def test_bottleneck_equals_a_decoder_given_one_context_vector(session):
    model = session.model
    src = torch.tensor([session.src_vocab.encode(SENTENCE.split()) + [EOS]])
    tgt = torch.tensor([[BOS, 5, 9, 12]])
    with torch.inference_mode():
        memory, _ = model.encode(src)
        context = memory.mean(dim=1, keepdim=True)  # (1, 1, D): the one vector, by hand
        expected = model.generator(model.decoder(tgt, context, None))
        model.bottleneck = True
        try:
            got = model.decode(tgt, memory, None)
        finally:
            model.bottleneck = False
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)


def test_padding_is_left_out_of_the_context(session):
    model = session.model
    ids = session.src_vocab.encode("the cat sleeps".split()) + [EOS]
    padded = torch.tensor([ids + [PAD, PAD]])
    tgt = torch.tensor([[BOS, 7]])
    with torch.inference_mode():
        model.bottleneck = True
        try:
            short = model(torch.tensor([ids]), tgt)
            long = model(padded, tgt)
        finally:
            model.bottleneck = False
    torch.testing.assert_close(short, long, atol=1e-5, rtol=1e-5)


def test_the_trace_records_it_and_cross_attention_is_uniform(session):
    session.set_interventions(bottleneck=True)
    try:
        trace = session.run(SENTENCE)
    finally:
        session.set_interventions()
    assert trace.meta["interventions"] == {"bottleneck": True}
    assert "bottleneck" in trace.meta["notice"]
    weights = trace["decoder.layers.1.cross_attn/weights"]  # (H, T, S)
    np.testing.assert_allclose(weights, 1.0 / weights.shape[-1], atol=1e-5)
    assert session.run(SENTENCE).meta["interventions"] == {}


def test_image_models_refuse_it():
    with pytest.raises(InputError, match="seq2seq"):
        load_preset("vit-digits").set_interventions(bottleneck=True)


def test_interventions_on_the_command_line(tmp_path, capsys):
    out = tmp_path / "t.npz"
    assert main(["trace", "--preset", "translate", "--input", "the cat sleeps",
                 "--intervention", "bottleneck", "--intervention",
                 "head_off=decoder.layers.0.self_attn:1", "-o", str(out)]) == 0
    meta = Trace.load_npz(out).meta
    assert meta["interventions"] == {"bottleneck": True,
                                     "heads_off": [["decoder.layers.0.self_attn", 1]]}
    for bad in ("nope", "head_off=blocks", "bottleneck=3", "head_off=x:y"):
        assert main(["trace", "--preset", "translate", "--input", "the cat", "--intervention",
                     bad, "-o", str(out)]) == 2
    assert main(["eval", "--preset", "translate", "--limit", "40", "--intervention",
                 "bottleneck", "--json"]) == 0
    import json

    figures = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert set(figures["exact_match_by_length"]) == {"1-8", "9-16", "17-24"}


def test_the_bottleneck_hurts_long_sentences_more_than_short_ones(session):
    """The lesson of seq2seq before attention: one vector holds a short sentence, not a
    long one. Exact match by length, with and without, on held-out sentences."""
    from models.evaluate import by_length, exact_hits, text_pairs

    pairs = text_pairs("translation")[:240]
    plain = by_length(pairs, exact_hits(session, pairs))
    session.set_interventions(bottleneck=True)
    try:
        squeezed = by_length(pairs, exact_hits(session, pairs))
    finally:
        session.set_interventions()
    short, long = "1-8", "17-24"
    assert plain[short] >= 0.9 and plain[long] >= 0.9
    assert squeezed[short] > squeezed[long] + 0.3  # short ones survive, long ones collapse
    assert squeezed[long] < plain[long] - 0.5
