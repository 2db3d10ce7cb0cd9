"""Weights files as users have them: safetensors without our metadata, PyTorch .pth/.bin
state dicts (read only through torch.load(weights_only=True)), and files that must be refused
without running anything they hold."""
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from main import main
from models.checkpoints.ours import read_checkpoint
from models.errors import CheckpointError
from models.presets import PRESETS
from models.session import build_model, load_preset
from models.trace import Trace

ROOT = Path(__file__).resolve().parents[3]
DIGIT = str(ROOT / "resources" / "samples" / "digits" / "digit_3.png")
MARKER = []


class Payload:
    """What a malicious pickle would run on load; here it only leaves a mark."""

    def __reduce__(self):
        return (MARKER.append, ("unpickled!",))


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(3)
    return build_model(PRESETS["vit-digits"]).eval()


def state(model):
    return {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}


def probs_of(path, tmp_path):
    out = tmp_path / f"{Path(path).name}.npz"
    assert main(["trace", "--preset", "vit-digits", "--weights", str(path), "--input", DIGIT,
                 "-o", str(out)]) == 0
    return Trace.load_npz(out)


def expected_probs(model, trace):
    with torch.inference_mode():
        x = torch.from_numpy(trace["input/image"])[None, None]
        return model(x)[0].softmax(-1).numpy()


@pytest.mark.parametrize("kind", ["safetensors_format_pt", "pth", "bin_wrapped", "ckpt_model"])
def test_formats_load_the_same_weights(kind, model, tmp_path):
    sd = state(model)
    if kind == "safetensors_format_pt":  # what save_file writes by default and the hub serves
        path = tmp_path / "w.safetensors"
        save_file(sd, str(path), metadata={"format": "pt"})
        assert read_checkpoint(path)[1] == {"format": "pt"}
    elif kind == "pth":
        path = tmp_path / "w.pth"
        torch.save(sd, path)
    elif kind == "bin_wrapped":
        path = tmp_path / "w.bin"
        torch.save({"state_dict": sd, "epoch": 3}, path)
    else:
        path = tmp_path / "w.ckpt"
        torch.save({"model": sd, "optimizer": {"lr": 0.1}}, path)
    trace = probs_of(path, tmp_path)
    np.testing.assert_allclose(trace["prediction/probs"], expected_probs(model, trace),
                               atol=1e-5)
    session = load_preset("vit-digits", weights=path)
    for name, tensor in session.model.state_dict().items():
        torch.testing.assert_close(tensor, sd[name])


def test_a_pickle_with_objects_is_refused_and_never_runs(tmp_path):
    path = tmp_path / "evil.pth"
    with open(path, "wb") as f:
        pickle.dump({"head.weight": Payload()}, f)
    MARKER.clear()
    with pytest.raises(CheckpointError, match="safe loader"):
        read_checkpoint(path)
    assert MARKER == []  # nothing was executed
    assert main(["trace", "--preset", "vit-digits", "--weights", str(path), "--input", DIGIT,
                 "-o", str(tmp_path / "t.npz")]) == 2
    assert MARKER == []


@pytest.mark.parametrize("content, message", [
    (b"not a torch file at all", "safe loader"),
    (None, "no tensors"),
    (None, "not a state dict"),
])
def test_other_bad_pytorch_files(tmp_path, content, message):
    path = tmp_path / "bad.bin"
    if content is not None:
        path.write_bytes(content)
    elif message == "no tensors":
        torch.save({"epoch": 3}, path)
    else:
        torch.save([torch.zeros(2)], path)
    with pytest.raises(CheckpointError, match=message):
        read_checkpoint(path)


def test_a_state_dict_of_another_model_is_refused_with_the_names(model, tmp_path):
    path = tmp_path / "swin.pth"
    torch.save(state(build_model(PRESETS["swin-digits"])), path)
    with pytest.raises(CheckpointError, match="do not fit"):
        load_preset("vit-digits", weights=path)
