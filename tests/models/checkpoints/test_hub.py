"""Hugging Face model folders (issue 11, first part): small ViT and DeiT models with random
weights, built and saved by `transformers` itself, opened by our loader, must give the same
logits — traced and untraced — and the same answer through the command line."""
import json

import numpy as np
import pytest
import torch
from PIL import Image

from main import main
from models import trace as tracing
from models.errors import CheckpointError
from models.session import load_folder
from models.trace import Trace

transformers = pytest.importorskip("transformers")

SMALL = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
             image_size=32, patch_size=8, num_labels=5,
             id2label={str(i): name for i, name in enumerate(["ant", "bee", "cat", "dog", "eel"])})
PROCESSOR = {"do_resize": True, "size": {"height": 32, "width": 32}, "resample": 2,
             "do_rescale": True, "rescale_factor": 1 / 255, "do_normalize": True,
             "image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5]}


def build(kind: str, seed: int = 0, **overrides):
    torch.manual_seed(seed)
    if kind == "vit":
        model = transformers.ViTForImageClassification(transformers.ViTConfig(**SMALL,
                                                                              **overrides))
    else:
        model = transformers.DeiTForImageClassificationWithTeacher(
            transformers.DeiTConfig(**SMALL, **overrides))
    return model.eval()


def save(model, folder, processor=PROCESSOR):
    model.save_pretrained(folder)
    (folder / "preprocessor_config.json").write_text(json.dumps(processor))
    return folder


def assert_reference_logits(session, reference, x):
    """Our model's logits equal the transformers model's, untraced and traced; the trace."""
    with torch.inference_mode():
        expected = reference(pixel_values=x).logits
        plain = session.model(x)
        with tracing.recording() as trace:
            traced = session.model(x)
    torch.testing.assert_close(plain, expected, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(traced, expected, atol=1e-4, rtol=1e-4)
    return trace


@pytest.mark.parametrize("kind", ["vit", "deit"])
def test_our_model_gives_the_reference_logits(kind, tmp_path):
    reference = build(kind)
    folder = save(reference, tmp_path / kind)
    from safetensors import safe_open

    with safe_open(str(folder / "model.safetensors"), "pt") as f:  # the hub's own names
        assert any(".attention.attention.query." in key for key in f.keys())
    session = load_folder(folder)
    trace = assert_reference_logits(session, reference, torch.randn(3, 3, 32, 32))
    assert session.model.cfg.distilled == (kind == "deit")
    tokens = 16 + (2 if kind == "deit" else 1)
    assert trace["blocks.0.attn/weights"].shape == (4, tokens, tokens)
    assert session.labels == ["ant", "bee", "cat", "dog", "eel"]


def test_transformers_5_names_in_a_pytorch_bin_load_too(tmp_path):
    """save_pretrained writes the hub's names (encoder.layer.N.attention.attention.query,
    the test above); a state dict taken from a transformers 5 model in memory has the new
    ones (layers.N.attention.q_proj) and is saved as a .bin: it loads the same."""
    reference = build("vit", seed=1)
    folder = save(reference, tmp_path / "v5")
    (folder / "model.safetensors").unlink()
    state = reference.state_dict()
    assert any(".q_proj." in key for key in state)
    torch.save(state, folder / "pytorch_model.bin")
    session = load_folder(folder)
    x = torch.randn(2, 3, 32, 32)
    with torch.inference_mode():
        torch.testing.assert_close(session.model(x), reference(pixel_values=x).logits,
                                   atol=1e-4, rtol=1e-4)


def test_trace_on_a_folder_records_what_the_model_saw(tmp_path, capsys):
    reference = build("deit", seed=2)
    folder = save(reference, tmp_path / "deit")
    photo = tmp_path / "photo.png"
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (50, 70, 3), dtype=np.uint8)).save(photo)
    out = tmp_path / "run.npz"
    assert main(["trace", "--weights", str(folder), "--input", str(photo), "-o", str(out)]) == 0
    trace = Trace.load_npz(out)
    pixels = trace["input/pixels"]
    assert pixels.shape == (3, 32, 32)
    # the processor's steps by hand: bilinear resize to 32×32, /255, (x - 0.5) / 0.5
    by_hand = np.asarray(Image.open(photo).convert("RGB").resize((32, 32),
                                                                 Image.Resampling.BILINEAR))
    np.testing.assert_allclose(pixels, (by_hand.transpose(2, 0, 1) / 255 - 0.5) / 0.5,
                               atol=1e-5)
    with torch.inference_mode():
        probs = reference(pixel_values=torch.from_numpy(pixels)[None]).logits.softmax(-1)[0]
    np.testing.assert_allclose(trace["prediction/probs"], probs.numpy(), atol=1e-4)
    assert trace.meta["prediction"] == SMALL["id2label"][str(int(probs.argmax()))]
    assert trace.meta["tokens"][:3] == ["CLS", "DIST", "0"] and trace.meta["prefix_tokens"] == 2


