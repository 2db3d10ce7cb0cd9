"""The model protocol (models/protocol.py): every model class describes itself, and the trace
meta it gives is the meta recorded before the protocol existed (tests/models/record_meta.py,
main at 9221789)."""
import json
import re
from pathlib import Path

import pytest
import torch

from models.build import build_model
from models.catalog import CATALOG
from models.errors import CheckpointError
from models.opening import open_model_ready
from models.presets import PRESETS, get_preset
from models.protocol import ModelBase
from models.session import load_folder, load_preset
from models.sites import KINDS
from tests.models import record_meta

ROOT = Path(__file__).resolve().parents[2]
RECORDED = json.loads((ROOT / "tests/models/data/recorded_meta.json").read_text())
SAMPLE_DIGIT = "resources/samples/digits/digit_3.png"


def without_words(meta: dict) -> dict:
    """A WordPiece vocabulary trained here (tests/models/lm_folders.py) differs from one run
    to the next: what depends on how the input was split into words is left out."""
    return {k: v for k, v in meta.items()
            if k not in ("topk", "tokens", "prediction", "special", "masked")}


@pytest.fixture(scope="module")
def opened(tmp_path_factory):
    """The opened folders the meta was recorded for, each as the app loads it."""
    folder = tmp_path_factory.mktemp("opened")
    sessions = {}
    for family in record_meta.OPENED:
        preset, ready = open_model_ready(record_meta.make_folder(family, folder / family))
        sessions[family] = load_preset(preset.name, ready=ready)
    yield sessions
    for session in sessions.values():
        CATALOG.remove(session.preset.name)


# keys a run's meta gained after the recording, each a feature of its own with its own tests:
# the language models' chat turn (tests/models/test_chat.py)
ADDED_SINCE = {"chat"}


def recorded_keys(meta: dict) -> dict:
    return {k: v for k, v in meta.items() if k not in ADDED_SINCE}


@pytest.mark.parametrize("name", record_meta.PRESET_NAMES)
def test_a_presets_meta_is_what_it_was(name, monkeypatch):
    monkeypatch.chdir(ROOT)  # (an image preset's input is a path under the root)
    session = load_preset(name)
    assert json.dumps(session.describe()) == RECORDED[name]["describe"]
    meta = record_meta.rounded(session.run(PRESETS[name].default_input).meta)
    assert recorded_keys(json.loads(json.dumps(meta))) == RECORDED[name]["run"]


@pytest.mark.parametrize("family", list(record_meta.OPENED))
def test_an_opened_models_meta_is_what_it_was(family, opened, monkeypatch):
    monkeypatch.chdir(ROOT)
    session = opened[family]
    assert json.dumps(session.describe()) == RECORDED[f"opened:{family}"]["describe"]
    meta = recorded_keys(json.loads(json.dumps(record_meta.rounded(
        session.run(record_meta.OPENED[family]).meta))))
    expected = RECORDED[f"opened:{family}"]["run"]
    if family == "bert":
        meta, expected = without_words(meta), without_words(expected)
    assert meta == expected


def models_and_inputs(opened):
    """Every model class: the shipped presets (seq2seq, ViT, Swin, decoder) and the opened
    GPT-2, BERT (encoder) and DeiT (distilled ViT)."""
    for name in record_meta.PRESET_NAMES:
        inp = PRESETS[name].default_input
        yield name, load_preset(name), str(ROOT / inp) if inp.endswith(".png") else inp
    for family, inp in record_meta.OPENED.items():
        yield family, opened[family], inp if family != "deit" else str(ROOT / inp)


