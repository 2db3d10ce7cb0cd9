"""Small model folders, good and hostile, written by hand (no transformers needed): a timm
ViT and a Hugging Face ViT of 32×32 pixels, 8×8 patches, width 32, one block, two heads;
`edit` changes config.json (or the preprocessor's) before anything reads it (issue 22)."""
from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors.torch import save_file

from models.vit import ViT, ViTConfig

CONFIG = dict(img_size=32, patch_size=8, in_chans=3, num_classes=3, embed_dim=32, depth=1,
              num_heads=2, mlp_ratio=2.0, dropout=0.0)


def small_vit() -> ViT:
    torch.manual_seed(5)
    model = ViT(ViTConfig(**CONFIG))
    for p in model.parameters():
        torch.nn.init.normal_(p, std=0.05)
    return model.eval()


def timm_vit(folder: Path, config: dict | None = None, tensors: dict | None = None) -> Path:
    """A timm folder: our names are timm's; `config` is merged into config.json."""
    folder.mkdir(parents=True)
    state = {k: v.contiguous() for k, v in small_vit().state_dict().items()}
    state.update(tensors or {})
    save_file(state, str(folder / "model.safetensors"), metadata={"format": "pt"})
    (folder / "config.json").write_text(json.dumps({
        "architecture": "vit_tiny_patch8_32", "num_classes": 3, "num_heads": 2,
        "pretrained_cfg": {"input_size": [3, 32, 32], "interpolation": "bicubic",
                           "crop_pct": 0.9, "mean": [0.5] * 3, "std": [0.5] * 3},
        **(config or {})}))
    return folder


HF_BLOCK = {"norm1": "layernorm_before", "norm2": "layernorm_after",
            "attn.proj": "attention.o_proj", "mlp.fc1": "mlp.fc1", "mlp.fc2": "mlp.fc2"}


def hf_vit(folder: Path, config: dict | None = None, preprocessor: dict | None = None) -> Path:
    """A transformers-5-style ViT folder (q, k and v apart), `config` merged into config.json."""
    folder.mkdir(parents=True)
    ours = small_vit().state_dict()
    hf: dict[str, torch.Tensor] = {
        "vit.embeddings.cls_token": ours["cls_token"],
        "vit.embeddings.position_embeddings": ours["pos_embed"],
        "vit.embeddings.patch_embeddings.projection.weight": ours["patch_embed.proj.weight"],
        "vit.embeddings.patch_embeddings.projection.bias": ours["patch_embed.proj.bias"],
        "vit.layernorm.weight": ours["norm.weight"], "vit.layernorm.bias": ours["norm.bias"],
        "classifier.weight": ours["head.weight"], "classifier.bias": ours["head.bias"]}
    for key, value in ours.items():
        if key.startswith("blocks.0."):
            part, kind = key[len("blocks.0."):].rsplit(".", 1)
            if part == "attn.qkv":
                for name, chunk in zip(("q_proj", "k_proj", "v_proj"), value.chunk(3, 0)):
                    hf[f"vit.layers.0.attention.{name}.{kind}"] = chunk
            else:
                hf[f"vit.layers.0.{HF_BLOCK[part]}.{kind}"] = value
    save_file({k: v.contiguous() for k, v in hf.items()}, str(folder / "model.safetensors"),
              metadata={"format": "pt"})
    (folder / "config.json").write_text(json.dumps({
        "model_type": "vit", "hidden_size": 32, "num_hidden_layers": 1,
        "num_attention_heads": 2, "intermediate_size": 64, "image_size": 32, "patch_size": 8,
        "num_channels": 3, "layer_norm_eps": 1e-6, "hidden_act": "gelu",
        "id2label": {"0": "ant", "1": "bee", "2": "cat"}, **(config or {})}))
    (folder / "preprocessor_config.json").write_text(json.dumps({
        "do_resize": True, "size": {"height": 32, "width": 32}, "resample": 2,
        "do_normalize": True, "image_mean": [0.5] * 3, "image_std": [0.5] * 3,
        **(preprocessor or {})}))
    return folder


def nested(depth: int = 200_000) -> str:
    """JSON nested `depth` deep: Python's json raises RecursionError on it."""
    return "[" * depth + "]" * depth
