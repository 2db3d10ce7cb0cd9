"""Greedy generation with a key/value cache: the input runs once, then each new token alone
against the earlier tokens' keys and values. The tokens equal transformers' own greedy
`generate` and the whole-sequence-each-step loop (what the app did before), with
interventions too; the trace stays the input's; progress is told after each token and an
exception raised there stops the continuation."""
import numpy as np
import pytest
import torch

from models.session import load_folder
from tests.models.lm_folders import build

transformers = pytest.importorskip("transformers")
pytest.importorskip("tokenizers")

TEXT = "The capital of France is Paris, and the capital of Germany is"
FAMILIES = ("gpt2", "llama", "qwen2")


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("kv")
    return {family: (root / family, build(family, root / family)) for family in FAMILIES}


def whole_sequence_each_step(model, ids, steps):
    """The reference: every step runs the whole sequence again (no cache)."""
    new = []
    for _ in range(steps):
        if model.cfg.position == "learned" and ids.shape[1] >= model.cfg.max_len:
            break
        nxt = model(ids)[:, -1].argmax(-1, keepdim=True)
        new.append(nxt)
        ids = torch.cat([ids, nxt], 1)
    return torch.cat(new, 1)[0].tolist() if new else []


@pytest.mark.parametrize("family", FAMILIES)
def test_cached_generation_equals_the_library_and_the_uncached_loop(folders, family):
    folder, library_model = folders[family]
    session = load_folder(folder)
    ids, _ = session.tokenizer.encode(TEXT)
    x = torch.tensor([ids])
    steps = 64 - len(ids)  # up to the last position the folders have
    with torch.inference_mode():
        library = library_model.generate(
            x, max_new_tokens=steps, do_sample=False, num_beams=1,
            eos_token_id=None, pad_token_id=0)[0, len(ids):].tolist()
        cached = session.model.generate(x, steps, stop_at_eos=False)[0].tolist()
        uncached = whole_sequence_each_step(session.model, x, steps)
    assert cached == library == uncached
    assert len(cached) == steps


@pytest.mark.parametrize("family", ["gpt2", "llama"])
def test_interventions_apply_to_the_cached_steps(folders, family):
    """A head switched off, the positions removed: the same tokens as re-running the whole
    sequence under the same edit; the mask switched off falls back to re-running."""
    session = load_folder(folders[family][0])
    ids, _ = session.tokenizer.encode(TEXT)
    x = torch.tensor([ids])
    for edit in (dict(heads_off=[["layers.1.attn", 2]]), dict(no_position=True),
                 dict(no_mask=True)):
        session.set_interventions(**edit)
        with torch.inference_mode():
            cached = session.model.generate(x, 12, stop_at_eos=False)[0].tolist()
            assert cached == whole_sequence_each_step(session.model, x, 12), edit
    session.set_interventions()


def test_the_trace_stays_the_inputs_and_progress_is_told(folders):
    session = load_folder(folders["llama"][0])
    plain = session.run(TEXT)
    told = []
    session.generate = 6
    session.progress = lambda stage, done, total: told.append((stage, done, total))
    continued = session.run(TEXT)
    assert set(continued.records) == set(plain.records) | {"prediction/ids"}
    for key in plain.records:
        np.testing.assert_array_equal(continued[key], plain[key])
    assert [t for t in told if t[0] == "generate"] == [("generate", i, 6) for i in range(1, 7)]
    layers = [t for t in told if t[0] == "forward"]
    assert layers[-1] == ("forward", 2, 2)


def test_an_exception_in_progress_stops_the_continuation(folders):
    session = load_folder(folders["gpt2"][0])
    ids, _ = session.tokenizer.encode(TEXT)
    seen = []

    class Stop(Exception):
        pass

    def progress(done, total):
        seen.append(done)
        if done == 3:
            raise Stop

    with torch.inference_mode(), pytest.raises(Stop):
        session.model.generate(torch.tensor([ids]), 20, stop_at_eos=False, progress=progress)
    assert seen == [1, 2, 3]
    assert all(layer.attn.kv_cache is None for layer in session.model.layers)
    assert session.model.cache_start == 0


@pytest.mark.parametrize("family", ["gemma3_text", "qwen3"])
def test_sliding_window_models_generate_with_the_cache_exactly(tmp_path, family):
    """A sliding window shorter than the input: each cached step's one query reads the last
    w keys only, and the cache keeps no more than that. The tokens equal the library's
    generate and the whole-sequence loop (which applies the band mask to every row)."""
    from tests.models.lm_folders import build_new

    options = dict(sliding_window=4)
    if family == "qwen3":
        options.update(use_sliding_window=True, max_window_layers=0)
    library_model = build_new(family, tmp_path / family, **options)
    session = load_folder(tmp_path / family)
    windows = [layer.attn.window for layer in session.model.layers]
    assert 4 in windows, windows
    ids, _ = session.tokenizer.encode(TEXT)
    x = torch.tensor([ids])
    seen = []
    steps = 20
    with torch.inference_mode():
        library = library_model.generate(
            x, max_new_tokens=steps, do_sample=False, num_beams=1,
            eos_token_id=None, pad_token_id=0)[0, len(ids):].tolist()
        cached = session.model.generate(
            x, steps, stop_at_eos=False,
            progress=lambda done, total: seen.append(
                [layer.attn.kv_cache.k.shape[2] for layer in session.model.layers]))[0].tolist()
        uncached = whole_sequence_each_step(session.model, x, steps)
    assert cached == library == uncached
    assert len(seen) == steps
    for lengths in seen:  # the cache of a sliding layer: its last w - 1 keys only
        for window, length in zip(windows, lengths):
            if window:
                assert length == window - 1
