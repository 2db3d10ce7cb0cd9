"""The induction task (models/tasks/induction.py) and the shipped induction model: on fresh
random sequences its layer-0 head looks at the previous token, its layer-1 head at the token
after the current one's earlier occurrence, and copying needs both."""
import random

import numpy as np
import pytest
import torch

from models.checkpoints.ours import read_checkpoint
from models.decoder import Decoder, DecoderConfig
from models.errors import InputError
from models.evaluate import INDUCTION_BARS, induction_figures
from models.resources import resource_path
from models.session import load_preset
from models.tasks import induction
from models.trace import recording

WEIGHTS = resource_path("weights/induction.safetensors")


def test_the_vocabulary_is_300_everyday_words():
    words = induction.words()
    assert len(words) == len(set(words)) == 300
    assert all(w.isalpha() and w.islower() for w in words)
    vocab = induction.vocabulary()
    assert vocab.words[:4] == ["<pad>", "<bos>", "<eos>", "<unk>"]
    assert vocab.words[4:] == sorted(words)


def test_sequences_follow_the_documented_distribution():
    for e in induction.examples(3, 2000):
        n, s, a, b = len(e.words), e.length, e.first, e.repeat
        assert induction.MIN_WORDS <= n <= induction.MAX_WORDS
        assert induction.MIN_SEGMENT <= s <= min(induction.MAX_SEGMENT, n // 2)
        assert 0 <= a and a + s <= b and b + s <= n
        assert e.words[a:a + s] == e.words[b:b + s]
        rest = e.words[:b] + e.words[b + s:]  # every word once, the repeat aside
        assert len(set(rest)) == len(rest) == n - s
        assert e.ids()[0] == induction.BOS and len(e.ids()) == n + 1


def test_sequences_are_reproducible_and_the_heldout_set_is_another_stream():
    assert induction.examples(5, 50) == induction.examples(5, 50)
    assert induction.examples(5, 50) != induction.examples(6, 50)
    stream = induction.stream()
    train = {next(stream).words for _ in range(2000)}
    assert not train & {e.words for e in induction.heldout(200)}


@pytest.fixture(scope="module")
def shipped():
    tensors, meta = read_checkpoint(WEIGHTS)
    model = Decoder(DecoderConfig(**meta["config"])).eval()
    model.load_state_dict(tensors)
    return model


def fresh(count: int) -> list[induction.Example]:
    """Neither the training stream nor the held-out set: another seed."""
    rng = random.Random(20260419)
    return [induction.sample(rng) for _ in range(count)]


def traced_scores(model, examples):
    """Per layer and head, from the recorded trace (one sequence at a time, the app's path):
    the mean weight on the previous token and, from each repeated token, on the token after
    its first occurrence; and the greedy next-token hits on the repeat and first occurrence."""
    previous, induct, hits = [], [], {"repeat": [], "first": []}
    for e in examples:
        ids = torch.tensor([e.ids()])
        with torch.no_grad(), recording() as trace:
            best = model(ids)[0].argmax(-1)
        w = [trace[f"layers.{i}.attn/weights"] for i in range(2)]  # (H, N, N)
        n = ids.shape[1]
        previous.append([[w[i][h, t, t - 1] for t in range(1, n)] for i in range(2)
                         for h in range(len(w[i]))])
        induct.append([[w[i][h, e.repeat + j + 1, e.first + j + 2] for j in range(e.length)]
                       for i in range(2) for h in range(len(w[i]))])
        for part, start in (("repeat", e.repeat), ("first", e.first)):
            hits[part] += [int(best[start + j + 1]) == e.ids()[start + j + 2]
                           for j in range(e.length - 1)]
    heads = model.cfg.num_heads
    mean = lambda rows: np.array([np.mean(np.concatenate([r[k] for r in rows]))  # noqa: E731
                                  for k in range(2 * heads)]).reshape(2, heads)
    return mean(previous), mean(induct), {k: np.mean(v) for k, v in hits.items()}


@pytest.fixture(scope="module")
def measured(shipped):
    examples = fresh(150)
    return traced_scores(shipped, examples), induction_figures(shipped, examples)


def test_the_shipped_model_grew_a_previous_token_head_and_an_induction_head(measured):
    (previous, induct, hits), _ = measured
    assert previous[0].max() >= INDUCTION_BARS["previous_token_score"]
    assert induct[1].max() >= INDUCTION_BARS["induction_score"]
    assert hits["repeat"] >= INDUCTION_BARS["repeat_accuracy"]
    assert hits["first"] < 0.03  # chance: 1/300; the words of a first occurrence are random


def test_eval_figures_agree_with_the_trace_and_both_heads_are_needed(measured):
    (previous, induct, hits), figures = measured
    assert np.allclose(figures["previous_token"], previous, atol=1e-4)
    assert np.allclose(figures["induction"], induct, atol=1e-4)
    assert figures["repeat_accuracy"] == pytest.approx(hits["repeat"])
    assert figures["previous_token_head"] == f"layers.0.attn head {previous[0].argmax()}"
    assert figures["induction_head"] == f"layers.1.attn head {induct[1].argmax()}"
    assert figures["passes"]
    # without the previous-token head the repeat is no longer copied: near chance (1/300)
    assert figures["repeat_accuracy_without_previous_token_head"] < 0.03
    # nor without the induction heads of layer 1 (one alone has a stand-in: the other)
    assert figures["induction_head"] in figures["induction_heads"]
    assert figures["repeat_accuracy_without_induction_heads"] < 0.03


def test_the_preset_reads_words_and_copies_the_repeat_through_the_language_model_path():
    session = load_preset("induction")
    words = induction.SAMPLE.split()  # six words, four others, the six again
    trace = session.run(induction.SAMPLE)
    meta = trace.meta
    assert meta["task"] == "causal-lm" and meta["tokens"] == ["<bos>"] + words
    assert meta["vocabulary"] == induction.vocabulary().words
    assert meta["vocabulary_file"] == "resources/data/induction_words.txt"
    ids = trace["input/ids"].tolist()
    assert ids == induction.vocabulary().encode(["<bos>"] + words)
    best = trace["prediction/probs"].argmax(-1)  # row i: the word after token i
    # in the repeat (tokens 11-16) each next word is the one that followed it the first time
    assert [induction.vocabulary().words[i] for i in best[11:16]] == words[1:6]
    assert meta["prediction"] == "big"  # after the last "tree" came "big"
    session.generate = 4
    assert session.run(" ".join(words[:13])).meta["prediction"] == "park green tree big"


def test_without_the_previous_token_head_the_preset_no_longer_copies():
    session = load_preset("induction")
    figures = induction_figures(session.model, fresh(60))
    head = int(figures["previous_token_head"].split()[-1])
    session.set_interventions(heads_off=[["layers.0.attn", head]])
    probs = session.run(induction.SAMPLE)["prediction/probs"]
    assert probs[11:16].max() < 0.05  # no word stands out: the model has nothing to copy


def test_a_word_outside_the_vocabulary_is_refused_with_where_the_list_is():
    session = load_preset("induction")
    with pytest.raises(InputError, match="zebra.*induction_words.txt"):
        session.run("happy zebra dog")
    with pytest.raises(InputError, match="empty"):
        session.run("   ")


def test_presets_and_eval_name_the_vocabulary_and_print_the_figures(capsys):
    from main import main

    assert main(["presets"]) == 0
    assert "resources/data/induction_words.txt" in capsys.readouterr().out
    assert main(["eval", "--preset", "induction", "--limit", "200"]) == 0
    out = capsys.readouterr().out
    for figure in ("repeat_accuracy", "induction_score", "previous_token_score",
                   "first occurrence", "without the previous-token head", "passes"):
        assert figure in out
