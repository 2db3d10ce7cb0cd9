"""Handwritten digits for the ViT and Swin presets, and the conversion of any image to them.

Data: scikit-learn's digits set (UCI "Optical Recognition of Handwritten Digits": 1,797
8×8 scans, values 0–16, each the count of ink pixels in a 4×4 block of a 32×32 bitmap).
Every model input is an 8×8 grid of ink in [0, 1], upsampled bilinearly to 32×32, so a
user's image goes through the same 8×8 bottleneck as the training scans did.
"""
from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageOps, UnidentifiedImageError

from .text import InputError

IMAGE_SIZE = 32
SCAN_SIZE = 8
SPLIT_SEED = 1234
N_HELDOUT = 300
MAX_PIXELS = 25_000_000  # larger images are refused from their header, before decoding
WORKING_SIDE = 2048  # decoded images are scaled down to this first: the model needs 32
RESOURCES = Path(__file__).resolve().parents[2] / "resources"
HELDOUT_FILE = RESOURCES / "data" / "digits_heldout.npz"


def upsample_scans(scans: torch.Tensor) -> torch.Tensor:
    """(B, 8, 8) ink in [0, 1] -> (B, 1, 32, 32), the model's input."""
    return F.interpolate(scans[:, None], size=(IMAGE_SIZE, IMAGE_SIZE), mode="bilinear",
                         align_corners=False)


def normalize_peak(scans: torch.Tensor) -> torch.Tensor:
    """(B, 8, 8) rescaled so that each scan's darkest ink is 1."""
    peak = scans.amax(dim=(1, 2), keepdim=True).clamp_min(1e-6)
    return (scans / peak).clamp(0, 1)


def scans_to_input(scans: torch.Tensor) -> torch.Tensor:
    """(B, 8, 8) scans -> (B, 1, 32, 32) model inputs."""
    return upsample_scans(normalize_peak(scans))


def bottleneck(images: torch.Tensor) -> torch.Tensor:
    """(B, 1, 32, 32) -> (B, 8, 8): block means, rescaled so the darkest ink is 1."""
    return normalize_peak(F.avg_pool2d(images, IMAGE_SIZE // SCAN_SIZE)[:, 0])


def load_split() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Fixed split of the 1,797 scans: (train_x, train_y, heldout_x, heldout_y), x in [0, 1]."""
    from sklearn.datasets import load_digits  # a training-only extra

    data = load_digits()
    x = (data.images / 16.0).astype(np.float32)
    y = data.target.astype(np.int64)
    order = np.random.default_rng(SPLIT_SEED).permutation(len(y))
    held, train = order[:N_HELDOUT], order[N_HELDOUT:]
    return x[train], y[train], x[held], y[held]


def load_heldout() -> tuple[np.ndarray, np.ndarray]:
    """The held-out scans shipped in resources/ (no scikit-learn needed to evaluate)."""
    with np.load(HELDOUT_FILE, allow_pickle=False) as data:
        return data["images"].astype(np.float32) / 16.0, data["labels"].astype(np.int64)


def augment(scans: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Random shift, scale, rotation and stroke thickness, then the 8×8 bottleneck again."""
    B = scans.shape[0]
    images = upsample_scans(scans)
    u = lambda lo, hi: lo + (hi - lo) * torch.rand(B, generator=gen)  # noqa: E731
    angle = u(-15, 15) * math.pi / 180
    scale = u(0.8, 1.15)
    tx, ty = u(-0.15, 0.15), u(-0.15, 0.15)
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([torch.stack([cos, -sin, tx], 1), torch.stack([sin, cos, ty], 1)], 1)
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    images = F.grid_sample(images, grid, align_corners=False, padding_mode="zeros")
    thick = F.max_pool2d(images, 3, 1, 1)
    thin = -F.max_pool2d(-images, 3, 1, 1)
    choice = torch.rand(B, generator=gen)[:, None, None, None]
    images = torch.where(choice < 0.25, thick, torch.where(choice > 0.8, thin, images))
    return scans_to_input(bottleneck(images))


# -- any image -> model input ---------------------------------------------------

def open_image(source) -> Image.Image:
    """A PIL image from a path, a PIL image or an array; InputError with a clear message."""
    if isinstance(source, Image.Image):
        return source
    if isinstance(source, np.ndarray):
        if source.ndim not in (2, 3) or source.size == 0:
            raise InputError(f"an image array must be 2-D or 3-D, got shape {source.shape}")
        array = source.astype(np.float32)
        span = float(array.max() - array.min()) or 1.0
        return Image.fromarray(((array - array.min()) / span * 255).astype(np.uint8))
    path = Path(source)
    if not path.is_file():
        raise InputError(f"no such image file: {path}")
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with warnings.catch_warnings():  # the size is refused below, with a clear message
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(path)  # reads the header only
        width, height = image.size
        if width * height > MAX_PIXELS:  # checked before a byte of pixels is decoded
            raise InputError(f"{path.name} is too large: {width}×{height} is over "
                             f"{MAX_PIXELS:,} pixels")
        image.load()
    except InputError:
        raise
    except Image.DecompressionBombError:
        raise InputError(f"{path.name} is too large (over {MAX_PIXELS:,} pixels)") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as error:
        raise InputError(f"{path.name} is not a readable image ({error})") from None
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
        return lum, f"{mode} rescaled to 0-1"
    if mode == "P" or mode == "PA":
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "La", "RGBa"):
        rgba = np.asarray(image.convert("RGBA"), dtype=np.float32) / 255.0
        alpha = rgba[..., 3]
        lum = rgba[..., :3] @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
        shown = alpha > 0.5
        # Put the strokes on a background that contrasts with them.
        background = 0.0 if shown.any() and lum[shown].mean() > 0.5 else 1.0
        shade = "black" if background == 0 else "white"
        return lum * alpha + background * (1 - alpha), f"{mode} composited over {shade}"
    return np.asarray(image.convert("L"), dtype=np.float32) / 255.0, f"{mode} to grayscale"


def prepare_digit(source) -> tuple[np.ndarray, dict]:
    """Any image -> (32×32 float32 model input, notes on the conversion).

    Grayscale; inverted when the background (the border's median) is light; the ink's
    bounding box scaled to fill the 8×8 scan like the training digits; block-averaged to
    8×8; upsampled to 32×32. Raises InputError for unreadable input.
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
    crop = ink[ys.min(): ys.max() + 1, xs.min(): xs.max() + 1]
    notes["ink_box"] = [int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1]
    h, w = crop.shape
    fit = IMAGE_SIZE / max(h, w)
    new_h, new_w = max(1, round(h * fit)), max(1, round(w * fit))
    resized = np.asarray(Image.fromarray(crop).resize((new_w, new_h), Image.Resampling.BOX))
    canvas = np.zeros((IMAGE_SIZE, IMAGE_SIZE), np.float32)
    top, left = (IMAGE_SIZE - new_h) // 2, (IMAGE_SIZE - new_w) // 2
    canvas[top: top + new_h, left: left + new_w] = resized
    with torch.no_grad():
        model_input = scans_to_input(bottleneck(torch.from_numpy(canvas)[None, None]))
    return model_input[0, 0].numpy(), notes
