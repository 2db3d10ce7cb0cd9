"""Every option of every command against bad values: one clean line on stderr, exit code 2,
never a traceback, never a raw control byte (issue 12). Run in-process: `main(argv)`."""
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import save_file

from main import main
from models.presets import PRESETS
from models.session import build_model
from tests.models import hostile

ROOT = Path(__file__).resolve().parents[2]
DIGIT = str(ROOT / "resources" / "samples" / "digits" / "digit_3.png")


def raw_pickle(path: Path) -> str:
    """A state dict pickled the old way (no zip archive): torch warns before refusing it."""
    import pickle

    with open(path, "wb") as f:
        pickle.dump({"w": [1, 2, 3]}, f, protocol=4)
    return str(path)


def weights_file(path: Path, preset: str, config=None, tensors=None, raw_meta=None) -> str:
    model = build_model(PRESETS[preset])
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    state.update(tensors or {})
    meta = raw_meta if raw_meta is not None else {
        "preset": json.dumps(preset), "config": json.dumps(config or PRESETS[preset].config)}
    save_file(state, str(path), metadata=meta)
    return str(path)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("bad")
    (d / "text.png").write_text("not an image")
    (d / "junk.safetensors").write_bytes(b"\x80\x04\x95 not safetensors")
    huge = d / "huge.png"  # 9,999 × 9,999: refused from the header, never decoded
    Image.new("1", (9999, 9999)).save(huge)
    vit = dict(PRESETS["vit-digits"].config)
    nan = build_model(PRESETS["vit-digits"]).state_dict()["head.weight"].clone()
    nan[0, 0] = float("nan")
    nan_head = hostile.small_vit().state_dict()["head.weight"].clone()
    nan_head[0, 0] = float("nan")
    return {
        **hostile_folders(d),
        **hostile_sessions(d),
        "raw_pickle": raw_pickle(d / "raw.pth"),
        "nested_meta": weights_file(d / "deep.safetensors", "vit-digits",
                                    raw_meta={"config": hostile.nested()}),
        "nan_folder": str(hostile.timm_vit(d / "nan-folder", tensors={"head.weight": nan_head})),
        "dir": str(d),
        "text_png": str(d / "text.png"),
        "huge_png": str(huge),
        "junk": str(d / "junk.safetensors"),
        "unknown_key": weights_file(d / "k.safetensors", "vit-digits", {**vit, "colour": 3}),
        "zero_heads": weights_file(d / "z.safetensors", "vit-digits", {**vit, "num_heads": 0}),
        "list_heads": weights_file(d / "l.safetensors", "vit-digits", {**vit, "depth": [4]}),
        "not_dividing": weights_file(d / "n.safetensors", "vit-digits", {**vit, "num_heads": 5}),
        "not_object": weights_file(d / "o.safetensors", "vit-digits",
                                   raw_meta={"config": json.dumps([1, 2])}),
        "wrong_shape": weights_file(d / "w.safetensors", "vit-digits", {**vit, "depth": 3}),
        "nan": weights_file(d / "nan.safetensors", "vit-digits", tensors={"head.weight": nan}),
    }


# Model folders that read but must not open (issue 22): name -> (kind, config.json changes,
# preprocessor_config.json changes)
TIMM_CFG = {"input_size": [3, 32, 32], "interpolation": "bicubic", "mean": [0.5] * 3,
            "std": [0.5] * 3}
HOSTILE_FOLDERS = {
    "heads_3": ("hf", {"num_attention_heads": 3}, {}),
    "heads_0": ("hf", {"num_attention_heads": 0}, {}),
    # sizes with no upper limit: 10.6 GB, 3.8 GB and 4.4 GB before they were refused
    "crop_pct": ("timm", {"pretrained_cfg": {**TIMM_CFG, "crop_pct": 0.005}}, {}),
    "prep_30000": ("hf", {}, {"size": {"height": 30000, "width": 30000}}),
    "layers_100000": ("hf", {"num_hidden_layers": 100000}, {}),
    # wrong types: once "unexpected …: a bug"
    "eps_words": ("hf", {"layer_norm_eps": "tiny"}, {}),
    "hidden_words": ("hf", {"hidden_size": "sixty-four"}, {}),
    "heads_words": ("timm", {"num_heads": "three"}, {}),
    "arch_number": ("timm", {"architecture": 5}, {}),
    "input_size_words": ("timm", {"pretrained_cfg": {**TIMM_CFG, "input_size": "big"}}, {}),
    "resample_list": ("hf", {}, {"resample": [2]}),
    "nested_config": ("nested", {}, {}),
}


