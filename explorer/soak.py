"""`python main.py soak`: random UI actions across every preset, checked as they go.

Each action is something a user does — switch preset or device, type, pick a sample, draw,
point, click, choose kind/layer/head/window, change tab, switch interventions, step through,
press keys, move the decoding step — issued through the scripting API and the window's
own widgets. Some actions wait for the worker, most race it. Whenever the worker has
settled, the screen is checked: the trace shown must be the current preset's, input's and
interventions', and the controls must show the trace's selection ("stale frames").
Exceptions (raised or reaching sys.excepthook from a slot), Qt warnings and RSS growth after
warm-up are reported.
"""
from __future__ import annotations

import os
import random
import sys
import time
from pathlib import Path

import numpy as np
from PySide6 import QtCore
from PySide6.QtTest import QTest

from models.catalog import CATALOG
from models.memory import give_back_freed
from models.presets import get_preset, preset_names
from models.resources import resource_path
from models.sites import token_layout

from .api import Explorer, RunFailed
from .i18n import translate_message
from .state import same_input

DIGITS = sorted(str(p) for p in resource_path("samples/digits").glob("*.png"))
ODD_TEXT = ["", "   ", "the zebra sleeps", "the cat " * 20, "猫 dort", "\x07\x1b[2J", "a",
            "the the the", "12345", "dog"]
KEYS = [QtCore.Qt.Key_Left, QtCore.Qt.Key_Right, QtCore.Qt.Key_Up, QtCore.Qt.Key_Down,
        QtCore.Qt.Key_Escape, QtCore.Qt.Key_PageDown, QtCore.Qt.Key_PageUp, QtCore.Qt.Key_Space]
IGNORED_QT_MESSAGES = ("propagateSizeHints",)  # the offscreen plugin, on every dock layout


def kept_mb() -> tuple[float, float]:
    """(RSS, RSS once glibc has returned its free pages): the second is what the process
    keeps; the difference is the allocator's high water, which the app's worker also
    returns after a second idle."""
    before = rss_mb()
    give_back_freed()
    return before, rss_mb()


def rss_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- actions: each takes (explorer, rng) and does one thing a user could do ------------------

def act_preset(e: Explorer, rng: random.Random) -> None:
    """Choose a preset in the toolbar (or through the API); sometimes a second one at once,
    before the first has loaded."""
    back = e.state.trace.meta["preset"] if e.state.trace is not None else e.state.preset
    for turn in range(2 if rng.random() < 0.4 else 1):
        # the second choice is often straight back to the preset on screen
        name = back if turn and rng.random() < 0.5 else rng.choice(preset_names())
        if LONG and rng.random() < 0.7:  # mostly the long-input model being soaked
            name = LONG["model"]
        box = e.window.preset_box
        if rng.random() < 0.6 and box.findData(name) >= 0:  # (an opened model not yet shown
            # is not in the box: it is reached by opening it, here through the API)
            box.setCurrentIndex(box.findData(name))
        else:
            e.set_preset(name)


def act_device(e: Explorer, rng: random.Random) -> None:
    e.set_device(rng.choice(["cpu", "cpu", "auto", "cuda", "mps"]))


def text_model(e: Explorer) -> bool:
    return get_preset(e.state.preset).input_kind == "text"


def act_type(e: Explorer, rng: random.Random) -> None:
    """Type text (through the debounce, like a user) or pick a sample sentence."""
    if not text_model(e):
        return act_sample(e, rng)
    samples = get_preset(e.state.preset).samples
    text = rng.choice(samples + ODD_TEXT)
    if e.state.preset == LONG.get("model") and rng.random() < 0.7:
        text = rng.choice(LONG["texts"])  # `soak --weights FOLDER --tokens N`
    box = e.window.text_input
    if rng.random() < 0.5:
        box.line.setText(text)
        box.timer.start()  # what textEdited does
    else:
        box.set_text_and_run(text)


def act_sample(e: Explorer, rng: random.Random) -> None:
    if text_model(e):
        return act_type(e, rng)
    e.window.image_input.chosen.emit(rng.choice(DIGITS))


def act_draw(e: Explorer, rng: random.Random) -> None:
    if text_model(e):
        return act_type(e, rng)
    canvas = e.window.image_input.canvas
    choice = rng.random()
    if choice < 0.15:
        canvas.clear()
    elif choice < 0.25:
        canvas.undo()
    else:
        points = [QtCore.QPointF(rng.uniform(0, canvas.SIZE), rng.uniform(0, canvas.SIZE))
                  for _ in range(rng.randint(2, 6))]
        canvas.stroke(points)


def act_open_file(e: Explorer, rng: random.Random) -> None:
    """Open a file: a digit, or something that is not one (the last result must stay)."""
    bad = [str(resource_path(name)) for name in ("samples/sentences.txt", "no-such-file.png",
                                                 "samples")]
    e.window.load_image_file(rng.choice(DIGITS + bad))


