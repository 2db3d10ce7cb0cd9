"""Opening a Hugging Face model folder in the app (issue 11): File ▸ Open model folder…,
the "Opened" entry in the preset box, and panels that read the token layout (a DeiT has CLS
and a distillation token before its patches) from the trace instead of assuming one CLS."""
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from explorer.api import RunFailed
from models.catalog import CATALOG
from models.session import load_folder

transformers = pytest.importorskip("transformers")
from tests.models.checkpoints.test_marian import marian  # noqa: E402,F401  (a fixture: a tiny OPUS-MT)

PHOTOS = Path(__file__).resolve().parents[2] / "resources" / "samples" / "photos"


@pytest.fixture(scope="module")
def deit_folder(tmp_path_factory):
    torch.manual_seed(4)
    config = transformers.DeiTConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                                     intermediate_size=64, image_size=32, patch_size=8,
                                     num_labels=3, id2label={"0": "ant", "1": "bee", "2": "cat"})
    folder = tmp_path_factory.mktemp("hub") / "tiny-deit"
    transformers.DeiTForImageClassificationWithTeacher(config).eval().save_pretrained(folder)
    (folder / "preprocessor_config.json").write_text(json.dumps(
        {"do_resize": True, "size": {"height": 32, "width": 32}, "resample": 2,
         "do_normalize": True, "image_mean": [0.5] * 3, "image_std": [0.5] * 3}))
    yield folder
    CATALOG.remove("tiny-deit")


def threads_calling(monkeypatch, owner, name: str) -> list[str]:
    """Wrap `owner.name` so that each call records the thread it runs on."""
    import threading

    threads = []
    original = getattr(owner, name)

    def spy(*args, **kwargs):
        threads.append(threading.current_thread().name)
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, spy)
    return threads


def test_an_opened_folder_runs_in_the_app_like_a_preset(make_explorer, deit_folder):
    e = make_explorer("vit-digits")
    name = e.open_model(deit_folder)
    assert name == "tiny-deit" and e.preset == name
    box = e.window.preset_box
    assert box.itemData(box.currentIndex()) == name and box.findText("Opened:") >= 0
    meta = e.trace.meta
    expected = load_folder(deit_folder).run(meta["input"])  # the same input, outside the app
    np.testing.assert_allclose(e.trace["prediction/probs"], expected["prediction/probs"],
                               atol=1e-6)
    assert meta["prediction"] in ("ant", "bee", "cat") and meta["prefix_tokens"] == 2
    assert e.trace["input/image"].min() >= 0 and e.trace["input/image"].max() <= 1
    # the pictures are in colour: the photo as the model saw it, before normalising
    rgb = e.trace["input/rgb"]
    pixels = e.trace["input/pixels"]  # (x - 0.5) / 0.5
    np.testing.assert_allclose(rgb, pixels.transpose(1, 2, 0) * 0.5 + 0.5, atol=1e-5)
    e.show("patches")
    assert e.window.panels["patches"].picture.image.image.shape == (32, 32, 3)


def test_panels_read_the_token_layout_from_the_trace(make_explorer, deit_folder):
    """Pointing at patch (1, 2) of a 4×4 grid is token 2 + 1·4 + 2 = 8 (CLS, DIST first), and
    the rollout, token and position panels agree on which patch that is."""
    e = make_explorer("vit-digits")
    e.open_model(deit_folder)
    patches = e.window.panels["patches"]
    e.show("patches")
    patches._cell_hovered(1, 2)
    assert e.state.selection.query == 8
    e.select(query=8)
    for panel in ("rollout", "positional", "attention", "model", "pipeline"):
        e.show(panel)  # each draws the DeiT trace without an error
    tokens = e.window.panels["tokens"]
    assert "patch 6 attends" in tokens.picture.caption.text
    rollout = e.window.panels["rollout"]
    assert "patch 6" in rollout.picture.caption.text
    e.select(query=1)
    assert "DIST attends" in tokens.picture.caption.text