def hostile_folders(d: Path) -> dict:
    made = {}
    for name, (kind, config, prep) in HOSTILE_FOLDERS.items():
        folder = d / f"folder-{name}"
        if kind == "hf":
            hostile.hf_vit(folder, config, prep)
        elif kind == "timm":
            hostile.timm_vit(folder, config)
        else:  # config.json nested 200,000 deep: json raises RecursionError
            hostile.hf_vit(folder)
            (folder / "config.json").write_text(hostile.nested())
        made[name] = str(folder)
    return made


HOSTILE_SESSIONS = {  # once "unexpected …: a bug", or a window that then failed
    "heads_off_text": {"interventions": {"heads_off": "abc"}},
    "heads_off_string_head": {"interventions": {"heads_off": [["encoder.layers.0.self_attn",
                                                               "1"]]}},
    "arch_number": {"preset": "gone", "model": {"source": DIGIT, "arch": 5}},
    "tour_lang_path": {"tour": {"lang": "../../../README", "step": 0}},
    "empty_text": {"zoom": 2.5, "input": {"text": ""}},
}


def hostile_sessions(d: Path) -> dict:
    made = {}
    for name, change in HOSTILE_SESSIONS.items():
        data = {"app": "transformer-explorer", "version": 1, "preset": "translate",
                "input": {"text": "the cat sleeps"}, **change}
        made[f"session_{name}"] = str(d / f"{name}.json")
        Path(made[f"session_{name}"]).write_text(json.dumps(data))
    made["session_nested"] = str(d / "nested.json")
    Path(made["session_nested"]).write_text(hostile.nested())
    return made


def cases(f):
    out = "{dir}/out.npz"
    trace = ["trace", "--preset", "translate", "--input", "the cat sleeps", "-o", out]
    trace_vit = ["trace", "--preset", "vit-digits", "--input", DIGIT, "-o", out]
    shot = ["shot", "--preset", "vit-digits", "--input", DIGIT, "-o", "{dir}/x.png"]

    def with_(base, option, value):
        argv = list(base)
        if option in argv:
            argv[argv.index(option) + 1] = value
        else:
            argv += [option, value]
        return argv

    yield ["--preset", "nope"]
    yield ["--device", "quantum"]
    yield ["--preset", "\x1b[31mred\x07"]
    yield ["nope-command"]
    yield ["trace"]  # required options missing
    for value in ("nope", "", "\x07bell"):
        yield with_(trace, "--preset", value)
    for value in ("gpu", "", "\x1b[2J"):
        yield with_(trace, "--device", value)
    for value in ("", "   ", "the cat " * 40, "\x07\x1b"):
        yield with_(trace, "--input", value)
    for value in ("/no/such.png", "{dir}", "{text_png}", "{huge_png}", "bad\x1b[2Jname.png"):
        yield with_(trace_vit, "--input", value)
    for value in ("{dir}", "/no/such/folder/out.npz"):
        yield with_(trace, "-o", value)
    for key in ("dir", "junk", "unknown_key", "zero_heads", "list_heads", "not_dividing",
                "not_object", "wrong_shape", "nan", "raw_pickle", "nested_meta"):
        yield with_(trace_vit, "--weights", f"{{{key}}}")
        yield ["eval", "--preset", "vit-digits", "--weights", f"{{{key}}}"]
    yield with_(trace_vit, "--weights", "/no/such.safetensors")
    for value in ("0", "-3", "many", ""):
        yield ["eval", "--preset", "vit-digits", "--limit", value]
    yield ["eval", "--preset", "nope"]
    yield ["eval", "--preset", "vit-digits", "--device", "tpu"]
    for option, value in (("--preset", "nope"), ("--panel", "nope"), ("--kind", "nope"),
                          ("--site", "nope"), ("--layer", "-1"), ("--layer", "99"),
                          ("--layer", "x"), ("--head", "99"), ("--query", "999"),
                          ("--key", "999"), ("--window", "3"), ("--window", "-1"),
                          ("--size", "0x0"), ("--size", "abc"), ("--size", "99999x99999"),
                          ("--input", "/no/such.png"), ("--input", "{huge_png}"),
                          ("--device", "gpu"), ("-o", "/no/such/folder/x.png")):
        yield with_(shot, option, value)
    for key in ["nan_folder", *HOSTILE_FOLDERS]:
        yield ["--weights", f"{{{key}}}"]  # the app: exit 2 with the reason, no window
        yield ["trace", "--weights", f"{{{key}}}", "--input", DIGIT, "-o", out]
    for key in [*HOSTILE_SESSIONS, "nested"]:
        yield ["--session", f"{{session_{key}}}"]
        yield ["export", "--session", f"{{session_{key}}}", "--panel", "attention", "-o",
               "{dir}/x.png"]
    yield ["bench", "--preset", "nope"]
    yield ["bench", "--edits", "0"]
    yield ["bench", "--edits", "x"]