def act_point(e: Explorer, rng: random.Random) -> None:
    trace = e.state.trace
    if trace is None:
        return
    site = e.state.selection.site
    rows, cols = (trace[f"{site}/q"].shape[-2], trace[f"{site}/k"].shape[-2]) \
        if f"{site}/q" in trace else (1, 1)
    query, key = rng.randrange(rows + 2) - 1, rng.randrange(cols + 2) - 1  # some outside
    query, key = (None if query < 0 else query), (None if key < 0 else key)
    if rng.random() < 0.2:
        e.state.lock(query, key)
    else:
        e.state.hover(query=query, key=key)


def act_toolbar(e: Explorer, rng: random.Random) -> None:
    w = e.window
    box = rng.choice([w.kind_box, w.layer_box, w.head_box, w.window_box])
    if box is w.kind_box:
        if box.count():
            box.setCurrentIndex(rng.randrange(box.count()))
    else:
        box.setValue(rng.randint(box.minimum(), box.maximum() + 1))


def act_tab(e: Explorer, rng: random.Random) -> None:
    tabs = e.window.tabs
    visible = [i for i in range(tabs.count()) if tabs.isTabVisible(i)]
    tabs.setCurrentIndex(rng.choice(visible))
    if rng.random() < 0.3:
        e.show(rng.choice(["tokens", "heads", "prediction"]))


def act_intervention(e: Explorer, rng: random.Random) -> None:
    panel = e.window.panels["prediction"]
    choice = rng.random()
    if choice < 0.35:  # the selected head off by zero or by its mean, or back on
        panel.ablation.setCurrentIndex(rng.randrange(panel.ablation.count()))
        panel.head_button.click()
    elif choice < 0.55:  # the MLP of the selected head's layer off or back on
        panel.mlp_button.click()
    elif choice < 0.85:
        rng.choice(list(panel.flags.values())).click()
    else:
        e.state.clear_interventions()


def act_key(e: Explorer, rng: random.Random) -> None:
    QTest.keyClick(e.window, rng.choice(KEYS))


def act_step(e: Explorer, rng: random.Random) -> None:
    panel = e.window.panels["prediction"]
    slider = panel.step_slider
    if rng.random() < 0.5:
        slider.setValue(rng.randint(0, slider.maximum()))
    else:
        panel.go_to_step(rng.randint(0, 3))


def act_generate(e: Explorer, rng: random.Random) -> None:
    """A causal language model's continuation spin box (hidden for other models: then a
    change must do nothing but remember the number)."""
    e.window.panels["prediction"].generate.setValue(rng.choice([0, 0, 1, 3, 8]))


def act_zoom(e: Explorer, rng: random.Random) -> None:
    e.set_zoom(rng.choice([0.75, 1.0, 1.0, 1.25, 1.75, 2.5]))


def act_tour(e: Explorer, rng: random.Random) -> None:
    """Open the tour on a step, step it with the keys, or leave it."""
    window = e.window
    if window.tour_player is None or rng.random() < 0.3:
        tour = e.tour(rng.choice(["en", "zh"]))
        tour.go(rng.randrange(len(tour.steps)))
    elif rng.random() < 0.8:
        QTest.keyClick(window, rng.choice([QtCore.Qt.Key_PageDown, QtCore.Qt.Key_PageUp]))
    else:
        window.leave_tour()


class Unreachable(Exception):
    """A preset or a choice the user made that the app did not honour: a stale frame."""


SCRATCH: dict[str, str] = {}  # run_soak's temporary folder and the model folder in it
LONG: dict = {}  # `--weights FOLDER --tokens N`: the model opened and its N-token texts


def write_model_folder(folder: Path) -> str:
    """A tiny timm ViT folder (random weights) for the soak to open."""
    import json

    import torch
    from safetensors.torch import save_file

    from models.vit import ViT, ViTConfig

    torch.manual_seed(0)
    model = ViT(ViTConfig(img_size=32, patch_size=8, in_chans=3, num_classes=3, embed_dim=32,
                          depth=1, num_heads=2, dropout=0.0))
    folder.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()},
              str(folder / "model.safetensors"), metadata={"format": "pt"})
    (folder / "config.json").write_text(json.dumps({
        "architecture": "vit_tiny_patch8_32", "num_classes": 3, "num_heads": 2,
        "pretrained_cfg": {"input_size": [3, 32, 32], "interpolation": "bicubic",
                           "crop_pct": 0.9, "mean": [0.5] * 3, "std": [0.5] * 3}}))
    return str(folder)


WORDS = ("the a cat dog sat ran on mat red king queen does not run sleeps and is of to in "
         "it was big small").split()


