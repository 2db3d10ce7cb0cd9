"""Nothing the models say is left in English in the Chinese interface: every template raised
or said anywhere in models/ (refusals of a folder, refused input, notices, the grammar's
reasons, image notes) has its Chinese, and real cases driven through the window (a sentence
outside the grammar, unknown and ignored input, the seq2seq bottleneck, a photo's
conversion, refused folders, the Model view's caption, the status bar, the tour's menu
names) read in Chinese, with only technical names left as they are."""
from __future__ import annotations

import ast
import html
import json
import re
from pathlib import Path

import pytest
from PySide6 import QtWidgets

from explorer.i18n import set_language, translate_message
from explorer.tour import load_tour, menu_words
from models.errors import CheckpointError, UserMessageError
from models.tasks.translation import reference_translation
from tests.explorer.test_chinese_captions import FIELD, constant_strings, translations

ROOT = Path(__file__).resolve().parents[2]


def subclasses(cls) -> set[str]:
    return {cls.__name__}.union(*(subclasses(c) for c in cls.__subclasses__()))


# the errors of models/errors.py, and `message` (a notice, a reason: not an error)
RAISED = subclasses(UserMessageError) | {"message"}
CJK = re.compile(r"[\u4e00-\u9fff]")
# names a Chinese course uses as they are: formats, libraries, models, terms of the trade
TECHNICAL = {
    "token", "tokens", "patch", "ViT", "Swin", "rollout", "GPT", "BERT", "BertModel", "DeiT",
    "III", "timm", "safetensors", "PyTorch", "JSON", "NaN", "SwiGLU", "MLP", "RoPE", "CLS",
    "MASK", "gelu", "gelu_new", "relu", "silu", "pickle", "zip", "torch", "sentencepiece",
    "tokenizers", "transformers", "pip", "real", "mBART", "seq2seq", "Transformer", "CPU",
    "GPU", "CUDA", "MPS", "NVIDIA", "Apple", "macOS", "linear", "llama3", "absolute", "false",
    "state", "dict", "not", "cpu", "cuda", "mps", "auto", "resources", "data", "unk", "arch",
    "save", "json", "txt", "spm", "model", "source", "target", "weight", "weights", "proj",
    "head", "fc", "cls", "predictions", "vocab", "merges", "shared", "weights_only",
    "untrained", "layernorm_embedding", "config", "install", "tokenizer", "ALiBi", "RoBERTa",
    "OPT", "logit", "vit", "deit", "swin", "marian", "gpt2", "llama", "mistral", "qwen2", "bert",
    "toy-decoder", "png", "svg", "dtype", "Gemma", "gemma", "Qwen", "Phi", "Jinja",
}


def english_left(text: str) -> list[str]:
    """Words of three letters or more that are not a technical name, outside quotes and
    the values put into the message."""
    text = re.sub(r"'[^']*'|\"[^\"]*\"|\{\w*(?::[^}]*)?\}|\[[^\]]*\]", " ", text)
    words = re.findall(r"[A-Za-z][A-Za-z0-9_\-]*[A-Za-z0-9]", text)
    return [w for w in words if len(w) >= 3 and w not in TECHNICAL and "_" not in w
            and not w.isupper() and not any(c.isdigit() for c in w)]


def model_templates() -> dict[str, str]:
    """{template: file} of every message raised (an error of models/errors.py) or said
    (`message`) anywhere in models/, found in the source."""
    found = {}
    # (and the window's own refusals of an export, said in the same context)
    for path in [*(ROOT / "models").rglob("*.py"), ROOT / "explorer" / "render.py"]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name in RAISED:
                for text in constant_strings(node.args[0]):
                    found.setdefault(text, str(path.relative_to(ROOT)))
    return found


def refused_features() -> list[str]:
    """Why each refused family cannot be opened: words put into a refusal."""
    from models.checkpoints.registry import REFUSED_FAMILIES

    return sorted(set(REFUSED_FAMILIES.values()))


def test_no_message_of_the_models_is_an_f_string():
    """A message must keep its template: an f-string is English for good."""
    made_up = []
    for path in (ROOT / "models").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and node.args and isinstance(node.args[0],
                                                                       ast.JoinedStr):
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                if name in RAISED:
                    made_up.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert made_up == []


def test_every_template_of_the_models_has_its_chinese():
    templates = model_templates()
    assert len(templates) > 130  # the scan found the raise sites
    assert "not a sentence of the grammar: {why}" in templates  # said, not raised
    assert "{name}: hidden_act '{act}' is not supported (gelu, gelu_new and relu are)" \
        in templates
    chinese = translations()["models"]
    assert "could not write {path}" in templates
    assert sorted(t for t in templates if t not in chinese) == []
    for template in templates:
        words = chinese[template]
        assert set(FIELD.findall(template)) == set(FIELD.findall(words)), template
        assert CJK.search(words) or not english_left(template), template
        assert english_left(words) == [], (template, words)
    for feature in refused_features():  # data, not a template the scan sees
        assert feature in chinese and english_left(chinese[feature]) == [], feature


# sentences outside the grammar, one for each reason the grammar gives
OUTSIDE = ["the cats sleeps", "a cats sleep", "the cat do not sleeps", "sleeps the",
           "the cat sleeps and", "zebra sleeps", "the zebra and the yak sleep",
           "the cat does not sleeps", "an cat sleeps", "a apple falls",
           " ".join(["the cat sleeps and the dog runs"] * 4), "the cat the dog", ""]


