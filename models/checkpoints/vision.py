"""transformers vision folders: ViT (`model_type` "vit"), DeiT ("deit", with or without
the distillation token) and Swin ("swin"). Their names are mapped onto ours (timm's), both
the layout the hub serves (`vit.encoder.layer.0.attention.attention.query`) and the one
transformers 5 keeps in memory (`vit.layers.0.attention.q_proj`)."""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import torch

from ..errors import CheckpointError
from .common import (
    LARGEST_VALUE,
    HubModel,
    Renames,
    Rule,
    folder_weights,
    real,
    rename,
    whole,
)
from .images import class_labels, read_preprocessing
from .timm import TIMM_BUFFERS, timm_swin_values


def _check_hf_vision(config: dict, name: str, size, patch) -> tuple[int, int]:
    """What a transformers ViT/DeiT/Swin config may say that our models cannot do exactly;
    returns (image size, patch size)."""
    act = config.get("hidden_act", "gelu")
    if act != "gelu":  # ours is the exact (erf) GELU; tanh variants differ by ~1e-3
        raise CheckpointError("{name}: hidden_act '{act}' is not supported (only the exact "
                              "'gelu'); loading it would change the outputs", name=name, act=act)
    if not config.get("qkv_bias", True):
        raise CheckpointError("{name}: qkv_bias false is not supported yet", name=name)
    if size is None or patch is None:
        raise CheckpointError("{name}: config.json has no image_size or patch_size", name=name)
    if isinstance(size, list) or isinstance(patch, list):
        raise CheckpointError("{name}: non-square images ({size}, patch {patch}) are not "
                              "supported", name=name, size=size, patch=patch)
    return (whole(size, "image_size", name, 1, LARGEST_VALUE["img_size"]),
            whole(patch, "patch_size", name, 1, LARGEST_VALUE["img_size"]))


def _vit_config(config: dict, tensors: dict, distilled: bool, name: str) -> dict:
    def need(key, default=None):
        value = config.get(key, default)
        if value is None:
            raise CheckpointError("{name}: config.json has no '{key}'", name=name, key=key)
        return value

    size, patch = _check_hf_vision(config, name, config.get("image_size"),
                                   config.get("patch_size"))
    if size % patch:
        raise CheckpointError("{name}: image_size {size} is not a multiple of patch_size {patch}",
                              name=name, size=size, patch=patch)
    width = whole(need("hidden_size"), "hidden_size", name)
    hidden = whole(need("intermediate_size"), "intermediate_size", name)
    depth = whole(need("num_hidden_layers"), "num_hidden_layers", name)
    held = len({m.group(1) for k in tensors if (m := re.match(r"blocks\.(\d+)\.", k))})
    if depth != held:  # before anything is built: 100,000 layers took minutes and gigabytes
        raise CheckpointError("{name}: num_hidden_layers is {depth}, but the weights hold "
                              "{held} layers", name=name, depth=depth, held=held)
    if "head.weight" not in tensors:
        raise CheckpointError("{name}: no classifier in the weights (a backbone without a head "
                              "cannot classify)", name=name)
    return dict(img_size=size, patch_size=patch,
                in_chans=whole(config.get("num_channels", 3), "num_channels", name, 1, 4),
                num_classes=int(tensors["head.weight"].shape[0]), embed_dim=width,
                depth=depth, num_heads=need("num_attention_heads"),
                mlp_ratio=hidden / width, dropout=0.0,
                norm_eps=real(config.get("layer_norm_eps", 1e-12), "layer_norm_eps", name, 0, 1),
                distilled=distilled)


LEGACY = (  # the hub's names -> transformers 5's, inside a layer
    (r"encoder\.layer\.(\d+)\.", r"layers.\1."),
    (r"attention\.attention\.query", "attention.q_proj"),
    (r"attention\.attention\.key", "attention.k_proj"),
    (r"attention\.attention\.value", "attention.v_proj"),
    (r"attention\.output\.dense", "attention.o_proj"),
    (r"intermediate\.dense", "mlp.fc1"),
    (r"\.output\.dense", ".mlp.fc2"),
)
VIT_LAYER = {"attention.o_proj": "attn.proj", "layernorm_before": "norm1",
             "layernorm_after": "norm2", "mlp.fc1": "mlp.fc1", "mlp.fc2": "mlp.fc2"}