def write_gpt2_folder(folder: Path, seed: int = 0) -> str:
    """A tiny GPT-2 folder (random weights, a byte-level vocabulary with a few merges) as
    `transformers` lays one out: config.json, model.safetensors, vocab.json, merges.txt;
    written here, so that the soak needs neither `transformers` nor a network."""
    import json

    import torch
    from safetensors.torch import save_file

    from models.checkpoints.tokenizer import _bytes_to_unicode

    alphabet = list(_bytes_to_unicode().values())
    merges = [("Ġ", "t"), ("Ġt", "h"), ("Ġth", "e"), ("a", "t")]
    vocab = {c: i for i, c in enumerate(alphabet)}
    for a, b in merges:
        vocab.setdefault(a + b, len(vocab))
    vocab["<|endoftext|>"] = eos = len(vocab)
    n, width, layers, positions = len(vocab), 32, 2, 64
    g = torch.Generator().manual_seed(seed)

    def r(*shape):
        return torch.randn(*shape, generator=g) * 0.2

    tensors = {"wte.weight": r(n, width), "wpe.weight": r(positions, width),
               "ln_f.weight": 1 + r(width), "ln_f.bias": r(width)}
    for i in range(layers):
        tensors.update({f"h.{i}.ln_1.weight": 1 + r(width), f"h.{i}.ln_1.bias": r(width),
                        f"h.{i}.attn.c_attn.weight": r(width, 3 * width),
                        f"h.{i}.attn.c_attn.bias": r(3 * width),
                        f"h.{i}.attn.c_proj.weight": r(width, width),
                        f"h.{i}.attn.c_proj.bias": r(width),
                        f"h.{i}.ln_2.weight": 1 + r(width), f"h.{i}.ln_2.bias": r(width),
                        f"h.{i}.mlp.c_fc.weight": r(width, 4 * width),
                        f"h.{i}.mlp.c_fc.bias": r(4 * width),
                        f"h.{i}.mlp.c_proj.weight": r(4 * width, width),
                        f"h.{i}.mlp.c_proj.bias": r(width)})
    folder.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(folder / "model.safetensors"), metadata={"format": "pt"})
    (folder / "config.json").write_text(json.dumps({
        "model_type": "gpt2", "vocab_size": n, "n_embd": width, "n_layer": layers, "n_head": 4,
        "n_positions": positions, "bos_token_id": eos, "eos_token_id": eos}))
    (folder / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False))
    (folder / "merges.txt").write_text("#version: 0.2\n" + "".join(f"{a} {b}\n"
                                                                  for a, b in merges))
    return str(folder)


def write_bert_folder(folder: Path, seed: int = 0) -> str:
    """A tiny BERT masked-LM folder (random weights, a WordPiece vocab.txt)."""
    import json

    import torch
    from safetensors.torch import save_file

    letters = [chr(c) for c in range(ord("a"), ord("z") + 1)]
    tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS, *letters,
              *(f"##{c}" for c in letters)]
    n, width, layers, positions = len(tokens), 32, 2, 64
    g = torch.Generator().manual_seed(seed)

    def r(*shape):
        return torch.randn(*shape, generator=g) * 0.2

    p = "bert."
    tensors = {p + "embeddings.word_embeddings.weight": r(n, width),
               p + "embeddings.position_embeddings.weight": r(positions, width),
               p + "embeddings.token_type_embeddings.weight": r(2, width),
               p + "embeddings.LayerNorm.weight": 1 + r(width),
               p + "embeddings.LayerNorm.bias": r(width),
               "cls.predictions.transform.dense.weight": r(width, width),
               "cls.predictions.transform.dense.bias": r(width),
               "cls.predictions.transform.LayerNorm.weight": 1 + r(width),
               "cls.predictions.transform.LayerNorm.bias": r(width),
               "cls.predictions.bias": r(n)}
    shapes = {"attention.self.query": (width, width), "attention.self.key": (width, width),
              "attention.self.value": (width, width), "attention.output.dense": (width, width),
              "intermediate.dense": (2 * width, width), "output.dense": (width, 2 * width)}
    for i in range(layers):
        for part, shape in shapes.items():
            tensors[f"{p}encoder.layer.{i}.{part}.weight"] = r(*shape)
            tensors[f"{p}encoder.layer.{i}.{part}.bias"] = r(shape[0])
        for norm in ("attention.output.LayerNorm", "output.LayerNorm"):
            tensors[f"{p}encoder.layer.{i}.{norm}.weight"] = 1 + r(width)
            tensors[f"{p}encoder.layer.{i}.{norm}.bias"] = r(width)
    folder.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(folder / "model.safetensors"), metadata={"format": "pt"})
    (folder / "config.json").write_text(json.dumps({
        "model_type": "bert", "vocab_size": n, "hidden_size": width, "num_hidden_layers": layers,
        "num_attention_heads": 4, "intermediate_size": 2 * width,
        "max_position_embeddings": positions, "type_vocab_size": 2, "pad_token_id": 0}))
    (folder / "vocab.txt").write_text("\n".join(tokens) + "\n")
    return str(folder)


