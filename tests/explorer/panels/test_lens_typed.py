"""A target typed into the Lens tab's attribution: a text the folder's tokenizer reads as
one token is attributed (and one typed as the minus); a text that is several tokens is
refused with how the tokenizer splits it, and the previous attribution stays."""
import pytest

from models.catalog import CATALOG
from models.errors import InputError
from models.lens import attribution, output_size, typed_output
from models.opening import open_model
from models.session import load_folder, load_preset
from tests.models.lm_folders import build

pytest.importorskip("transformers")


@pytest.fixture(scope="module")
def gpt2(tmp_path_factory):
    folder = tmp_path_factory.mktemp("typed") / "gpt2"
    build("gpt2", folder)
    name = open_model(folder).name
    yield name, folder
    CATALOG.remove(name)


def one_and_many(tokenizer):
    """A text that is one token, one that is several, both checked with the tokenizer's own
    `tokenizers` backend (independent of typed_output)."""
    backend = tokenizer.backend
    one = next(w for w in (" capital", " the", " quick") if len(backend.encode(w).ids) == 1)
    many = next(w for w in ("Germanyish", "zzqx fox", "caféteria")
                if len(backend.encode(w).ids) > 1)
    return one, backend.encode(one).ids[0], many, backend.encode(many).tokens


def test_typed_output_reads_one_token_and_refuses_more_with_the_split(gpt2):
    _, folder = gpt2
    session = load_folder(folder)
    size = output_size(session.model)
    assert size == session.model.cfg.vocab_size
    one, one_id, many, pieces = one_and_many(session.tokenizer)
    assert typed_output(session, one, size) == one_id
    assert typed_output(session, f"#{one_id}", size) == one_id
    with pytest.raises(InputError) as error:
        typed_output(session, many, size)
    said = str(error.value)
    assert f"{len(pieces)} tokens" in said
    for piece in session.tokenizer.tokens(session.tokenizer.backend.encode(many).ids):
        assert f"'{piece}'" in said
    for bad in ("", "   ", f"#{size}"):
        with pytest.raises(InputError):
            typed_output(session, bad, size)


def test_presets_take_their_own_words_and_labels():
    session = load_preset("translate")
    size = output_size(session.model)
    assert typed_output(session, "chat", size) == session.tgt_vocab.index["chat"]
    with pytest.raises(InputError, match="2 words"):
        typed_output(session, "le chat", size)
    vit = load_preset("vit-digits")
    assert typed_output(vit, vit.labels[7], output_size(vit.model)) == 7


def test_typing_a_target_and_a_minus_in_the_lens_tab(make_explorer, gpt2):
    name, folder = gpt2
    e = make_explorer(name)
    e.show("lens")
    e.wait()
    panel = e.window.panels["lens"]
    session = e.window.state.runner.session
    one, one_id, many, pieces = one_and_many(session.tokenizer)
    position = panel.result["position"]
    panel.target_box.setEditText(one)
    panel.typed(panel.target_box)
    e.wait()
    assert panel.result["dla"]["target"] == one_id
    assert panel.target_box.currentData() == one_id
    expected = attribution(session.model, e.trace, position, one_id)
    assert panel.result["dla"]["value"] == pytest.approx(expected["value"], abs=1e-9)
    # the minus: another typed token (the position's prediction, by its id)
    top = panel.result["choices"][0] if panel.result["choices"][0] != one_id else \
        panel.result["choices"][1]
    panel.minus_box.setEditText(f"#{top}")
    panel.typed(panel.minus_box)
    e.wait()
    both = attribution(session.model, e.trace, position, one_id, top)
    assert (panel.result["dla"]["target"], panel.result["dla"]["minus"]) == (one_id, top)
    assert panel.result["dla"]["value"] == pytest.approx(both["value"], abs=1e-9)
    kept = panel.result
    # several tokens: refused with the split, the previous result kept
    panel.target_box.setEditText(many)
    panel.typed(panel.target_box)
    e.wait()
    assert panel.result is kept
    assert panel.typed_note.isVisible() or not panel.isVisible()
    assert f"{len(pieces)}" in panel.typed_note.text()
    assert panel.target_box.currentData() == one_id  # the box shows what is attributed
    e.window.grab().save("/tmp/lensx-typed.png")