def test_every_reason_of_the_grammar_is_said_in_chinese(qapp):
    reasons = {reference_translation(s.split()).outside for s in OUTSIDE} - {None}
    assert len(reasons) >= 8
    assert set_language("zh") == ""
    try:
        for reason in reasons:
            shown = translate_message(reason)
            assert CJK.search(shown) and english_left(shown) == [], (reason, shown)
    finally:
        set_language("en")


def test_a_refused_folder_is_said_in_chinese(qapp, tmp_path):
    """Refusals with values, nested ones and ones that crossed a thread as text."""
    from models.opening import open_model

    cases = {"no-config": None, "bloom": {"model_type": "bloom"},
             "odd": {"model_type": "gpt2", "n_embd": 30, "n_head": 4, "n_layer": 1,
                     "vocab_size": 10, "n_positions": 8}}
    refusals = []
    for name, config in cases.items():
        folder = tmp_path / name
        folder.mkdir()
        if config is not None:
            (folder / "config.json").write_text(json.dumps(config))
        with pytest.raises(CheckpointError) as refused:
            open_model(folder)
        refusals.append((refused.value, folder))
    assert set_language("zh") == ""
    try:
        for error, folder in refusals:
            for shown in (translate_message(error), translate_message(str(error))):
                shown = shown.replace(str(folder), "").replace(folder.name, "")  # values
                assert CJK.search(shown) and english_left(shown) == [], (str(error), shown)
    finally:
        set_language("en")


def window_words(window) -> str:
    """What the window says in words: its labels, tooltips of the status bar, banners and
    the prediction panel's lines."""
    texts = [label.text() for label in window.findChildren(QtWidgets.QLabel)
             if label.isVisibleTo(window)]
    texts += [banner.text() for banner in window.banners]
    texts.append(window.message_label.text())
    return "\n".join(t for t in texts if t)


def test_the_chinese_window_says_what_the_models_say_in_chinese(make_explorer):
    e = make_explorer("translate")
    window = e.window
    window.switch_tour_language("zh")
    prediction = window.panels["prediction"]
    for typed in ("the cats sleeps", "zebra sleeps", "the cat sleeps 😀"):
        e.set_input(typed)
        e.wait()
        e.paint()
        for label in (prediction.reference, prediction.notes, window.message_label):
            plain = html.unescape(re.sub(r"<[^>]+>", " ", label.text()))  # (rich text)
            for word in typed.split():  # the values: what was typed
                plain = plain.replace(word, "")
            assert english_left(plain) == [], (typed, label.text())
    e.set_input("the cats sleeps")
    e.wait()
    assert "不是语法中的句子" in prediction.reference.text()
    assert "复数主语" in prediction.reference.text()
    e.set_input("the cat sleeps 😀")
    e.wait()
    assert "已忽略：😀" in prediction.notes.text()
    assert "已忽略：😀" in window.message_label.text()
    # the seq2seq bottleneck's note, in the panel and the status bar
    e.set_interventions(bottleneck=True)
    e.wait()
    assert "seq2seq 瓶颈" in prediction.notes.text()
    assert "seq2seq 瓶颈" in window.message_label.text()
    # the status bar's timings; the Model view names the kind as the tool bar does
    assert "前向" in window.timing_label.text() and "forward" not in window.timing_label.text()
    e.show("model")
    e.paint()
    caption = window.panels["model"].caption.text()
    assert "encoder_self" not in caption and caption.startswith("交叉注意力的 2 层 × 4 头")
    # after a switch back, English again
    window.switch_tour_language("en")
    assert "forward" in window.timing_label.text()


def test_a_photo_conversion_is_said_in_chinese(make_explorer, tmp_path):
    from PIL import Image

    path = tmp_path / "grey.png"
    Image.new("L", (40, 40), 255).save(path)
    e = make_explorer("vit-digits")
    e.window.switch_tour_language("zh")
    e.set_input(path)
    e.wait()
    e.paint()
    notes = e.window.panels["prediction"].notes.text()
    assert "L 转为灰度" in notes and "grayscale" not in notes


def test_the_tour_names_menus_as_the_menu_bar_does(make_explorer):
    e = make_explorer("induction")
    window = e.window
    steps = {lang: [s for s in load_tour(lang) if "{menu:" in s.text] for lang in ("en", "zh")}
    assert steps["en"] and len(steps["en"]) == len(steps["zh"])
    file_menu = window.menuBar().actions()[0]
    opener = next(a for a in file_menu.menu().actions() if "model" in a.text().lower()
                  or "模型文件夹" in a.text())

    def shown(action) -> str:
        return re.sub(r"\(&\w\)|&(?=\w)|…$", "", action.text())

    for lang in ("en", "zh"):
        window.switch_tour_language(lang)
        menu = f"{shown(file_menu)} ▸ {shown(opener)}"
        for step in steps[lang]:
            assert menu in menu_words(step.text), (lang, menu)
            assert "{menu:" not in menu_words(step.text)
    assert menu == "文件 ▸ 打开模型文件夹"
    # the card shows the step with the menu's words
    player = e.tour("zh")
    index = next(i for i, s in enumerate(player.steps) if "{menu:" in s.text)
    player.go(index)
    assert "文件 ▸ 打开模型文件夹" in window.tour_card.text.text()
    window.switch_tour_language("en")
