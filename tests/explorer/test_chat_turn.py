"""The chat turn in the window: the toggle wraps the input in the folder's template (the
same ids as the model layer's), the template's tokens are grey in the Prediction table and
can be hidden; a hostile template is one line and the previous result stays; a folder
without a template has the toggle off, disabled, saying why."""
import pytest

from explorer.api import RunFailed
from explorer.panels.prediction_pages import LanguagePage
from models.catalog import CATALOG
from models.opening import open_model
from models.session import load_folder
from tests.models.lm_folders import build
from tests.models.test_chat import CHATML, HOSTILE, TEXT, with_template

pytest.importorskip("transformers")


def language_page(e):
    return e.window.panels["prediction"].pages[LanguagePage]


@pytest.fixture(scope="module")
def opened(tmp_path_factory):
    root = tmp_path_factory.mktemp("chat-app")
    build("qwen2", root / "chat", vocab_size=302)
    with_template(root / "chat", CHATML)
    build("qwen2", root / "hostile", vocab_size=302)
    with_template(root / "hostile", HOSTILE["class"])
    build("gpt2", root / "plain")
    names = {key: open_model(root / key).name for key in ("chat", "hostile", "plain")}
    yield names, root
    for name in names.values():
        CATALOG.remove(name)


def test_the_toggle_wraps_the_input_and_marks_the_template(make_explorer, opened):
    names, root = opened
    e = make_explorer(names["chat"], initial_input=TEXT)
    page = language_page(e)
    toggle = page.chat
    assert toggle.isEnabled() and not toggle.isChecked()
    toggle.setChecked(True)
    e.wait()
    session = load_folder(root / "chat")
    session.chat = True
    expected = session.run(TEXT)
    assert e.trace["input/ids"].tolist() == expected["input/ids"].tolist()
    marked = e.trace.meta["chat"]["template_tokens"]
    assert marked and e.state.chat
    e.show("tokens")  # the tokens strip greys the template's tokens
    e.paint()
    assert e.window.panels["tokens"].strip.template == set(marked)
    e.grab("tokens").save("/tmp/gen-chat-tokens.png")
    e.grab("prediction").save("/tmp/gen-chat-prediction.png")
    table = page.positions
    assert table.item(marked[0], 0).font().italic()
    assert not table.item(max(set(range(table.rowCount())) - set(marked)), 0).font().italic()
    page.hide_template.setChecked(True)
    assert all(table.isRowHidden(r) == (r in marked) for r in range(table.rowCount()))
    page.hide_template.setChecked(False)
    # a model without a template: its own toggle, off, disabled, saying why
    e.set_preset(names["plain"])
    e.wait()
    assert not e.state.chat and not toggle.isChecked() and not toggle.isEnabled()
    assert "no chat template: this folder has no chat template" in toggle.toolTip()
    e.set_preset(names["chat"])  # back: the toggle comes back on with its model
    e.wait()
    assert e.state.chat and toggle.isChecked() and e.trace.meta["chat"]["used"]


def test_a_hostile_template_is_one_line_and_the_result_stays(make_explorer, opened):
    names, _ = opened
    e = make_explorer(names["hostile"], initial_input=TEXT)
    shown = e.trace
    language_page(e).chat.setChecked(True)
    with pytest.raises(RunFailed, match="the chat template tried something it must not"):
        e.wait()
    assert e.trace is shown and "\n" not in e.error
