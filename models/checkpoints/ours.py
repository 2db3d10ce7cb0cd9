"""Weights as safetensors files: tensors plus JSON metadata. Nothing is ever unpickled.

Metadata keys: `arch`, `preset`, `config` (the config dataclass as JSON) and any
task data the preset needs (vocabularies, labels), each a JSON string.
"""
from __future__ import annotations

import dataclasses
import json
import re
import warnings
import zipfile
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

from .errors import CheckpointError


def save_checkpoint(path: str | Path, model: nn.Module, meta: dict) -> None:
    tensors = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    save_file(tensors, str(path), metadata={k: json.dumps(v) for k, v in meta.items()})


PICKLED_SUFFIXES = (".pth", ".pt", ".bin", ".ckpt")


def read_checkpoint(path: str | Path) -> tuple[dict[str, torch.Tensor], dict]:
    """(tensors, metadata) of a weights file: safetensors (metadata values read as JSON where
    they are JSON, e.g. our `config`; kept as text otherwise, e.g. `{"format": "pt"}`), or a
    PyTorch `.pth`/`.pt`/`.bin`/`.ckpt` read with `torch.load(weights_only=True)`, which
    unpickles tensors and plain containers only, never arbitrary objects."""
    path = Path(path)
    if path.is_dir():
        raise CheckpointError(f"{path} is a folder: give the weights file itself")
    if not path.is_file():
        raise CheckpointError(f"no weights file at {path}")
    if path.suffix.lower() in PICKLED_SUFFIXES:
        return read_pickled_state_dict(path), {}
    try:
        try:  # read, not mapped: a mapping stays resident as long as one tensor uses it
            tensors = load_file(str(path), backend="pread")
        except TypeError:  # safetensors before 0.8 has no backend: mapped
            tensors = load_file(str(path))
        from safetensors import safe_open

        with safe_open(str(path), framework="pt") as f:
            raw = f.metadata() or {}
    except (SafetensorError, OSError, ValueError) as error:
        raise CheckpointError(
            f"{path.name} is not a valid safetensors weights file ({error})") from None
    return tensors, {k: json_or_text(v) for k, v in raw.items()}


def json_or_text(value: str):
    try:
        return json.loads(value)
    except (json.JSONDecodeError, RecursionError):  # (nested too deep to be a config)
        return value


def read_pickled_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """A state dict from a PyTorch file, through the restricted unpickler only; the common
    wrappers ({"state_dict": …}, {"model": …}) are looked into."""
    try:
        with warnings.catch_warnings():  # torch warns about a raw pickle's protocol first
            warnings.simplefilter("ignore")
            data = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as error:  # UnpicklingError for objects, RuntimeError for junk, …
        raise CheckpointError(
            f"{path.name} cannot be read as PyTorch weights with the safe loader "
            f"(weights_only: tensors and plain containers only; nothing else was unpickled): "
            f"{load_failure(path, error)}") from None
    for wrapper in ("state_dict", "model", "model_state_dict"):
        if isinstance(data, dict) and isinstance(data.get(wrapper), dict):
            data = data[wrapper]
            break
    if not isinstance(data, dict):
        raise CheckpointError(f"{path.name} holds a {type(data).__name__}, not a state dict")
    tensors = {k: v for k, v in data.items() if isinstance(v, torch.Tensor)}
    if not tensors:
        raise CheckpointError(f"{path.name} holds no tensors")
    return tensors


def load_failure(path: Path, error: Exception) -> str:
    """torch.load's reason in one whole sentence: its message is paragraphs of advice (to
    load with weights_only=False, which this app never does) around one line that says why."""
    advice = ("Weights only load failed", "Please file an issue", "Check the documentation")
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", str(error)) if p.strip()]
    reason = next((p for p in paragraphs if not p.startswith(advice)), "").split(". ")[0]
    if len(reason) > 200:
        reason = reason[:200].rsplit(" ", 1)[0] + " …"
    reason = reason or type(error).__name__
    if not zipfile.is_zipfile(path):
        return f"not torch.save's zip format: a raw pickle or another file ({reason})"
    return reason


def load_weights(model: nn.Module, tensors: dict[str, torch.Tensor], source: str = "") -> None:
    """Strict load: same names and shapes, or a CheckpointError that lists the differences."""
    check_fit(model, tensors, source)
    model.load_state_dict(tensors)


