"""Hostile session files (issue 22): checked as a whole before anything changes, images under
the same 25-megapixel limit as files, tour languages by name only; and what Save session
writes can always be opened again, with the same answer."""
import base64
import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from explorer.api import RunFailed
from explorer.session import SessionError
from models.catalog import CATALOG
from tests.models import hostile

ROOT = Path(__file__).resolve().parents[2]
SEVEN = ROOT / "resources" / "samples" / "digits" / "digit_7.png"


def png_b64(image: Image.Image) -> str:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def edits(tmp_path):
    big = png_b64(Image.new("1", (9000, 9000)))  # 81 Mpx, a few kB
    return {
        "heads_off_text": lambda d: d["interventions"].update(heads_off="abc"),
        "heads_off_string_head": lambda d: d["interventions"].update(
            heads_off=[["decoder.layers.1.cross_attn", "x"]]),
        "heads_off_no_such_head": lambda d: d["interventions"].update(
            heads_off=[["decoder.layers.1.cross_attn", 9]]),
        "flag_not_bool": lambda d: d["interventions"].update(no_mask="yes"),
        "model_arch_number": lambda d: d.update(preset="gone", model={"source": str(SEVEN),
                                                                      "arch": 5}),
        "tour_lang_path": lambda d: d.update(tour={"lang": "../../../etc/passwd", "step": 0}),
        "tour_lang_other_json": lambda d: d.update(tour={"lang": str(tmp_path / "ok.json")[:-5],
                                                         "step": 0}),
        "tour_step_too_far": lambda d: d.update(tour={"lang": "en", "step": 999}),
        "empty_text": lambda d: d["input"].update(text="   "),
        "device_unknown": lambda d: d.update(device="quantum"),
        "locked_not_bool": lambda d: d["selection"].update(locked="yes"),
        "huge_image": lambda d: d.update(preset="vit-digits", input={"image_png": big}),
        "generate_too_long": lambda d: d.update(generate=201),
        "generate_negative": lambda d: d.update(generate=-1),
        "generate_text": lambda d: d.update(generate="8"),
        "generate_bool": lambda d: d.update(generate=True),
    }


CASES = list(edits(Path("/")))


@pytest.mark.parametrize("case", CASES + ["nested"])
def test_a_hostile_session_changes_nothing(case, make_explorer, tmp_path):
    e = make_explorer("translate")
    e.set_input("the dog sleeps")
    e.wait()
    saved = json.loads(e.save_session(tmp_path / "ok.json").read_text())
    saved["zoom"] = 2.5  # applied first, once: a refused file must not change it
    bad = tmp_path / "bad.json"
    if case == "nested":
        bad.write_text(hostile.nested())
    else:
        edits(tmp_path)[case](saved)
        bad.write_text(json.dumps(saved))
    before = (e.zoom, e.preset, e.input, e.state.interventions, e.trace, e.state.generate)
    with pytest.raises(SessionError) as error:
        e.open_session(bad)
    assert str(error.value) and "\n" not in str(error.value)
    assert (e.zoom, e.preset, e.input, e.state.interventions, e.trace,
            e.state.generate) == before
    # and through the window: one message, nothing else
    assert not e.window.open_session(str(bad))
    assert (e.zoom, e.preset, e.input) == before[:3]
    assert e.window.opener.recent("recentSessions") == []


def test_a_session_whose_input_the_model_refuses_leaves_nothing_behind(make_explorer,
                                                                       tmp_path):
    e = make_explorer("reverse")
    saved = json.loads(e.save_session(tmp_path / "ok.json").read_text())
    saved.update(zoom=2.5, preset="translate")
    saved["input"]["text"] = "the cat " * 30  # too long: only the model knows its limit
    (tmp_path / "long.json").write_text(json.dumps(saved))
    with pytest.raises(SessionError, match="refused"):
        e.open_session(tmp_path / "long.json")
    assert e.zoom == 1.0 and e.preset == "reverse" and e.input == e.trace.meta["input"]


