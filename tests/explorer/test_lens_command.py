"""The `lens` and `heads` commands: their JSON, and one clean line (exit 2) for a bad value."""
import json

import pytest

from explorer.cli import main
from models.presets import PRESETS

INDUCTION = PRESETS["induction"].default_input
DIGIT = "resources/samples/digits/digit_4.png"


def test_lens_json_has_the_documented_fields(capsys):
    assert main(["lens", "--preset", "induction", "--input", INDUCTION, "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    n = len(INDUCTION.split()) + 1  # <bos> and the words
    assert found["position"] == n - 1 and found["minus"] is None
    assert [layer["name"] for layer in found["layers"]] == ["embed", "layers.0.attn",
                                                            "layers.1.attn"]
    assert found["target"] == found["layers"][-1]["top"][0][0]
    parts = found["attribution"]["parts"]
    assert abs(sum(p["value"] for p in parts) - found["attribution"]["value"]) < 1e-4


def test_lens_target_minus_by_word_and_by_class(capsys):
    assert main(["lens", "--preset", "induction", "--input", INDUCTION, "--target", "tree",
                 "--minus", "dog", "--position", "3", "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert found["position"] == 3 and found["minus"] is not None
    assert main(["lens", "--preset", "vit-digits", "--input", DIGIT, "--target", "9"]) == 0
    assert "target 9" in capsys.readouterr().out


def test_heads_json_names_roles(capsys):
    assert main(["heads", "--preset", "induction", "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert "induction" in found["sites"]["layers.1.attn"]["roles"]
    assert "previous_token" in found["sites"]["layers.0.attn"]["roles"]


@pytest.mark.parametrize("extra", [["--position", "99"], ["--position", "-1"],
                                   ["--position", "x"], ["--target", "zebra"],
                                   ["--target", "99999"], ["--minus", "\x1b[2J"]])
def test_bad_values_are_one_line_and_exit_2(extra, capsys):
    assert_exit_2(["lens", "--preset", "induction", "--input", INDUCTION, *extra], capsys)


def test_a_classifier_takes_no_position(capsys):
    assert_exit_2(["lens", "--preset", "vit-digits", "--input", DIGIT, "--position", "1"],
                  capsys)
    assert_exit_2(["heads", "--preset", "nope"], capsys)


def assert_exit_2(argv, capsys):
    try:
        code = main(argv)
    except SystemExit as done:
        code = done.code
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("error:") and err.count("\n") == 1 and "\x1b" not in err
