"""Model folders as the Hugging Face hub lays them out: `config.json` beside
`model.safetensors` (or `pytorch_model.bin`), and `preprocessor_config.json` for images.

Supported so far: `transformers` ViT (`model_type` "vit") and DeiT ("deit", with or without
the distillation token), and timm folders (`config.json` with `architecture` and
`pretrained_cfg`) of `vit_*`, `deit_*` and `swin_*` models, whose names are ours already.
transformers' names are mapped onto ours (timm's), both the layout the hub serves
(`vit.encoder.layer.0.attention.attention.query`) and the one transformers 5 keeps in memory
(`vit.layers.0.attention.q_proj`). What cannot be represented exactly is refused
with the reason, never loaded approximately.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps

from .checkpoints import LARGEST_DIMENSION, LARGEST_VALUE, CheckpointError, read_checkpoint
from .resources import resource_path
from .tasks.digits import open_image
from .tasks.text import InputError

WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
IMAGENET_MEAN, IMAGENET_STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
RESAMPLE = {0: "nearest", 1: "lanczos", 2: "bilinear", 3: "bicubic", 4: "box", 5: "hamming"}
# a resize or crop target may be at most this many times the model's input size (timm's
# crop_pct 0.875 asks 1.14×): a photo is never blown up to gigabytes before it is cropped
RESIZE_FACTOR = 4


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
class Preprocessing:
    """How the checkpoint's own processor turns a picture into pixels."""
    resize: tuple[int, int] | None  # (height, width); None: keep
    shortest_edge: int | None  # resize the shorter side to this, keeping the aspect
    crop: tuple[int, int] | None  # centre crop (height, width)
    resample: str = "bilinear"
    rescale: float = 1 / 255
    mean: list[float] = field(default_factory=lambda: [0.5, 0.5, 0.5])
    std: list[float] = field(default_factory=lambda: [0.5, 0.5, 0.5])


@dataclass
class HubModel:
    arch: str  # our architecture: "vit", "swin" or "transformer"
    family: str  # the folder's model_type
    config: dict  # our config dataclass's values
    tensors: dict[str, torch.Tensor]  # under our names
    labels: list[str]
    preprocessing: Preprocessing | None
    name: str
    tokenizer: MarianTokenizer | None = None  # a translation model's


def is_model_folder(path: str | Path) -> bool:
    return Path(path).is_dir() and (Path(path) / "config.json").is_file()


def read_model(path: str | Path, arch: str | None = None) -> HubModel:
    """A model folder, or a bare timm file (its variant in `arch` or its name)."""
    return read_folder(path) if Path(path).is_dir() else read_timm_file(path, arch)


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
    config = folder_json(folder, "config.json")
    if "architecture" in config:
        return _timm_folder(folder, config)
    family = config.get("model_type")
    if family == "marian":
        return _marian_folder(folder, config)
    if family == "swin":
        return _hf_swin_folder(folder, config)
    from . import hub_text  # GPT-2, Llama, Mistral, Qwen2, BERT (and why others are refused)

    if family in hub_text.TEXT_FAMILIES:
        return hub_text.read_text_folder(folder, config)
    if family not in ("vit", "deit"):
        known = ("only vit, deit, swin, marian, gpt2, llama, mistral, qwen2 and bert are, "
                 "and timm folders")
        if family in hub_text.REFUSED_FAMILIES:
            known = f"{hub_text.REFUSED_FAMILIES[family]} is not supported; {known}"
        raise CheckpointError(f"{folder.name}: model_type {json.dumps(family)} cannot be "
                              f"opened ({known})")
    tensors = _weights(folder)
    ours, distilled = _vit_names(tensors, family, folder.name)
    values = _vit_config(config, ours, distilled, folder.name)
    labels = _labels(config, values["num_classes"])
    return HubModel("vit", family, values, ours, labels,
                    _preprocessing(folder, values["img_size"]), folder.name)


