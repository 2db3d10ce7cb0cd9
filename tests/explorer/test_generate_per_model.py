"""The continuation count belongs to the model it was set for: a newly opened model starts
at 0 unless a session says otherwise, and switching back to a model brings back its own
count (not one it refused)."""
import pytest

from explorer.api import RunFailed
from models.catalog import CATALOG
from tests.models.lm_folders import build

pytest.importorskip("transformers")


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("counts")
    build("gpt2", root / "short", n_positions=64)
    build("gpt2", root / "long", n_positions=256)
    return root / "short", root / "long"


def test_a_refused_count_does_not_follow_to_the_next_model(make_explorer, folders):
    short, long = folders
    e = make_explorer("induction")
    names = []
    try:
        names.append(e.open_model(short))
        panel = e.window.panels["prediction"]
        panel.generate.setValue(3)
        e.wait()
        assert len(e.trace["prediction/ids"]) == 3
        panel.generate.setValue(200)  # refused there: the input plus 200 > 64 positions
        with pytest.raises(RunFailed, match="plus 200 to generate"):
            e.wait()
        names.append(e.open_model(long))  # a new model starts at 0
        assert e.state.generate == 0 and panel.generate.value() == 0
        text = "The quick brown fox jumps over the lazy dog. " * 5
        e.set_input(text)
        e.wait()
        assert e.error == "" and e.trace.meta["input"] == text
        assert len(e.trace.meta["tokens"]) > 64 and e.trace.meta["continuation"] == []
        assert "prediction/ids" not in e.trace.keys()
        panel.generate.setValue(2)
        e.wait()
        # back to the first: its own count, the one its result on screen had
        e.set_preset(names[0])
        e.wait()
        assert e.state.generate == 3 and panel.generate.value() == 3
        assert len(e.trace["prediction/ids"]) == 3
        e.set_preset(names[1])
        e.wait()
        assert e.state.generate == 2 and len(e.trace["prediction/ids"]) == 2
        # a preset that does not generate keeps none of them
        e.set_preset("translate")
        e.wait()
        assert e.state.generate == 0
    finally:
        for name in names:
            CATALOG.remove(name)


def test_a_session_gives_the_count_of_its_model(make_explorer, folders, tmp_path):
    short, long = folders
    e = make_explorer("induction")
    names = []
    try:
        names.append(e.open_model(long))
        e.window.panels["prediction"].generate.setValue(4)
        e.wait()
        path = e.save_session(tmp_path / "four.json")
        names.append(e.open_model(short))
        assert e.state.generate == 0
        e.open_session(path)
        assert e.preset == names[0] and e.state.generate == 4
        assert len(e.trace["prediction/ids"]) == 4
    finally:
        for name in names:
            CATALOG.remove(name)
