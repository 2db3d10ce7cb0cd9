"""Opening model folders (GPT-2, BERT, a timm ViT) and leaving them again, 20 times, keeps
nothing of them alive: no Session, Trace, model, tokenizer or widget more than after the
first round (the soak's memory after warm-up; docs/robustness.md)."""
import gc

import torch
from PySide6 import QtWidgets

from explorer import soak
from models.session import Session
from models.trace import Trace


def alive() -> dict[str, int]:
    gc.collect()
    objects = gc.get_objects()
    counts = {
        "sessions": sum(type(o) is Session for o in objects),
        "traces": sum(type(o) is Trace for o in objects),
        # every model's weights, whichever holds it
        "parameters": sum(type(o) is torch.nn.Parameter for o in objects),
        "tokenizers": sum(str(type(o).__module__).startswith("tokenizers") for o in objects),
        "widgets": len(QtWidgets.QApplication.instance().allWidgets()),
    }
    del objects
    return counts


def test_folders_opened_and_left_twenty_times_leave_nothing_alive(make_explorer, tmp_path):
    e = make_explorer("translate")
    folders = [soak.write_gpt2_folder(tmp_path / "gpt2", 1),
               soak.write_bert_folder(tmp_path / "bert", 2),
               soak.write_model_folder(tmp_path / "vit")]
    try:
        def round_trip(folder: str) -> None:
            name = e.open_model(folder)
            assert e.trace.meta["preset"] == name
            e.set_preset("translate")
            e.wait()
            assert e.trace.meta["preset"] == "translate"

        for folder in folders:  # warm-up: each family's panels built once
            round_trip(folder)
        before = alive()
        assert before["sessions"] >= 1 and before["traces"] >= 1
        for turn in range(20):
            round_trip(folders[turn % len(folders)])
        after = alive()
        assert after["sessions"] <= before["sessions"], (before, after)
        assert after["traces"] <= before["traces"], (before, after)
        assert after["parameters"] <= before["parameters"], (before, after)
        assert after["tokenizers"] <= before["tokenizers"], (before, after)
        assert after["widgets"] <= before["widgets"], (before, after)
    finally:
        soak.forget_opened(str(tmp_path))