def _weights(folder: Path) -> dict[str, torch.Tensor]:
    weights = next((folder / n for n in WEIGHT_FILES if (folder / n).is_file()), None)
    if weights is None:
        raise CheckpointError(f"{folder.name} has no weights: expected "
                              f"{' or '.join(WEIGHT_FILES)}")
    return read_checkpoint(weights)[0]


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


def _timm_folder(folder: Path, config: dict) -> HubModel:
    return _timm_model(folder.name, config, _weights(folder))


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
        raise CheckpointError(f"{path.name}: name the timm variant with --arch (for example "
                              f"vit_tiny_patch16_224): neither a folder with config.json nor a "
                              f"file named after one")
    size = int(m.group(1)) if (m := re.search(r"_(\d+)$", variant)) else 224
    crop = 0.875 if variant.startswith("deit") else 0.9
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
        raise CheckpointError(f"{name}: 'architecture' must be a timm variant's name, not "
                              f"{json.dumps(variant)[:40]}")
    family = variant.split("_")[0]
    if family not in ("vit", "deit", "swin"):
        raise CheckpointError(f"{name}: timm architecture '{variant}' is not supported "
                              f"(vit_*, deit_* and swin_* are)")
    tensors = {k: v for k, v in tensors.items() if not k.endswith(TIMM_BUFFERS)}
    for marker, what in TIMM_REFUSED.items():
        if any(marker in key for key in tensors):
            raise CheckpointError(f"{name}: {what} is not supported; loading without it would "
                                  f"change the outputs")
    cfg = config.get("pretrained_cfg") or {}
    if not isinstance(cfg, dict):
        raise CheckpointError(f"{name}: 'pretrained_cfg' must be an object")
    size = cfg.get("input_size", [3, 224, 224])
    if not isinstance(size, list) or len(size) != 3:
        raise CheckpointError(f"{name}: 'input_size' must be [channels, height, width]")
    channels, height, width = (whole(v, "input_size", name, 1, LARGEST_VALUE["img_size"])
                               for v in size)
    if height != width:
        raise CheckpointError(f"{name}: non-square input {height}×{width} is not supported")
    if "patch_embed.proj.weight" not in tensors:
        raise CheckpointError(f"{name}: no patch embedding (patch_embed.proj.weight)")
    proj = tensors["patch_embed.proj.weight"]  # (D, C, P, P)
    patch = int(proj.shape[-1])
    if family == "swin":
        values, arch = _timm_swin(tensors, height, patch, name), "swin"
    else:
        values, arch = _timm_vit(tensors, config, height, patch, name), "vit"
    values.update(in_chans=int(proj.shape[1]), dropout=0.0)
    # resized to height / crop_pct before the centre crop: bounded like every resize
    crop_pct = real(cfg.get("crop_pct", 0.875), "crop_pct", name, 1 / RESIZE_FACTOR, 1.0)
    prep = Preprocessing(resize=None, shortest_edge=int(height / crop_pct), crop=(height, height),
                         resample=cfg.get("interpolation", "bicubic"),
                         mean=numbers(cfg.get("mean", IMAGENET_MEAN), "mean", name),
                         std=numbers(cfg.get("std", IMAGENET_STD), "std", name, positive=True))
    if prep.resample not in ("nearest", "bilinear", "bicubic", "lanczos", "box", "hamming"):
        raise CheckpointError(f"{name}: interpolation {json.dumps(prep.resample)[:40]} is not "
                              f"supported")
    labels = config.get("label_names") or []
    if not isinstance(labels, list):
        raise CheckpointError(f"{name}: 'label_names' must be a list")
    classes = values["num_classes"]
    labels = [str(x) for x in labels] if len(labels) == classes else \
        imagenet_or_numbers(classes)
    return HubModel(arch, "timm", values, tensors, labels, prep, name)


def _count(tensors, pattern: str) -> int:
    found = {int(m.group(1)) for k in tensors if (m := re.match(pattern, k))}
    return max(found) + 1 if found else 0


