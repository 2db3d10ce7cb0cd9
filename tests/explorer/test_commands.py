"""`shot`, `panels` and `bench` from the command line."""
import json
import subprocess
import sys
from pathlib import Path

from PySide6 import QtGui

ROOT = Path(__file__).resolve().parents[2]


def run(*args, timeout=300):
    return subprocess.run([sys.executable, "main.py", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout,
                          env={**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen"})


def test_panels_lists_the_panel_names():
    result = run("panels")
    assert result.returncode == 0
    assert {"attention", "tokens", "prediction"} <= set(result.stdout.split())


def test_shot_writes_the_window_and_a_panel(tmp_path):
    whole, panel = tmp_path / "window.png", tmp_path / "panel.png"
    result = run("shot", "--preset", "swin-digits", "--input",
                 str(ROOT / "resources/samples/digits/digit_7.png"), "--layer", "1",
                 "--head", "1", "--query", "5", "-o", str(whole))
    assert result.returncode == 0, result.stderr
    result = run("shot", "--preset", "translate", "--input", "the dog sleeps",
                 "--panel", "attention", "-o", str(panel))
    assert result.returncode == 0, result.stderr
    window_image, panel_image = QtGui.QImage(str(whole)), QtGui.QImage(str(panel))
    assert window_image.width() >= 1200 and window_image.height() >= 700
    assert 0 < panel_image.width() < window_image.width()


def test_shot_reports_bad_requests(tmp_path):
    result = run("shot", "--preset", "vit-digits", "--panel", "nope", "-o", str(tmp_path / "x.png"))
    assert result.returncode == 2 and "unknown panel" in result.stderr
    result = run("shot", "--preset", "vit-digits", "--head", "9", "-o", str(tmp_path / "x.png"))
    assert result.returncode == 2 and "head 9" in result.stderr


def test_bench_json_has_every_field():
    result = run("bench", "--json", "--preset", "reverse", "--edits", "3")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert {"cpu", "threads", "torch"} <= set(report["machine"])
    figures = report["presets"]["reverse"]["cpu"]
    for field in ("forward_ms", "forward_traced_ms", "redraw_ms", "input_to_pixels_ms",
                  "hover_ms"):
        assert set(figures[field]) == {"median", "p95"}
        assert figures[field]["median"] > 0
    assert figures["peak_mem_mb"] > 0
    # hovers taken while a patching sweep of A against B runs on the model's worker
    during = figures["hover_during_sweep_ms"]
    assert during["n"] >= 1 and during["median"] > 0


def test_bench_measures_a_language_model_at_each_length(tmp_path):
    """`bench --weights FOLDER --tokens …` in issue 18's layout: per length, the input really
    has that many tokens, and the app's own peak memory (a process of its own) is reported."""
    from tests.models.lm_folders import build

    folder = tmp_path / "gpt2"
    build("gpt2", folder, n_positions=300)
    result = run("bench", "--weights", str(folder), "--tokens", "24,96", "--edits", "2",
                 "--json")
    assert result.returncode == 0, result.stderr
    lengths = json.loads(result.stdout)["lengths"]
    assert set(lengths) == {"24", "96"}
    for asked, figures in lengths.items():
        assert int(asked) - 4 <= figures["tokens"] <= int(asked)  # whole words, cut to N
        for field in ("forward_ms", "traced_ms", "hover_ms"):
            assert figures[field]["median"] > 0
        assert set(figures["input_to_pixels_ms"]) == {"median", "p95"}
        assert 100 < figures["peak_rss_mb"] < 4000  # the child's VmHWM, in MB
    assert lengths["96"]["trace_mb"] > 3 * lengths["24"]["trace_mb"]  # linear in N, not 0