@pytest.mark.parametrize("change, reason", [
    ({"hidden_act": "gelu_new"}, "hidden_act 'gelu_new' is not supported"),
    ({"image_size": [32, 48]}, "non-square images"),
    ({"model_type": "clip"}, "only vit, deit, swin, marian, gpt2"),
    ({"model_type": "bloom"}, "ALiBi position biases is not supported"),
    ({"qkv_bias": False}, "qkv_bias false"),
])
def test_what_cannot_be_represented_exactly_is_refused_with_the_reason(change, reason,
                                                                       tmp_path, capsys):
    folder = save(build("vit"), tmp_path / "m")
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**config, **change}))
    with pytest.raises(CheckpointError, match=reason):
        load_folder(folder)
    code = main(["trace", "--weights", str(folder), "--input", "x.png", "-o",
                 str(tmp_path / "t.npz")])
    assert code == 2 and reason in capsys.readouterr().err


def test_a_folder_without_weights_or_config_is_refused(tmp_path):
    folder = save(build("vit"), tmp_path / "m")
    (folder / "model.safetensors").unlink()
    with pytest.raises(CheckpointError, match="has no weights"):
        load_folder(folder)
    with pytest.raises(CheckpointError, match="no config.json"):
        load_folder(tmp_path)


@pytest.mark.parametrize("file, text, reason", [
    ("config.json", "{not json", "config.json is missing or not readable JSON"),
    ("config.json", "[1, 2]", "config.json is not a JSON object"),
    ("preprocessor_config.json", "{not json", "preprocessor_config.json is missing or not"),
])
def test_a_folder_with_a_broken_json_file_is_refused(file, text, reason, tmp_path):
    """Every JSON file of a folder, required or optional, is read by one reader that says
    which file is broken (a broken preprocessor_config.json used to end in a traceback)."""
    folder = save(build("vit"), tmp_path / "m")
    (folder / file).write_text(text)
    with pytest.raises(CheckpointError, match=reason):
        load_folder(folder)


# -- timm folders: the state dict under timm's names (ours) and config.json as the hub writes it

def timm_folder(folder, model, architecture, size, **config):
    from safetensors.torch import save_file

    folder.mkdir()
    save_file({k: v.contiguous() for k, v in model.state_dict().items()},
              str(folder / "model.safetensors"), metadata={"format": "pt"})
    (folder / "config.json").write_text(json.dumps({
        "architecture": architecture, "num_classes": model.cfg.num_classes,
        "pretrained_cfg": {"input_size": [3, size, size], "interpolation": "bicubic",
                           "crop_pct": 0.9, "crop_mode": "center", "mean": [0.485, 0.456, 0.406],
                           "std": [0.229, 0.224, 0.225], "num_classes": model.cfg.num_classes},
        **config}))
    return folder


def timm_like(kind: str, **values):
    from models.swin import Swin, SwinConfig
    from models.vit import ViT, ViTConfig

    torch.manual_seed(3)
    model = ViT(ViTConfig(**values)) if kind == "vit" else Swin(SwinConfig(**values))
    for p in model.parameters():  # not the initial zeros: every tensor must matter
        torch.nn.init.normal_(p, std=0.05)
    return model.eval()


