"""transformers vision folders: ViT (`model_type` "vit"), DeiT ("deit", with or without
the distillation token) and Swin ("swin"). Their names are mapped onto ours (timm's), both
the layout the hub serves (`vit.encoder.layer.0.attention.attention.query`) and the one
transformers 5 keeps in memory (`vit.layers.0.attention.q_proj`)."""
from __future__ import annotations

import re
from pathlib import Path

import torch

from .checkpoints import LARGEST_VALUE
from .errors import CheckpointError
from .hub import (
    HubModel,
    folder_weights,
    real,
    whole,
)
from .hub_images import (
    class_labels,
    read_preprocessing,
)
from .hub_timm import TIMM_BUFFERS, timm_swin_values


def _check_hf_vision(config: dict, name: str, size, patch) -> tuple[int, int]:
    """What a transformers ViT/DeiT/Swin config may say that our models cannot do exactly;
    returns (image size, patch size)."""
    act = config.get("hidden_act", "gelu")
    if act != "gelu":  # ours is the exact (erf) GELU; tanh variants differ by ~1e-3
        raise CheckpointError(f"{name}: hidden_act '{act}' is not supported (only the exact "
                              f"'gelu'); loading it would change the outputs")
    if not config.get("qkv_bias", True):
        raise CheckpointError(f"{name}: qkv_bias false is not supported yet")
    if size is None or patch is None:
        raise CheckpointError(f"{name}: config.json has no image_size or patch_size")
    if isinstance(size, list) or isinstance(patch, list):
        raise CheckpointError(f"{name}: non-square images ({size}, patch {patch}) are not "
                              f"supported")
    return (whole(size, "image_size", name, 1, LARGEST_VALUE["img_size"]),
            whole(patch, "patch_size", name, 1, LARGEST_VALUE["img_size"]))


def _join_qkv(tensors: dict[str, torch.Tensor], query: str, names: tuple[str, str, str],
              target: str, name: str) -> dict[str, torch.Tensor]:
    """transformers keeps q, k and v apart; timm (ours) has one `qkv`: for every key that
    matches `query` (a pattern whose groups fill `target`), the three joined."""
    joined = {}
    for key in tensors:
        if m := re.fullmatch(query, key):
            parts = [tensors.get(key.replace(names[0], n)) for n in names]
            if any(p is None for p in parts):
                raise CheckpointError(f"{name}: '{key}' lacks its key or value projection")
            joined[target.format(*m.groups())] = torch.cat(parts, 0)
    return joined


def _vit_config(config: dict, tensors: dict, distilled: bool, name: str) -> dict:
    def need(key, default=None):
        value = config.get(key, default)
        if value is None:
            raise CheckpointError(f"{name}: config.json has no '{key}'")
        return value

    size, patch = _check_hf_vision(config, name, config.get("image_size"),
                                   config.get("patch_size"))
    if size % patch:
        raise CheckpointError(f"{name}: image_size {size} is not a multiple of patch_size "
                              f"{patch}")
    width = whole(need("hidden_size"), "hidden_size", name)
    hidden = whole(need("intermediate_size"), "intermediate_size", name)
    depth = whole(need("num_hidden_layers"), "num_hidden_layers", name)
    held = len({m.group(1) for k in tensors if (m := re.match(r"blocks\.(\d+)\.", k))})
    if depth != held:  # before anything is built: 100,000 layers took minutes and gigabytes
        raise CheckpointError(f"{name}: num_hidden_layers is {depth}, but the weights hold "
                              f"{held} layers")
    if "head.weight" not in tensors:
        raise CheckpointError(f"{name}: no classifier in the weights (a backbone without a "
                              f"head cannot classify)")
    return dict(img_size=size, patch_size=patch,
                in_chans=whole(config.get("num_channels", 3), "num_channels", name, 1, 4),
                num_classes=int(tensors["head.weight"].shape[0]), embed_dim=width,
                depth=depth, num_heads=need("num_attention_heads"),
                mlp_ratio=hidden / width, dropout=0.0,
                norm_eps=real(config.get("layer_norm_eps", 1e-12), "layer_norm_eps", name, 0, 1),
                distilled=distilled)


LEGACY = [  # the hub's names -> transformers 5's, inside a layer
    (r"encoder\.layer\.(\d+)\.", r"layers.\1."),
    (r"attention\.attention\.query", "attention.q_proj"),
    (r"attention\.attention\.key", "attention.k_proj"),
    (r"attention\.attention\.value", "attention.v_proj"),
    (r"attention\.output\.dense", "attention.o_proj"),
    (r"intermediate\.dense", "mlp.fc1"),
    (r"\.output\.dense", ".mlp.fc2"),
]
OURS = {"attention.o_proj": "attn.proj", "layernorm_before": "norm1",
        "layernorm_after": "norm2", "mlp.fc1": "mlp.fc1", "mlp.fc2": "mlp.fc2"}


