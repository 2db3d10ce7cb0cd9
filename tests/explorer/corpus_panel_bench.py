"""How long the Corpus tab takes to switch heads in its embedding view (docs/corpus.md): not a
test, a measurement to run by hand:

    python -m tests.explorer.corpus_panel_bench FOLDER [--write] [--heads N]
    python -m tests.explorer.corpus_panel_bench FOLDER --compare OLD_CHECKOUT [--rounds R]

`--write` first writes a result of GPT-2 small's shape into FOLDER (12 layers × 12 heads,
10,000 inputs, 20,000 queries and 20,000 keys of 64 numbers per head: a 1.6 GB
points.parquet). A switch is timed from the click (`select_head`) until the new head's
embedding is drawn and painted, PCA, each head for the first time; then the same heads
again (drawn from what the tab keeps). `--compare` runs this checkout and another one
(a copy of an older commit) one after the other, R times each, alternating, so that a
machine loaded by other work weighs on both alike; it prints each run's median.
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

LAYERS, HEADS = 12, 12


def write(folder: Path) -> None:
    from explorer.panels.corpus_result import write_example

    layers = [{"site": f"transformer.h.{i}.attn", "row": str(i), "kind": "causal",
               "heads": HEADS} for i in range(LAYERS)]
    write_example(folder, [f"input number {i} " * 8 for i in range(10000)], layers,
                  points_per_head=20000, d_head=64, preset="induction", max_position=64,
                  parts=20)


def measure(folder: Path, heads: int, first: int) -> dict:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from explorer.analyst import computing
    from explorer.api import Explorer

    e = Explorer.create("induction")
    e.window.resize(1400, 900)
    e.window.show()
    e.wait()
    start = time.perf_counter()
    e.open_corpus(folder)
    opened = time.perf_counter() - start
    panel = e.window.panels["corpus"]
    chosen = [((first + i) // HEADS % LAYERS, (first + i) % HEADS) for i in range(heads)]

    def switch(layer: int, head: int) -> float:
        start = time.perf_counter()
        panel.select_head(layer, head)
        while computing() or panel.shown_points is None or \
                panel.shown_points.get("head", panel.head) != head or panel.layer != layer:
            e.app.processEvents()
            time.sleep(0.001)
        e.paint()
        return time.perf_counter() - start

    new = [switch(*h) for h in chosen]
    again = [switch(*h) for h in chosen]
    return {"open_s": opened, "switch_s": new, "again_s": again,
            "points": len(panel.shown_points["xy"])}


def main(argv: list[str]) -> None:
    folder = Path(argv[0])
    heads = int(argv[argv.index("--heads") + 1]) if "--heads" in argv else 6
    first = int(argv[argv.index("--first") + 1]) if "--first" in argv else 1
    if "--write" in argv:
        write(folder)
    if "--compare" not in argv:
        print(json.dumps(measure(folder, heads, first)))
        return
    old = Path(argv[argv.index("--compare") + 1]).resolve()
    new = Path(__file__).resolve().parents[2]
    rounds = int(argv[argv.index("--rounds") + 1]) if "--rounds" in argv else 3
    found: dict[str, list] = {"old": [], "new": []}
    for r in range(rounds):
        for name, root in (("old", old), ("new", new)):
            run = subprocess.run(
                [sys.executable, "-m", "tests.explorer.corpus_panel_bench", str(folder),
                 "--heads", str(heads), "--first", str(1 + r * heads)], cwd=root,
                env={**os.environ, "PYTHONPATH": str(root)}, capture_output=True, text=True,
                check=True)
            found[name].append(json.loads(run.stdout.strip().splitlines()[-1]))
            one = found[name][-1]
            print(f"round {r} {name}: open {one['open_s']:.2f} s, switch median "
                  f"{statistics.median(one['switch_s']):.3f} s, again median "
                  f"{statistics.median(one['again_s']):.3f} s", flush=True)
    for name, runs in found.items():
        switches = [s for run in runs for s in run["switch_s"]]
        again = [s for run in runs for s in run["again_s"]]
        print(f"{name}: {len(switches)} switches, median {statistics.median(switches):.3f} s "
              f"(min {min(switches):.3f}, max {max(switches):.3f}); again, median "
              f"{statistics.median(again):.3f} s; points {runs[0]['points']}")


if __name__ == "__main__":
    main(sys.argv[1:])
