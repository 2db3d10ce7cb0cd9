"""Opening a Hugging Face model folder in the app (issue 11): File ▸ Open model folder…,
the "Opened" entry in the preset box, and panels that read the token layout (a DeiT has CLS
and a distillation token before its patches) from the trace instead of assuming one CLS."""
import json

import numpy as np
import pytest
import torch

from explorer.api import RunFailed
from models.presets import PRESETS, load_folder

transformers = pytest.importorskip("transformers")


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
    PRESETS.pop("tiny-deit", None)


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
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "bert"}))
    with pytest.raises(RunFailed, match="only vit, deit, swin and marian"):
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
                                                           tmp_path):
    e = make_explorer("vit-digits")
    e.open_model(deit_folder)
    e.select(query=8)
    saved = e.save_session(tmp_path / "demo.json")
    data = json.loads(saved.read_text())
    assert data["model"] == {"source": str(deit_folder.resolve()), "arch": None}
    PRESETS.pop("tiny-deit")  # as in a new run of the app: only the session knows the folder
    fresh = make_explorer("reverse")
    fresh.open_session(saved)
    assert fresh.preset == "tiny-deit" and fresh.state.selection.query == 8
    box = fresh.window.preset_box
    assert box.itemData(box.currentIndex()) == "tiny-deit"
    np.testing.assert_allclose(fresh.trace["prediction/probs"], e.trace["prediction/probs"],
                               atol=1e-6)
    assert fresh.window._recent("recentModels") == [str(deit_folder.resolve())]
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
    import threading

    from models.trace import Trace

    e = make_explorer("swin-digits")
    writers = []
    original = Trace.save_npz

    def spy(self, path):
        writers.append(threading.current_thread().name)
        return original(self, path)

    monkeypatch.setattr(Trace, "save_npz", spy)
    path = e.save_trace(tmp_path / "run.npz")
    assert writers == ["trace-writer"]
    saved = Trace.load_npz(path)
    assert saved.meta["prediction"] == e.trace.meta["prediction"]
    assert set(saved.records) == set(e.trace.records)
    np.testing.assert_array_equal(saved["layers.0.blocks.1.attn/weights"],
                                  e.trace["layers.0.blocks.1.attn/weights"])
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
