"""timm ViT / DeiT / Swin checkpoints: a hub folder (`config.json` with `architecture` and
`pretrained_cfg`) or a bare weights file named after its variant. timm's names are ours
already; the options our models do not have are refused with the reason."""
from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from ..errors import CheckpointError
from .common import (
    LARGEST_VALUE,
    HubModel,
    folder_weights,
    load_weights,
    numbers,
    real,
    whole,
)
from .images import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    RESIZE_FACTOR,
    Preprocessing,
    imagenet_or_numbers,
)
from .ours import read_checkpoint

# timm keeps these as buffers; they are recomputed here from the config.
TIMM_BUFFERS = ("relative_position_index", "attn_mask", "relative_coords_table")
TIMM_REFUSED = {  # a tensor of a timm option our models do not have -> why it is refused
    "fc_norm.": "global_pool 'avg' with fc_norm",
    "reg_token": "register tokens",
    ".ls1.": "layer scale (DeiT III)",
    ".ls2.": "layer scale (DeiT III)",
    ".gamma_1": "layer scale",
    "attn.q_norm.": "q/k normalisation",
}


def read_timm_folder(folder: Path, config: dict) -> HubModel:
    return _timm_model(folder.name, config, folder_weights(folder))


def load_timm_state_dict(model: nn.Module, state: dict[str, torch.Tensor]) -> None:
    """Load a timm `vit_*` or `swin_*` state dict of the same dimensions."""
    state = {k: v for k, v in state.items() if not k.endswith(TIMM_BUFFERS)}
    load_weights(model, state, "(timm)")


TIMM_VARIANT = re.compile(r"((?:vit|deit|swin)_[a-z0-9_]+?_(?:patch|window)\d+[a-z0-9_]*?)"
                          r"(?:\.[^/]*)?$")


def read_timm_file(path: str | Path, architecture: str | None = None) -> HubModel:
    """A bare timm weights file: the variant from `architecture` (--arch) or the file name
    (`vit_tiny_patch16_224.augreg_in21k.safetensors`); timm's defaults for what a folder's
    pretrained_cfg would say (input size from the name's last number, else 224; bicubic;
    crop 0.9, DeiT 0.875; ImageNet mean and std)."""
    path = Path(path)
    stem = path.name[: -len(path.suffix)] if path.suffix else path.name
    match = TIMM_VARIANT.match(stem)
    variant = architecture or (match.group(1) if match else None)
    if not variant:
        raise CheckpointError("{file}: name the timm variant with --arch (for example "
                              "vit_tiny_patch16_224): neither a folder with config.json nor a "
                              "file named after one", file=path.name)
    size = int(m.group(1)) if (m := re.search(r"_(\d+)$", variant)) else 224
    kind = TIMM_KINDS.get(variant.split("_")[0])
    crop = kind.crop_pct if kind else 0.9
    config = {"architecture": variant, "pretrained_cfg": {
        "input_size": [3, size, size], "interpolation": "bicubic", "crop_pct": crop,
        "mean": IMAGENET_MEAN, "std": IMAGENET_STD}}
    return _timm_model(path.name, config, read_checkpoint(path)[0])


def _timm_model(name: str, config: dict, tensors: dict[str, torch.Tensor]) -> HubModel:
    """timm weights: the variant in `architecture`, shapes from the tensors, the number of
    heads from the Swin bias tables or timm's 64 per ViT head, preprocessing from
    `pretrained_cfg`."""
    variant = config["architecture"]
    if not isinstance(variant, str):
        raise CheckpointError("{name}: 'architecture' must be a timm variant's name, not "
                              "{variant}", name=name, variant=json.dumps(variant)[:40])
    family = variant.split("_")[0]
    if family not in TIMM_KINDS:
        known = [f"{k}_*" for k in TIMM_KINDS]
        raise CheckpointError("{name}: timm architecture '{variant}' is not supported ({known} "
                              "and {last} are)", name=name, variant=variant,
                              known=', '.join(known[:-1]), last=known[-1])
    tensors = {k: v for k, v in tensors.items() if not k.endswith(TIMM_BUFFERS)}
    for marker, what in TIMM_REFUSED.items():
        if any(marker in key for key in tensors):
            raise CheckpointError("{name}: {what} is not supported; loading without it would "
                                  "change the outputs", name=name, what=what)
    cfg = config.get("pretrained_cfg") or {}
    if not isinstance(cfg, dict):
        raise CheckpointError("{name}: 'pretrained_cfg' must be an object", name=name)
    size = cfg.get("input_size", [3, 224, 224])
    if not isinstance(size, list) or len(size) != 3:
        raise CheckpointError("{name}: 'input_size' must be [channels, height, width]", name=name)
    channels, height, width = (whole(v, "input_size", name, 1, LARGEST_VALUE["img_size"])
                               for v in size)
    if height != width:
        raise CheckpointError("{name}: non-square input {height}×{width} is not supported",
                              name=name, height=height, width=width)
    if "patch_embed.proj.weight" not in tensors:
        raise CheckpointError("{name}: no patch embedding (patch_embed.proj.weight)", name=name)
    proj = tensors["patch_embed.proj.weight"]  # (D, C, P, P)
    patch = int(proj.shape[-1])
    kind = TIMM_KINDS[family]
    values, arch = kind.values(tensors, config, height, patch, name), kind.arch
    values.update(in_chans=int(proj.shape[1]), dropout=0.0)
    # resized to height / crop_pct before the centre crop: bounded like every resize
    crop_pct = real(cfg.get("crop_pct", 0.875), "crop_pct", name, 1 / RESIZE_FACTOR, 1.0)
    prep = Preprocessing(resize=None, shortest_edge=int(height / crop_pct), crop=(height, height),
                         resample=cfg.get("interpolation", "bicubic"),
                         mean=numbers(cfg.get("mean", IMAGENET_MEAN), "mean", name),
                         std=numbers(cfg.get("std", IMAGENET_STD), "std", name, positive=True))
    if prep.resample not in ("nearest", "bilinear", "bicubic", "lanczos", "box", "hamming"):
        raise CheckpointError("{name}: interpolation {resample} is not supported", name=name,
                              resample=json.dumps(prep.resample)[:40])
    labels = config.get("label_names") or []
    if not isinstance(labels, list):
        raise CheckpointError("{name}: 'label_names' must be a list", name=name)
    classes = values["num_classes"]
    labels = [str(x) for x in labels] if len(labels) == classes else \
        imagenet_or_numbers(classes)
    return HubModel(arch, "timm", values, tensors, labels, prep, name)