@pytest.mark.parametrize("kind, values, architecture", [
    ("vit", dict(img_size=32, patch_size=8, in_chans=3, num_classes=7, embed_dim=128, depth=2,
                 num_heads=2, mlp_ratio=4.0, dropout=0.0), "vit_small_patch8_32"),
    ("vit", dict(img_size=32, patch_size=8, in_chans=3, num_classes=7, embed_dim=64, depth=2,
                 num_heads=1, mlp_ratio=4.0, dropout=0.0, distilled=True),
     "deit_tiny_distilled_patch8_32"),
    ("swin", dict(img_size=56, patch_size=4, in_chans=3, num_classes=7, embed_dim=32,
                  depths=[2, 2], num_heads=[2, 4], window_size=7, mlp_ratio=4.0, dropout=0.0),
     "swin_tiny_patch4_window7_56"),
])
def test_a_timm_folder_gets_its_config_from_the_shapes(kind, values, architecture, tmp_path):
    """The heads are not in the shapes: 64 per ViT head (timm's rule), the bias tables for
    Swin. A wrong guess would change the logits, so equal logits prove the config."""
    model = timm_like(kind, **values)
    folder = timm_folder(tmp_path / "t", model, architecture, values["img_size"],
                         label_names=[f"L{i}" for i in range(7)])
    session = load_folder(folder)
    assert session.model.cfg.to_dict() == model.cfg.to_dict()
    x = torch.randn(2, 3, values["img_size"], values["img_size"])
    with torch.inference_mode():
        torch.testing.assert_close(session.model(x), model(x), atol=1e-5, rtol=1e-5)
    assert session.labels[3] == "L3"
    prep = session.preprocessing  # timm's eval transform: resize to size / crop_pct, crop
    assert prep.shortest_edge == int(values["img_size"] / 0.9)
    assert prep.crop == (values["img_size"],) * 2 and prep.resample == "bicubic"


@pytest.mark.parametrize("extra, config, reason", [
    ({"fc_norm.weight": torch.ones(64)}, {}, "global_pool 'avg' with fc_norm"),
    ({}, {"global_pool": "avg"}, "global_pool 'avg' is not supported"),
    ({"reg_token": torch.zeros(1, 4, 64)}, {}, "register tokens"),
    ({"blocks.0.ls1.gamma": torch.ones(64)}, {}, "layer scale"),
    ({}, {"architecture": "convnext_tiny"}, "'convnext_tiny' is not supported"),
])
def test_timm_options_we_cannot_represent_are_refused(extra, config, reason, tmp_path):
    from safetensors.torch import load_file, save_file

    model = timm_like("vit", img_size=32, patch_size=8, in_chans=3, num_classes=7, embed_dim=64,
                      depth=1, num_heads=1, dropout=0.0)
    folder = timm_folder(tmp_path / "t", model, "vit_tiny_patch8_32", 32)
    tensors = {**load_file(str(folder / "model.safetensors")), **extra}
    save_file(tensors, str(folder / "model.safetensors"))
    saved = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**saved, **config}))
    with pytest.raises(CheckpointError, match=reason):
        load_folder(folder)


def test_swin_that_timm_would_pad_is_refused(tmp_path):
    model = timm_like("swin", img_size=64, patch_size=4, in_chans=3, num_classes=7,
                      embed_dim=32, depths=[2, 2], num_heads=[2, 4], window_size=8, dropout=0.0)
    folder = timm_folder(tmp_path / "s", model, "swin_tiny_patch4_window7_64", 64)
    tensors = dict(model.state_dict())
    from safetensors.torch import save_file  # window 7 tables on a 16×16 grid: needs padding

    for key in [k for k in tensors if k.endswith("relative_position_bias_table")]:
        tensors[key] = torch.zeros(13 * 13, tensors[key].shape[1])
    save_file({k: v.contiguous() for k, v in tensors.items()}, str(folder / "model.safetensors"))
    with pytest.raises(CheckpointError, match="not a multiple of window 7"):
        load_folder(folder)


def test_trace_and_an_unsupported_folder_on_the_command_line(tmp_path, capsys):
    model = timm_like("swin", img_size=56, patch_size=4, in_chans=3, num_classes=7,
                      embed_dim=32, depths=[2, 2], num_heads=[2, 4], window_size=7, dropout=0.0)
    folder = timm_folder(tmp_path / "swin", model, "swin_tiny_patch4_window7_56", 56)
    photo = tmp_path / "photo.jpg"
    Image.fromarray(np.random.default_rng(1).integers(0, 255, (90, 60, 3), np.uint8)).save(photo)
    out = tmp_path / "run.npz"
    assert main(["trace", "--weights", str(folder), "--input", str(photo), "-o", str(out)]) == 0
    trace = Trace.load_npz(out)
    with torch.inference_mode():
        probs = model(torch.from_numpy(trace["input/pixels"])[None]).softmax(-1)[0]
    np.testing.assert_allclose(trace["prediction/probs"], probs.numpy(), atol=1e-5)
    assert trace["layers.0.blocks.1.attn/weights"].shape == (4, 2, 49, 49)
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**config, "architecture": "resnet50"}))
    assert main(["trace", "--weights", str(folder), "--input", str(photo), "-o", str(out)]) == 2
    assert "'resnet50' is not supported" in capsys.readouterr().err


