"""The digit data set, built here from a seed: `build(seed, counts)`.

scikit-learn's 8×8 scans alone cannot teach a model that sees 32×32 pixels, so three
sources are mixed, each brought to the model's frame by the same `digits.fit_ink` that
every user image goes through:

- **strokes** (most of it): pen trajectories of 2–3 hand-made skeletons per digit (open
  and closed 4, 7 with and without a bar, 1 with and without a flag, one- and two-loop
  8 …), each drawn with control points jittered, slanted, rotated, stretched and written
  with a pen 1–4 pixels wide;
- **fonts**: the digits of the TrueType fonts on this machine (DejaVu and Noto CJK here),
  rotated, sheared and thickened or thinned;
- **scans**: scikit-learn's 8×8 scans upsampled smoothly (bicubic), so no block is flat.

Training adds a random affine warp and an elastic distortion to every batch
(`digits.augment`). The held-out set (`resources/data/digits_heldout.npz`) is built from
another seed, with fonts and scans the training set never saw.
"""
from __future__ import annotations

import math
import random
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from .digits import FIT, fit_ink

FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts", "/Library/Fonts",
             "C:/Windows/Fonts")


def _ellipse(cx, cy, rx, ry, start=-math.pi / 2, turns=1.0, n=20):
    return [(cx + rx * math.cos(start + 2 * math.pi * turns * k / n),
             cy + ry * math.sin(start + 2 * math.pi * turns * k / n)) for k in range(n + 1)]


# Skeletons in a box about 0.6 wide and 1 high (y down); each digit has several styles,
# each style a list of strokes, each stroke a list of points a smooth curve goes through.
SKELETONS: dict[int, list[list[list[tuple[float, float]]]]] = {
    0: [[_ellipse(0.3, 0.5, 0.28, 0.5)],
        [_ellipse(0.3, 0.5, 0.24, 0.5, start=-1.9, turns=1.08)]],
    1: [[[(0.3, 0.0), (0.3, 1.0)]],
        [[(0.12, 0.22), (0.35, 0.0), (0.35, 1.0)]],
        [[(0.12, 0.22), (0.35, 0.0), (0.35, 1.0)], [(0.12, 1.0), (0.58, 1.0)]]],
    2: [[[(0.05, 0.25), (0.2, 0.03), (0.45, 0.0), (0.6, 0.2), (0.55, 0.45), (0.3, 0.7),
          (0.02, 1.0), (0.65, 1.0)]],
        [[(0.05, 0.2), (0.3, 0.0), (0.58, 0.15), (0.05, 1.0), (0.65, 1.0)]],
        [[(0.08, 0.15), (0.35, 0.0), (0.6, 0.25), (0.3, 0.65), (0.1, 0.95), (0.25, 0.85),
          (0.4, 0.97), (0.65, 0.95)]]],
    3: [[[(0.05, 0.1), (0.3, 0.0), (0.55, 0.12), (0.55, 0.35), (0.25, 0.48), (0.55, 0.6),
          (0.6, 0.85), (0.35, 1.0), (0.03, 0.9)]],
        [[(0.05, 0.0), (0.6, 0.0), (0.25, 0.42), (0.55, 0.55), (0.6, 0.82), (0.35, 1.0),
          (0.03, 0.9)]]],
    4: [[[(0.4, 0.0), (0.0, 0.65), (0.65, 0.65)], [(0.48, 0.25), (0.48, 1.0)]],
        [[(0.1, 0.0), (0.05, 0.6), (0.6, 0.6)], [(0.5, 0.0), (0.5, 1.0)]],
        [[(0.45, 1.0), (0.45, 0.0), (0.0, 0.68), (0.65, 0.68)]]],
    5: [[[(0.6, 0.0), (0.12, 0.0), (0.08, 0.45), (0.35, 0.38), (0.6, 0.55), (0.6, 0.82),
          (0.35, 1.0), (0.03, 0.9)]],
        [[(0.1, 0.0), (0.07, 0.45), (0.35, 0.38), (0.6, 0.6), (0.55, 0.88), (0.3, 1.0),
          (0.03, 0.9)], [(0.1, 0.0), (0.6, 0.0)]]],
    6: [[[(0.55, 0.0), (0.25, 0.25), (0.05, 0.65), (0.15, 0.95), (0.4, 1.0), (0.58, 0.8),
          (0.45, 0.58), (0.2, 0.58), (0.07, 0.72)]],
        [[(0.5, 0.0), (0.1, 0.6), (0.15, 0.95), (0.45, 0.98), (0.55, 0.75), (0.35, 0.55),
          (0.1, 0.65)]]],
    7: [[[(0.0, 0.0), (0.6, 0.0), (0.25, 1.0)]],
        [[(0.0, 0.0), (0.6, 0.0), (0.25, 1.0)], [(0.15, 0.5), (0.55, 0.5)]],
        [[(0.0, 0.1), (0.05, 0.0), (0.6, 0.0), (0.4, 0.4), (0.3, 1.0)]]],
    8: [[[(0.55, 0.1), (0.3, 0.0), (0.08, 0.18), (0.3, 0.45), (0.55, 0.7), (0.35, 1.0),
          (0.05, 0.75), (0.3, 0.45), (0.52, 0.22), (0.55, 0.1)]],
        [_ellipse(0.3, 0.24, 0.2, 0.24), _ellipse(0.3, 0.73, 0.27, 0.27)]],
    9: [[_ellipse(0.3, 0.25, 0.26, 0.25, start=0.0) + [(0.56, 0.5), (0.52, 1.0)]],
        [_ellipse(0.3, 0.25, 0.26, 0.25, start=0.0) + [(0.55, 0.7), (0.35, 1.0),
                                                         (0.1, 0.92)]],
        [_ellipse(0.32, 0.27, 0.25, 0.27, start=0.3) + [(0.57, 0.3), (0.25, 1.0)]]],
}


