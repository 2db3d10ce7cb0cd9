"""Reproduce a shipped weights file: `python -m models.train PRESET [--steps N]`.

Fixed seeds, a 2-core CPU, minutes per preset. Ends with the held-out figures.
Needs the `train` extra (scikit-learn for the digits, tqdm for the progress bar).

The translation preset adds a guided-alignment term (Garg et al. 2019, "Jointly Learning
to Align and Translate with Transformer Models"): one head of the last decoder layer's
cross-attention (Garg et al. supervise a single head, not the average) is pulled towards
the generator's gold word alignment; the other heads are left free, so they can differ.
Without it, articles attend to the noun that decides their gender more than to "the"/"a".
A small penalty on the heads' mean pairwise similarity (every attention site) keeps heads
from becoming copies of one another.

It also trains a share of its steps with the seq2seq bottleneck switched on (the decoder
sees one context vector, the mean of the encoder states, instead of attention), so that
the bottleneck intervention shows what it did in the RNN days: short sentences survive
it, long ones fall apart.
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

from .checkpoints.ours import save_checkpoint
from .decoder import Decoder, DecoderConfig
from .evaluate import (
    SUPERVISED_HEAD,
    evaluate,
    induction_batch,
    induction_figures,
    pad_batch,
    text_pairs,
)
from .presets import PRESETS, get_preset
from .resources import resource_path
from .session import Session, build_model
from .sites import kind
from .tasks import induction
from .tasks.digits import augment
from .tasks.handwriting import training_set
from .transformer import BOS, EOS, PAD

DEFAULT_STEPS = {"translate": 12000, "reverse": 4000, "vit-digits": 4000, "swin-digits": 3000,
                 "induction": 4000}
INDUCTION_LR = 1e-3
ALIGNMENT_WEIGHT = 0.5
BOTTLENECK_SHARE = 0.2  # of the translation steps
DIVERSITY_WEIGHT = 0.1  # on the heads' mean pairwise similarity (translation)


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
    gold = np.zeros((len(chunk), rows, cols), np.float32)
    for b, (_, _, alignment) in enumerate(chunk):
        for t, sources in enumerate(alignment):
            gold[b, t, sources] = 1.0 / len(sources)
    return torch.from_numpy(gold)


def head_similarity(kept: dict[str, torch.Tensor], src: torch.Tensor, tgt: torch.Tensor,
                    left_out: set[str] | frozenset[str] = frozenset()) -> torch.Tensor:
    """Mean pairwise cosine similarity of the heads' attention maps (padding rows left
    out), averaged over sites: a small penalty on it keeps heads from copying each other
    (without it both decoder self-attention layers had four near-identical heads, 0.89+)."""
    similarities = []
    for name, weights in kept.items():  # (B, H, T, S)
        if name in left_out:
            continue  # (cross-attention under the bottleneck: uniform by construction)
        rows = (src if name.startswith("encoder") else tgt) != PAD  # (B, T)
        flat = F.normalize((weights * rows[:, None, :, None]).flatten(2), dim=-1)
        sim = flat @ flat.transpose(1, 2)  # (B, H, H)
        heads = sim.shape[-1]
        off_diagonal = sim.sum((1, 2)) - sim.diagonal(dim1=1, dim2=2).sum(-1)
        similarities.append((off_diagonal / (heads * (heads - 1))).mean())
    return torch.stack(similarities).mean()


def image_batches(images: np.ndarray, labels: np.ndarray, batch: int, gen: torch.Generator):
    """images: (N, 32, 32) uint8 or float in [0, 1]."""
    x = torch.from_numpy(images)
    x = (x.float() / 255.0 if x.dtype == torch.uint8 else x.float())[:, None]
    y = torch.from_numpy(labels)
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
            train_x, train_y, _ = training_set()
        else:
            train_x, train_y = images
        data = image_batches(train_x, train_y, batch, torch.Generator().manual_seed(seed))
        peak = 2e-3
    attention_sites = []  # translation: every site's weights, for the two attention terms
    if preset.task == "translation":
        attention_sites = [(site, m) for site, m in model.named_modules()
                           if hasattr(m, "kept_weights")]
        aligned_site = f"decoder.layers.{len(model.decoder.layers) - 1}.cross_attn"
        reading = {site for site, info in session.describe()["sites"].items()
                   if kind(info["kind"]).reads_encoder}  # what the bottleneck makes uniform
    coin = random.Random(seed + 1)
    optimizer = torch.optim.AdamW(model.parameters(), lr=peak, weight_decay=0.05)
    losses: list[float] = []
    model.train()
    bar = tqdm(range(steps), desc=name, disable=quiet, file=sys.stderr)
    for step in bar:
        inputs, target, gold = next(data)
        for group in optimizer.param_groups:
            group["lr"] = lr_at(step, steps, peak, warmup=min(200, steps // 5))
        if attention_sites:
            for _, module in attention_sites:
                module.kept_weights = []
            model.bottleneck = coin.random() < BOTTLENECK_SHARE
        logits = model(*inputs)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), target.reshape(-1),
                               ignore_index=PAD if preset.arch == "transformer" else -100)
        if attention_sites:
            kept = {site: module.kept_weights.pop() for site, module in attention_sites}
            loss = loss + DIVERSITY_WEIGHT * head_similarity(
                kept, *inputs, reading if model.bottleneck else frozenset())
        if attention_sites and gold is not None and not model.bottleneck:
            attention = kept[aligned_site][:, SUPERVISED_HEAD]  # (B, T, S)
            rows = gold.sum(-1) > 0
            nll = -(gold * torch.log(attention + 1e-9)).sum(-1)
            loss = loss + ALIGNMENT_WEIGHT * nll[rows].mean()
        step_with(optimizer, model, loss, losses, bar, step)
    for _, module in attention_sites:
        module.kept_weights = None
    if attention_sites:
        model.bottleneck = False
    model.eval()
    if out is not None:
        meta = {"arch": preset.arch, "preset": name, "config": model.cfg.to_dict(),
                "task": preset.task, "steps": steps, "seed": seed}
        save_checkpoint(out, model, meta)
    return session, losses


def step_with(optimizer, model, loss, losses: list[float], bar, step: int) -> None:
    """One optimiser step (gradients clipped at norm 1), the loss kept and shown."""
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    losses.append(float(loss.detach()))
    if step % 50 == 0:
        bar.set_postfix(loss=f"{np.mean(losses[-50:]):.4f}")


def train_induction(steps: int | None = None, out: Path | None = None, batch: int = 64,
                    quiet: bool = False, seed: int = 0,
                    config: dict | None = None) -> tuple[Decoder, list[float]]:
    """The induction preset: next-token cross-entropy on every word of sequences with a
    repeated segment (models/tasks/induction.py); nothing else steers the heads."""
    steps = steps or DEFAULT_STEPS["induction"]
    torch.manual_seed(seed)
    cfg = DecoderConfig(vocab_size=len(induction.vocabulary()),
                        **(config or induction.MODEL_CONFIG))
    model = Decoder(cfg)
    data = induction.stream(induction.TRAIN_SEED + seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=INDUCTION_LR, weight_decay=0.05)
    losses: list[float] = []
    model.train()
    bar = tqdm(range(steps), desc="induction", disable=quiet, file=sys.stderr)
    for step in bar:
        ids = induction_batch([next(data) for _ in range(batch)])
        for group in optimizer.param_groups:
            group["lr"] = lr_at(step, steps, INDUCTION_LR, warmup=min(200, steps // 5))
        logits = model(ids[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1),
                               ignore_index=induction.PAD)
        step_with(optimizer, model, loss, losses, bar, step)
    model.eval()
    if out is not None:
        meta = {"arch": "decoder", "preset": "induction", "config": cfg.to_dict(),
                "task": "induction", "steps": steps, "seed": seed}
        save_checkpoint(out, model, meta)
    return model, losses


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m models.train", description=__doc__)
    parser.add_argument("preset", choices=list(PRESETS) + ["induction"])
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--out", type=Path, default=None,
                        help="weights file (default: the preset's file in resources/weights)")
    args = parser.parse_args(argv)
    torch.set_num_threads(max(1, torch.get_num_threads()))
    out = args.out or resource_path(f"weights/{args.preset}.safetensors")
    out.parent.mkdir(parents=True, exist_ok=True)
    start = time.time()
    if args.preset == "induction":
        torch.set_num_threads(1)  # a model this small only loses time to a second thread
        model, _ = train_induction(args.steps, out)
        print(f"trained induction in {time.time() - start:.0f} s -> {out} "
              f"({out.stat().st_size / 1e6:.2f} MB)")
        print("held-out:", induction_figures(model, induction.heldout()))
        return 0
    session, _ = train(args.preset, args.steps, out)
    print(f"trained {args.preset} in {time.time() - start:.0f} s -> {out} "
          f"({out.stat().st_size / 1e6:.2f} MB)")
    print("held-out:", evaluate(session))
    return 0


if __name__ == "__main__":
    sys.exit(main())