def _timm_vit(tensors, config: dict, size: int, patch: int, name: str) -> dict:
    if config.get("global_pool", "token") != "token":
        raise CheckpointError(f"{name}: global_pool '{config['global_pool']}' is not "
                              f"supported (our ViT classifies from the CLS token)")
    if "cls_token" not in tensors:
        raise CheckpointError(f"{name}: a ViT without a class token is not supported")
    if "blocks.0.attn.qkv.bias" not in tensors:
        raise CheckpointError(f"{name}: qkv_bias false is not supported yet")
    if "head.weight" not in tensors:
        raise CheckpointError(f"{name}: no classifier in the weights (head.weight)")
    width = int(tensors["pos_embed"].shape[-1])
    distilled = "dist_token" in tensors
    tokens = int(tensors["pos_embed"].shape[1]) - (2 if distilled else 1)
    if tokens != (size // patch) ** 2:
        raise CheckpointError(f"{name}: {tokens} position embeddings do not fit a {size}×{size} "
                              f"input in {patch}×{patch} patches")
    # timm's ViTs use 64 dims per head, unless config.json says
    heads = whole(config["num_heads"], "num_heads", name) if config.get("num_heads") \
        is not None else max(width // 64, 1)
    if width % heads:
        raise CheckpointError(f"{name}: width {width} does not split into {heads} heads; "
                              f"say how many in config.json's num_heads")
    return dict(img_size=size, patch_size=patch, num_classes=int(tensors["head.weight"].shape[0]),
                embed_dim=width, depth=_count(tensors, r"blocks\.(\d+)\."), num_heads=heads,
                mlp_ratio=int(tensors["blocks.0.mlp.fc1.weight"].shape[0]) / width,
                norm_eps=1e-6, distilled=distilled)


def _timm_swin(tensors, size: int, patch: int, name: str) -> dict:
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
            raise CheckpointError(f"{name}: stage {s} has {res}×{res} tokens, not a multiple of "
                                  f"window {window} (timm pads; this app does not)")
    if "head.fc.weight" not in tensors:
        raise CheckpointError(f"{name}: no classifier in the weights (head.fc.weight)")
    return dict(img_size=size, patch_size=patch,
                num_classes=int(tensors["head.fc.weight"].shape[0]), embed_dim=width,
                depths=depths, num_heads=[int(t.shape[1]) for t in tables], window_size=window,
                mlp_ratio=int(tensors["layers.0.blocks.0.mlp.fc1.weight"].shape[0]) / width)


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


IMAGENET_FILE = resource_path("data/imagenet_classes.json")


def imagenet_or_numbers(classes: int) -> list[str]:
    """A 1000-class model without names of its own: ImageNet-1k's, in the standard order
    (resources/data/imagenet_classes.json); other sizes: "class i"."""
    if classes == 1000 and IMAGENET_FILE.is_file():
        return json.loads(IMAGENET_FILE.read_text())["names"]
    return [f"class {i}" for i in range(classes)]


def _labels(config: dict, classes: int) -> list[str]:
    id2label = config.get("id2label") or {}
    labels = [str(id2label.get(str(i), id2label.get(i, ""))) for i in range(classes)]
    if all(not x or re.fullmatch(r"LABEL_\d+", x) for x in labels):  # none of its own
        return imagenet_or_numbers(classes)
    return [x or f"class {i}" for i, x in enumerate(labels)]


def _preprocessing(folder: Path, img_size: int) -> Preprocessing:
    raw = folder_json(folder, "preprocessor_config.json", required=False)
    name = f"{folder.name}/preprocessor_config.json"
    top = RESIZE_FACTOR * img_size  # every resize and crop target, checked before any photo

    def side(value, key):
        return whole(value, key, name, 1, top)

    def pair(value, key):
        if isinstance(value, dict):
            if "height" in value:
                return side(value["height"], key), side(value.get("width"), key)
            return None
        return (side(value, key),) * 2 if value is not None else None

    size = raw.get("size", {"height": img_size, "width": img_size})
    shortest = size.get("shortest_edge") if isinstance(size, dict) else None
    if shortest is not None:
        shortest = side(shortest, "size")
    crop = pair(raw.get("crop_size"), "crop_size") if raw.get("do_center_crop") else None
    resample = raw.get("resample", 2)
    if type(resample) is not int or resample not in RESAMPLE:
        raise CheckpointError(f"{name}: 'resample' must be one of {sorted(RESAMPLE)}, not "
                              f"{json.dumps(resample)[:40]}")
    normalize = raw.get("do_normalize", True)
    prep = Preprocessing(
        resize=None if shortest or not raw.get("do_resize", True) else pair(size, "size"),
        shortest_edge=shortest if shortest and raw.get("do_resize", True) else None,
        crop=crop, resample=RESAMPLE[resample],
        rescale=real(raw.get("rescale_factor", 1 / 255), "rescale_factor", name, 1e-6, 1.0)
        if raw.get("do_rescale", True) else 1.0,
        mean=numbers(raw.get("image_mean", [0.5] * 3), "image_mean", name) if normalize
        else [0.0] * 3,
        std=numbers(raw.get("image_std", [0.5] * 3), "image_std", name, positive=True)
        if normalize else [1.0] * 3)
    return prep


def prepare_photo(source, prep: Preprocessing, cfg) -> tuple[np.ndarray, dict, np.ndarray]:
    """Any picture -> ((C, H, W) float32 pixels, notes, (H, W, 3) picture in [0, 1] for the
    panels), the way the checkpoint's processor does it: resize (or shortest edge),
    centre crop, rescale, normalise."""
    image = open_image(source)
    width, height = image.info.get("original_size", image.size)
    image = ImageOps.exif_transpose(image) or image
    image = image.convert("RGB" if cfg.in_chans == 3 else "L")
    resample = getattr(Image.Resampling, prep.resample.upper())
    if prep.shortest_edge:
        short, long = sorted(image.size)
        scale = prep.shortest_edge / short
        size = (prep.shortest_edge, int(long * scale)) if image.size[0] <= image.size[1] \
            else (int(long * scale), prep.shortest_edge)
        image = image.resize(size, resample)
    elif prep.resize:
        image = image.resize((prep.resize[1], prep.resize[0]), resample)
    if prep.crop:
        ch, cw = prep.crop
        left, top = (image.size[0] - cw) // 2, (image.size[1] - ch) // 2
        image = image.crop((left, top, left + cw, top + ch))
    if image.size != (cfg.img_size, cfg.img_size):
        raise InputError(f"the checkpoint's preprocessing gives {image.size[0]}×{image.size[1]} "
                         f"pixels, but the model takes {cfg.img_size}×{cfg.img_size}")
    x = np.asarray(image, np.float32).reshape(cfg.img_size, cfg.img_size, -1) * prep.rescale
    x = (x - np.array(prep.mean[: x.shape[-1]], np.float32)) / np.array(
        prep.std[: x.shape[-1]], np.float32)
    notes = {"original_size": [width, height], "mode": image.mode,
             "conversion": f"{prep.resample} resize, crop {prep.crop}, normalised",
             "inverted": False, "blank": False}
    picture = np.asarray(image.convert("RGB"), np.float32) / 255.0  # (H, W, 3), as shown
    return np.ascontiguousarray(x.transpose(2, 0, 1), dtype=np.float32), notes, picture


HF_SWIN_BLOCK = {"layernorm_before": "norm1", "attention.self.relative_position_bias_table":
                 "attn.relative_position_bias_table", "attention.output.dense": "attn.proj",
                 "layernorm_after": "norm2", "intermediate.dense": "mlp.fc1",
                 "output.dense": "mlp.fc2"}


def _hf_swin_folder(folder: Path, config: dict) -> HubModel:
    """A transformers SwinForImageClassification folder: its names mapped onto timm's (ours);
    its patch merging (end of stage s) is our stage s+1's downsample."""
    name = folder.name
    size, patch = _check_hf_vision(config, name, config.get("image_size", 224),
                                   config.get("patch_size", 4))
    if config.get("use_absolute_embeddings"):
        raise CheckpointError(f"{name}: absolute position embeddings are not supported")
    ours: dict[str, torch.Tensor] = {}
    tensors = _weights(folder)
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
    values = _timm_swin(ours, size, patch, name)
    values.update(in_chans=whole(config.get("num_channels", 3), "num_channels", name, 1, 4),
                  dropout=0.0)
    if values["depths"] != list(config.get("depths", values["depths"])):
        raise CheckpointError(f"{name}: the weights' depths {values['depths']} differ from "
                              f"config.json's {config.get('depths')}")
    labels = _labels(config, values["num_classes"])
    return HubModel("swin", "swin", values, ours, labels, _preprocessing(folder, size), name)


# -- OPUS-MT (Marian) translation models ------------------------------------------------------

MARIAN_LAYER = {"self_attn_layer_norm": "norm1", "fc1": "ff.fc1", "fc2": "ff.fc2"}
MARIAN_ENCODER = {**MARIAN_LAYER, "self_attn": "self_attn", "final_layer_norm": "norm2"}
MARIAN_DECODER = {**MARIAN_LAYER, "self_attn": "self_attn", "encoder_attn": "cross_attn",
                  "encoder_attn_layer_norm": "norm2", "final_layer_norm": "norm3"}
MARIAN_POSITIONS = ("model.encoder.embed_positions.weight",
                    "model.decoder.embed_positions.weight")  # sinusoids: computed here
# one vocabulary: copies of model.shared (when a file has them)
MARIAN_TIED = ("model.encoder.embed_tokens.weight", "model.decoder.embed_tokens.weight",
               "lm_head.weight")


class MarianTokenizer:
    """Marian's tokenisation: sentencepiece pieces of the source (`source.spm`), ids from
    `vocab.json`; output ids back to pieces and, through `target.spm`, to text."""

    def __init__(self, folder: Path, vocab: dict[str, int], eos: int, pad: int,
                 target_vocab: dict[str, int] | None = None) -> None:
        try:
            import sentencepiece
        except ImportError:
            raise CheckpointError("translation models need the sentencepiece package: "
                                  "pip install -e '.[real]'") from None
        try:
            self.source = sentencepiece.SentencePieceProcessor(
                model_file=str(folder / "source.spm"))
            self.target = sentencepiece.SentencePieceProcessor(
                model_file=str(folder / "target.spm"))
        except (OSError, RuntimeError) as error:
            raise CheckpointError(f"{folder.name}: source.spm/target.spm cannot be read "
                                  f"({error})") from None
        self.index = vocab  # source pieces -> ids
        # output ids -> pieces: the target vocabulary when the model has its own for it
        self.piece_of = {i: p for p, i in (target_vocab or vocab).items()}
        self.unk = vocab.get("<unk>", pad)
        self.specials = {eos, pad}

    def pieces(self, text: str) -> tuple[list[str], list[str]]:
        """(source pieces, those not in the vocabulary)."""
        pieces = self.source.encode(text.strip(), out_type=str)
        return pieces, [p for p in pieces if p not in self.index]

    def ids(self, pieces: list[str]) -> list[int]:
        return [self.index.get(p, self.unk) for p in pieces]

    def decode_pieces(self, ids: list[int]) -> list[str]:
        return [self.piece_of.get(int(i), "<unk>") for i in ids]

    def text(self, ids: list[int]) -> str:
        return self.target.decode_pieces([self.piece_of[int(i)] for i in ids
                                          if int(i) not in self.specials and
                                          int(i) in self.piece_of])


def _marian_folder(folder: Path, config: dict) -> HubModel:
    """A Hugging Face MarianMTModel folder with its tokenizer files."""
    name = folder.name

    def need(key):
        if key not in config:
            raise CheckpointError(f"{name}: config.json has no '{key}'")
        return config[key]

    for a, b in (("encoder_attention_heads", "decoder_attention_heads"),
                 ("encoder_ffn_dim", "decoder_ffn_dim")):
        if need(a) != need(b):
            raise CheckpointError(f"{name}: {a} {config[a]} differs from {b} {config[b]}; "
                                  f"this app's Transformer uses one value for both")
    act = config.get("activation_function", "gelu")
    if act not in ("gelu", "swish", "silu", "relu"):
        raise CheckpointError(f"{name}: activation_function '{act}' is not supported")
    shared = bool(config.get("share_encoder_decoder_embeddings", True))
    vocab = folder_json(folder, "vocab.json")
    # separate vocabularies (share_encoder_decoder_embeddings false): the target's own
    # vocabulary file and size, an embedding per side, the generator tied to the decoder's
    target_vocab = vocab if shared else folder_json(folder, "target_vocab.json")
    def number(key, low=1, default=None, high=LARGEST_DIMENSION):
        return whole(need(key) if default is None else config.get(key, default), key, name,
                     low, high)

    target_size = number("vocab_size") if shared or not config.get("decoder_vocab_size") \
        else number("decoder_vocab_size")
    pad, eos = number("pad_token_id", 0), number("eos_token_id", 0)
    start = number("decoder_start_token_id", 0, pad)
    bad = folder_json(folder, "generation_config.json", required=False).get(
        "bad_words_ids") or []
    values = dict(src_vocab=number("vocab_size"), tgt_vocab=target_size,
                  d_model=number("d_model"), num_heads=number("encoder_attention_heads"),
                  enc_layers=number("encoder_layers"), dec_layers=number("decoder_layers"),
                  d_ff=number("encoder_ffn_dim"),
                  max_len=number("max_position_embeddings", 1, 512, LARGEST_VALUE["max_len"]),
                  dropout=0.0, norm_first=False, activation=act,
                  scale_embeddings=bool(config.get("scale_embedding", False)),
                  position_layout="halves", shared_embeddings=shared, pad_id=pad, bos_id=start,
                  eos_id=eos, forbid_pad=[pad] in bad)
    tensors = _weights(folder)
    ours: dict[str, torch.Tensor] = {}
    separate = {"model.encoder.embed_tokens.weight": ("encoder.embed.embed.weight",),
                "model.decoder.embed_tokens.weight": ("decoder.embed.embed.weight",
                                                      "generator.weight"),
                "lm_head.weight": ("generator.weight",)}
    for key, value in sorted(tensors.items(), key=lambda item: item[0] == "lm_head.weight"):
        if key in MARIAN_POSITIONS or (shared and key in MARIAN_TIED):
            continue
        if key in separate:  # (an lm_head of its own, last, replaces the tied generator)
            for target in separate[key]:
                ours[target] = value
        elif key == "model.shared.weight" and shared:
            for target in ("encoder.embed.embed.weight", "decoder.embed.embed.weight",
                           "generator.weight"):
                ours[target] = value
        elif key == "final_logits_bias":
            ours["generator.bias"] = value.reshape(-1)
        elif m := re.fullmatch(r"model\.(encoder|decoder)\.layers\.(\d+)\.([a-z0-9_]+?)\."
                               r"((?:[qkv]|out)_proj\.)?(weight|bias)", key):
            side, layer, part, proj, kind = m.groups()
            table = MARIAN_ENCODER if side == "encoder" else MARIAN_DECODER
            if part not in table:
                raise CheckpointError(f"{name}: unexpected tensor '{key}'")
            ours[f"{side}.layers.{layer}.{table[part]}.{proj or ''}{kind}"] = value
        else:
            raise CheckpointError(f"{name}: unexpected tensor '{key}' (layernorm_embedding "
                                  f"and other mBART options are not supported)")
    if "generator.bias" not in ours:
        ours["generator.bias"] = torch.zeros(values["tgt_vocab"])
    if not shared and "lm_head.weight" not in tensors and \
            not config.get("tie_word_embeddings", True):
        raise CheckpointError(f"{name}: no lm_head.weight, and the output is not tied to the "
                              f"decoder's embedding")
    return HubModel("transformer", "marian", values, ours, [], None, name,
                    MarianTokenizer(folder, vocab, eos, pad, None if shared else target_vocab))
