"""AppState: values enter through one checked door."""
import pytest

from models.errors import InputError
from models.runs.lm import MAX_GENERATE, check_generate


def test_a_continuation_count_outside_its_bounds_is_refused_and_changes_nothing(make_explorer):
    explorer = make_explorer("induction")
    state = explorer.state
    state.set_generate(3)
    for wrong in (MAX_GENERATE + 1, 250, -1, 2.5, "7"):
        with pytest.raises(InputError, match=f"choose 0 to {MAX_GENERATE}"):
            state.set_generate(wrong)
        assert state.generate == 3
    state.set_generate(MAX_GENERATE)
    assert state.generate == MAX_GENERATE
    state.set_generate(0)
    assert state.generate == 0


def test_the_bound_is_the_one_the_runs_use():
    assert check_generate(0) == 0 and check_generate(MAX_GENERATE) == MAX_GENERATE
    with pytest.raises(InputError):
        check_generate(MAX_GENERATE + 1)


@pytest.fixture(scope="module")
def short_gpt2(tmp_path_factory):
    """A small random GPT-2 folder that takes 64 positions, opened."""
    pytest.importorskip("transformers")
    from models.catalog import CATALOG
    from models.opening import open_model
    from tests.models.lm_folders import build

    folder = tmp_path_factory.mktemp("short") / "gpt2-short"
    build("gpt2", folder, n_positions=64)
    name = open_model(folder).name
    yield name
    CATALOG.remove(name)


def test_a_switch_refused_for_its_continuation_keeps_the_remembered_input(make_explorer,
                                                                          short_gpt2):
    """The continuation count a session gives the model, not the remembered input, makes
    the switch fail: the sample is refused as well, and the user's input is still there
    once the count allows it."""
    from explorer.api import RunFailed

    typed = "a red king does not run"
    e = make_explorer("translate")
    e.set_preset(short_gpt2, typed)
    e.wait()
    e.set_preset("translate")
    e.wait()
    e.state.set_generate_of(short_gpt2, 60)  # a few tokens + 60 > 64 positions, the sample's
    e.set_preset(short_gpt2)
    with pytest.raises(RunFailed, match="to generate"):
        e.wait()
    assert e.state.preset == "translate" and e.state.generate == 0
    e.set_preset(short_gpt2)  # the refused count is not kept: it starts at 0
    e.wait()
    assert e.state.trace.meta["input"] == typed and e.state.generate == 0


def test_choosing_the_model_on_screen_with_a_refused_count_keeps_the_typed_input(
        make_explorer, short_gpt2):
    """On the model on screen a count too long is refused; choosing that model again
    replays its remembered input, which is refused with the count, and so is the sample:
    the count was the problem, so the typed input stays (found by the soak, seed 1)."""
    from explorer.api import RunFailed

    typed = "a red king does not run"
    e = make_explorer(short_gpt2, initial_input=typed)
    e.state.set_generate(60)  # a few tokens + 60 > 64 positions, the sample's too
    with pytest.raises(RunFailed, match="to generate"):
        e.wait()
    e.set_preset(short_gpt2)  # chosen again in the box
    with pytest.raises(RunFailed, match="to generate"):
        e.wait()
    assert e.state.input == typed and e.state.shown.input == typed
    e.state.set_generate(0)
    e.wait()
    assert e.state.trace.meta["input"] == typed and not e.state.error


def test_a_locked_cell_follows_its_tokens_when_a_word_is_typed_before_them(make_explorer):
    """The translation encoder's self-attention: a locked (query, key) follows its words when
    one is typed before them; the second copy of a word is followed as the second; a word
    that is gone leaves the cell where it was."""
    from explorer.labels import axis_labels

    e = make_explorer("translate")
    e.set_input("the cat sees the dog")
    e.wait()
    site = next(s for s in e.trace.meta["sites"] if s.startswith("encoder."))
    e.select(site=site)
    rows, cols = axis_labels(e.trace, site)
    assert rows[:5] == ["the", "cat", "sees", "the", "dog"]
    e.select(query=3, key=4)  # the second "the", looking at "dog"
    e.set_input("the small cat sees the dog")
    e.wait()
    assert (e.selection.query, e.selection.key, e.selection.locked) == (4, 5, True)
    e.select(query=2, key=1)  # "cat", looking at "small"
    e.set_input("the cat sees the dog")  # "small" is gone: the key stays where it was
    e.wait()
    assert (e.selection.query, e.selection.key) == (1, 1)