def all_finite(tensor: torch.Tensor, block: int = 1 << 20) -> bool:
    """Every value finite, checked a million values at a time: isfinite's temporaries for a
    whole 50,257-word embedding at once were ~250 MB of the opening's peak."""
    flat = tensor.reshape(-1)
    return all(bool(torch.isfinite(part).all()) for part in flat.split(block))


def check_fit(model: nn.Module, tensors: dict[str, torch.Tensor], source: str = "") -> None:
    """Same names and shapes (a model on the meta device will do), finite values."""
    own = model.state_dict()
    missing = sorted(set(own) - set(tensors))
    extra = sorted(set(tensors) - set(own))
    wrong = sorted(k for k in set(own) & set(tensors) if own[k].shape != tensors[k].shape)
    if missing or extra or wrong:
        parts = [f"{name}: {', '.join(keys[:4])}{' …' if len(keys) > 4 else ''}"
                 for name, keys in (("missing", missing), ("unexpected", extra),
                                    ("wrong shape", wrong)) if keys]
        raise CheckpointError(f"weights {source} do not fit the model ({'; '.join(parts)})")
    broken = [k for k, v in tensors.items() if v.is_floating_point() and not all_finite(v)]
    if broken:
        raise CheckpointError(f"weights {source} hold NaN or infinite values in {len(broken)} "
                              f"tensor(s): {', '.join(sorted(broken)[:4])}"
                              f"{' …' if len(broken) > 4 else ''}")


LARGEST_DIMENSION = 100_000  # no config number of a model this app can show is larger
# ... except these: real vocabularies (Llama 3: 128,256; Qwen2: 151,936) and RoPE's base;
# and sizes that no weight's shape bounds (a sinusoid table, a Swin's grid): bounded on their
# own, so that a config cannot ask for gigabytes before the shapes are compared.
LARGEST_VALUE = {"vocab_size": 1_000_000, "rope_theta": 1e9, "img_size": 1024, "max_len": 8192}


def make_config(cls: type, values: Any, source: str) -> Any:
    """The config dataclass `cls` from a checkpoint's JSON `config`, every value checked:
    unknown keys, wrong types, zero or negative sizes are a CheckpointError that says so."""
    name = cls.__name__
    if not isinstance(values, dict):
        raise CheckpointError(f"{source}: the config must be a JSON object, "
                              f"not {type(values).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise CheckpointError(f"{source}: unknown config key(s) for {name}: "
                              f"{', '.join(map(str, unknown))} (known: {', '.join(fields)})")
    for key, value in values.items():
        kind = str(fields[key].type)
        if kind.endswith(" | None"):  # optional: None, or a value of the type
            if value is None:
                continue
            kind = kind[: -len(" | None")]
        largest = LARGEST_VALUE.get(key, LARGEST_DIMENSION)
        if kind == "int":  # sizes from 1; token ids (…_id) from 0
            ok = type(value) is int and int(not key.endswith("_id")) <= value <= largest
        elif kind == "float":
            ok = type(value) in (int, float) and 0 <= value <= largest and \
                (key != "dropout" or value < 1)
        elif kind == "bool":
            ok = type(value) is bool
        elif kind == "str":
            ok = isinstance(value, str)
        elif kind == "dict":
            ok = isinstance(value, dict)
        elif kind == "list[int]":
            ok = isinstance(value, list) and 0 < len(value) <= 64 and all(
                type(v) is int and 1 <= v <= LARGEST_DIMENSION for v in value)
        else:
            ok = True
        if not ok:
            want = {"int": f"a whole number from 1 to {largest:,}",
                    "float": "a number of at least 0" + (" and below 1" if key == "dropout"
                                                         else ""),
                    "list[int]": "a list of whole numbers of at least 1",
                    "bool": "true or false"}.get(kind, kind)
            raise CheckpointError(f"{source}: config '{key}' must be {want}, not "
                                  f"{json.dumps(value)[:40]}")
    try:
        return cls(**values)
    except TypeError as error:  # e.g. a required field left out
        raise CheckpointError(f"{source}: the config does not describe a {name} "
                              f"({error})") from None


# timm keeps these as buffers; they are recomputed here from the config.
TIMM_BUFFERS = ("relative_position_index", "attn_mask", "relative_coords_table")


def load_timm_state_dict(model: nn.Module, state: dict[str, torch.Tensor]) -> None:
    """Load a timm `vit_*` or `swin_*` state dict of the same dimensions."""
    state = {k: v for k, v in state.items() if not k.endswith(TIMM_BUFFERS)}
    load_weights(model, state, "(timm)")