def _smooth(points: list[tuple[float, float]], per_segment: int = 6) -> list[tuple]:
    """A Catmull-Rom curve through the points (a pen does not draw corners exactly)."""
    if len(points) < 3:
        return points
    p = np.array([points[0]] + points + [points[-1]], dtype=np.float64)
    out = []
    for i in range(1, len(p) - 2):
        p0, p1, p2, p3 = p[i - 1], p[i], p[i + 1], p[i + 2]
        for t in np.linspace(0, 1, per_segment, endpoint=False):
            out.append(0.5 * ((2 * p1) + (-p0 + p2) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t * t
                              + (-p0 + 3 * p1 - 3 * p2 + p3) * t ** 3))
    out.append(p[-2])
    return [tuple(q) for q in out]


def draw_strokes(strokes, pen: float, size: int = 128) -> np.ndarray:
    """Polylines in a 0..1 box (y down) drawn with a round pen; returns ink in [0, 1]."""
    image = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(image)
    for stroke in strokes:
        points = [(x * size, y * size) for x, y in stroke]
        draw.line(points, fill=255, width=max(1, round(pen)), joint="curve")
        r = pen / 2
        for x, y in (points[0], points[-1]):  # round caps
            draw.ellipse((x - r, y - r, x + r, y + r), fill=255)
    return np.asarray(image, np.float32) / 255.0


def stroke_digit(label: int, rng: random.Random, size: int | None = None) -> np.ndarray:
    """One synthetic handwritten digit, in the model's 32×32 frame (or, with `size`, as
    ink on a size×size page, before framing: the app's sample images)."""
    style = rng.choice(SKELETONS[label])
    slant = rng.uniform(-0.35, 0.25)
    angle = math.radians(rng.uniform(-10, 10))
    stretch = rng.uniform(0.65, 1.35)
    jitter = rng.uniform(0.0, 0.045)
    cos, sin = math.cos(angle), math.sin(angle)
    strokes = []
    for stroke in style:
        moved = []
        # a hand wobbles smoothly: neighbouring points move together (a moving average)
        noise = np.array([[rng.gauss(0, jitter), rng.gauss(0, jitter)] for _ in stroke])
        if len(stroke) > 6:
            kernel = np.ones(5) / np.sqrt(5)
            noise = np.stack([np.convolve(np.pad(n, 2, mode="wrap"), kernel, "valid")
                              for n in noise.T], 1)
        for (x, y), (dx, dy) in zip(stroke, noise):
            x, y = x + dx, y + dy
            x = (x - 0.3) * stretch + slant * (0.5 - y)
            y = y - 0.5
            moved.append((0.5 + 0.6 * (cos * x - sin * y), 0.5 + 0.6 * (sin * x + cos * y)))
        strokes.append(_smooth(moved))
    # The pen is drawn at this scale: the digit is about 0.6 × 128 px high, FIT px in the end.
    pen = rng.uniform(1.0, 4.0) * (0.6 * (size or 128)) / FIT
    ink = draw_strokes(strokes, pen, size or 128)
    return ink if size else fit_ink(ink)


