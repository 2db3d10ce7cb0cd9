"""The Device menu's dtype: a folder whose weights are stored in bf16, opened in the window,
computes in bf16 once "Keep bfloat16 weights in bfloat16" is chosen (its parameters cast on
the worker thread, its probabilities those of the library's own bf16 run) and in float32
again after "Compute in float32" (the library's float32 run within 1e-4); a dtype the device
cannot compute in is greyed in the menu, and refused in one line with the result kept where
it is tried anyway. Sessions keep the dtype and the chat turn; older files load without."""
import json

import numpy as np
import pytest
import torch

from explorer.api import RunFailed
from explorer.session import SessionError
from models import session as sessions
from models.opening import open_model
from models.session import load_folder
from tests.models.lm_folders import build_new
from tests.models.test_chat import CHATML, with_template

transformers = pytest.importorskip("transformers")
pytest.importorskip("tokenizers")

TEXT = "The capital of France is Paris. She picked up the book and started to read."


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """A random Qwen3 saved in bf16 by transformers, with a chat template; its weights four
    times the library's default spread (initializer_range 0.08), so that bf16's rounding
    shows in the probabilities (at the default it is lost in nearly uniform ones)."""
    path = tmp_path_factory.mktemp("dtype-menu") / "qwen3-bf16"
    model = build_new("qwen3", path, vocab_size=302, initializer_range=0.08)
    model.to(torch.bfloat16).save_pretrained(path)
    with_template(path, CHATML)
    ids = transformers.AutoTokenizer.from_pretrained(path)(TEXT)["input_ids"]
    with torch.inference_mode():
        bf16 = model(torch.tensor([ids])).logits.float().softmax(-1)[0].numpy()
        fp32 = model.float()(torch.tensor([ids])).logits.softmax(-1)[0].numpy()
    return path, open_model(path).name, bf16, fp32


@pytest.fixture(autouse=True)
def float32_again():
    """The choice is the process's, as --dtype is: back to the default after each test."""
    yield
    sessions.set_weights_dtype(None)


def shown_model(e):
    return e.state.runner.session.model  # (read once the run is answered)


def test_the_menu_computes_in_bf16_and_back_in_float32(make_explorer, folder):
    path, name, bf16, fp32 = folder
    e = make_explorer(name, initial_input=TEXT)
    assert (e.trace.meta["dtype"], e.trace.meta["weights_dtype"]) == ("float32", "bfloat16")
    assert " · bf16→fp32" in e.window.timing_label.text()
    window = e.window
    window._fill_device_menu()  # (what opening the menu does)
    assert window.dtype_actions["float32"].isChecked()
    assert window.dtype_actions["bfloat16"].isEnabled()  # this CPU computes in bf16
    assert window.weights_dtype_action.text() == "Weights of the model shown: bfloat16"
    window.dtype_actions["bfloat16"].trigger()
    e.wait()
    assert e.trace.meta["dtype"] == "bfloat16" and e.state.dtype == "bfloat16"
    assert window.dtype_actions["bfloat16"].isChecked()
    assert {p.dtype for p in shown_model(e).parameters()} == {torch.bfloat16}
    assert " · bf16" in window.timing_label.text() and "→" not in window.timing_label.text()
    probs = e.trace["prediction/probs"]
    assert probs.dtype == np.float32  # the records stay float32
    # Cast back from float32, the weights are the folder's bf16 numbers: the same run as
    # a folder opened in bf16 from the start, bit for bit.
    np.testing.assert_array_equal(probs, load_folder(path, keep="bfloat16").run(TEXT)[
        "prediction/probs"])
    # Against the library's bf16 run: both round to 8 bits of mantissa at every step, but
    # in a different order (fused attention, where each casts back), so they differ by
    # about as much as bf16 differs from float32 (here 1.4e-4 both): the tolerance is the
    # library's own bf16-to-float32 gap, twice over.
    gap = np.abs(bf16 - fp32).max()
    assert np.abs(probs - bf16).max() <= 2 * gap
    window.dtype_actions["float32"].trigger()
    e.wait()
    assert e.trace.meta["dtype"] == "float32"
    # and that run was bf16: several times further from float32 than this float32 run is
    assert np.abs(probs - fp32).max() > 4 * np.abs(e.trace["prediction/probs"] - fp32).max()
    assert {p.dtype for p in shown_model(e).parameters()} == {torch.float32}
    model = shown_model(e)  # the tied output is still the embedding's memory, not a copy
    assert model.lm_head.weight.data_ptr() == model.embed.weight.data_ptr()
    np.testing.assert_allclose(e.trace["prediction/probs"], fp32, atol=1e-4)


def test_a_model_stored_in_float32_says_why_it_stays_in_float32(make_explorer):
    e = make_explorer("translate")
    e.set_dtype("bfloat16")
    e.wait()
    assert "dtype" not in e.trace.meta  # the shipped weights are float32: nothing changes
    assert "translate: its weights are stored in float32, so it computes in float32 " \
           "(bfloat16 keeps only weights stored in bfloat16)" in e.window.message_label.text()
    # and a folder opened from now on keeps its bf16 weights, as --dtype bfloat16 does
    assert sessions.KEEP["dtype"] == "bfloat16"


