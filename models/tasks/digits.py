"""Handwritten digits for the ViT and Swin presets, and the conversion of any image to them.

The models see 32×32 pixels: the ink's bounding box scaled (keeping its aspect) to fit a
FIT×FIT box in the middle, as MNIST frames its digits in 20 of 28 pixels. Every input
takes that one path (`fit_ink`): the training data (`handwriting.py`), the held-out set,
samples, files and the drawing canvas, at their full resolution (no 8×8 step anywhere).
"""
from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageOps, UnidentifiedImageError

from ..errors import InputError, message
from ..resources import resource_path

IMAGE_SIZE = 32
FIT = 24  # the ink's longer side, in pixels
SPLIT_SEED = 1234
N_HELDOUT_SCANS = 300
MAX_PIXELS = 25_000_000  # larger images are refused from their header, before decoding
WORKING_SIDE = 2048  # decoded images are scaled down to this first: the model needs 32
HELDOUT_FILE = resource_path("data/digits_heldout.npz")
MOUSE_FILE = resource_path("data/mouse_digits.json")


def fit_ink(ink: np.ndarray, threshold: float = 0.2) -> np.ndarray:
    """Ink in [0, 1] of any size -> the model's 32×32 frame: the ink's bounding box (pixels
    above `threshold`) scaled to fit FIT×FIT, centred, darkest ink 1. Blank -> zeros."""
    ys, xs = np.nonzero(ink > threshold)
    canvas = np.zeros((IMAGE_SIZE, IMAGE_SIZE), np.float32)
    if len(ys) == 0:
        return canvas
    crop = np.ascontiguousarray(ink[ys.min(): ys.max() + 1, xs.min(): xs.max() + 1],
                                dtype=np.float32)
    h, w = crop.shape
    fit = FIT / max(h, w)
    new_h, new_w = max(1, round(h * fit)), max(1, round(w * fit))
    # area averaging when shrinking keeps thin strokes; bilinear when enlarging a small image
    method = Image.Resampling.BOX if fit < 1 else Image.Resampling.BILINEAR
    resized = np.asarray(Image.fromarray(crop).resize((new_w, new_h), method))
    top, left = (IMAGE_SIZE - new_h) // 2, (IMAGE_SIZE - new_w) // 2
    canvas[top: top + new_h, left: left + new_w] = np.clip(resized, 0, None)
    return canvas / max(float(canvas.max()), 1e-6)


def load_scans() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """scikit-learn's 1,797 8×8 scans split once with a fixed seed: (train_x, train_y,
    heldout_x, heldout_y), ink in [0, 1]. Training data only (needs the `train` extra)."""
    from sklearn.datasets import load_digits

    data = load_digits()
    x = (data.images / 16.0).astype(np.float32)
    y = data.target.astype(np.int64)
    order = np.random.default_rng(SPLIT_SEED).permutation(len(y))
    held, train = order[:N_HELDOUT_SCANS], order[N_HELDOUT_SCANS:]
    return x[train], y[train], x[held], y[held]


