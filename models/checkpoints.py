"""Weights as safetensors files: tensors plus JSON metadata. Nothing is ever unpickled.

Metadata keys: `arch`, `preset`, `config` (the config dataclass as JSON) and any
task data the preset needs (vocabularies, labels), each a JSON string.
"""
from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn


class CheckpointError(ValueError):
    """A weights file that cannot be used; the message is meant for the user."""


def save_checkpoint(path: str | Path, model: nn.Module, meta: dict) -> None:
    tensors = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    save_file(tensors, str(path), metadata={k: json.dumps(v) for k, v in meta.items()})


def read_checkpoint(path: str | Path) -> tuple[dict[str, torch.Tensor], dict]:
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no weights file at {path}")
    try:
        tensors = load_file(str(path))
        from safetensors import safe_open

        with safe_open(str(path), framework="pt") as f:
            raw = f.metadata() or {}
        meta = {k: json.loads(v) for k, v in raw.items()}
    except (SafetensorError, OSError, ValueError, json.JSONDecodeError) as error:
        raise CheckpointError(
            f"{path.name} is not a valid safetensors weights file ({error})") from None
    return tensors, meta


def load_weights(model: nn.Module, tensors: dict[str, torch.Tensor], source: str = "") -> None:
    """Strict load: same names and shapes, or a CheckpointError that lists the differences."""
    own = model.state_dict()
    missing = sorted(set(own) - set(tensors))
    extra = sorted(set(tensors) - set(own))
    wrong = sorted(k for k in set(own) & set(tensors) if own[k].shape != tensors[k].shape)
    if missing or extra or wrong:
        parts = [f"{name}: {', '.join(keys[:4])}{' …' if len(keys) > 4 else ''}"
                 for name, keys in (("missing", missing), ("unexpected", extra),
                                    ("wrong shape", wrong)) if keys]
        raise CheckpointError(f"weights {source} do not fit the model ({'; '.join(parts)})")
    model.load_state_dict(tensors)


# timm keeps these as buffers; they are recomputed here from the config.
TIMM_BUFFERS = ("relative_position_index", "attn_mask", "relative_coords_table")


def load_timm_state_dict(model: nn.Module, state: dict[str, torch.Tensor]) -> None:
    """Load a timm `vit_*` or `swin_*` state dict of the same dimensions."""
    state = {k: v for k, v in state.items() if not k.endswith(TIMM_BUFFERS)}
    load_weights(model, state, "(timm)")
