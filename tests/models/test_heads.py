"""Heads that differ (issue 10): alignment is supervised on one head of the last
cross-attention layer only, so the other heads are free to do something else."""
import numpy as np
import pytest
import torch

from models import trace as tracing
from models.evaluate import SIMILARITY_BAR, SUPERVISED_HEAD, head_figures, text_pairs
from models.session import load_preset
from models.transformer import BOS, EOS


@pytest.fixture(scope="module")
def session():
    return load_preset("translate")


@pytest.fixture(scope="module")
def pairs():
    return text_pairs("translation")[:150]


def test_head_figures_match_a_direct_computation(session, pairs):
    """entropy and cosine similarity recomputed for one sentence, by hand."""
    src_words, tgt_words, gold = pairs[0]
    figures = head_figures(session, [pairs[0]])
    src = torch.tensor([session.src_vocab.encode(src_words) + [EOS]])
    tgt = torch.tensor([[BOS] + session.tgt_vocab.encode(tgt_words)])
    with torch.inference_mode(), tracing.recording() as t:
        session.model(src, tgt)
    w = t["decoder.layers.1.cross_attn/weights"].astype(np.float64)
    entropy = [float(np.mean([-(row * np.log(row + 1e-12)).sum() for row in head])) for head in w]
    np.testing.assert_allclose(figures["decoder.layers.1.cross_attn"]["entropy"], entropy,
                               atol=2e-3)
    a, b = w[0].ravel(), w[1].ravel()
    cos01 = a @ b / np.linalg.norm(a) / np.linalg.norm(b)
    info = figures["decoder.layers.1.cross_attn"]
    assert info["min_similarity"] <= cos01 + 1e-3 and info["mean_similarity"] <= 1
    hits = sum(int(w[SUPERVISED_HEAD, row].argmax()) in sources for row, sources in
               enumerate(gold))
    assert info["alignment"][SUPERVISED_HEAD] == pytest.approx(hits / len(gold), abs=1e-4)


def test_heads_differ_in_every_layer_and_the_supervised_head_aligns(session, pairs):
    figures = head_figures(session, pairs)
    last_cross = "decoder.layers.1.cross_attn"
    assert figures[last_cross]["mean_similarity"] < SIMILARITY_BAR
    assert figures[last_cross]["alignment"][SUPERVISED_HEAD] >= 0.9
    # every layer of every kind has at least one pair of clearly different heads
    for site, info in figures.items():
        assert info["min_similarity"] < 0.7, (site, info)