def load_heldout() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The held-out set shipped in resources/: (images (N, 32, 32) in [0, 1], labels,
    source: 0 strokes, 1 fonts, 2 scans). No scikit-learn needed to evaluate."""
    with np.load(HELDOUT_FILE, allow_pickle=False) as data:
        return (data["images"].astype(np.float32) / 255.0, data["labels"].astype(np.int64),
                data["sources"].astype(np.int64))


def mouse_digits() -> tuple[list[np.ndarray], np.ndarray]:
    """The hand-made mouse-stroke test digits (resources/data/mouse_digits.json), each drawn
    with every pen: (canvas-sized uint8 images as the canvas hands them over, labels)."""
    import json

    from PIL import ImageDraw

    doc = json.loads(MOUSE_FILE.read_text())
    size, scale = doc["canvas"], 2  # drawn at twice the size, then averaged: antialiasing
    images, labels = [], []
    for digit in doc["digits"]:
        for pen in doc["pens"]:
            image = Image.new("L", (size * scale, size * scale), 0)
            draw = ImageDraw.Draw(image)
            width = pen["width"] * scale
            for stroke in digit["strokes"]:
                points = [(x * scale, y * scale) for x, y in stroke]
                draw.line(points, fill=255, width=width, joint="curve")
                for x, y in (points[0], points[-1]):  # round caps, like the canvas's pen
                    draw.ellipse((x - width / 2, y - width / 2, x + width / 2, y + width / 2),
                                 fill=255)
            array = np.asarray(image.resize((size, size), Image.Resampling.BOX))
            images.append(array if pen["ink"] == "light" else 255 - array)
            labels.append(digit["label"])
    return images, np.array(labels)


def augment(images: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """(B, 1, 32, 32) -> the same, warped: rotation, scale, shift and a smooth elastic
    distortion (a random 4×4 displacement field upsampled), a little thicker or thinner."""
    B = images.shape[0]
    u = lambda lo, hi: lo + (hi - lo) * torch.rand(B, generator=gen)  # noqa: E731
    angle = u(-12, 12) * math.pi / 180
    scale = u(0.88, 1.12)
    tx, ty = u(-0.12, 0.12), u(-0.12, 0.12)
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([torch.stack([cos, -sin, tx], 1), torch.stack([sin, cos, ty], 1)], 1)
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    field = torch.randn(B, 2, 4, 4, generator=gen) * 0.05
    field = F.interpolate(field, size=images.shape[-2:], mode="bicubic", align_corners=False)
    grid = grid + field.permute(0, 2, 3, 1)
    images = F.grid_sample(images, grid, align_corners=False, padding_mode="zeros")
    thick = F.max_pool2d(images, 3, 1, 1) * 0.5 + images * 0.5
    thin = -F.max_pool2d(-images, 2, 1, 0)
    thin = F.pad(thin, (0, 1, 0, 1))
    choice = torch.rand(B, generator=gen)[:, None, None, None]
    images = torch.where(choice < 0.15, thick, torch.where(choice > 0.92, thin, images))
    peak = images.amax(dim=(2, 3), keepdim=True).clamp_min(1e-6)
    return (images / peak).clamp(0, 1)


# -- any image -> model input ---------------------------------------------------

def open_image(source) -> Image.Image:
    """A PIL image from a path, a PIL image or an array; InputError with a clear message."""
    if isinstance(source, Image.Image):
        return source
    if isinstance(source, np.ndarray):
        if source.ndim not in (2, 3) or source.size == 0:
            raise InputError("an image array must be 2-D or 3-D, got shape {shape}",
                             shape=source.shape)
        if source.dtype == np.uint8 and (source.ndim == 2 or source.shape[-1] in (3, 4)):
            return Image.fromarray(source)  # already an image: its own levels, unstretched
        array = source.astype(np.float32)
        span = float(array.max() - array.min()) or 1.0
        return Image.fromarray(((array - array.min()) / span * 255).astype(np.uint8))
    path = Path(source)
    if not path.is_file():
        raise InputError("no such image file: {path}", path=path)
    # (PIL's own limit stays as it is: lowered to ours, it refused images of over twice our
    # limit before this check, with its own message, in every reader of the process)
    try:
        with warnings.catch_warnings():  # the size is refused below, with a clear message
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(path)  # reads the header only
        width, height = image.size
        if width * height > MAX_PIXELS:  # checked before a byte of pixels is decoded
            raise InputError("{name} is too large: {width}×{height} is over {limit:,} pixels",
                             name=path.name, width=width, height=height, limit=MAX_PIXELS)
        image.load()
    except InputError:
        raise
    except Image.DecompressionBombError:
        raise InputError("{name} is too large (over {limit:,} pixels)", name=path.name,
                         limit=MAX_PIXELS) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as error:
        raise InputError("{name} is not a readable image ({error})", name=path.name,
                         error=error) from None
    image.info["original_size"] = image.size
    if max(image.size) > WORKING_SIDE:
        try:
            image.thumbnail((WORKING_SIDE, WORKING_SIDE))
        except (ValueError, OSError):  # a mode Pillow cannot resample: keep it whole
            pass
    return image


def _grayscale(image: Image.Image) -> tuple[np.ndarray, str]:
    """Float luminance in [0, 1] for any mode; transparent areas become background."""
    mode = image.mode
    if mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        lum = np.asarray(image, dtype=np.float32)
        lum = (lum - lum.min()) / max(float(lum.max() - lum.min()), 1e-6)
        return lum, message("{mode} rescaled to 0-1", mode=mode)
    if mode == "P" or mode == "PA":
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "La", "RGBa"):
        rgba = np.asarray(image.convert("RGBA"), dtype=np.float32) / 255.0
        alpha = rgba[..., 3]
        lum = rgba[..., :3] @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
        shown = alpha > 0.5
        # Put the strokes on a background that contrasts with them.
        background = 0.0 if shown.any() and lum[shown].mean() > 0.5 else 1.0
        note = (message("{mode} composited over black", mode=mode) if background == 0 else
                message("{mode} composited over white", mode=mode))
        return lum * alpha + background * (1 - alpha), note
    return (np.asarray(image.convert("L"), dtype=np.float32) / 255.0,
            message("{mode} to grayscale", mode=mode))


def prepare_digit(source) -> tuple[np.ndarray, dict]:
    """Any image -> (32×32 float32 model input, notes on the conversion).

    Grayscale; inverted when the background (the border's median) is light; the ink
    stretched to 0–1 over the background; then `fit_ink` at the image's own resolution.
    Raises InputError for unreadable input.
    """
    image = open_image(source)
    width, height = image.info.get("original_size", image.size)
    if width < 1 or height < 1:
        raise InputError("the image is empty (0 pixels)")
    lum, mode_note = _grayscale(ImageOps.exif_transpose(image) or image)
    border = np.concatenate([lum[0], lum[-1], lum[:, 0], lum[:, -1]])
    background = float(np.median(border))
    inverted = background > 0.5
    ink = 1.0 - lum if inverted else lum
    paper = min(background, 1 - background)  # the background's level after inversion
    ink = np.clip((ink - paper) / max(1e-6, float(ink.max()) - paper), 0, 1)
    notes = {"original_size": [width, height], "mode": image.mode, "conversion": mode_note,
             "inverted": inverted, "blank": False}
    ys, xs = np.nonzero(ink > 0.2)
    if len(ys) == 0:
        notes["blank"] = True
        return np.zeros((IMAGE_SIZE, IMAGE_SIZE), np.float32), notes
    notes["ink_box"] = [int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1]
    return fit_ink(ink), notes