def test_every_model_class_answers_the_protocol(opened):
    seen = set()
    for label, session, user_input in models_and_inputs(opened):
        model = session.model
        seen.add(type(model))
        assert isinstance(model, ModelBase), label
        assert model.input_kind in ("text", "image") and model.form in ("seq2seq", "lm",
                                                                        "image")
        trace = session.run(user_input)
        sites = model.describe_sites()
        # the sites described are the sites whose attention the run recorded, in model order
        recorded = list(dict.fromkeys(name.rsplit("/", 1)[0] for name in trace.records
                                      if name.endswith("/q")))
        assert list(sites) == recorded, label
        assert trace.meta["sites"] == sites
        modules = dict(model.named_modules())
        for site, info in sites.items():
            assert info["kind"] in KINDS
            assert info["heads"] == modules[site].num_heads == model.head_counts()[site]
            assert model.gated_sites()[site] is modules[site]
            assert "head_gate" in vars(modules[site])
        # the example input runs and gives finite numbers
        with torch.inference_mode():
            out = model(*[t.to(session.device) for t in model.example_input()])
        assert torch.isfinite(out).all(), label
        # residual points: a module or a record site each; every attention site among them
        points = model.residual_points()
        for stack, names in points.items():
            for name in names:
                assert name in modules or any(r.startswith(name + "/") for r in trace.records), \
                    (label, stack, name)
            assert names[0] not in sites  # the stream starts after the embeddings
        flat = [n for names in points.values() for n in names]
        assert set(sites) <= set(flat) and len(flat) == len(set(flat))
        # one MLP point after each layer's attention (and cross-attention) points
        others = [n for n in flat if n not in sites and n.count(".") > 1 and "downsample"
                  not in n]
        assert len(others) == sum(1 for n, m in modules.items() if n in others and
                                  any(isinstance(c, torch.nn.Linear) for c in m.modules()))
        assert model.decodes == (model.form == "seq2seq")
    assert len(seen) == 5  # Transformer, ViT, Swin, Decoder, Encoder


def drop_last_layer(tensors: dict, pattern: str) -> tuple[dict, int]:
    """The tensors without the highest layer number that `pattern` matches."""
    last = max(int(m.group(1)) for k in tensors if (m := re.match(pattern, k)))
    prefix = pattern.split("(")[0].replace("\\", "")
    return {k: v for k, v in tensors.items() if not k.startswith(f"{prefix}{last}.")}, last


@pytest.mark.parametrize("name,pattern,key,want,held", [
    ("translate", r"decoder\.layers\.(\d+)\.", "dec_layers", "2", "1"),
    ("vit-digits", r"blocks\.(\d+)\.", "depth", "4", "3"),
    ("swin-digits", r"layers\.2\.blocks\.(\d+)\.", "depths", "[2, 2, 2]", "[2, 2, 1]"),
    ("induction", r"layers\.(\d+)\.", "num_layers", "2", "1"),
])
def test_the_layer_check_refuses_a_missing_layer(name, pattern, key, want, held):
    preset = get_preset(name)
    tensors, _ = drop_last_layer(build_model(preset).state_dict(), pattern)
    names = sorted(tensors)
    expected = (f"weights in w do not fit the model: its config asks for {key} {want}, the "
                f"weights hold {held} (they hold {', '.join(names[:4])} …)")
    with pytest.raises(CheckpointError) as error:
        build_model(preset, preset.config, "w", tensors)
    assert str(error.value) == expected


def test_an_encoders_layer_check(opened):
    session = opened["bert"]
    tensors = {k: v for k, v in session.model.state_dict().items()
               if not k.startswith("layers.1.")}
    with pytest.raises(CheckpointError, match="asks for num_layers 2, the weights hold 1"):
        type(session.model).check_layers(session.model.cfg, tensors, "w")


def test_opened_models_live_in_the_catalog_not_in_the_preset_table(opened):
    name = opened["gpt2"].preset.name
    assert name in CATALOG and name not in PRESETS
    assert get_preset(name) is CATALOG.get(name)
    assert get_preset(name).input_kind == "text"
    assert get_preset(opened["deit"].preset.name).input_kind == "image"


def test_what_the_session_is_given_it_keeps(opened):
    """Tokenizer, labels, preprocessing and the limit note come with the Session built."""
    folder = Path(opened["deit"].preset.source)
    session = load_folder(folder)
    assert session.labels == opened["deit"].labels and session.preprocessing is not None
    assert session.tokenizer is None and session.limit_note == ""
    assert load_preset("induction").tokenizer.joiner == " "
