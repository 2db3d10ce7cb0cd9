"""The command line lives in the package (explorer/cli.py, explorer/commands.py): the
checkout's main.py only hands over to it, and the commands that need no window load no Qt."""
import ast
import subprocess
import sys
from pathlib import Path

import pytest

from explorer import cli
from models.errors import UsageError, UserMessageError

ROOT = Path(__file__).resolve().parents[2]
QT = ("PySide6", "shiboken6", "pyqtgraph")


def test_main_py_is_a_shim_over_the_package():
    import main

    assert main.main is cli.main
    tree = ast.parse((ROOT / "main.py").read_text(encoding="utf-8"))
    functions = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef))]
    assert functions == []


@pytest.mark.parametrize("command", ["presets", "trace"])
def test_commands_without_a_window_load_no_qt(command, tmp_path):
    argv = [command] + (["--preset", "reverse", "--input", "abc", "-o", str(tmp_path / "t.npz")]
                        if command == "trace" else [])
    program = ("import sys\nfrom explorer.cli import main\ncode = main(sys.argv[1:])\n"
               f"loaded = [m for m in sys.modules if m.split('.')[0] in {QT!r}]\n"
               "print(loaded, file=sys.stderr)\nsys.exit(code or (1 if loaded else 0))\n")
    done = subprocess.run([sys.executable, "-c", program, *argv], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip()


def test_a_usage_error_is_one_line_and_exit_code_2(capsys):
    assert issubclass(UsageError, UserMessageError)
    code = cli.main(["trace", "--input", "x", "-o", "t.npz", "--intervention", "nope"])
    err = capsys.readouterr().err
    assert code == 2
    assert err == ("error: unknown intervention 'nope' (choose from: bottleneck, no_mask, "
                   "no_bias, no_position, head_off, head_mean, mlp_off)\n")


def test_shared_options_are_declared_once():
    """--device, --untrained, --intervention…: one parent parser each, the same option in
    every command that takes it."""
    parser = cli.build_parser()
    commands = parser._subparsers._group_actions[0].choices
    for option, names in (("--device", ["trace", "eval", "shot", "export"]),
                          ("--untrained", ["trace", "eval", "shot", "export"]),
                          ("--intervention", ["trace", "eval", "shot"]),
                          ("--json", ["eval", "soak", "bench"]),
                          ("--arch", ["trace", "shot", "export", "bench"])):
        actions = {id(commands[n]._option_string_actions[option]) for n in names}
        assert len(actions) == 1, option


# -- patch (models/patching.py) -----------------------------------------------------------
PATCH_CLEAN = ("happy dog run park green tree big bird sing rain happy dog run park green "
               "tree big bird")
PATCH_CORRUPT = PATCH_CLEAN.replace("big bird sing", "big cat sing")


def test_patch_writes_the_sweep_as_json_and_npz(capsys, tmp_path):
    import json

    import numpy as np

    from models.patching import sweep
    from models.session import load_preset

    out = tmp_path / "scores"  # (no .npz: written under exactly this name)
    assert cli.main(["patch", "--preset", "induction", "--clean", PATCH_CLEAN, "--corrupt",
                     PATCH_CORRUPT, "--sweep", "heads-by-pos", "--targets", "sing,happy",
                     "--json", "-o", str(out)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {"sweep", "targets", "target_names", "clean", "corrupt", "rows",
                         "columns", "cells"}
    assert data["sweep"] == "heads-by-pos" and data["target_names"] == ["sing", "happy"]
    assert data["rows"] == ["0 h0", "0 h1", "1 h0", "1 h1"] and len(data["columns"]) == 19
    expected = sweep(load_preset("induction"), PATCH_CLEAN, PATCH_CORRUPT, "heads-by-pos",
                     targets=("sing", "happy"))
    assert [c["score"] for c in data["cells"]] == pytest.approx(
        expected.scores.ravel().tolist(), abs=1e-6)
    with np.load(out, allow_pickle=False) as saved:
        np.testing.assert_allclose(saved["scores"], expected.scores, atol=1e-6)
        assert saved["rows"].tolist() == data["rows"]
        assert json.loads(str(saved["json"]))["cells"] == data["cells"]


def test_patch_refuses_inputs_of_different_lengths_in_one_line(capsys):
    code = cli.main(["patch", "--preset", "induction", "--clean", PATCH_CLEAN, "--corrupt",
                     "happy dog", "--sweep", "heads"])
    assert code == 2
    assert capsys.readouterr().err == ("error: the clean input has 19 tokens and the "
                                       "corrupted one 3: patching needs the same number in "
                                       "both\n")
    with pytest.raises(SystemExit) as stopped:  # (argparse: usage errors exit at once)
        cli.main(["patch", "--preset", "induction", "--clean", PATCH_CLEAN, "--corrupt",
                  PATCH_CORRUPT, "--sweep", "heads", "--targets", "sing"])
    assert stopped.value.code == 2
    assert "give two targets as A,B" in capsys.readouterr().err


def test_patch_path_prints_one_senders_score_and_a_sweep_of_them(capsys):
    """--sweep path: one sender head's score into the receiver's keys equals
    models.patching.path_patch; without --sender every earlier head is a cell."""
    import json

    from models.patching import path_patch
    from models.session import load_preset

    common = ["patch", "--preset", "induction", "--clean", PATCH_CLEAN, "--corrupt",
              PATCH_CORRUPT, "--sweep", "path", "--receiver", "layers.1.attn:1", "--part",
              "k", "--json"]
    assert cli.main(common + ["--sender", "layers.0.attn:1"]) == 0
    one = json.loads(capsys.readouterr().out)
    session = load_preset("induction")
    expected = path_patch(session, PATCH_CLEAN, PATCH_CORRUPT, ("layers.0.attn", 1),
                          ("layers.1.attn", 1), "k")
    assert one["score"] == pytest.approx(expected, abs=1e-6) and one["score"] > 0.2
    assert one["sender"] == ["layers.0.attn", 1] and one["receiver"] == ["layers.1.attn", 1]
    assert one["part"] == "k" and len(one["cells"]) == 1
    assert cli.main(common) == 0
    every = json.loads(capsys.readouterr().out)
    assert every["rows"] == ["0"] and every["columns"] == ["0", "1"]
    scores = {c["head"]: c["score"] for c in every["cells"]}
    assert scores[1] == pytest.approx(expected, abs=1e-6)
    assert scores[0] == pytest.approx(path_patch(
        session, PATCH_CLEAN, PATCH_CORRUPT, ("layers.0.attn", 0), ("layers.1.attn", 1),
        "k"), abs=1e-6)
    # the user's mistakes: one line each, exit code 2
    assert cli.main(common[:-5] + ["--json"]) == 2
    assert "--sweep path needs --receiver" in capsys.readouterr().err
    assert cli.main(common[:-6] + ["heads", "--part", "k"]) == 2
    assert "go with --sweep path" in capsys.readouterr().err
    assert cli.main(common + ["--sender", "layers.1.attn:0"]) == 2
    assert "must come after the sender" in capsys.readouterr().err


def test_corpus_writes_a_folder_and_refuses_bad_input_in_one_line(tmp_path, capsys):
    """`corpus`: a summary line on stdout (the bar on stderr), the folder's files; a source
    without the field and --workers without --ray are one line each, exit code 2."""
    import json

    source = tmp_path / "in.txt"
    source.write_text("happy dog run park happy dog run\n\nfather tall sofa father tall\n")
    out = tmp_path / "out"
    code = cli.main(["corpus", "--preset", "induction", "--inputs", str(source), "--out",
                     str(out), "--points", "4", "--batch", "2"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert captured.out == f"2 of 3 inputs written to {out} in " \
        f"{json.loads((out / 'report.json').read_text())['seconds']:.1f} s; skipped: 1 empty\n"
    assert "3/3" in captured.err  # the progress bar
    assert {p.name for p in out.iterdir()} >= {"meta.json", "heads", "inputs",
                                               "points.parquet", "report.json"}
    jsonl = tmp_path / "in.jsonl"
    jsonl.write_text('{"body": "x"}\n')
    for argv, message in (
            (["--inputs", str(jsonl)], f"error: {jsonl} has no field 'text' (its records "
                                       "have: body); name one with --field\n"),
            (["--inputs", str(source), "--workers", "3"],
             "error: --workers counts Ray's actors: it goes with --ray\n")):
        code = cli.main(["corpus", "--preset", "induction", "--out", str(tmp_path / "o2"),
                         *argv])
        assert code == 2
        assert capsys.readouterr().err == message
    assert not (tmp_path / "o2").exists()
