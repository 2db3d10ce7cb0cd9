"""OPUS-MT (Marian) translation folders (issue 11): a small random MarianMTModel built and
saved by transformers, with a sentencepiece model trained here as its tokenizer, opened by
our loader: the same logits, the same greedy translation as `generate`."""
import json

import numpy as np
import pytest
import torch

from main import main
from models import trace as tracing
from models.errors import CheckpointError
from models.session import load_folder
from models.trace import Trace

transformers = pytest.importorskip("transformers")
spm = pytest.importorskip("sentencepiece")

CORPUS = ["the small cat sees the big dog", "a bird sings in the old garden",
          "the girls do not sleep", "two happy children play quietly",
          "the king and the queen eat an apple", "le chat petit voit le chien grand",
          "la fille ne dort pas", "les enfants contents jouent doucement"] * 20


@pytest.fixture(scope="module")
def marian(tmp_path_factory):
    folder = tmp_path_factory.mktemp("opus") / "opus-mt-tiny"
    folder.mkdir()
    corpus = folder.parent / "corpus.txt"
    corpus.write_text("\n".join(CORPUS))
    spm.SentencePieceTrainer.train(input=str(corpus), model_prefix=str(folder / "sp"),
                                   vocab_size=50, model_type="unigram", character_coverage=1.0,
                                   bos_id=-1, eos_id=-1, unk_id=0, pad_id=-1)
    for side in ("source", "target"):
        (folder / f"{side}.spm").write_bytes((folder / "sp.model").read_bytes())
    processor = spm.SentencePieceProcessor(model_file=str(folder / "sp.model"))
    pieces = [processor.id_to_piece(i) for i in range(processor.get_piece_size())]
    vocab = {"</s>": 0, **{p: i + 1 for i, p in enumerate(pieces)}}
    vocab["<pad>"] = len(vocab)
    (folder / "vocab.json").write_text(json.dumps(vocab))
    torch.manual_seed(5)
    config = transformers.MarianConfig(
        vocab_size=len(vocab), d_model=32, encoder_layers=2, decoder_layers=2,
        encoder_attention_heads=4, decoder_attention_heads=4, encoder_ffn_dim=64,
        decoder_ffn_dim=64, max_position_embeddings=64, activation_function="swish",
        scale_embedding=True, pad_token_id=vocab["<pad>"], eos_token_id=0,
        decoder_start_token_id=vocab["<pad>"], forced_eos_token_id=0)
    model = transformers.MarianMTModel(config).eval()
    with torch.no_grad():  # not zero: the bias must be loaded to be right
        model.final_logits_bias.normal_(0, 0.5)
    model.save_pretrained(folder)
    return folder, model, processor, vocab


def ids_of(text, processor, vocab):
    return [vocab[p] for p in processor.encode(text, out_type=str)] + [0]