def font_files() -> list[Path]:
    """Scalable fonts on this machine, in a fixed order (the data set depends on it)."""
    files = set()
    for folder in FONT_DIRS:
        if Path(folder).is_dir():
            files |= {p for p in Path(folder).rglob("*") if p.suffix.lower() in
                      (".ttf", ".otf", ".ttc")}
    return sorted(files)


def font_digit(label: int, font: Path, rng: random.Random) -> np.ndarray:
    """One digit of a font, rotated, sheared and made thicker or thinner."""
    image = Image.new("L", (160, 160), 0)
    draw = ImageDraw.Draw(image)
    draw.text((80, 80), str(label), fill=255, font=ImageFont.truetype(str(font), 96),
              anchor="mm")
    shear, angle = rng.uniform(-0.3, 0.3), rng.uniform(-10, 10)
    image = image.transform(image.size, Image.Transform.AFFINE,
                            (1, shear, -shear * 80, 0, 1, 0), Image.Resampling.BILINEAR)
    image = image.rotate(angle, Image.Resampling.BILINEAR)
    weight = rng.choice((None, None, "thick", "thin"))
    if weight == "thick":
        image = image.filter(ImageFilter.MaxFilter(rng.choice((3, 5, 7))))
    elif weight == "thin":
        image = image.filter(ImageFilter.MinFilter(3))
    return fit_ink(np.asarray(image, np.float32) / 255.0)


def scan_digit(scan: np.ndarray) -> np.ndarray:
    """An 8×8 scan (ink in [0, 1]) upsampled smoothly, then framed like everything else."""
    big = Image.fromarray(scan.astype(np.float32)).resize((64, 64), Image.Resampling.BICUBIC)
    return fit_ink(np.clip(np.asarray(big), 0, 1))


HELDOUT_SEED, TRAIN_SEED = 2, 0


def split_fonts() -> tuple[list[Path], list[Path]]:
    """(training fonts, held-out fonts): every fifth font is kept for held-out only."""
    fonts = font_files()
    held = fonts[::5]
    return [f for f in fonts if f not in held], held


def training_set() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    from .digits import load_scans

    train_x, train_y, _, _ = load_scans()
    return build(TRAIN_SEED, 30_000, split_fonts()[0], 80, (train_x, train_y))


def write_heldout(path: Path) -> None:
    """The held-out set shipped in resources/data (`python -m models.tasks.handwriting`)."""
    from .digits import load_scans

    _, _, held_x, held_y = load_scans()
    images, labels, sources = build(HELDOUT_SEED, 1_500, split_fonts()[1], 25, (held_x, held_y))
    np.savez_compressed(path, images=images, labels=labels, sources=sources)


def build(seed: int, strokes: int, fonts: list[Path], per_font: int,
          scans: tuple[np.ndarray, np.ndarray] | None) -> tuple[np.ndarray, np.ndarray,
                                                                  np.ndarray]:
    """(images uint8 (N, 32, 32), labels, source: 0 strokes, 1 fonts, 2 scans)."""
    rng = random.Random(seed)
    images, labels, sources = [], [], []
    for k in range(strokes):
        label = k % 10
        images.append(stroke_digit(label, rng))
        labels.append(label)
        sources.append(0)
    for font in fonts:
        for k in range(per_font * 10):
            try:
                images.append(font_digit(k % 10, font, rng))
            except OSError:  # a font Pillow cannot read
                break
            labels.append(k % 10)
            sources.append(1)
    if scans is not None:
        for scan, label in zip(*scans):
            images.append(scan_digit(scan))
            labels.append(int(label))
            sources.append(2)
    x = np.round(np.stack(images) * 255).astype(np.uint8)
    return x, np.array(labels, np.int64), np.array(sources, np.int8)


def write_samples(folder: Path, seed: int = HELDOUT_SEED + 1) -> None:
    """The app's sample images: one synthetic digit of each kind, dark ink on light paper
    at 128×128 (drawn from a seed of their own, so not in any training set)."""
    rng = random.Random(seed)
    for label in range(10):
        ink = stroke_digit(label, rng, size=128)
        Image.fromarray(np.round(255 * (1 - ink)).astype(np.uint8)).save(
            folder / f"digit_{label}.png")


if __name__ == "__main__":
    from ..resources import resource_path
    from .digits import HELDOUT_FILE

    write_heldout(HELDOUT_FILE)
    write_samples(resource_path("samples/digits"))
    print(f"wrote {HELDOUT_FILE} ({HELDOUT_FILE.stat().st_size / 1e6:.2f} MB) and the samples")