def scratch_folders(where: Path) -> list[str]:
    """The small model folders the soak opens and leaves again and again: a ViT (timm), and
    a GPT-2 and a BERT where the `tokenizers` package (which reads their tokenizers) is
    there; two of each, so that the same family is opened from different folders."""
    import importlib.util

    folders = [SCRATCH["folder"], write_model_folder(where / "soak-vit-2")]
    if importlib.util.find_spec("tokenizers") is not None:
        for seed in (1, 2):
            folders += [write_gpt2_folder(where / f"soak-gpt2-{seed}", seed),
                        write_bert_folder(where / f"soak-bert-{seed}", seed)]
    return folders


def forget_opened(folder: str) -> None:
    """The soak's opened models leave the catalog with its temporary folder."""
    for name in [n for n, p in CATALOG.items() if p.source and p.source.startswith(folder)]:
        CATALOG.remove(name)


def refuse(e: Explorer, rng: random.Random) -> None:
    """An input the model on screen refuses (empty or too long text, a file that is not an
    image), waited for."""
    if text_model(e):
        e.window.text_input.set_text_and_run(rng.choice(["", "   ", "the cat " * 30]))
    else:
        e.window.load_image_file(str(resource_path("samples/sentences.txt")))
    act_wait(e, rng)


def act_refuse_and_return(e: Explorer, rng: random.Random) -> None:
    """A refused input, another preset, and back (box or API): the preset must come back,
    with its sample if its remembered input is the refused one."""
    act_wait(e, rng)
    back = e.state.preset
    refuse(e, rng)
    for name in (rng.choice([p for p in preset_names() if p != back]), back):
        box = e.window.preset_box
        if rng.random() < 0.5 and box.findData(name) >= 0:  # (an opened model not yet in the
            # box is reached through the API)
            box.setCurrentIndex(box.findData(name))
        else:
            e.set_preset(name)
        act_wait(e, rng)
    if e.state.preset != back or e.state.trace.meta["preset"] != back:
        raise Unreachable(f"{back} could not be chosen again after a refused input (on "
                          f"screen: {e.state.trace.meta['preset']})")


def act_open_and_choose(e: Explorer, rng: random.Random) -> None:
    """Open a model folder and choose a preset before it has been read: the choice wins."""
    outcome: list = []

    def opened(*args) -> None:
        outcome.append(args)

    e.window.model_opened.connect(opened)
    try:
        e.window.open_model(SCRATCH["folder"])
        chosen = rng.choice([p for p in preset_names() if not get_preset(p).source])
        e.set_preset(chosen)
        e.state.settle(120.0, lambda: not outcome)
    finally:
        e.window.model_opened.disconnect(opened)
    act_wait(e, rng)
    if count_refused(e):
        return  # the count `chosen` kept (set, then left before its run said so): told
    if e.state.preset != chosen or e.state.trace.meta["preset"] != chosen:
        raise Unreachable(f"{chosen} was chosen after a model folder was opened, but "
                          f"{e.state.trace.meta['preset']} is on screen "
                          f"(said: {e.state.error or 'nothing'})")


def act_save_after_refusal(e: Explorer, rng: random.Random) -> None:
    """Save a session right after a refused input, and open it: it holds what was shown."""
    act_wait(e, rng)
    refuse(e, rng)
    path = e.save_session(Path(SCRATCH["dir"]) / "soak-session.json")
    e.open_session(path)  # a SessionError here is a defect: the file was just saved


def choose(e: Explorer, rng: random.Random, name: str) -> None:
    """Choose a preset in the box (when it is there) or through the API, and wait."""
    box = e.window.preset_box
    if rng.random() < 0.5 and box.findData(name) >= 0:
        box.setCurrentIndex(box.findData(name))
    else:
        e.set_preset(name)
    act_wait(e, rng)


def shipped_presets() -> list[str]:
    return [p for p in preset_names() if not get_preset(p).source]


def give_input(e: Explorer, rng: random.Random) -> None:
    """One of the model's own samples (text) or a shipped digit (image): one it takes."""
    if text_model(e):
        e.window.text_input.set_text_and_run(rng.choice(get_preset(e.state.preset).samples))
    else:
        e.window.image_input.chosen.emit(rng.choice(DIGITS))
    act_wait(e, rng)


def act_language_in_tour(e: Explorer, rng: random.Random) -> None:
    """With the tour open on a step, choose a preset and an input of one's own, then switch
    the interface's language from the menu: the words change, the preset and input stay."""
    from .i18n import LANGUAGE

    act_wait(e, rng)
    if e.window.tour_player is None or rng.random() < 0.5:
        tour = e.tour(rng.choice(["en", "zh"]))
        tour.go_from_ui(rng.randrange(len(tour.steps)))
        act_wait(e, rng)
    chosen = rng.choice(shipped_presets())
    choose(e, rng, chosen)
    give_input(e, rng)
    if e.state.error or e.state.preset != chosen:
        return  # (checked by the other actions)
    value = e.state.input
    lang = "en" if LANGUAGE.lang != "en" else "zh"
    e.window.language_actions[lang].trigger()
    act_wait(e, rng)
    shown = e.state.shown
    if e.state.preset != chosen or not same_input(e.state.input, value) or \
            shown is None or shown.preset != chosen or not same_input(shown.input, value):
        raise Unreachable(f"switching the language to {lang} with the tour open changed the "
                          f"preset or input: {chosen} chosen, {e.state.preset} after it")


