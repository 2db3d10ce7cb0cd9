"""`python main.py trace` writes a file that satisfies the trace contract (docs/trace-format.md)."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from main import main
from models.presets import PRESETS
from models.trace import Trace

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_DIGIT = str(ROOT / "resources" / "samples" / "digits" / "digit_3.png")


def sample_input(name):
    return PRESETS[name].default_input if PRESETS[name].input_kind == "text" else SAMPLE_DIGIT


@pytest.mark.parametrize("name", list(PRESETS))
def test_trace_file_satisfies_the_contract(name, tmp_path):
    out = tmp_path / "t.npz"
    assert main(["trace", "--preset", name, "--input", sample_input(name), "-o", str(out)]) == 0
    trace = Trace.load_npz(out)
    meta = trace.meta
    assert meta["preset"] == name and meta["arch"] == PRESETS[name].arch
    assert meta["config"] and meta["sites"] and meta["prediction"] != ""
    with np.load(out, allow_pickle=False) as raw:  # readable without our code
        json.loads(str(raw["meta"]))
    for site, info in meta["sites"].items():
        q, k, v = (trace[f"{site}/{x}"] for x in "qkv")
        scores, weights, out_ = (trace[f"{site}/{x}"] for x in ("scores", "weights", "out"))
        H = info["heads"]
        if info["kind"] == "window":
            nW, N = info["num_windows"], info["window_size"] ** 2
            assert q.shape == (nW, H, N, info["head_dim"])
            assert scores.shape == weights.shape == (nW, H, N, N)
            assert trace[f"{site}/bias"].shape == (H, N, N)
            assert (f"{site}/mask" in trace) == (info["shift"] > 0)
            assert len(info["resolution"]) == 2
        else:
            assert q.shape[0] == H and q.shape[-1] == info["head_dim"]
            assert scores.shape == weights.shape == (H, q.shape[1], k.shape[1])
        np.testing.assert_allclose(scores, q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1]),
                                   rtol=1e-4, atol=1e-5)
        logits = scores + trace.get(f"{site}/bias", 0) + trace.get(f"{site}/mask", 0)
        expected = np.exp(logits - logits.max(-1, keepdims=True))
        expected /= expected.sum(-1, keepdims=True)
        np.testing.assert_allclose(weights, expected, atol=1e-5)
        np.testing.assert_allclose(out_, weights @ v, atol=1e-5)
    if PRESETS[name].arch == "transformer":
        assert any("pos" in k and trace[k].ndim == 2 for k in trace.keys())
        assert len(meta["source_tokens"]) == trace["encoder.layers.0.self_attn/q"].shape[1]
    elif PRESETS[name].arch == "decoder":  # a language model: ids, and a row per position
        n = len(meta["tokens"])
        assert trace["input/ids"].shape == (n,) == trace["layers.0.attn/q"].shape[1:2]
        assert trace["prediction/probs"].shape == (n, meta["config"]["vocab_size"])
    else:
        assert trace["input/image"].shape == (32, 32)
        assert len(meta["probs"]) == 10


def run_cli(*args):
    return subprocess.run([sys.executable, "main.py", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)


@pytest.mark.parametrize("args, message", [
    (["trace", "--preset", "nope", "--input", "x"], "unknown preset"),
    (["trace", "--preset", "vit-digits", "--input", "/no/such.png"], "no such image"),
    (["trace", "--preset", "translate", "--input", "   "], "empty"),
    (["trace", "--preset", "translate", "--input", "the cat " * 30], "at most"),
    (["trace", "--preset", "translate", "--input", "the zorg sleeps"], "zorg"),
    (["trace", "--preset", "translate", "--input", "a", "--device", "quantum"], "unknown device"),
    (["trace", "--preset", "translate", "--input", "a", "--untrained", "--weights", "w.pt"],
     "does not go with --weights"),
])
def test_bad_input_is_one_clear_line_and_exit_2(args, message, tmp_path):
    result = run_cli(*args, "-o", str(tmp_path / "t.npz"))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in result.stderr


def test_unreadable_image_is_reported(tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n this is not really a png")
    result = run_cli("trace", "--preset", "swin-digits", "--input", str(bad), "-o",
                     str(tmp_path / "t.npz"))
    assert result.returncode == 2 and "not a readable image" in result.stderr


def test_presets_command_lists_every_preset():
    result = run_cli("presets")
    assert result.returncode == 0
    for name in PRESETS:
        assert name in result.stdout


def test_gui_launch_with_a_bad_preset_or_device_says_why():
    result = run_cli("--preset", "nope")
    assert result.returncode == 2 and "unknown preset" in result.stderr
    result = run_cli("--device", "quantum")
    assert result.returncode == 2 and "unknown device" in result.stderr