def _count(tensors, pattern: str) -> int:
    found = {int(m.group(1)) for k in tensors if (m := re.match(pattern, k))}
    return max(found) + 1 if found else 0


def timm_vit_values(tensors, config: dict, size: int, patch: int, name: str) -> dict:
    if config.get("global_pool", "token") != "token":
        raise CheckpointError("{name}: global_pool '{global_pool}' is not supported (our ViT "
                              "classifies from the CLS token)", name=name,
                              global_pool=config['global_pool'])
    if "cls_token" not in tensors:
        raise CheckpointError("{name}: a ViT without a class token is not supported", name=name)
    if "blocks.0.attn.qkv.bias" not in tensors:
        raise CheckpointError("{name}: qkv_bias false is not supported yet", name=name)
    if "head.weight" not in tensors:
        raise CheckpointError("{name}: no classifier in the weights (head.weight)", name=name)
    width = int(tensors["pos_embed"].shape[-1])
    distilled = "dist_token" in tensors
    tokens = int(tensors["pos_embed"].shape[1]) - (2 if distilled else 1)
    if tokens != (size // patch) ** 2:
        raise CheckpointError("{name}: {tokens} position embeddings do not fit a {size}×{size} "
                              "input in {patch}×{patch} patches", name=name, tokens=tokens,
                              size=size, patch=patch)
    # timm's ViTs use 64 dims per head, unless config.json says
    heads = whole(config["num_heads"], "num_heads", name) if config.get("num_heads") \
        is not None else max(width // 64, 1)
    if width % heads:
        raise CheckpointError("{name}: width {width} does not split into {heads} heads; say how "
                              "many in config.json's num_heads", name=name, width=width,
                              heads=heads)
    return dict(img_size=size, patch_size=patch, num_classes=int(tensors["head.weight"].shape[0]),
                embed_dim=width, depth=_count(tensors, r"blocks\.(\d+)\."), num_heads=heads,
                mlp_ratio=int(tensors["blocks.0.mlp.fc1.weight"].shape[0]) / width,
                norm_eps=1e-6, distilled=distilled)


def timm_swin_values(tensors, size: int, patch: int, name: str) -> dict:
    stages = _count(tensors, r"layers\.(\d+)\.")
    depths = [_count(tensors, rf"layers\.{s}\.blocks\.(\d+)\.") for s in range(stages)]
    tables = [tensors[f"layers.{s}.blocks.0.attn.relative_position_bias_table"]
              for s in range(stages)]
    side = round(tables[0].shape[0] ** 0.5)
    window = (side + 1) // 2
    width = int(tensors["patch_embed.proj.weight"].shape[0])
    for s in range(stages):
        res = size // patch // 2 ** s
        if res > window and res % window:
            raise CheckpointError("{name}: stage {s} has {res}×{res} tokens, not a multiple of "
                                  "window {window} (timm pads; this app does not)", name=name,
                                  s=s, res=res, window=window)
    if "head.fc.weight" not in tensors:
        raise CheckpointError("{name}: no classifier in the weights (head.fc.weight)", name=name)
    return dict(img_size=size, patch_size=patch,
                num_classes=int(tensors["head.fc.weight"].shape[0]), embed_dim=width,
                depths=depths, num_heads=[int(t.shape[1]) for t in tables], window_size=window,
                mlp_ratio=int(tensors["layers.0.blocks.0.mlp.fc1.weight"].shape[0]) / width)


@dataclass(frozen=True)
class TimmKind:
    """A timm variant family (the name's first word): our architecture, how its config is
    read from the tensors, and timm's default crop_pct for a bare file."""
    arch: str
    values: Callable[..., dict]  # (tensors, config, size, patch, name) -> config values
    crop_pct: float = 0.9


TIMM_KINDS = {
    "vit": TimmKind("vit", timm_vit_values),
    "deit": TimmKind("vit", timm_vit_values, crop_pct=0.875),
    "swin": TimmKind("swin", lambda tensors, config, size, patch, name:
                     timm_swin_values(tensors, size, patch, name)),
}
