"""Reproduce a shipped weights file: `python -m models.train PRESET [--steps N]`.

Fixed seeds, a 2-core CPU, minutes per preset. Ends with the held-out figures.
Needs the `train` extra (scikit-learn for the digits, tqdm for the progress bar).

The translation preset adds a guided-alignment term (Garg et al. 2019, "Jointly Learning
to Align and Translate with Transformer Models"): the last decoder layer's cross-attention,
averaged over heads, is pulled towards the generator's gold word alignment. Without it,
articles attend to the noun that decides their gender more than to "the"/"a" itself.
"""
from __future__ import annotations

import argparse
import math
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from .checkpoints import save_checkpoint
from .evaluate import evaluate, pad_batch, text_pairs
from .presets import PRESETS, Session, build_model, get_preset
from .tasks.digits import augment, load_split
from .transformer import BOS, EOS, PAD

DEFAULT_STEPS = {"translate": 6000, "reverse": 4000, "vit-digits": 3000, "swin-digits": 2000}
ALIGNMENT_WEIGHT = 0.5


def lr_at(step: int, steps: int, peak: float, warmup: int = 200) -> float:
    if step < warmup:
        return peak * (step + 1) / warmup
    return peak * 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, steps - warmup)))


def text_batches(session: Session, pairs, batch: int, rng: random.Random):
    vs, vt = session.src_vocab, session.tgt_vocab
    while True:
        chunk = rng.sample(pairs, batch)
        src = pad_batch([vs.encode(s) + [EOS] for s, _, _ in chunk])
        tgt_in = pad_batch([[BOS] + vt.encode(t) for _, t, _ in chunk])
        tgt_out = pad_batch([vt.encode(t) + [EOS] for _, t, _ in chunk])
        yield (src, tgt_in), tgt_out, gold_alignment(chunk, tgt_in.shape[1], src.shape[1])


def gold_alignment(chunk, rows: int, cols: int) -> torch.Tensor | None:
    """(B, T, S) target distribution: uniform over each target word's gold source words."""
    if chunk[0][2] is None:
        return None
    gold = torch.zeros(len(chunk), rows, cols)
    for b, (_, _, alignment) in enumerate(chunk):
        for t, sources in enumerate(alignment):
            gold[b, t, sources] = 1.0 / len(sources)
    return gold


def image_batches(images: np.ndarray, labels: np.ndarray, batch: int, gen: torch.Generator):
    x, y = torch.from_numpy(images), torch.from_numpy(labels)
    while True:
        pick = torch.randint(len(y), (batch,), generator=gen)
        yield (augment(x[pick], gen),), y[pick], None


def train(name: str, steps: int | None = None, out: Path | None = None, batch: int = 128,
          pairs=None, images=None, quiet: bool = False,
          seed: int = 0) -> tuple[Session, list[float]]:
    """Train a preset from scratch; returns the session and the loss of every step."""
    preset = get_preset(name)
    steps = steps or DEFAULT_STEPS[name]
    torch.manual_seed(seed)
    model = build_model(preset)
    session = Session(preset, model, "cpu", trained=True)
    if preset.arch == "transformer":
        pairs = pairs if pairs is not None else text_pairs(preset.task, heldout=False)
        data = text_batches(session, pairs, min(batch, len(pairs)), random.Random(seed))
        peak = 1e-3
    else:
        if images is None:
            train_x, train_y, _, _ = load_split()
        else:
            train_x, train_y = images
        data = image_batches(train_x, train_y, batch, torch.Generator().manual_seed(seed))
        peak = 2e-3
    aligned_attention = None
    if preset.task == "translation":
        aligned_attention = model.decoder.layers[-1].cross_attn
    optimizer = torch.optim.AdamW(model.parameters(), lr=peak, weight_decay=0.05)
    losses: list[float] = []
    model.train()
    bar = tqdm(range(steps), desc=name, disable=quiet, file=sys.stderr)
    for step in bar:
        inputs, target, gold = next(data)
        for group in optimizer.param_groups:
            group["lr"] = lr_at(step, steps, peak, warmup=min(200, steps // 5))
        if aligned_attention is not None:
            aligned_attention.kept_weights = []
        logits = model(*inputs)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), target.reshape(-1),
                               ignore_index=PAD if preset.arch == "transformer" else -100)
        if aligned_attention is not None and gold is not None:
            attention = aligned_attention.kept_weights.pop().mean(1)  # (B, T, S)
            rows = gold.sum(-1) > 0
            nll = -(gold * torch.log(attention + 1e-9)).sum(-1)
            loss = loss + ALIGNMENT_WEIGHT * nll[rows].mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        losses.append(float(loss.detach()))
        if step % 50 == 0:
            bar.set_postfix(loss=f"{np.mean(losses[-50:]):.4f}")
    if aligned_attention is not None:
        aligned_attention.kept_weights = None
    model.eval()
    if out is not None:
        meta = {"arch": preset.arch, "preset": name, "config": model.cfg.to_dict(),
                "task": preset.task, "steps": steps, "seed": seed}
        save_checkpoint(out, model, meta)
    return session, losses


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m models.train", description=__doc__)
    parser.add_argument("preset", choices=list(PRESETS))
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--out", type=Path, default=None,
                        help="weights file (default: the preset's file in resources/weights)")
    args = parser.parse_args(argv)
    torch.set_num_threads(max(1, torch.get_num_threads()))
    out = args.out or get_preset(args.preset).weights
    out.parent.mkdir(parents=True, exist_ok=True)
    start = time.time()
    session, _ = train(args.preset, args.steps, out)
    print(f"trained {args.preset} in {time.time() - start:.0f} s -> {out} "
          f"({out.stat().st_size / 1e6:.2f} MB)")
    print("held-out:", evaluate(session))
    return 0


if __name__ == "__main__":
    sys.exit(main())
