"""A session file's refusal is a template and its values: the window says it in the
interface's language, and says it again after a language switch."""
import json
import re

import pytest

from explorer.export import PANEL_NAMES
from explorer.i18n import said, set_language, translate_message
from explorer.session import SessionError, read
from explorer.session_schema import SCHEMA

from .test_session_schema import CASES, Opener, edited

HAN = re.compile(r"[\u4e00-\u9fff]")


def refused(tmp_path, data) -> SessionError:
    path = tmp_path / "s.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    with pytest.raises(SessionError) as error:
        read(path, PANEL_NAMES, opener=Opener())
    return error.value


def test_every_refusal_keeps_its_template_and_is_said_in_chinese(tmp_path, qapp):
    """Each row's message (and the file-level ones) has a Chinese translation that keeps
    every value: the English is the template filled in, the Chinese has the same values."""
    errors = [refused(tmp_path, edited(changes)) for _, changes, _ in CASES]
    errors += [refused(tmp_path, "{not json"), refused(tmp_path, "[" * 100_000)]
    with pytest.raises(SessionError) as missing:
        read(tmp_path / "gone.json", PANEL_NAMES)
    errors.append(missing.value)
    assert {e.template for e in errors} >= {f.message for f in SCHEMA if f.message} - {
        # (rows whose message only a model folder or an image reaches)
        "{file}: its text is empty"}
    try:
        set_language("zh")
        for error in errors:
            assert error.template != str(error) or not error.params
            chinese = translate_message(said(error))
            assert HAN.search(chinese), error.template
            assert chinese != str(error)
            assert "s.json" in chinese or "gone.json" in chinese, chinese
    finally:
        set_language("en")
    assert translate_message(said(errors[0])) == str(errors[0])


def test_a_bad_session_is_said_in_chinese_and_again_after_a_switch(make_explorer, tmp_path):
    e = make_explorer("translate")
    path = tmp_path / "demo.json"
    data = edited({"version": 2})
    path.write_text(json.dumps(data))
    label = e.window.message_label
    e.window.switch_tour_language("zh")
    try:
        assert not e.window.opener.open_session(str(path))
        assert "demo.json 由更新版本的 Transformer Explorer 保存" in label.text()
        assert "saved by a newer" not in label.text()
        e.window.language_actions["en"].trigger()
        e.paint()
        assert "demo.json was saved by a newer Transformer Explorer" in label.text()
        e.window.language_actions["zh"].trigger()
        e.paint()
        assert "会话版本 2" in label.text()
    finally:
        e.window.language_actions["en"].trigger()
    assert e.state.preset == "translate"


def test_a_refused_session_input_is_said_in_chinese_with_the_models_reason(make_explorer,
                                                                          tmp_path):
    e = make_explorer("translate")
    data = edited({})
    data["input"] = {"text": "the cat " * 30}  # too long: only the model knows its limit
    path = tmp_path / "long.json"
    path.write_text(json.dumps(data))
    e.window.switch_tour_language("zh")
    try:
        assert not e.window.opener.open_session(str(path))
        text = e.window.message_label.text()
        assert "会话的输入被拒绝：输入有 60 个词元" in text, text
    finally:
        e.window.language_actions["en"].trigger()
    assert "the session's input is refused: the input has 60 tokens" in \
        e.window.message_label.text()