def language_models() -> list[str]:
    return [p for p in preset_names() if get_preset(p).task_info.generates]


def act_count_then_language_model(e: Explorer, rng: random.Random) -> None:
    """Type into a language model, set a continuation count too long for the typed input
    (refused), leave it, set a count on another model (each model keeps its own), come
    back, set the count back to none and come back again: the typed input is still the
    one that runs."""
    folders = [f for f in SCRATCH.get("folders", []) if "gpt2" in Path(f).name]
    if folders and rng.random() < 0.5:
        open_folder(e, rng, rng.choice(folders))
    lm = rng.choice([p for p in language_models()
                     if not get_preset(p).source or p in opened_here()])
    choose(e, rng, lm)
    spin = e.window.panels["prediction"].generate
    spin.setValue(0)
    act_wait(e, rng)
    give_input(e, rng)
    if e.state.error or e.state.preset != lm:
        return
    typed = e.state.input
    spin.setValue(spin.maximum())  # refused when the count and the input are too long
    act_wait(e, rng)
    away = rng.choice([p for p in shipped_presets() if p != lm])
    choose(e, rng, away)
    spin.setValue(rng.choice([150, 199, spin.maximum()]))
    choose(e, rng, lm)  # with its own count, not the other model's
    spin.setValue(0)  # (the typed input ran with none: any count more may not fit with it)
    act_wait(e, rng)
    away_refused = False  # `away` may be refused with the count it kept (set above and
    if e.state.preset != lm or rng.random() < 0.5:  # left before its run said so)
        choose(e, rng, away)
        away_refused = e.state.preset == lm and count_refused(e)
        choose(e, rng, lm)  # (in the box, the model on screen again: nothing to run)
    shown = e.state.shown
    wrong = [what for what, bad in (
        (f"preset {e.state.preset}", e.state.preset != lm),
        (f"error {e.state.error!r:.80}", bool(e.state.error) and not away_refused),
        (f"input {e.state.input!r:.60}", not same_input(e.state.input, typed)),
        ("nothing shown", shown is None),
        (f"shown preset {getattr(shown, 'preset', None)}", shown is not None and
         shown.preset != lm),
        (f"shown input {getattr(shown, 'input', None)!r:.60}", shown is not None and
         not same_input(shown.input, typed))) if bad]
    if wrong:  # (each condition named: the input alone may look the same)
        raise Unreachable(f"{lm}'s typed input {typed!r:.60} was not kept through a refused "
                          f"continuation count: " + "; ".join(wrong))


def opened_here() -> list[str]:
    """The soak's opened models (in its temporary folder)."""
    scratch = SCRATCH.get("dir", "\0")
    return [n for n, p in CATALOG.items() if p.source and p.source.startswith(scratch)]


def open_folder(e: Explorer, rng: random.Random, folder: str) -> None:
    """Open a model folder through the API (waited for), or File > Open model, racing."""
    if rng.random() < 0.3:
        e.window.open_model(folder)
        e.app.processEvents()
    else:
        try:
            e.open_model(folder)
        except RunFailed as error:
            raise Unreachable(f"{Path(folder).name} could not be opened: {error}") from None


def count_refused(e: Explorer) -> bool:
    """Whether the newest run was refused for its continuation count (said on screen)."""
    return "to generate" in getattr(e.state.error, "template", str(e.state.error))


def act_open_and_leave(e: Explorer, rng: random.Random) -> None:
    """Open one of the soak's small GPT-2, BERT or ViT folders, use it, leave it for a
    preset: the preset chosen is the one on screen (memory must not grow with these)."""
    open_folder(e, rng, rng.choice(SCRATCH["folders"]))
    act_wait(e, rng)
    if rng.random() < 0.5:
        give_input(e, rng)
    chosen = rng.choice(shipped_presets())
    choose(e, rng, chosen)
    if count_refused(e):
        return  # the count `chosen` kept (set, then left before its run said so): told
    if e.state.preset != chosen or e.state.trace.meta["preset"] != chosen:
        raise Unreachable(f"{chosen} was chosen after an opened folder, but "
                          f"{e.state.trace.meta['preset']} is on screen")


def act_compare(e: Explorer, rng: random.Random) -> None:
    """Compare mode: the toolbar's button, input B typed, a sample or drawn, "A with one
    word changed", or the view (A, B, A − B)."""
    if LONG:  # the long-input soak measures long runs: B would halve them
        return
    bar, choice = e.window.compare_bar, rng.random()
    if choice < 0.25 or not e.state.compare:
        e.window.toolbar.compare_action.trigger()
    elif choice < 0.5:
        rng.choice(list(bar.view_buttons.values())).click()
    elif choice < 0.65:
        bar.one_word.click()
    elif bar.inputs.currentWidget() is bar.text_b:
        samples = get_preset(e.state.preset).samples
        bar.text_b.set_text_and_run(rng.choice(samples + ODD_TEXT))
    elif rng.random() < 0.5:
        bar.image_b.chosen.emit(rng.choice(DIGITS))
    else:
        canvas = bar.image_b.canvas
        canvas.stroke([QtCore.QPointF(rng.uniform(0, canvas.SIZE), rng.uniform(0, canvas.SIZE))
                       for _ in range(rng.randint(2, 5))])


