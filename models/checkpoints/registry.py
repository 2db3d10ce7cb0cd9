"""Model folders as the Hugging Face hub lays them out (`config.json` beside
`model.safetensors` or `pytorch_model.bin`), and bare timm weights files: what every format
shares, and `read_model`, which hands a folder to the reader of its format family:

- models/hub_timm.py    timm ViT / DeiT / Swin (a folder with `architecture`, or a bare file)
- models/hub_vision.py  transformers ViT / DeiT (`model_type` vit, deit) and Swin
- models/hub_marian.py  OPUS-MT translation models (`model_type` marian, sentencepiece)
- models/hub_text.py    transformers language models: GPT-2, Llama, Mistral, Qwen2, BERT
- models/hub_images.py  the pictures' side shared by the vision readers: a checkpoint's
                        preprocessing, its class names

Each maps the folder's names onto ours; what cannot be represented exactly is refused with
the reason, never loaded approximately, and every size is bounded before allocation.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from .checkpoints import LARGEST_DIMENSION, read_checkpoint
from .errors import CheckpointError

if TYPE_CHECKING:
    from .hub_images import Preprocessing
    from .hub_marian import MarianTokenizer

WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")


def whole(value, key: str, name: str, low: int = 1, high: int = LARGEST_DIMENSION) -> int:
    """A whole-number config value, or a CheckpointError that names the key."""
    if type(value) is not int or not low <= value <= high:
        raise CheckpointError(f"{name}: '{key}' must be a whole number from {low} to "
                              f"{high:,}, not {json.dumps(value)[:40]}")
    return value


def real(value, key: str, name: str, low: float, high: float) -> float:
    """A number config value in [low, high] (finite), or a CheckpointError naming the key."""
    if type(value) not in (int, float) or not low <= value <= high:
        raise CheckpointError(f"{name}: '{key}' must be a number from {low:g} to {high:g}, "
                              f"not {json.dumps(value)[:40]}")
    return float(value)


def numbers(value, key: str, name: str, positive: bool = False) -> list[float]:
    """1 to 4 per-channel numbers (mean, std)."""
    if not isinstance(value, list) or not 1 <= len(value) <= 4:
        raise CheckpointError(f"{name}: '{key}' must be a list of 1 to 4 numbers, not "
                              f"{json.dumps(value)[:40]}")
    return [real(v, key, name, 1e-6 if positive else -1e3, 1e3) for v in value]



@dataclass
class HubModel:
    arch: str  # our architecture: "vit", "swin" or "transformer"
    family: str  # the folder's model_type
    config: dict  # our config dataclass's values
    tensors: dict[str, torch.Tensor]  # under our names
    labels: list[str]
    preprocessing: Preprocessing | None  # (models/hub_images.py)
    name: str
    tokenizer: MarianTokenizer | None = None  # a translation model's


def is_model_folder(path: str | Path) -> bool:
    return Path(path).is_dir() and (Path(path) / "config.json").is_file()


def read_model(path: str | Path, arch: str | None = None) -> HubModel:
    """A model folder, or a bare timm file (its variant in `arch` or its name)."""
    if Path(path).is_dir():
        return read_folder(path)
    from .hub_timm import read_timm_file

    return read_timm_file(path, arch)


def folder_json(folder: Path, file: str, required: bool = True) -> dict:
    """A JSON object from one of a model folder's files ({} for an optional file that is not
    there); CheckpointError when it is missing, not readable JSON or not an object."""
    path = folder / file
    if not required and not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text())
    except RecursionError:
        raise CheckpointError(f"{folder.name}/{file} is nested too deeply to be a "
                              f"configuration") from None
    except (OSError, ValueError) as error:
        raise CheckpointError(f"{folder.name}/{file} is missing or not readable JSON "
                              f"({error})") from None
    if not isinstance(data, dict):
        raise CheckpointError(f"{folder.name}/{file} is not a JSON object")
    return data


def read_folder(path: str | Path) -> HubModel:
    folder = Path(path)
    if not is_model_folder(folder):
        raise CheckpointError(f"{folder} is not a model folder: it has no config.json")
    # each family's reader imports this module's helpers: imported here, when needed
    from . import hub_marian, hub_text, hub_timm, hub_vision

    config = folder_json(folder, "config.json")
    if "architecture" in config:
        return hub_timm.read_timm_folder(folder, config)
    family = config.get("model_type")
    if family == "marian":
        return hub_marian.read_marian_folder(folder, config)
    if family == "swin":
        return hub_vision.read_swin_folder(folder, config)

    if family in hub_text.TEXT_FAMILIES:
        return hub_text.read_text_folder(folder, config)
    if family not in ("vit", "deit"):
        known = ("only vit, deit, swin, marian, gpt2, llama, mistral, qwen2 and bert are, "
                 "and timm folders")
        if family in hub_text.REFUSED_FAMILIES:
            known = f"{hub_text.REFUSED_FAMILIES[family]} is not supported; {known}"
        raise CheckpointError(f"{folder.name}: model_type {json.dumps(family)} cannot be "
                              f"opened ({known})")
    return hub_vision.read_vit_folder(folder, config, family)


def folder_weights(folder: Path) -> dict[str, torch.Tensor]:
    weights = next((folder / n for n in WEIGHT_FILES if (folder / n).is_file()), None)
    if weights is None:
        raise CheckpointError(f"{folder.name} has no weights: expected "
                              f"{' or '.join(WEIGHT_FILES)}")
    return read_checkpoint(weights)[0]

