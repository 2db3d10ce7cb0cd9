"""Our own weights files (the presets'): safetensors, tensors plus JSON metadata, written and
read here; and the PyTorch files a user may give instead, read safely (nothing is ever
unpickled but tensors and plain containers).

Metadata keys: `arch`, `preset`, `config` (the config dataclass as JSON) and any
task data the preset needs (vocabularies, labels), each a JSON string.
"""
from __future__ import annotations

import json
import re
import warnings
import zipfile
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

from ..errors import CheckpointError, message


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
        raise CheckpointError("{path} is a folder: give the weights file itself", path=path)
    if not path.is_file():
        raise CheckpointError("no weights file at {path}", path=path)
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
            "{file} is not a valid safetensors weights file ({error})", file=path.name,
            error=str(error)) from None
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
            "{file} cannot be read as PyTorch weights with the safe loader (weights_only: "
            "tensors and plain containers only; nothing else was unpickled): {load_failure}",
            file=path.name, load_failure=load_failure(path, error)) from None
    for wrapper in ("state_dict", "model", "model_state_dict"):
        if isinstance(data, dict) and isinstance(data.get(wrapper), dict):
            data = data[wrapper]
            break
    if not isinstance(data, dict):
        raise CheckpointError("{file} holds a {kind}, not a state dict", file=path.name,
                              kind=type(data).__name__)
    tensors = {k: v for k, v in data.items() if isinstance(v, torch.Tensor)}
    if not tensors:
        raise CheckpointError("{file} holds no tensors", file=path.name)
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
        return message("not torch.save's zip format: a raw pickle or another file ({reason})",
                       reason=reason)
    return reason