def act_patch(e: Explorer, rng: random.Random) -> None:
    """The Patching tab: a sweep, then maybe cancelled, overtaken by a new input, a preset
    switched mid-sweep, or waited for; a cell clicked (its patched run), or back."""
    panel = e.window.panels["patching"]
    if LONG:  # (the long-input soak: no compare mode, so no sweep of 1,024 positions)
        return
    if not e.state.compare:
        e.window.toolbar.compare_action.trigger()
        act_wait(e, rng)
    if rng.random() < 0.5:
        e.show("patching")
    choice = rng.random()
    if choice < 0.2 and panel.result is not None:
        rows, cols = panel.result["result"].scores.shape
        panel.heatmap.clicked.emit(rng.randrange(rows), rng.randrange(cols))
        return
    if choice < 0.3:
        e.window.patched_back.click()
        return
    panel.sweep_box.setCurrentIndex(rng.randrange(panel.sweep_box.count()))
    panel.run()
    then = rng.random()
    if then < 0.25:
        panel.cancel_button.click()
    elif then < 0.45:
        act_compare(e, rng)  # a new input B (or the view, or compare off)
    elif then < 0.55:
        act_preset(e, rng)
    elif then < 0.7:
        act_type(e, rng)


def act_wait(e: Explorer, rng: random.Random) -> None:
    try:
        e.wait()
    except RunFailed:
        pass


ACTIONS = [(act_preset, 6), (act_device, 1), (act_type, 10), (act_sample, 6), (act_draw, 6),
           (act_open_file, 2), (act_point, 14), (act_toolbar, 8), (act_tab, 6),
           (act_intervention, 5), (act_key, 8), (act_step, 4), (act_zoom, 1), (act_tour, 2),
           (act_wait, 12), (act_refuse_and_return, 1), (act_open_and_choose, 1),
           (act_save_after_refusal, 1), (act_generate, 2), (act_language_in_tour, 1),
           (act_count_then_language_model, 1), (act_open_and_leave, 2), (act_compare, 5),
           (act_patch, 4)]


def act_corpus(e: Explorer, rng: random.Random) -> None:
    """Open a small corpus result of the model on screen (written once per model in the
    soak's folder; sometimes a folder that is none), pick a head on its map, and sometimes
    click one of its points: that input runs live with the head and token selected."""
    from .panels.corpus_result import write_example
    from .state import default_input

    trace = e.state.trace
    if trace is None:
        return
    preset = trace.meta["preset"]
    if rng.random() < 0.15:  # not a result: said in one line, the result on screen stays
        e.window.open_corpus(str(Path(SCRATCH["dir"]) / "no-such-result"))
        return
    written = SCRATCH.get(preset + "/corpus", "")
    if not written.startswith(SCRATCH["dir"]) or not Path(written).is_dir():  # (this run's)
        folder = Path(SCRATCH["dir"]) / f"corpus-{len(list(Path(SCRATCH['dir']).iterdir()))}"
        sites = trace.sites()
        layers = [{"site": s, "row": str(i), "kind": trace.meta["sites"][s]["kind"],
                   "heads": int(trace.meta["sites"][s]["heads"])} for i, s in enumerate(sites)]
        kind = get_preset(preset).input_kind
        inputs = [str(default_input(preset))] + [
            t for t in (get_preset(preset).samples or [])[:5] if kind == "text" and t]
        session = e.state.runner.session  # its fingerprint, as the corpus command writes
        panel = e.window.panels["corpus"]
        model = panel._fingerprint(session) if session is not None and \
            session.preset.name == preset else preset
        write_example(folder, inputs, layers, points_per_head=30, d_head=4, preset=preset,
                      model=model, max_position=2, parts=1, input_kind=kind)
        SCRATCH[preset + "/corpus"] = str(folder)
    e.window.open_corpus(SCRATCH[preset + "/corpus"])
    panel = e.window.panels["corpus"]
    act_wait(e, rng)
    if panel.result is None:
        raise Unreachable(f"the corpus result of {preset} did not open: {panel.note.text()}")
    layer = rng.randrange(len(panel.result.layers))
    panel._cell_clicked(layer, rng.randrange(int(panel.result.layers[layer]["heads"])))
    act_wait(e, rng)
    if panel.shown_points is not None and len(panel.shown_points["xy"]) and \
            rng.random() < 0.4:
        panel.open_point(rng.randrange(len(panel.shown_points["xy"])))


ACTIONS.append((act_corpus, 2))