def test_a_dtype_the_device_cannot_run_is_greyed_and_refused_in_one_line(
        make_explorer, folder, monkeypatch):
    _, name, _, _ = folder
    e = make_explorer(name, initial_input=TEXT)
    shown = e.trace
    window = e.window

    def no_bf16(dtype, device):
        return "no bf16 kernels here" if dtype == torch.bfloat16 else ""

    import explorer.main_window as main_window

    monkeypatch.setattr(main_window, "dtype_refusal", no_bf16)
    window._fill_device_menu()
    action = window.dtype_actions["bfloat16"]
    assert not action.isEnabled() and window.dtype_actions["float16"].isEnabled()
    assert action.toolTip() == "cannot compute in bfloat16 on cpu: no bf16 kernels here"
    # tried anyway (a script, a session): the worker refuses it, the model stays float32
    monkeypatch.setattr(sessions, "dtype_refusal", no_bf16)
    e.set_dtype("bfloat16")
    with pytest.raises(RunFailed, match="the device cpu cannot compute in bfloat16"):
        e.wait()
    assert e.trace is shown and e.state.dtype == "float32" and "\n" not in e.error
    assert window.dtype_actions["float32"].isChecked()
    assert window.banners[0].text() == ("Still computing in float32: the device cpu cannot "
                                        "compute in bfloat16 (no bf16 kernels here)")
    assert {p.dtype for p in shown_model(e).parameters()} == {torch.float32}
    e.set_input(TEXT + " Once")  # the next run is the float32 one
    e.wait()
    assert e.trace.meta["dtype"] == "float32" and not window.banners[0].isVisible()


def test_the_dtype_and_the_chat_turn_come_back_from_a_session(make_explorer, folder,
                                                              tmp_path):
    _, name, _, _ = folder
    e = make_explorer(name, initial_input=TEXT)
    e.set_dtype("bfloat16")
    e.state.set_chat(True)
    e.wait()
    assert e.trace.meta["chat"]["used"] and e.trace.meta["dtype"] == "bfloat16"
    path = e.save_session(tmp_path / "s.json")
    saved = json.loads(path.read_text())
    assert (saved["chat"], saved["dtype"]) == (True, "bfloat16")
    e.set_dtype("float32")
    e.state.set_chat(False)
    e.wait()
    assert not e.trace.meta["chat"]["used"] and e.trace.meta["dtype"] == "float32"
    e.open_session(path)
    assert e.state.chat and e.trace.meta["chat"]["used"]
    assert e.trace.meta["dtype"] == "bfloat16" and e.state.dtype == "bfloat16"
    assert e.window.panels["prediction"].pages[_language_page()].chat.isChecked()
    # a file from before both fields: the chat turn off, float32
    for key in ("chat", "dtype"):
        saved.pop(key)
    old = tmp_path / "old.json"
    old.write_text(json.dumps(saved))
    e.open_session(old)
    assert not e.state.chat and not e.trace.meta["chat"]["used"]
    assert e.trace.meta["dtype"] == "float32" and e.state.dtype == "float32"
    # a bad value: one message, nothing changed
    saved["dtype"] = "int8"
    old.write_text(json.dumps(saved))
    with pytest.raises(SessionError, match="'dtype' must be one of float32, bfloat16, "
                                           "float16, not \"int8\""):
        e.open_session(old)
    assert e.state.dtype == "float32"


def _language_page():
    from explorer.panels.prediction_pages import LanguagePage

    return LanguagePage


def test_the_device_menu_reads_well_in_both_languages(make_explorer, folder):
    _, name, _, _ = folder
    e = make_explorer(name, initial_input=TEXT)
    window = e.window
    menu = window.device_menu
    for lang in ("en", "zh"):
        window.switch_tour_language(lang)
        window._fill_device_menu()
        menu.popup(window.mapToGlobal(window.rect().center()))
        e.paint()
        menu.grab().save(f"/tmp/dtype-menu-{lang}.png")
        menu.hide()
    texts = [a.text() for a in menu.actions() if a.text()]
    assert "用 float32 计算" in texts and "当前模型的权重：bfloat16" in texts
    assert menu.title() == "设备(&D)"


def test_the_app_starts_in_the_dtype_its_menu_was_left_at_unless_told(make_explorer,
                                                                      tmp_path, monkeypatch):
    """The Device menu's dtype is saved when the window closes; the next `python main.py`
    opens folders in it, and --dtype (float32 included) overrides it."""
    e = make_explorer("translate")
    e.set_dtype("bfloat16")
    e.wait()
    settings = e.window.settings
    e.close()
    assert settings.value("dtype") == "bfloat16"

    from explorer import app, cli, qapp

    seen = []
    monkeypatch.setattr(qapp, "user_settings", lambda: settings)
    monkeypatch.setattr(app, "run", lambda **kw: seen.append(sessions.KEEP["dtype"]) or 0)
    sessions.set_weights_dtype(None)
    assert cli.main(["--preset", "translate"]) == 0
    assert cli.main(["--preset", "translate", "--dtype", "float32"]) == 0
    assert cli.main(["--preset", "translate", "--dtype", "float16"]) == 0
    assert seen == ["bfloat16", None, "float16"]
