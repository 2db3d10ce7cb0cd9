"""The pictures' side of the vision checkpoints (timm and transformers alike): the
checkpoint's own preprocessing (`preprocessor_config.json` or timm's `pretrained_cfg`),
applied to a photo, and its class names."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from ..errors import CheckpointError, InputError
from ..resources import resource_path
from ..tasks.digits import open_image
from .common import folder_json, numbers, real, whole

IMAGENET_MEAN, IMAGENET_STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
RESAMPLE = {0: "nearest", 1: "lanczos", 2: "bilinear", 3: "bicubic", 4: "box", 5: "hamming"}
# a resize or crop target may be at most this many times the model's input size (timm's
# crop_pct 0.875 asks 1.14×): a photo is never blown up to gigabytes before it is cropped
RESIZE_FACTOR = 4


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


IMAGENET_FILE = resource_path("data/imagenet_classes.json")


def imagenet_or_numbers(classes: int) -> list[str]:
    """A 1000-class model without names of its own: ImageNet-1k's, in the standard order
    (resources/data/imagenet_classes.json); other sizes: "class i"."""
    if classes == 1000 and IMAGENET_FILE.is_file():
        return json.loads(IMAGENET_FILE.read_text())["names"]
    return [f"class {i}" for i in range(classes)]


def class_labels(config: dict, classes: int) -> list[str]:
    id2label = config.get("id2label") or {}
    labels = [str(id2label.get(str(i), id2label.get(i, ""))) for i in range(classes)]
    if all(not x or re.fullmatch(r"LABEL_\d+", x) for x in labels):  # none of its own
        return imagenet_or_numbers(classes)
    return [x or f"class {i}" for i, x in enumerate(labels)]


def read_preprocessing(folder: Path, img_size: int) -> Preprocessing:
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
        raise CheckpointError("{name}: 'resample' must be one of {choices}, not {resample}",
                              name=name, choices=sorted(RESAMPLE),
                              resample=json.dumps(resample)[:40])
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
        raise InputError("the checkpoint's preprocessing gives {width}×{height} pixels, but "
                         "the model takes {side}×{side}", width=image.size[0],
                         height=image.size[1], side=cfg.img_size)
    x = np.asarray(image, np.float32).reshape(cfg.img_size, cfg.img_size, -1) * prep.rescale
    x = (x - np.array(prep.mean[: x.shape[-1]], np.float32)) / np.array(
        prep.std[: x.shape[-1]], np.float32)
    notes = {"original_size": [width, height], "mode": image.mode,
             "conversion": conversion_words(prep), "inverted": False, "blank": False}
    picture = np.asarray(image.convert("RGB"), np.float32) / 255.0  # (H, W, 3), as shown
    return np.ascontiguousarray(x.transpose(2, 0, 1), dtype=np.float32), notes, picture


def conversion_words(prep: Preprocessing) -> str:
    """What was done to a photo, in words for the prediction panel (no Python values)."""
    if prep.shortest_edge:
        steps = [f"{prep.resample} resize (shortest edge {prep.shortest_edge})"]
    elif prep.resize:
        steps = [f"{prep.resample} resize to {prep.resize[1]}×{prep.resize[0]}"]
    else:
        steps = []
    if prep.crop:
        steps.append(f"centre crop {prep.crop[1]}×{prep.crop[0]}")
    return ", ".join([*steps, "normalised"])