def test_the_same_logits_traced_and_untraced(marian):
    folder, reference, processor, vocab = marian
    session = load_folder(folder)
    src = torch.tensor([ids_of("the small cat sees the big dog", processor, vocab)])
    tgt = torch.tensor([[vocab["<pad>"], 5, 9, 14, 3]])
    with torch.inference_mode():
        expected = reference(input_ids=src, decoder_input_ids=tgt).logits
        plain = session.model(src, tgt)
        with tracing.recording():
            traced = session.model(src, tgt)
    torch.testing.assert_close(plain, expected, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(traced, expected, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("text", ["the small cat sees the big dog", "la fille ne dort pas",
                                  "two happy children"])
def test_greedy_equals_generate(marian, text):
    folder, reference, processor, vocab = marian
    session = load_folder(folder)
    src = torch.tensor([ids_of(text, processor, vocab)])
    with torch.inference_mode():
        hf = reference.generate(src, num_beams=1, do_sample=False, max_new_tokens=12)[0, 1:]
        ours = session.model.greedy(src, max_new=12)[0]
    n = min(len(hf), len(ours), 11)  # generate forces </s> at its length limit
    assert ours[:n].tolist() == hf[:n].tolist()
    result = session.run(text)
    assert result.meta["source_tokens"] == processor.encode(text, out_type=str) + ["</s>"]
    words = result.meta["output_tokens"]
    assert [vocab[w] for w in words][: n] == hf[:n].tolist()
    # the trace holds the ids themselves, to be checked against the library without words
    assert result["input/ids"].tolist() == src[0].tolist()
    assert result["prediction/ids"][:n].tolist() == hf[:n].tolist()
    assert result["input/decoder_ids"][0] == vocab["<pad>"]  # Marian starts with its pad
    np.testing.assert_array_equal(result["input/decoder_ids"][1:], result["prediction/ids"][:-1])


def test_trace_on_the_command_line(marian, tmp_path):
    folder, _, _, _ = marian
    out = tmp_path / "run.npz"
    assert main(["trace", "--weights", str(folder), "--input", "the big dog", "-o",
                 str(out)]) == 0
    trace = Trace.load_npz(out)
    assert "decoder.layers.1.cross_attn/weights" in trace
    weights = trace["decoder.layers.1.cross_attn/weights"]
    assert weights.shape[-1] == len(trace.meta["source_tokens"])
    np.testing.assert_allclose(weights.sum(-1), 1, atol=1e-5)


def test_what_marian_options_we_cannot_represent_are_refused(marian, tmp_path):
    import shutil

    folder = tmp_path / "m"
    shutil.copytree(marian[0], folder)
    config = json.loads((folder / "config.json").read_text())
    for change, reason in (({"decoder_ffn_dim": 128}, "differs from"),
                           ({"activation_function": "gelu_new"}, "'gelu_new' is not supported"),
                           ({"share_encoder_decoder_embeddings": False}, "target_vocab.json")):
        (folder / "config.json").write_text(json.dumps({**config, **change}))
        with pytest.raises(CheckpointError, match=reason):
            load_folder(folder)
    (folder / "config.json").write_text(json.dumps(config))
    (folder / "generation_config.json").write_text("{not json")
    with pytest.raises(CheckpointError, match="generation_config.json is missing or not"):
        load_folder(folder)
    (folder / "generation_config.json").unlink()  # optional: the folder opens without it
    load_folder(folder)
    (folder / "vocab.json").unlink()
    with pytest.raises(CheckpointError, match="vocab.json"):
        load_folder(folder)


def test_separate_source_and_target_vocabularies(marian, tmp_path):
    """share_encoder_decoder_embeddings false (e.g. OPUS-MT en-zh): a source vocabulary and
    embedding, a target vocabulary (`target_vocab.json`, another size) and embedding, the
    generator tied to the decoder's. Same logits and greedy output as transformers'."""
    import shutil

    folder = tmp_path / "opus-mt-separate"
    shutil.copytree(marian[0], folder)
    for name in ("model.safetensors", "config.json", "generation_config.json"):
        (folder / name).unlink(missing_ok=True)
    processor, source_vocab = marian[2], marian[3]
    # the target side: the same pieces in another order, fewer of them
    pieces = [p for p in source_vocab if p not in ("</s>", "<pad>")][::-1][:40]
    target_vocab = {"</s>": 0, **{p: i + 1 for i, p in enumerate(pieces)}}
    target_vocab["<pad>"] = len(target_vocab)
    (folder / "target_vocab.json").write_text(json.dumps(target_vocab))
    torch.manual_seed(6)
    config = transformers.MarianConfig(
        vocab_size=len(source_vocab), decoder_vocab_size=len(target_vocab),
        share_encoder_decoder_embeddings=False, d_model=32, encoder_layers=1, decoder_layers=2,
        encoder_attention_heads=4, decoder_attention_heads=4, encoder_ffn_dim=64,
        decoder_ffn_dim=64, max_position_embeddings=64, activation_function="swish",
        scale_embedding=True, pad_token_id=target_vocab["<pad>"], eos_token_id=0,
        decoder_start_token_id=target_vocab["<pad>"], forced_eos_token_id=0)
    reference = transformers.MarianMTModel(config).eval()
    with torch.no_grad():
        reference.final_logits_bias.normal_(0, 0.5)
        reference.model.encoder.embed_tokens.weight[source_vocab["<pad>"]] = 0
    reference.save_pretrained(folder)
    session = load_folder(folder)
    assert session.model.cfg.src_vocab == len(source_vocab)
    assert session.model.cfg.tgt_vocab == len(target_vocab)
    text = "the small cat sees the big dog"
    src = torch.tensor([[source_vocab[p] for p in processor.encode(text, out_type=str)] + [0]])
    tgt = torch.tensor([[target_vocab["<pad>"], 5, 9, 14, 3]])
    with torch.inference_mode():
        expected = reference(input_ids=src, decoder_input_ids=tgt).logits
        torch.testing.assert_close(session.model(src, tgt), expected, atol=1e-4, rtol=1e-4)
        hf = reference.generate(src, num_beams=1, do_sample=False, max_new_tokens=12)[0, 1:]
    n = min(len(hf), 11)
    result = session.run(text)
    words = result.meta["output_tokens"]
    assert [target_vocab[w] for w in words][:n] == hf[:n].tolist()  # target pieces, not source


def test_a_model_that_never_ends_is_cut_with_a_notice(marian):
    """Marian allows 512 positions: a model that never writes its end token (here its end
    token is forbidden) stops at twice the source plus ten tokens, and says so."""
    session = load_folder(marian[0])
    with torch.no_grad():
        session.model.generator.bias[0] = -1e4  # </s> is id 0
    result = session.run("the small cat sees the big dog")
    source = len(result.meta["source_tokens"])
    assert len(result.meta["output_tokens"]) == 2 * source + 10 < session.model.cfg.max_len
    assert "cut after" in result.meta["notice"]
    assert result["prediction/probs"].shape[0] == 2 * source + 10


def test_corpus_batches_equal_single_runs(marian, tmp_path):
    """The corpus command pads OPUS-MT sources into one batch and decodes it at once (the
    decoder starts from its pad token, which is not padding): each input's prediction,
    probability and every statistic equal those of its own `Session.run`."""
    pq = pytest.importorskip("pyarrow.parquet")
    from models.corpus import STATISTICS, run_corpus, site_statistics

    folder = marian[0]
    session = load_folder(folder, "cpu")
    texts = list(dict.fromkeys(CORPUS))
    (tmp_path / "in.txt").write_text("\n".join(texts) + "\n")
    run_corpus({"preset": None, "weights": str(folder)}, tmp_path / "in.txt",
               tmp_path / "out", batch=4, points=3, session=session, quiet=True)
    heads = pq.read_table(tmp_path / "out" / "heads").to_pandas()
    inputs = pq.read_table(tmp_path / "out" / "inputs").to_pandas()
    for number, text in enumerate(texts):
        trace = session.run(text)
        row = inputs.iloc[number]
        assert row["prediction"] == trace.meta["prediction"]
        ids, probs = trace["prediction/ids"], trace["prediction/probs"]
        assert row["probability"] == pytest.approx(
            float(probs[np.arange(len(ids)), ids].mean()), abs=1e-5)
        mine = heads[heads["input_id"] == str(number)]
        for site in trace.sites():
            tokens, expected = site_statistics(trace, site)
            rows = mine[mine["site"] == site].sort_values("head")
            assert set(rows["tokens"]) == {tokens}
            for name in STATISTICS:
                np.testing.assert_allclose(rows[name].to_numpy(float), expected[name],
                                           atol=2e-5, rtol=1e-4, equal_nan=True)
