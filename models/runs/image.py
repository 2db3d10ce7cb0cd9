"""Running an image classifier (ViT, Swin; shipped digits or an opened photo model).

A digit preset's input is prepared as a 32×32 grey digit (models/tasks/digits.py), an
opened model's as its processor says (models/checkpoints/images.py). The trace records the picture
as panels show it (`input/image`, and `input/rgb` for a photo) and `prediction/probs`.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from .. import trace as tracing
from ..tasks.digits import prepare_digit
from ..trace import Trace


def prepare(session, source: Any) -> tuple[torch.Tensor, Any, Any, Any]:
    """(pixels (1, C, H, W) on the session's device, the picture (H, W) as panels show it,
    notes, the colours or None): `source` as the model takes it (a run, activation
    patching)."""
    rgb = None
    if session.preprocessing is None:
        image, notes = prepare_digit(source)
        x = torch.from_numpy(image)[None, None].to(session.device)
    else:
        from ..checkpoints.images import prepare_photo

        pixels, notes, rgb = prepare_photo(source, session.preprocessing, session.model.cfg)
        image = rgb.mean(-1)  # panels show the picture, not the normalised pixels
        x = torch.from_numpy(pixels)[None].to(session.device)
    return x, image, notes, rgb


def run(session, source: Any, trace: bool) -> Trace:
    """Classify `source` (a path or an image); with trace=False only the prediction."""
    x, image, notes, rgb = prepare(session, source)
    result = Trace()
    with tracing.recording(result) if trace else tracing.paused():
        logits = session.model(x)[0]
    probs = logits.float().softmax(-1)
    result.add("prediction", "probs", probs)
    result.add("input", "image", image)  # (H, W) in [0, 1], traced or not
    if rgb is not None:
        result.add("input", "rgb", rgb)  # (H, W, 3): the colours, for the pictures
    best = int(probs.argmax())
    labels = session.labels
    result.meta.update(
        input=str(source) if isinstance(source, (str, Path)) else "<image>",
        image=notes, labels=labels, prediction=labels[best],
        confidence=float(probs[best]), probs=[float(p) for p in probs],
    )
    return result