def test_a_bare_timm_file_named_by_arch_or_by_its_file_name(tmp_path, capsys):
    from safetensors.torch import save_file

    model = timm_like("vit", img_size=32, patch_size=8, in_chans=3, num_classes=7,
                      embed_dim=64, depth=2, num_heads=1, mlp_ratio=4.0, dropout=0.0,
                      distilled=True)
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    photo = tmp_path / "photo.png"
    Image.fromarray(np.random.default_rng(2).integers(0, 255, (40, 40, 3), np.uint8)).save(photo)
    named = tmp_path / "deit_tiny_distilled_patch8_32.fb_in1k.safetensors"
    save_file(state, str(named))
    bare = tmp_path / "weights.pth"
    torch.save(state, bare)
    out = tmp_path / "run.npz"
    for weights, extra in ((named, []), (bare, ["--arch", "deit_tiny_distilled_patch8_32"])):
        assert main(["trace", "--weights", str(weights), "--input", str(photo), "-o", str(out),
                     *extra]) == 0
        trace = Trace.load_npz(out)
        assert trace.meta["config"] == model.cfg.to_dict()
        with torch.inference_mode():
            probs = model(torch.from_numpy(trace["input/pixels"])[None]).softmax(-1)[0]
        np.testing.assert_allclose(trace["prediction/probs"], probs.numpy(), atol=1e-5)
    # timm's evaluation transform with DeiT's crop: shorter side to 32 / 0.875 = 36, crop 32
    resized = Image.open(photo).convert("RGB").resize((36, 36), Image.Resampling.BICUBIC)
    crop = np.asarray(resized.crop((2, 2, 34, 34)), np.float32) / 255
    mean, std = np.array([0.485, 0.456, 0.406]), np.array([0.229, 0.224, 0.225])
    np.testing.assert_allclose(trace["input/pixels"], ((crop - mean) / std).transpose(2, 0, 1),
                               atol=1e-5)
    assert main(["trace", "--weights", str(bare), "--input", str(photo), "-o", str(out)]) == 2
    assert "name the timm variant with --arch" in capsys.readouterr().err



def test_a_transformers_swin_gives_the_reference_logits(tmp_path):
    """HF's names and layout (patch merging at the end of a stage, q/k/v apart) onto timm's."""
    torch.manual_seed(6)
    config = transformers.SwinConfig(image_size=32, patch_size=2, num_channels=3, embed_dim=16,
                                     depths=[2, 2, 2], num_heads=[2, 4, 8], window_size=4,
                                     mlp_ratio=2.0, num_labels=5)
    reference = transformers.SwinForImageClassification(config).eval()
    session = load_folder(save(reference, tmp_path / "swin"))
    assert session.model.cfg.depths == [2, 2, 2] and session.model.cfg.num_heads == [2, 4, 8]
    trace = assert_reference_logits(session, reference, torch.randn(2, 3, 32, 32))
    assert trace["layers.0.blocks.1.attn/weights"].shape == (16, 2, 16, 16)  # shifted windows


def test_a_1000_class_model_without_names_gets_imagenets(tmp_path):
    """ImageNet-1k names (standard order) for checkpoints that carry none: index 281 is
    WordNet's n02123045, "tabby"; a model with names of its own keeps them."""
    model = timm_like("vit", img_size=32, patch_size=8, in_chans=3, num_classes=1000,
                      embed_dim=64, depth=1, num_heads=1, dropout=0.0)
    session = load_folder(timm_folder(tmp_path / "t", model, "vit_tiny_patch8_32", 32))
    assert len(session.labels) == 1000 and session.labels[281] == "tabby"
    assert session.labels[0] == "tench" and session.labels[207] == "golden retriever"
    assert load_folder(save(build("vit"), tmp_path / "named")).labels[1] == "bee"
    torch.manual_seed(0)
    plain = {k: v for k, v in SMALL.items() if k not in ("num_labels", "id2label")}
    hf_default = transformers.ViTForImageClassification(  # id2label: LABEL_0 … LABEL_999
        transformers.ViTConfig(**plain, num_labels=1000))
    assert load_folder(save(hf_default, tmp_path / "hf")).labels[281] == "tabby"
