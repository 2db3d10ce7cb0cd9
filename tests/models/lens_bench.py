"""The lens's figures at GPT-2-small size (docs/lens.md, "How fast"): a random 12 × 12-head,
768-wide decoder with 50,257 words at 512 tokens; the traced forward with and without the
residual records (taken in turn), the trace's bytes, one attribution, one lens column, and the
grid of 128 positions. Not a test (no timing is asserted): run it by hand from the checkout,

    python tests/models/lens_bench.py
"""
import json
import sys
import time

import numpy as np
import torch

sys.path.insert(0, ".")
import models.decoder as D  # noqa: E402
from models.decoder import Decoder, DecoderConfig  # noqa: E402
from models.lens import attribution, lens_column, lens_grid  # noqa: E402
from models.trace import recording  # noqa: E402

HOOKS = (D.stream, D.add_write, D.add_attention, D.record_output_projection)


def hooks(on: bool) -> None:
    """The residual records on, or their hooks made no-ops (the forward as it was)."""
    if on:
        D.stream, D.add_write, D.add_attention, D.record_output_projection = HOOKS
    else:
        D.stream = lambda point, x, write=None: x
        D.add_write = D.add_attention = lambda point, x, write: x + write
        D.record_output_projection = lambda site, linear: None


def best_ms(fn, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return round(min(times) * 1000, 1)


def main() -> None:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = Decoder(DecoderConfig(vocab_size=50257, d_model=768, num_layers=12, num_heads=12,
                                  d_ff=3072, max_len=1024)).eval()
    ids = torch.randint(0, 50257, (1, 512))

    def traced():
        with torch.inference_mode(), recording() as trace:
            model.hidden(ids)
        return trace

    times, traces = {True: [], False: []}, {}
    for _ in range(3):
        for on in (False, True):
            hooks(on)
            start = time.perf_counter()
            traces[on] = traced()
            times[on].append(time.perf_counter() - start)
    hooks(True)
    trace = traces[True]
    trace.meta["sites"] = model.describe_sites()
    print(json.dumps({
        "tokens": 512,
        "traced_s_on": [round(t, 2) for t in times[True]],
        "traced_s_off": [round(t, 2) for t in times[False]],
        "trace_mb_on": round(trace.nbytes() / 2**20, 1),
        "trace_mb_off": round(traces[False].nbytes() / 2**20, 1),
        "dla_ms": best_ms(lambda: attribution(model, trace, 511)),
        "lens_column_ms": best_ms(lambda: lens_column(model, trace, 511)),
        "grid_128_positions_ms": best_ms(lambda: lens_grid(model, trace,
                                                           positions=list(range(128))), 1),
        "median_ratio": round(float(np.median(times[True]) / np.median(times[False])), 3),
    }, indent=1))


if __name__ == "__main__":
    main()