def test_a_folder_that_cannot_be_opened_says_why_and_changes_nothing(make_explorer, tmp_path):
    e = make_explorer("vit-digits")
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "clip"}))
    with pytest.raises(RunFailed, match="only vit, deit, swin, marian, gpt2"):
        e.open_model(tmp_path)
    assert e.preset == "vit-digits" and e.trace.meta["preset"] == "vit-digits"


def test_bench_measures_an_opened_model(deit_folder, capsys):
    """`bench --weights FOLDER`: the opened model is measured like a preset (figures are
    reported, never asserted)."""
    from main import main

    assert main(["bench", "--preset", "reverse", "--weights", str(deit_folder), "--edits", "2",
                 "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    figures = report["presets"]["tiny-deit"]["cpu"]
    assert set(report["presets"]) == {"reverse", "tiny-deit"}
    assert figures["input_to_pixels_ms"]["median"] > 0 and figures["hover_ms"]["median"] > 0


def test_sessions_and_recent_models_reopen_an_opened_model(make_explorer, deit_folder,
                                                           tmp_path, monkeypatch):
    e = make_explorer("vit-digits")
    e.open_model(deit_folder)
    e.select(query=8)
    saved = e.save_session(tmp_path / "demo.json")
    data = json.loads(saved.read_text())
    assert data["model"] == {"source": str(deit_folder.resolve()), "arch": None}
    CATALOG.remove("tiny-deit")  # as in a new run of the app: only the session knows the folder
    fresh = make_explorer("reverse")
    import explorer.model_opener as model_opener

    readers = threads_calling(monkeypatch, model_opener, "read_model")
    fresh.open_session(saved)
    assert readers == ["model-reader"]  # the session's folder too is read off the UI thread
    assert fresh.preset == "tiny-deit" and fresh.state.selection.query == 8
    box = fresh.window.preset_box
    assert box.itemData(box.currentIndex()) == "tiny-deit"
    np.testing.assert_allclose(fresh.trace["prediction/probs"], e.trace["prediction/probs"],
                               atol=1e-6)
    assert fresh.window.opener.recent("recentModels") == [str(deit_folder.resolve())]
    # a session whose folder has gone: one message, nothing changes
    data["model"]["source"] = str(tmp_path / "gone")
    data["preset"] = "gone"
    (tmp_path / "gone.json").write_text(json.dumps(data))
    assert not fresh.window.open_session(str(tmp_path / "gone.json"))
    assert "cannot be opened" in fresh.window.message_label.text()
    assert fresh.preset == "tiny-deit"


def test_saving_a_trace_happens_off_the_ui_thread(make_explorer, tmp_path, monkeypatch):
    """File ▸ Save trace: the .npz is written on a thread of its own, and holds exactly the
    trace on screen."""
    from models.trace import Trace

    e = make_explorer("swin-digits")
    writers = threads_calling(monkeypatch, Trace, "save_npz")
    path = e.save_trace(tmp_path / "run.npz")
    assert writers == ["trace-writer"]
    saved = Trace.load_npz(path)
    assert saved.meta["prediction"] == e.trace.meta["prediction"]
    # every record, and what the trace derives when read (written out in a full file)
    assert set(saved.records) == set(e.trace.keys())
    np.testing.assert_array_equal(saved["layers.0.blocks.1.attn/weights"],
                                  e.trace["layers.0.blocks.1.attn/weights"])
    np.testing.assert_array_equal(saved["layers.1.blocks.0.mlp/write"],
                                  e.trace["layers.1.blocks.0.mlp/write"])
    assert "saved the trace" in e.window.statusBar().currentMessage()
    with pytest.raises(RunFailed, match="cannot save"):
        e.save_trace(tmp_path / "no-such-folder" / "run.npz")


def test_the_patch_sequence_keeps_colour_and_order():
    """Patch k of a 4×4 grid (2×2 px each) sits at line k // 8, place k % 8 of the strip,
    in colour when the picture has colour; grey pictures keep their NaN gaps."""
    from explorer.panels.patches import patch_sequence

    rng = np.random.default_rng(0)
    rgb = rng.random((8, 8, 3)).astype(np.float32)
    strip = patch_sequence(rgb, 4, 8)
    assert strip.shape == (2 * 4 - 2, 8 * 3 - 1, 3)
    for k in range(16):
        r, c = divmod(k, 4)
        line, place = divmod(k, 8)
        np.testing.assert_array_equal(strip[line * 4: line * 4 + 2, place * 3: place * 3 + 2],
                                      rgb[r * 2: r * 2 + 2, c * 2: c * 2 + 2])
    grey = patch_sequence(rgb[..., 0], 4, 8)
    assert grey.shape == strip.shape[:2] and np.isnan(grey[2]).all()
    np.testing.assert_array_equal(grey[:2, 3:5], rgb[:2, 2:4, 0])


def test_a_model_is_read_off_the_ui_thread_and_the_newest_open_wins(make_explorer, deit_folder,
                                                                   monkeypatch, qtbot):
    """The files of an opened model are read and checked on the `model-reader` thread (a
    real checkpoint is hundreds of MB); when two opens overlap, only the newer switches."""
    import explorer.model_opener as model_opener

    e = make_explorer("vit-digits")
    readers = threads_calling(monkeypatch, model_opener, "read_model")
    assert e.open_model(deit_folder) == "tiny-deit"
    assert readers == ["model-reader"]
    # two requests in a row: the first one's outcome is dropped, the second one switches
    e.set_preset("vit-digits")
    e.wait()
    outcomes = []
    e.window.model_opened.connect(lambda ticket, name, error: outcomes.append((ticket, name)))
    first = e.window.open_model(str(deit_folder / "no-such-model"))
    second = e.window.open_model(str(deit_folder))
    qtbot.waitUntil(lambda: len(outcomes) == 2, timeout=30_000)
    assert dict(outcomes) == {first: "", second: "tiny-deit"}
    e.wait()
    assert e.preset == "tiny-deit" and e.trace.meta["preset"] == "tiny-deit"
    assert "no-such-model" not in e.window.message_label.text()  # superseded: not reported


def test_an_opened_photo_model_shows_sample_photos(make_explorer, deit_folder):
    """An ImageNet-style model first sees a free-licence photo, and the gallery offers the
    photos instead of handwritten digits; back on a digit preset, the digits return."""
    e = make_explorer("vit-digits")
    e.open_model(deit_folder)
    gallery = e.window.image_input.gallery
    names = [Path(gallery.item(i).data(0x0100)).name for i in range(gallery.count())]
    assert names == ["astronaut.jpg", "cat.jpg", "coffee.jpg", "rocket.jpg"]
    assert Path(e.input).name == "cat.jpg" and e.trace["input/rgb"].shape == (32, 32, 3)
    assert "photos" in e.window.image_input.gallery_title.text()
    coffee = gallery.item(names.index("coffee.jpg"))
    gallery.itemClicked.emit(coffee)
    e.wait()
    assert Path(e.trace.meta["input"]).name == "coffee.jpg"
    assert gallery.currentItem() is coffee
    e.set_preset("swin-digits")
    e.wait()
    assert gallery.count() == 10 and gallery.item(0).text() == "0"


def hf_folder(family: str, folder):
    torch.manual_seed(7)
    small = dict(num_labels=3, id2label={"0": "ant", "1": "bee", "2": "cat"})
    if family == "swin":
        model = transformers.SwinForImageClassification(transformers.SwinConfig(
            image_size=32, patch_size=2, embed_dim=16, depths=[2, 2], num_heads=[2, 4],
            window_size=4, **small))
    else:
        vit = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                   intermediate_size=64, image_size=32, patch_size=8, **small)
        model = transformers.ViTForImageClassification(transformers.ViTConfig(**vit)) \
            if family == "vit" else \
            transformers.DeiTForImageClassificationWithTeacher(transformers.DeiTConfig(**vit))
    model.eval().save_pretrained(folder)
    return folder


@pytest.mark.parametrize("family", ["vit", "deit", "swin", "marian"])
def test_every_command_takes_a_model_folder_of_each_family(family, tmp_path, capsys, qapp,
                                                           request):
    """`trace`, `shot` and `export --weights FOLDER` for each supported family: the window
    opens on the model (a photo, or a sentence for Marian) and the pictures are written."""
    from PySide6 import QtGui

    from main import main

    if family == "marian":
        pytest.importorskip("sentencepiece")
        folder = request.getfixturevalue("marian")[0]
        user_input = "the big dog"
    else:
        folder = hf_folder(family, tmp_path / f"cli-{family}")
        user_input = str(PHOTOS / "coffee.jpg")
    before = set(CATALOG)
    try:
        assert main(["trace", "--weights", str(folder), "--input", user_input,
                     "-o", str(tmp_path / "run.npz")]) == 0
        assert main(["shot", "--weights", str(folder), "--input", user_input, "--size",
                     "1000x700", "-o", str(tmp_path / "shot.png")]) == 0
        assert main(["export", "--weights", str(folder), "--panel", "attention",
                     "-o", str(tmp_path / "attention.png")]) == 0
        # eval has held-out data for the presets only: a clear refusal, not a traceback
        assert main(["eval", "--preset", "vit-digits", "--weights", str(folder)]) == 2
        captured = capsys.readouterr()
        assert "is a model folder" in captured.err and captured.out.count("wrote") == 3
    finally:  # the names this test opened, and no other
        for name in set(CATALOG) - before:
            CATALOG.remove(name)
    shot = QtGui.QImage(str(tmp_path / "shot.png"))
    assert (shot.width(), shot.height()) == (1000, 700)
    assert not QtGui.QImage(str(tmp_path / "attention.png")).isNull()
    from models.trace import Trace

    trace = Trace.load_npz(tmp_path / "run.npz")
    if family == "marian":
        assert trace.meta["source_tokens"][-1] == "</s>" and "cross" in str(trace.meta["sites"])
    else:  # the coffee photo, resized to 32×32 by the folder's own processor
        assert trace["input/pixels"].shape == (3, 32, 32)


def test_a_model_folder_that_cannot_be_opened_stops_shot_and_export(tmp_path, capsys, qapp):
    from main import main

    (tmp_path / "config.json").write_text(json.dumps({"model_type": "bert"}))
    for argv in (["shot", "--weights", str(tmp_path), "-o", str(tmp_path / "x.png")],
                 ["export", "--weights", str(tmp_path), "--panel", "attention",
                  "-o", str(tmp_path / "x.png")],
                 ["--weights", str(tmp_path)],  # the app itself: before any window opens
                 ["eval", "--preset", "vit-digits", "--weights", str(tmp_path)],
                 ["shot", "-o", str(tmp_path / "x.png")]):
        assert main(argv) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("error: ")
    assert not (tmp_path / "x.png").exists()


def test_an_opened_translation_model_in_the_app(make_explorer, request):
    """An OPUS-MT folder in the window: the sentence box, English sample sentences, the
    sentencepiece pieces as tokens, and the same output as the model outside the app."""
    folder = request.getfixturevalue("marian")[0]
    e = make_explorer("vit-digits")
    try:
        assert e.open_model(folder) == folder.name
        window = e.window
        assert window.inputs.currentWidget() is window.text_input
        samples = window.text_input.samples
        assert samples.count() > 0 and samples.itemText(0) == "the small cat sees the big dog"
        e.set_input("the girls do not sleep")
        e.wait()
        expected = load_folder(folder).run("the girls do not sleep")
        assert e.trace.meta["source_tokens"] == expected.meta["source_tokens"]
        assert e.trace.meta["prediction"] == expected.meta["prediction"]
        np.testing.assert_array_equal(e.trace["prediction/ids"], expected["prediction/ids"])
        assert not window.tabs.isTabVisible(window.tabs.indexOf(window.pages["patches"]))
    finally:
        CATALOG.remove(folder.name)
