"""Task: what differs per task lives in models/tasks/task.py, and nowhere outside models/
branches on a task's name."""
import ast
import pickle
import re
from pathlib import Path

import pytest

from models.catalog import CATALOG
from models.errors import CheckpointError, InputError
from models.presets import PRESETS
from models.session import load_preset
from models.tasks.task import TASKS, get_task

ROOT = Path(__file__).resolve().parents[2]
TASK_NAMES = set(TASKS)


def test_every_preset_names_a_known_task():
    for preset in PRESETS.values():
        assert preset.task_info is get_task(preset.task)


def test_splitting_and_joining_follow_the_task():
    translation, reverse = get_task("translation"), get_task("reverse")
    assert translation.split("The cat, sleeps!") == ["the", "cat", "sleeps"]
    assert reverse.split("Ab 1") == ["a", "b", "1"]
    assert (translation.joiner, reverse.joiner) == (" ", "")
    # typing: word by word, or character by character
    assert translation.typing("the cat sleeps") == ["the", "the cat", "the cat sleeps"]
    assert reverse.typing("abc") == ["a", "ab", "abc"]


def test_empty_input_messages_are_the_tasks():
    with pytest.raises(InputError, match=r"^the input is empty: type a sentence$"):
        load_preset("translate").run("  ,!")
    with pytest.raises(InputError, match=r"^the input is empty: type some characters$"):
        load_preset("reverse").run("   ")


def test_samples_are_the_shipped_files_lines():
    samples = ROOT / "resources" / "samples"
    lines = [x.strip() for x in (samples / "sentences.txt").read_text().splitlines() if x.strip()]
    assert PRESETS["translate"].samples == lines
    # a preset's own sample file wins over its task's
    induction = [x.strip() for x in (samples / "induction.txt").read_text().splitlines()
                 if x.strip()]
    assert PRESETS["induction"].samples == induction
    assert get_task("causal-lm").first_input == (samples / "causal_lm.txt").read_text(
        ).splitlines()[0]
    assert "[MASK]" in get_task("masked-lm").first_input
    assert get_task("digits").samples() == []


def test_only_causal_language_models_generate():
    assert {n for n, t in TASKS.items() if t.generates} == {"causal-lm"}
    assert {n for n, t in TASKS.items() if t.language_model} == {"causal-lm", "masked-lm"}


def test_the_reversal_joins_characters_and_translation_words():
    assert load_preset("reverse").run("abc12").meta["prediction"] == "21cba"
    words = load_preset("translate").run("the small cat sees the big dog").meta["prediction"]
    assert " " in words and words == " ".join(words.split())


def _task_branches(path: Path) -> list[str]:
    """Comparisons of a task with a task's name, or membership tests of a task:
    `preset.task == "causal-lm"`, `meta["task"] != "digits"`, `task in LM_TASKS`."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Compare):
            continue
        parts = [node.left, *node.comparators]
        names = {c.value for p in parts for c in ast.walk(p)
                 if isinstance(c, ast.Constant) and isinstance(c.value, str)}
        mentions_task = any("task" in ast.unparse(p).lower() for p in parts)
        if mentions_task and (names & TASK_NAMES or any(
                isinstance(op, (ast.In, ast.NotIn)) for op in node.ops)):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node)}")
    return found


def test_no_task_name_branches_outside_models():
    files = [ROOT / "main.py", *sorted((ROOT / "explorer").rglob("*.py"))]
    found = [hit for f in files for hit in _task_branches(f)]
    # the same with the plain pattern reviewers grep for
    pattern = re.compile(r"task *(==|in |!=)")
    found += [f"{f.relative_to(ROOT)}:{i}: {line.strip()}" for f in files
              for i, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1)
              if pattern.search(line) and not line.lstrip().startswith("#")]
    assert found == []


def test_the_scan_finds_a_branch(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text('if preset.task == "causal-lm":\n    pass\n'
                     'ok = meta["task"] in names\nfine = folder == "digits"\n')
    global ROOT
    saved, ROOT = ROOT, tmp_path
    try:
        assert len(_task_branches(probe)) == 2
    finally:
        ROOT = saved


def test_errors_keep_their_template_and_values():
    error = InputError("the input has {n} tokens; this model takes at most {limit}", n=60,
                       limit=47)
    assert str(error) == "the input has 60 tokens; this model takes at most 47"
    assert error.template == "the input has {n} tokens; this model takes at most {limit}"
    assert error.params == {"n": 60, "limit": 47}
    copy = pickle.loads(pickle.dumps(error))
    assert (type(copy), str(copy), copy.params) == (InputError, str(error), error.params)
    plain = CheckpointError("a {brace} without values")
    assert (str(plain), plain.template, plain.params) == ("a {brace} without values",
                                                          "a {brace} without values", {})


def test_a_too_long_input_says_its_numbers():
    session = load_preset("reverse")
    limit = session.model.cfg.max_len - 1
    with pytest.raises(InputError) as caught:
        session.run("a" * (limit + 3))
    assert str(caught.value) == (f"the input has {limit + 3} tokens; this model takes at "
                                 f"most {limit}")
    assert caught.value.params == {"n": limit + 3, "limit": limit}


def test_an_opened_model_loads_from_what_its_opener_read(tmp_path):
    """The Session built while a folder was opened travels with the request: the first load
    takes it (the files are not read again), and nothing is kept anywhere else — without it,
    the load reads the folder afresh."""
    from models.opening import open_model_ready
    from tests.models.checkpoints.test_hub import timm_folder, timm_like

    model = timm_like("vit", img_size=32, patch_size=8, in_chans=3, num_classes=3,
                      embed_dim=64, depth=1, num_heads=1, dropout=0.0)
    folder = timm_folder(tmp_path / "tiny-vit", model, "vit_tiny_patch8_32", 32)
    preset, ready = open_model_ready(folder)
    try:
        assert preset.default_input == get_task("image-classification").first_input
        (folder / "model.safetensors").unlink()  # the files are gone: only `ready` can load
        session = load_preset(preset.name, ready=ready)
        assert session is ready and session.preset is preset
        with pytest.raises(CheckpointError, match="has no weights"):
            load_preset(preset.name)  # no copy of it was kept in the module
    finally:
        CATALOG.remove(preset.name)