def case_id(argv):
    return " ".join(argv)[:70].encode("unicode_escape").decode()


ALL = list(cases({}))


@pytest.mark.parametrize("argv", ALL, ids=[case_id(a) for a in ALL])
def test_every_bad_value_gives_one_clean_line_and_exit_code_2(argv, files, capsys, qapp):
    argv = [a.format(**files) for a in argv]
    try:
        code = main(argv)
    except SystemExit as stop:  # argparse
        code = stop.code
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert code == 2, captured.err
    assert len(lines) == 1 and lines[0].startswith("error: "), captured.err
    assert "Traceback" not in captured.err
    assert not any(c in captured.err for c in "\x07\x1b"), repr(captured.err)


def test_trace_writes_exactly_the_path_it_names(tmp_path, capsys):
    target = tmp_path / "run"  # no .npz suffix
    assert main(["trace", "--preset", "reverse", "--input", "abc", "-o", str(target)]) == 0
    assert target.is_file() and not (tmp_path / "run.npz").exists()
    assert f"wrote {target}" in capsys.readouterr().out
    with np.load(target, allow_pickle=False) as data:
        assert "meta" in data.files


def test_eval_with_a_limit_of_one(capsys):
    assert main(["eval", "--preset", "vit-digits", "--limit", "1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["heldout"] == 1


def test_own_weights_file_is_used(tmp_path, capsys):
    """--weights with a good file of ours: the model is the file's (a random one here)."""
    path = weights_file(tmp_path / "mine.safetensors", "vit-digits")
    assert main(["trace", "--preset", "vit-digits", "--input", DIGIT, "--weights", path,
                 "-o", str(tmp_path / "t.npz")]) == 0
    model = build_model(PRESETS["vit-digits"])
    from models.checkpoints.ours import read_checkpoint

    tensors, _ = read_checkpoint(path)
    model.load_state_dict(tensors)
    model.eval()
    from models.trace import Trace

    trace = Trace.load_npz(tmp_path / "t.npz")
    with torch.inference_mode():
        logits = model(torch.from_numpy(trace["input/image"])[None, None])[0]
    np.testing.assert_allclose(trace["prediction/probs"], logits.softmax(-1).numpy(), atol=1e-5)


SIZE_CASES = ["crop_pct", "prep_30000", "layers_100000"]


@pytest.mark.parametrize("case", SIZE_CASES + ["raw_pickle"])
def test_sizes_are_refused_before_memory_is_spent(case, files, tmp_path):
    """In a process of its own, whose peak memory is read at its end: a refused size costs
    no more than starting the program (these cases once peaked at 3.8 to 10.6 GB). A raw
    pickle: one line on stderr, torch's warning about it not among them."""
    import subprocess
    import sys

    photo = str(ROOT / "resources" / "samples" / "photos" / "cat.jpg")
    argv = ["trace", "--input", photo, "-o", str(tmp_path / "t.npz")] + (
        ["--preset", "vit-digits", "--weights", files[case]] if case == "raw_pickle"
        else ["--weights", files[case]])
    # VmHWM, the peak of this process's own memory (ru_maxrss would start from pytest's: it
    # is kept across fork and exec)
    program = ("import sys\nfrom main import main\ncode = main(sys.argv[1:])\n"
               "status = open('/proc/self/status').read().split('VmHWM:')[1]\n"
               "print(int(status.split()[0]) // 1024)\nsys.exit(code)")
    done = subprocess.run([sys.executable, "-c", program, *argv], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    peak_mb = int(done.stdout.split()[-1])
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1 and lines[0].startswith("error: "), \
        done.stderr
    assert "…" not in lines[0][-3:] and "Warning" not in done.stderr
    print(f"{case}: peak RSS {peak_mb} MB")
    assert peak_mb < 1500, f"{case}: peak RSS {peak_mb} MB"