def test_save_session_stores_what_is_shown_never_a_refused_input(make_explorer, tmp_path):
    e = make_explorer("translate")
    e.set_input("the dog sleeps")
    e.wait()
    e.set_input("")
    with pytest.raises(RunFailed):
        e.wait()
    path = e.save_session(tmp_path / "s.json")
    assert json.loads(path.read_text())["input"]["text"] == "the dog sleeps"
    fresh = make_explorer("reverse")
    fresh.open_session(path)
    assert fresh.trace.meta["input"] == "the dog sleeps"
    # a refused huge image, then Save session: the last good image is stored
    huge = tmp_path / "huge.png"
    Image.new("1", (9999, 9999)).save(huge)
    e.set_preset("vit-digits", str(SEVEN))
    e.wait()
    e.set_input(str(huge))
    with pytest.raises(RunFailed, match="too large"):
        e.wait()
    data = json.loads(e.save_session(tmp_path / "v.json").read_text())
    assert data["input"]["name"] == SEVEN.name


def reopened(make_explorer, e, tmp_path):
    path = e.save_session(tmp_path / "image.json")
    fresh = make_explorer("translate")
    fresh.open_session(path)
    return fresh


def test_a_transparent_png_gives_the_same_answer_when_reopened(make_explorer, tmp_path):
    """A digit drawn as ink on transparency: composited by the app's own image path, both
    from the file and from the session."""
    ink = 255 - np.asarray(Image.open(SEVEN).convert("L"))  # dark ink on light -> alpha
    if ink.mean() > 127:
        ink = 255 - ink
    rgba = np.zeros(ink.shape + (4,), np.uint8)
    rgba[..., 3] = ink  # black strokes, transparent elsewhere
    path = tmp_path / "seven.png"
    Image.fromarray(rgba, "RGBA").save(path)
    e = make_explorer("vit-digits")
    e.set_input(str(path))
    e.wait()
    fresh = reopened(make_explorer, e, tmp_path)
    assert fresh.prediction.label == e.prediction.label
    np.testing.assert_allclose(fresh.prediction.probs, e.prediction.probs, atol=1e-5)


def test_a_cmyk_jpeg_can_be_saved_and_reopened(make_explorer, tmp_path):
    path = tmp_path / "seven.jpg"
    Image.open(SEVEN).convert("CMYK").save(path, quality=95)
    e = make_explorer("vit-digits")
    e.set_input(str(path))
    e.wait()
    fresh = reopened(make_explorer, e, tmp_path)
    assert fresh.prediction.label == e.prediction.label


def test_a_lock_with_no_cell_is_restored(make_explorer, tmp_path):
    e = make_explorer("translate")
    e.select(locked=True)
    assert e.selection.locked and e.selection.query is None
    path = e.save_session(tmp_path / "lock.json")
    fresh = make_explorer("reverse")
    fresh.open_session(path)
    assert fresh.selection.locked


def test_the_settings_never_name_a_tour_file(make_explorer):
    e = make_explorer("translate")
    e.window.settings.setValue("tourLanguage", "../../some/file")
    assert e.window.tour_lang in ("en", "zh")
    with pytest.raises(Exception, match="no tour"):
        e.tour("/etc/passwd")
    assert e.window.settings.value("tourLanguage") == "../../some/file"  # not replaced by it


def test_a_session_folder_joins_recent_models_only_when_it_opens(make_explorer, tmp_path):
    head = hostile.small_vit().state_dict()["head.weight"].clone()
    head[0, 0] = float("nan")
    folder = hostile.timm_vit(tmp_path / "nan-model", tensors={"head.weight": head})
    e = make_explorer("reverse")
    data = json.loads(e.save_session(tmp_path / "s.json").read_text())
    data.update(preset="nan-model", model={"source": str(folder), "arch": None})
    data["input"] = {"image_png": png_b64(Image.open(SEVEN))}
    (tmp_path / "nan.json").write_text(json.dumps(data))
    assert not e.window.open_session(str(tmp_path / "nan.json"))
    assert "cannot be opened" in e.window.message_label.text()
    assert e.window.opener.recent("recentModels") == [] and "nan-model" not in CATALOG
