"""Throughput of the corpus command on a GPT-2-small-sized model (docs/corpus.md): not a
test, a measurement to run by hand on a quiet machine:

    python -m tests.models.corpus_bench [N] [--ray] [--points K]

A random GPT-2 of GPT-2 small's shape (12 layers, 768 wide, 12 heads; the tests' 300-word
byte-level tokenizer) is saved by transformers; N inputs of about 64 tokens each. Printed,
in one run: a plain batched forward of the same inputs (untraced, no statistics), the corpus
in this process (without the query/key sample, and with K vectors per head and role: 20000
by default, which at a few dozen inputs keeps every vector; a small K shows a long job's
steady state, where most of a batch's vectors are above the sample's threshold), and, with
--ray, on 2 local Ray actors. The plain forward runs before and after the corpus; each
time is also given as a multiple of the faster of the two, and the process's CPU time as
a multiple of the forward's (steadier where other jobs share the machine; the corpus job's
writer thread counted too).
"""
from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import torch

from models.corpus import load_session, run_corpus
from tests.models.lm_folders import CORPUS, build


def inputs(n: int) -> list[str]:
    """Sentences of the tests' corpus joined to about 64 tokens each, all different."""
    lines = []
    for i in range(n):
        words = " ".join(CORPUS[(i + j) % 8] for j in range(3)).split()
        lines.append(" ".join(words[i % 5: i % 5 + 24]) + f" {i}")
    return lines


def main(argv: list[str]) -> None:
    points = int(argv[argv.index("--points") + 1]) if "--points" in argv else 20000
    argv = [a for i, a in enumerate(argv) if "--points" not in argv[max(i - 1, 0): i + 1]]
    n = int(next((a for a in argv if a.isdigit()), 32))
    batch = 8
    root = Path(tempfile.mkdtemp())
    folder = root / "gpt2-small"
    build("gpt2", folder, n_embd=768, n_layer=12, n_head=12, n_positions=1024)
    spec = {"preset": None, "weights": str(folder), "device": "cpu"}
    session = load_session(spec)
    texts = inputs(n)
    source = root / "in.txt"
    source.write_text("\n".join(texts) + "\n")
    encoded = [session.tokenizer.encode(t)[0] for t in texts]
    print(f"{n} inputs, {sum(map(len, encoded)) / n:.0f} tokens on average, batch {batch}, "
          f"torch threads {torch.get_num_threads()}, load {os.getloadavg()[0]:.1f}")
    def forward() -> tuple[float, float]:
        start, cpu = time.perf_counter(), time.process_time()
        with torch.inference_mode():
            for i in range(0, n, batch):
                part = encoded[i: i + batch]
                x = torch.zeros(len(part), max(map(len, part)), dtype=torch.long)
                for b, ids in enumerate(part):
                    x[b, : len(ids)] = torch.tensor(ids)
                session.model.hidden(x)
        return time.perf_counter() - start, time.process_time() - cpu

    # untimed: first calls (allocations, imports) paid once by a long job
    run_corpus(spec, source, root / "warm", batch=batch, points=0, session=session,
               quiet=True, limit=batch)
    before = forward()
    times, cpus = {}, {}
    for kept in (0, points):
        start, cpu = time.perf_counter(), time.process_time()
        run_corpus(spec, source, root / f"here-{kept}", batch=batch, points=kept,
                   session=session, quiet=True)
        times[f"corpus in process, --points {kept}"] = time.perf_counter() - start
        cpus[f"corpus in process, --points {kept}"] = time.process_time() - cpu
    after = forward()
    if "--ray" in argv:
        import ray

        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        try:
            start = time.perf_counter()
            run_corpus(spec, source, root / "ray", batch=batch, points=points, ray=True,
                       workers=2, quiet=True)
            times[f"corpus on Ray, 2 actors, --points {points} (Ray's start and the actors' "
                  "model loading included)"] = time.perf_counter() - start
        finally:
            ray.shutdown()
    plain = min(before[0], after[0])  # (the machine's load varies: the faster of the two)
    plain_cpu = min(before[1], after[1])
    print(f"plain batched forward: {n / before[0]:.2f} inputs/s before the corpus runs, "
          f"{n / after[0]:.2f} after; CPU {before[1]:.1f} s, {after[1]:.1f} s")
    here = times[f"corpus in process, --points {points}"]
    for name, spent in times.items():
        ray_part = f", {spent / here:.2f}x in process" if "Ray" in name else ""
        cpu_part = (f"; CPU time {cpus[name]:.1f} s, {cpus[name] / plain_cpu:.2f}x the "
                    f"plain forward's, both threads" if name in cpus else "")
        print(f"{name}: {n / spent:.2f} inputs/s ({spent / plain:.2f}x the faster plain "
              f"forward's time{ray_part}{cpu_part})")


if __name__ == "__main__":
    main(sys.argv[1:])
