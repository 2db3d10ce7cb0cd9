"""Regenerate tests/models/data/recorded_outputs.json after retraining a preset:

    python tests/models/record_outputs.py
"""
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from models.presets import PRESETS  # noqa: E402
from models.session import load_preset  # noqa: E402

OUT = Path(__file__).with_name("data") / "recorded_outputs.json"


def preset_input(name: str) -> str:
    preset = PRESETS[name]
    if preset.input_kind == "text":
        return preset.default_input
    return str(ROOT / preset.default_input)


def record() -> dict:
    outputs = {}
    for name in PRESETS:
        result = load_preset(name).run(preset_input(name))
        outputs[name] = {"prediction": result.meta["prediction"],
                         "probs": result["prediction/probs"].tolist()}
    return outputs


if __name__ == "__main__":
    OUT.write_text(json.dumps(record()))
    print(f"wrote {OUT}")