# -- checks --------------------------------------------------------------------------------

def stale_problems(e: Explorer) -> list[str]:
    """What on screen disagrees with the state, once the worker has settled."""
    state, w, trace = e.state, e.window, e.state.trace
    if trace is None:
        return ["no trace on screen"]
    meta, shown, out = trace.meta, state.shown, []
    if meta["preset"] != state.preset:
        out.append(f"trace of {meta['preset']} under preset {state.preset}")
    if w.preset_box.currentData() != state.preset:
        out.append(f"preset box shows {w.preset_box.currentData()}, state {state.preset}")
    if not state.error:  # a failed request keeps the last result: only then may they differ
        if shown.input is not state.input:
            out.append("the trace is of another input than the current one")
        if (shown.interventions or {}) != state.interventions:
            out.append("the trace is of other interventions than the current ones")
    elif translate_message(state.error) not in w.message_label.text():
        # (said in the interface's language: a tour may have switched it to Chinese)
        out.append("a failed run is not reported")
    text_page = w.inputs.currentWidget() is w.text_input
    if text_page != (token_layout(meta) == "text") or not w.inputs.isEnabled():
        out.append("the input widgets are not those of the trace's model")
    sel = state.selection
    info = meta["sites"].get(sel.site)
    if info is None:
        return out + [f"selected site {sel.site} is not in the trace"]
    sites = trace.sites(info["kind"])
    for name, box, value in (("kind", w.kind_box, info["kind"]),
                             ("layer", w.layer_box, sites.index(sel.site)),
                             ("head", w.head_box, sel.head)):
        shown_value = box.currentData() if box is w.kind_box else box.value()
        if shown_value != value:
            out.append(f"{name} box shows {shown_value}, selection {value}")
    if info.get("num_windows") and w.window_box.value() != sel.window:
        out.append(f"window box shows {w.window_box.value()}, selection {sel.window}")
    attention = w.panels["attention"]
    if attention.isVisible():
        windowed = trace[f"{sel.site}/q"].ndim == 4
        expected = trace.head_matrix(sel.site, "weights", sel.head,
                                     sel.window if windowed else None)
        if not np.array_equal(attention.view.data, expected.astype(np.float32)):
            out.append("the attention panel shows another matrix than the selection's")
    out += compare_problems(e)
    # (a long word is shown with zero-width spaces inside it, so that the label wraps it)
    headline = w.panels["prediction"].headline.text().replace("\u200b", "")
    if meta.get("image", {}).get("blank"):  # a blank image's guess is below the headline
        headline = w.panels["prediction"].notes.text()
    if meta["prediction"] not in headline and not (meta["prediction"] == "" and headline):
        out.append(f"prediction panel says {headline!r}, the trace {meta['prediction']!r}")
    return out


def compare_problems(e: Explorer) -> list[str]:
    """Compare mode and patching, settled: B is the input the state holds, the panels show
    the view the state asks for (or its patched run), the tab is not left running."""
    state, w, out = e.state, e.window, []
    if w.compare_bar.isVisibleTo(w) != state.compare:
        out.append("the compare bar does not follow compare mode")
    if w.patched_bar.isVisibleTo(w) != (state.patched is not None):
        out.append("the patched banner does not follow the patched run")
    if not state.error and state.shown is not None:
        if state.compare and state.shown.input_b is not state.input_b:
            out.append("trace B is of another input than input B")
        if not state.compare and state.trace_b is not None and state.shown.input_b is not None:
            out.append("compare mode is off but the run on screen has a B")
    trace = state.trace
    if state.patched is not None:
        if trace is not state.patched["trace"]:
            out.append("a patched run is kept but another trace is on screen")
    elif not state.compare or state.trace_b is None or state.view == "A":
        if trace is not state.trace_a:
            out.append("A is asked for but another trace is on screen")
    elif state.view == "B" and trace is not state.trace_b:
        out.append("B is asked for but another trace is on screen")
    panel = w.panels["patching"]
    if not panel._job and (panel.progress.isVisibleTo(panel) or panel.cancel_button.isEnabled()):
        out.append("the Patching tab shows a sweep running when none is")
    return out


def raised_at(tb) -> str:
    """Where an exception was raised, " (file.py:line)", so that a report can be acted on."""
    import traceback

    frames = traceback.extract_tb(tb)
    return f" ({Path(frames[-1].filename).name}:{frames[-1].lineno})" if frames else ""