# transformers' ViT/DeiT names (after `vit.` / `deit.`, and LEGACY) -> ours (timm's)
VIT_RENAMES = Renames(aliases=LEGACY, rules=(
    Rule(r"(?:classifier|cls_classifier)\.(weight|bias)", r"head.\1"),
    Rule(r"distillation_classifier\.(weight|bias)", r"head_dist.\1"),
    Rule(r"embeddings\.cls_token", "cls_token"),
    Rule(r"embeddings\.distillation_token", "dist_token"),
    Rule(r"embeddings\.position_embeddings", "pos_embed"),
    Rule(r"embeddings\.patch_embeddings\.projection\.(weight|bias)", r"patch_embed.proj.\1"),
    Rule(r"layernorm\.(weight|bias)", r"norm.\1"),
    Rule(r"pooler\..*", None),  # the pooler is not used for classification
    # transformers keeps q, k and v apart; timm (ours) has one qkv
    Rule(r"layers\.(\d+)\.attention\.(?P<part>[qkv])_proj\.(weight|bias)",
         r"blocks.\1.attn.qkv.\3", join=("q", "k", "v")),
    *(Rule(rf"layers\.(\d+)\.{re.escape(part)}\.(weight|bias)", rf"blocks.\1.{ours}.\2")
      for part, ours in VIT_LAYER.items()),
))


def _vit_names(tensors: dict[str, torch.Tensor], family: str,
               name: str) -> tuple[dict[str, torch.Tensor], bool]:
    """transformers' ViT/DeiT names -> ours (q, k, v joined into one qkv)."""
    ours = rename(tensors, dataclasses.replace(VIT_RENAMES, strip=(f"{family}.",)), name)
    distilled = "dist_token" in ours
    if distilled != ("head_dist.weight" in ours):
        raise CheckpointError("{name}: a distillation token needs its own classifier (and the "
                              "other way round)", name=name)
    return ours, distilled


HF_SWIN_BLOCK = {"layernorm_before": "norm1", "attention.self.relative_position_bias_table":
                 "attn.relative_position_bias_table", "attention.output.dense": "attn.proj",
                 "layernorm_after": "norm2", "intermediate.dense": "mlp.fc1",
                 "output.dense": "mlp.fc2"}
BLOCK = r"encoder\.layers\.(\d+)\.blocks\.(\d+)\."
# transformers' Swin names (after `swin.`) -> timm's (ours)
SWIN_RENAMES = Renames(strip=("swin.",), rules=(
    Rule(r"classifier\.(weight|bias)", r"head.fc.\1"),
    Rule(r"embeddings\.patch_embeddings\.projection\.(weight|bias)", r"patch_embed.proj.\1"),
    Rule(r"embeddings\.norm\.(weight|bias)", r"patch_embed.norm.\1"),
    Rule(r"layernorm\.(weight|bias)", r"norm.\1"),
    # the patch merging at the end of stage s is our stage s+1's downsample
    Rule(r"encoder\.layers\.(\d+)\.downsample\.(norm|reduction)\.(weight|bias)",
         r"layers.\1.downsample.\2.\3", add=((1, 1),)),
    Rule(BLOCK + r"attention\.self\.(?P<part>query|key|value)\.(weight|bias)",
         r"layers.\1.blocks.\2.attn.qkv.\4", join=("query", "key", "value")),
    Rule(BLOCK + rf".*(?:{'|'.join(TIMM_BUFFERS)})(?:\.weight|\.bias)?", None),  # recomputed
    *(Rule(BLOCK + rf"{re.escape(part)}(\.weight|\.bias)?", rf"layers.\1.blocks.\2.{ours}\3")
      for part, ours in HF_SWIN_BLOCK.items()),
))


def read_swin_folder(folder: Path, config: dict) -> HubModel:
    """A transformers SwinForImageClassification folder: its names mapped onto timm's (ours);
    its patch merging (end of stage s) is our stage s+1's downsample."""
    name = folder.name
    size, patch = _check_hf_vision(config, name, config.get("image_size", 224),
                                   config.get("patch_size", 4))
    if config.get("use_absolute_embeddings"):
        raise CheckpointError("{name}: absolute position embeddings are not supported", name=name)
    ours = rename(folder_weights(folder), SWIN_RENAMES, name)
    if "head.fc.weight" not in ours:
        raise CheckpointError("{name}: no classifier in the weights", name=name)
    values = timm_swin_values(ours, size, patch, name)
    values.update(in_chans=whole(config.get("num_channels", 3), "num_channels", name, 1, 4),
                  dropout=0.0)
    if values["depths"] != list(config.get("depths", values["depths"])):
        raise CheckpointError("{name}: the weights' depths {depths} differ from config.json's "
                              "{config_depths}", name=name, depths=values['depths'],
                              config_depths=config.get('depths'))
    labels = class_labels(config, values["num_classes"])
    return HubModel("swin", "swin", values, ours, labels, read_preprocessing(folder, size), name)


def read_vit_folder(folder: Path, config: dict) -> HubModel:
    """A transformers ViT or DeiT folder (`model_type` vit or deit: the names' prefix)."""
    family = config["model_type"]
    tensors = folder_weights(folder)
    ours, distilled = _vit_names(tensors, family, folder.name)
    values = _vit_config(config, ours, distilled, folder.name)
    labels = class_labels(config, values["num_classes"])
    return HubModel("vit", family, values, ours, labels,
                    read_preprocessing(folder, values["img_size"]), folder.name)
