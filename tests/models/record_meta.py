"""Regenerate tests/models/data/recorded_meta.json, the trace meta the model protocol must
keep byte for byte (recorded from main at 9221789, before the protocol):

    python tests/models/record_meta.py

It holds, for every preset and for opened GPT-2, BERT and DeiT folders (random, seeded),
`Session.describe()` as JSON text and the meta of a traced run of a sample input (floats
rounded: they are compared as numbers, not as text).
"""
import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from models.opening import open_model_ready  # noqa: E402
from models.presets import PRESETS  # noqa: E402
from models.session import load_preset  # noqa: E402

OUT = Path(__file__).with_name("data") / "recorded_meta.json"
PRESET_NAMES = ("translate", "reverse", "vit-digits", "swin-digits", "induction")
OPENED = {"gpt2": "The quick brown fox", "bert": "The capital of [MASK] is Paris.",
          "deit": "resources/samples/photos/cat.jpg"}


def rounded(value):
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, list):
        return [rounded(v) for v in value]
    if isinstance(value, dict):
        return {k: rounded(v) for k, v in value.items()}
    return value


def make_folder(family: str, folder: Path) -> Path:
    if family == "deit":
        from tests.models.checkpoints.test_hub import build, save

        folder.mkdir(parents=True)
        return save(build("deit"), folder)
    from tests.models.lm_folders import build

    build(family, folder)
    return folder


def record(folder: Path) -> dict:
    out = {}
    for name in PRESET_NAMES:
        session = load_preset(name)
        out[name] = {"describe": json.dumps(session.describe()),
                     "run": rounded(session.run(PRESETS[name].default_input).meta)}
    for family, text in OPENED.items():
        preset, ready = open_model_ready(make_folder(family, folder / family))
        session = load_preset(preset.name, ready=ready)
        out[f"opened:{family}"] = {"describe": json.dumps(session.describe()),
                                   "run": rounded(session.run(text).meta)}
    return out


if __name__ == "__main__":
    os.chdir(ROOT)
    with tempfile.TemporaryDirectory() as tmp:
        recorded = record(Path(tmp))
    OUT.write_text(json.dumps(recorded, indent=1))
    print(f"wrote {OUT}")