def run_soak(actions: int = 500, seed: int = 0, presets: list[str] | None = None,
             log=None, weights: str | None = None, tokens: int = 0) -> dict:
    """Run `actions` random actions; returns the figures (see module doc). `weights`: a
    model folder opened first and chosen most of the time; with `tokens`, a language
    model's typed inputs are mostly its sample text cut to that many tokens."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from .qapp import application, release_widgets, top_level_widgets

    application()
    widgets = top_level_widgets()  # what was here before: the rest is the soak's to delete
    rng = random.Random(seed)
    exceptions: list[str] = []
    warnings: list[str] = []
    stale: list[str] = []

    def hook(kind, value, tb):
        exceptions.append(f"{kind.__name__}: {value}{raised_at(tb)}")

    def on_qt_message(mode, context, text):
        if mode != QtCore.QtMsgType.QtDebugMsg and not any(
                s in text for s in IGNORED_QT_MESSAGES):
            warnings.append(text)

    old_hook = sys.excepthook
    sys.excepthook = hook
    old_handler = QtCore.qInstallMessageHandler(on_qt_message)
    settings = QtCore.QSettings(str(Path(os.environ.get("TMPDIR", "/tmp")) /
                                    f"soak-{os.getpid()}.ini"), QtCore.QSettings.IniFormat)
    import shutil
    import tempfile

    SCRATCH["dir"] = tempfile.mkdtemp(prefix="soak-")
    SCRATCH["folder"] = write_model_folder(Path(SCRATCH["dir"]) / "soak-vit")
    SCRATCH["folders"] = scratch_folders(Path(SCRATCH["dir"]))
    if weights:
        from models.opening import open_model

        LONG["model"] = open_model(weights).name
        LONG["texts"] = [""]
        if tokens:
            from .bench import language_model_texts

            LONG["texts"] = language_model_texts(LONG["model"], 3, tokens)
        presets = [LONG["model"]]
    e = Explorer.open(rng.choice(presets or preset_names()), settings=settings)
    names, weights = zip(*ACTIONS)
    checks = 0
    runs = {"painted": 0, "failed": 0}
    e.state.trace_changed.connect(lambda _: runs.__setitem__("painted", runs["painted"] + 1))
    runs["long"] = 0  # runs painted of at least `tokens` tokens less 1%

    def count_long(trace) -> None:
        ids = trace.records.get("input/ids")
        if tokens and ids is not None and ids.shape[0] >= 0.99 * tokens:
            runs["long"] += 1

    e.state.trace_changed.connect(count_long)
    e.state.run_failed.connect(lambda _: runs.__setitem__("failed", runs["failed"] + 1))
    # what the model's worker caught (told on screen as "the model failed") is a defect too
    e.state.runner.crashed.connect(lambda what: exceptions.append(f"on the model's worker: "
                                                                  f"{what}"))
    start_rss = warm_rss = open_rss = kept_mb()
    warm_up = max(50, actions // 10)
    started = time.perf_counter()
    try:
        for i in range(actions):
            action = rng.choices(names, weights)[0]
            try:
                action(e, rng)
            except Unreachable as problem:
                stale.append(f"action {i} ({action.__name__}): {problem}")
            except Exception as error:  # an action the app let through and then broke on
                exceptions.append(f"{action.__name__}: {type(error).__name__}: {error}"
                                  f"{raised_at(error.__traceback__)}")
            if action is act_wait or rng.random() < 0.1 or i == actions - 1:
                act_wait(e, rng)
                problems = stale_problems(e)
                checks += 1
                stale += [f"action {i} ({action.__name__}): {p}" for p in problems]
            else:
                e.app.processEvents()
            if i + 1 == warm_up:
                warm_rss = kept_mb()
            if log is not None and (i + 1) % 500 == 0:
                log(f"{i + 1} actions, {len(exceptions)} exceptions, {len(stale)} stale, "
                    f"RSS {rss_mb():.0f} MB")
        open_rss = kept_mb()  # the window still open, as after the warm-up
    finally:
        e.set_zoom(1.0)
        e.close()
        release_widgets(widgets, [e.window, e.state])  # a soak run in a test leaves nothing
        sys.excepthook = old_hook
        QtCore.qInstallMessageHandler(old_handler)
        Path(settings.fileName()).unlink(missing_ok=True)
        forget_opened(SCRATCH["dir"])
        if LONG:
            CATALOG.remove(LONG["model"])
            LONG.clear()
        shutil.rmtree(SCRATCH.pop("dir"), ignore_errors=True)
    end_rss = kept_mb()
    return {"actions": actions, "seed": seed, "seconds": round(time.perf_counter() - started, 1),
            "checks": checks, "runs_painted": runs["painted"], "runs_failed": runs["failed"],
            "long_runs_painted": runs["long"],
            "exceptions": exceptions, "qt_warnings": warnings,
            "stale": stale,
            # kept: after malloc_trim; untrimmed: with the allocator's free pages in it
            "rss_mb": {"start": round(start_rss[1]), "after_warm_up": round(warm_rss[1]),
                       "end": round(end_rss[1])},
            "rss_untrimmed_mb": {"start": round(start_rss[0]),
                                 "after_warm_up": round(warm_rss[0]),
                                 "end": round(end_rss[0])},
            "rss_growth_after_warm_up_mb": round(end_rss[1] - warm_rss[1], 1),
            # the same reading just before the window closed (the end above is after it)
            "rss_before_close_mb": round(open_rss[1]),
            "rss_growth_window_open_mb": round(open_rss[1] - warm_rss[1], 1)}
