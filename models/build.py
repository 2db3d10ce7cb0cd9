"""Building a preset's model: its config checked, its weights fitted, a smallest forward pass.

The model class answers what differs between architectures (models/protocol.py): the
layers a config asks for and a state dict holds, a smallest input, its attention sites.
"""
from __future__ import annotations

import torch

from .architectures import architecture
from .checkpoints.common import check_fit, make_config
from .errors import CheckpointError
from .presets import Preset, get_preset


def build_model(preset: Preset, config: dict | None = None, source: str = "the preset",
                tensors: dict[str, torch.Tensor] | None = None,
                dtype: torch.dtype = torch.float32) -> torch.nn.Module:
    """The preset's model; `config` (from a weights file) is checked before anything is
    built, and a config that builds no model is a CheckpointError, not a traceback. With
    `tensors`, they must fit the model before any memory is spent on it (names, shapes,
    finite values: checked once, here), and the model returned holds them, in `dtype` (a
    language model's: float32 unless the weights are to be kept as stored)."""
    values = preset.config_values(config)
    model_class, config_class = architecture(preset.arch)
    cfg = make_config(config_class, values, source)
    if tensors is not None:
        model_class.check_layers(cfg, tensors, source)
    try:
        with torch.device("meta"):  # no memory yet: names and shapes only
            shapes = model_class(cfg)
    except Exception as error:
        raise CheckpointError("{source}: its config builds no {arch} model ({kind}: {error})",
                              source=source, arch=preset.arch, kind=type(error).__name__,
                              error=str(error)) from None
    if tensors is not None:
        check_fit(shapes, tensors, f"in {source}")
    if tensors is not None and model_class.assign_weights:
        # a language model's weights become its parameters as they are: no random copy
        # beside them (~500 MB for GPT-2 small) while it loads
        in_dtype(tensors, dtype)
        shapes.load_state_dict(tensors, assign=True)
        model = shapes.eval()
        model.restore_buffers()
    else:
        model = model_class(cfg).eval()
        if tensors is not None:
            model.load_state_dict(tensors)
    try:
        with torch.inference_mode():  # the smallest forward pass checks every shape
            model(*model.example_input())
    except Exception as error:  # e.g. heads that do not divide the width
        raise CheckpointError("{source}: its config builds no working {arch} model ({kind}: "
                              "{error})", source=source, arch=preset.arch,
                              kind=type(error).__name__, error=str(error)) from None
    return model


def in_dtype(tensors: dict[str, torch.Tensor], dtype: torch.dtype) -> None:
    """Every floating tensor converted to `dtype` in place in the dictionary, one at a time,
    so the stored copy goes as its converted one comes (bf16 weights computed in float32 never
    exist twice whole); a tensor under two names (tied embeddings) stays one tensor.
    Biggest first: the last one converted is then a small one, not a 150,000-word embedding
    whose stored copy (311 MB of a Qwen3-0.6B) stood on top of every converted weight."""
    done: dict[int, torch.Tensor] = {}
    for name in sorted(tensors, key=lambda n: -tensors[n].numel()):
        value = tensors[name]
        if value.is_floating_point() and value.dtype != dtype:
            if id(value) not in done:
                done[id(value)] = value.to(dtype)
            tensors[name] = done[id(value)]
    done.clear()


def site_names(name: str) -> list[str]:
    """A preset's attention sites, from a model on the meta device (no memory, no weights):
    to check a session file's site before anything runs."""
    return list(site_heads(name))


def site_heads(name: str) -> dict[str, int]:
    """A preset's attention sites and their numbers of heads (a model on the meta device)."""
    return _on_meta(name).head_counts()


def mlp_names(name: str) -> list[str]:
    """A preset's MLP sublayers (residual points) that an intervention may switch off."""
    return list(_on_meta(name).mlp_points())


def _on_meta(name: str) -> torch.nn.Module:
    preset = get_preset(name)
    model_class, config_class = architecture(preset.arch)
    with torch.device("meta"):
        model = model_class(config_class(**preset.config_values()))
    return model


def without_dropout(model: torch.nn.Module) -> torch.nn.Module:
    """For inference only: dropout modules (identities in eval mode) replaced by nothing
    at all, which saves a module call each (a run of the small text models makes ~60)."""
    for module in list(model.modules()):
        for name, child in list(module.named_children()):
            if isinstance(child, torch.nn.Dropout):
                setattr(module, name, torch.nn.Identity())
    return model