def _vit_names(tensors: dict[str, torch.Tensor], family: str,
               name: str) -> tuple[dict[str, torch.Tensor], bool]:
    """transformers' ViT/DeiT names -> ours (q, k, v joined into one qkv)."""
    prefix = f"{family}."
    plain: dict[str, torch.Tensor] = {}
    for key, value in tensors.items():
        for pattern, replacement in LEGACY:
            key = re.sub(pattern, replacement, key)
        plain[key] = value
    ours: dict[str, torch.Tensor] = {}
    heads = {"classifier": "head", "cls_classifier": "head",
             "distillation_classifier": "head_dist"}
    for key, value in plain.items():
        inner = key[len(prefix):] if key.startswith(prefix) else key
        head, _, rest = inner.partition(".")
        if head in heads and rest in ("weight", "bias"):
            ours[f"{heads[head]}.{rest}"] = value
        elif inner == "embeddings.cls_token":
            ours["cls_token"] = value
        elif inner == "embeddings.distillation_token":
            ours["dist_token"] = value
        elif inner == "embeddings.position_embeddings":
            ours["pos_embed"] = value
        elif inner.startswith("embeddings.patch_embeddings.projection."):
            ours["patch_embed.proj." + inner.rsplit(".", 1)[1]] = value
        elif inner.startswith("layernorm."):
            ours["norm." + inner.rsplit(".", 1)[1]] = value
        elif inner.startswith("pooler."):
            continue  # the pooler is not used for classification
        elif (m := re.fullmatch(r"layers\.(\d+)\.(.+)\.(weight|bias)", inner)):
            layer, part, kind = m.groups()
            if part in ("attention.q_proj", "attention.k_proj", "attention.v_proj"):
                continue  # joined below
            if part not in OURS:
                raise CheckpointError(f"{name}: unexpected tensor '{key}'")
            ours[f"blocks.{layer}.{OURS[part]}.{kind}"] = value
        else:
            raise CheckpointError(f"{name}: unexpected tensor '{key}'")
    ours.update(_join_qkv(plain, rf"(?:{re.escape(prefix)})?layers\.(\d+)\.attention\.q_proj\."
                                 r"(weight|bias)", (".q_proj.", ".k_proj.", ".v_proj."),
                          "blocks.{}.attn.qkv.{}", name))
    distilled = "dist_token" in ours
    if distilled != ("head_dist.weight" in ours):
        raise CheckpointError(f"{name}: a distillation token needs its own classifier (and "
                              f"the other way round)")
    return ours, distilled



HF_SWIN_BLOCK = {"layernorm_before": "norm1", "attention.self.relative_position_bias_table":
                 "attn.relative_position_bias_table", "attention.output.dense": "attn.proj",
                 "layernorm_after": "norm2", "intermediate.dense": "mlp.fc1",
                 "output.dense": "mlp.fc2"}


def read_swin_folder(folder: Path, config: dict) -> HubModel:
    """A transformers SwinForImageClassification folder: its names mapped onto timm's (ours);
    its patch merging (end of stage s) is our stage s+1's downsample."""
    name = folder.name
    size, patch = _check_hf_vision(config, name, config.get("image_size", 224),
                                   config.get("patch_size", 4))
    if config.get("use_absolute_embeddings"):
        raise CheckpointError(f"{name}: absolute position embeddings are not supported")
    ours: dict[str, torch.Tensor] = {}
    tensors = folder_weights(folder)
    for key, value in tensors.items():
        inner = key[len("swin."):] if key.startswith("swin.") else key
        if inner.startswith("classifier."):
            ours["head.fc." + inner.rsplit(".", 1)[1]] = value
        elif inner.startswith("embeddings.patch_embeddings.projection."):
            ours["patch_embed.proj." + inner.rsplit(".", 1)[1]] = value
        elif inner.startswith("embeddings.norm."):
            ours["patch_embed.norm." + inner.rsplit(".", 1)[1]] = value
        elif inner.startswith("layernorm."):
            ours["norm." + inner.rsplit(".", 1)[1]] = value
        elif m := re.fullmatch(r"encoder\.layers\.(\d+)\.downsample\.(norm|reduction)\."
                               r"(weight|bias)", inner):
            stage, part, kind = m.groups()
            ours[f"layers.{int(stage) + 1}.downsample.{part}.{kind}"] = value
        elif m := re.fullmatch(r"encoder\.layers\.(\d+)\.blocks\.(\d+)\.(.+?)"
                               r"(?:\.(weight|bias))?", inner):
            stage, block, part, kind = m.groups()
            prefix = f"layers.{stage}.blocks.{block}."
            if part in ("attention.self.query", "attention.self.key", "attention.self.value"):
                continue  # joined below
            if part.endswith(TIMM_BUFFERS):
                continue
            if part not in HF_SWIN_BLOCK:
                raise CheckpointError(f"{name}: unexpected tensor '{key}'")
            ours[prefix + HF_SWIN_BLOCK[part] + (f".{kind}" if kind else "")] = value
        else:
            raise CheckpointError(f"{name}: unexpected tensor '{key}'")
    ours.update(_join_qkv(tensors, r"(?:swin\.)?encoder\.layers\.(\d+)\.blocks\.(\d+)\."
                                   r"attention\.self\.query\.(weight|bias)",
                          (".query.", ".key.", ".value."), "layers.{}.blocks.{}.attn.qkv.{}",
                          name))
    if "head.fc.weight" not in ours:
        raise CheckpointError(f"{name}: no classifier in the weights")
    values = timm_swin_values(ours, size, patch, name)
    values.update(in_chans=whole(config.get("num_channels", 3), "num_channels", name, 1, 4),
                  dropout=0.0)
    if values["depths"] != list(config.get("depths", values["depths"])):
        raise CheckpointError(f"{name}: the weights' depths {values['depths']} differ from "
                              f"config.json's {config.get('depths')}")
    labels = class_labels(config, values["num_classes"])
    return HubModel("swin", "swin", values, ours, labels, read_preprocessing(folder, size), name)




def read_vit_folder(folder: Path, config: dict, family: str) -> HubModel:
    """A transformers ViT or DeiT folder."""
    tensors = folder_weights(folder)
    ours, distilled = _vit_names(tensors, family, folder.name)
    values = _vit_config(config, ours, distilled, folder.name)
    labels = class_labels(config, values["num_classes"])
    return HubModel("vit", family, values, ours, labels,
                    read_preprocessing(folder, values["img_size"]), folder.name)
