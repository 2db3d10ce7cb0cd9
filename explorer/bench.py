"""`python main.py bench`: the latency figures the performance goals are stated in.

Offscreen with real rendering, driven through the scripting API (`Explorer`): every "to
pixels" figure ends with `Explorer.paint`, which runs the event loop until nothing is
pending: pyqtgraph scenes process their changes from the event loop, then Qt paints every
widget whose pixels changed — what a user would see.
Nothing is left to paint while the next run computes.
input-to-pixels starts when the (already debounced) edit reaches the AppState and ends
when the new trace is painted; the text box's 60 ms typing debounce comes on top.
"""
from __future__ import annotations

import gc
import multiprocessing
import os
import platform
import resource
import threading
import time
from pathlib import Path

import numpy as np
import torch

from models.presets import get_preset, preset_names
from models.session import load_preset
from models.tasks.digits import prepare_digit

GOALS = {"input_to_pixels_ms": {"median": 16.7, "p95": 33.0}, "hover_ms": {"median": 8.0},
         "traced_over_plain": 1.5}


def stats(samples: list[float]) -> dict:
    return {"median": float(np.median(samples)), "p95": float(np.percentile(samples, 95))}


def timed(fn, repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def language_model_texts(name: str, count: int, tokens: int) -> list[str]:
    """`count` texts of `tokens` tokens each (special ones included) for an opened language
    model, from its sample sentences, each starting a word later than the one before."""
    from models.checkpoints.common import folder_json
    from models.checkpoints.registry import text_tokenizer as read_tokenizer

    preset = get_preset(name)
    folder = Path(preset.source)
    tokenizer = read_tokenizer(folder, folder_json(folder, "config.json")["model_type"],
                               preset.config["vocab_size"])
    words = " ".join(preset.task_info.samples()).split()
    words = words * (4 * tokens // max(1, len(words)) + 2)
    out = []
    for start in range(count):
        n = 1
        while len(tokenizer.encode(" ".join(words[start: start + n + 1]))[0]) <= tokens:
            n += 1
        out.append(" ".join(words[start: start + n]))
    return out


def edits_for(name: str, count: int, tokens: int = 0) -> list:
    """A sequence of inputs like a user's: words typed one by one, a digit being drawn; an
    opened language model with `tokens`: texts of that many tokens."""
    preset = get_preset(name)
    if tokens and preset.source and preset.task_info.language_model:
        return language_model_texts(name, count, tokens)
    if preset.input_kind == "text":
        out = []
        while len(out) < count:
            for line in preset.samples:
                out += preset.task_info.typing(line)
        return out[:count]
    canvas = np.zeros((192, 192), np.uint8)
    out = []
    for i in range(count):  # a stroke growing around a circle: a "0" being drawn
        angle = 2 * np.pi * i / count
        y, x = int(96 + 60 * np.sin(angle)), int(96 + 40 * np.cos(angle))
        canvas[max(0, y - 6): y + 6, max(0, x - 6): x + 6] = 255
        out.append(canvas.copy())
    return out


def devices() -> list[str]:
    found = ["cpu"]
    if torch.cuda.is_available():
        found.append("cuda")
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        found.append("mps")
    return found


def bench_model(name: str, device: str, inputs: list) -> dict:
    session = load_preset(name, device)
    sample = inputs[-1]
    if session.preset.input_kind == "image" and session.preprocessing is None:
        sample = prepare_digit(sample)[0]  # an opened model prepares its own pictures
    start = time.perf_counter()
    warm = session.run(sample, trace=True)  # warm-up
    # 30 runs each; fewer for a model that takes seconds (a language model on 512 tokens)
    repeats = max(3, min(30, int(20 / max(time.perf_counter() - start, 1e-3))))
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    plain = timed(lambda: (session.run(sample, trace=False), sync()), repeats)
    # traced as the app's live runs are (no residual stream unless the Logit lens is shown),
    # and with the stream, taken in turn so that a machine's drift slows both alike
    traced, streamed = [], []
    for _ in range(repeats):
        traced += timed(lambda: (session.run(sample, residual=False), sync()), 1)
        streamed += timed(lambda: (session.run(sample), sync()), 1)
    figures = {"forward_ms": stats(plain), "forward_traced_ms": stats(traced),
               "forward_stream_ms": stats(streamed)}
    if "input/ids" in warm and session.preset.task_info.language_model:
        figures["tokens"] = int(warm["input/ids"].shape[0])
        figures["trace_mb"] = warm.nbytes() / 2**20
    return figures


def bench_gui(name: str, device: str, inputs: list, ready=None, before_each=None) -> dict:
    """The window on `name`: redraws, the edits `inputs` (input to pixels), then hovers.
    `before_each(value)`, when given, runs before each edit, outside its time."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from .api import Explorer
    from .export import wait_for_run

    explorer = Explorer.open(name, device, size=(1400, 860), wait=False, ready=ready)
    try:
        wait_for_run(explorer)
        state = explorer.state
        trace = state.trace

        def redraw():
            state.trace_changed.emit(trace)
            explorer.paint()

        redraw_ms = timed(redraw, 20)
        input_ms = []
        for value in inputs:
            if before_each:
                before_each(value)
            start = time.perf_counter()
            explorer.set_input(value)
            wait_for_run(explorer)
            input_ms.append((time.perf_counter() - start) * 1000)
        rows = state.trace[f"{state.selection.site}/q"].shape[-2]
        state.unlock()
        hover_ms = []
        for i in range(60):
            start = time.perf_counter()
            state.hover(query=i % rows, key=(i * 7) % rows if rows else None)
            explorer.paint()
            hover_ms.append((time.perf_counter() - start) * 1000)
        explorer.app.processEvents()
        during_sweep = hover_during_sweep(explorer)
    finally:
        explorer.close()
    figures = {"redraw_ms": stats(redraw_ms), "input_to_pixels_ms": stats(input_ms),
               "hover_ms": stats(hover_ms)}
    if during_sweep:
        figures["hover_during_sweep_ms"] = {**stats(during_sweep), "n": len(during_sweep)}
    return figures


def hover_during_sweep(explorer, most: int = 60) -> list[float]:
    """Hovers (ms each, up to `most`) while the Patching tab's heads-by-position sweep of
    A against A with one word changed runs on the model's worker: the window must answer
    meanwhile. None taken where there is no such sweep (an image model, counts that
    differ) or it ended before the first hover."""
    state = explorer.state
    if get_preset(state.preset).input_kind != "text":
        return []
    from .compare import positions

    # B: A with one word changed, else two of its words swapped (a byte-level BPE splits
    # words with their leading space alone, so the count stays), else a sample, else A
    # backwards (a character model), of A's token count (patching needs it)
    words = str(state.input).split(" ")
    swapped = [" ".join(words[:i] + [words[i + 1], words[i]] + words[i + 2:])
               for i in range(1, min(len(words) - 1, 4)) if words[i] != words[i + 1]]
    tries = [state.variant_of(state.input) for _ in range(3)] + swapped[:2] + \
        list(get_preset(state.preset).samples or [])[:5] + [str(state.input)[::-1]]
    for value_b in tries:
        explorer.set_compare(True, value_b)
        try:
            explorer.wait()
        except Exception:  # B refused: another
            continue
        if state.trace_b is not None and positions(state.trace_a) == positions(state.trace_b):
            break
    panel = explorer.window.panels["patching"]
    panel.sweep_box.setCurrentIndex(panel.sweep_box.findData("heads-by-pos"))
    hovers: list[float] = []
    if panel.sweep_box.currentData() == "heads-by-pos" and state.trace_b is not None and \
            positions(state.trace_a) == positions(state.trace_b):
        panel.run()
        rows = state.trace[f"{state.selection.site}/q"].shape[-2]
        while panel._job and len(hovers) < most:
            start = time.perf_counter()
            state.hover(query=len(hovers) % rows, key=(len(hovers) * 7) % rows)
            explorer.paint()
            hovers.append((time.perf_counter() - start) * 1000)
        if panel._job:
            panel.cancel_button.click()
        explorer.wait()
    explorer.set_compare(False)
    return hovers


def machine() -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "threads": torch.get_num_threads(), "cores": os.cpu_count(),
            "torch": torch.__version__, "python": platform.python_version(),
            "platform": os.environ.get("QT_QPA_PLATFORM", "")}


def run_bench(presets: list[str] | None = None, edits: int = 50,
              tokens: list[int] | int | None = None) -> dict:
    """Every preset (or those named) on every device. `tokens`: an opened language model
    measured at each of these input lengths, shortest first, under figures["lengths"]["N"]
    (on Linux each length's peak memory is that of the window opened for it: see
    reset_peak_rss)."""
    report = {"machine": machine(), "goals": GOALS, "presets": {}}
    lengths = sorted([tokens] if isinstance(tokens, int) else tokens or [])
    for name in presets or preset_names():
        language_model = get_preset(name).task_info.language_model
        for device in devices():
            if language_model and lengths:
                figures = {"lengths": {str(n): bench_length(name, device, edits, n)
                                       for n in lengths}}
            else:
                figures = bench_once(name, device, edits_for(name, edits))
            report["presets"].setdefault(name, {})[device] = figures
    runs = [f for by_device in report["presets"].values() for f in by_device.values()]
    if len(runs) == 1 and "lengths" in runs[0]:
        report["lengths"] = runs[0]["lengths"]  # one model on one device: at the top too
    return report


def reset_peak_rss() -> bool:
    """Linux: the process's peak resident size (VmHWM) restarts from what it holds now, so
    that each length's peak is that of the app opened on it (model, window, runs), not of
    what bench measured before. False where it cannot."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_once(name: str, device: str, inputs: list) -> dict:
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    figures = bench_model(name, device, inputs)
    gc.collect()  # the plain-forward session and another length's window: gone first
    peak_from_here = reset_peak_rss()
    figures.update(bench_gui(name, device, inputs))
    gc.collect()
    figures["peak_mem_mb"] = peak_rss_mb() if peak_from_here else \
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB
    if device == "cuda":
        figures["peak_gpu_mem_mb"] = torch.cuda.max_memory_allocated() / 2**20
    return figures


def own_forwards(session, value, device: str) -> dict:
    """The model's plain (untraced, fused) and traced forward on `value`, in ms, on a thread
    set up like the app's worker (its thread count); with the input's tokens and trace size."""
    from .runner import threads_for

    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    out = {}

    def forwards():
        torch.set_num_threads(threads_for(session))
        # plain; traced as the app's live run (no stream); with the stream (the lens's)
        for name, traced, residual in (("plain", False, False), ("traced", True, False),
                                       ("stream", True, True)):
            start = time.perf_counter()
            trace = session.run(value, trace=traced, residual=residual)
            sync()
            out[name] = (time.perf_counter() - start) * 1000
        out["tokens"] = int(trace["input/ids"].shape[0])
        out["trace_mb"] = trace.nbytes() / 2**20
        from models.lens import attribution, lens_column  # the last token's, after the run

        for key, read in (("lens_ms", lens_column), ("dla_ms", attribution)):
            start = time.perf_counter()
            read(session.model, trace, out["tokens"] - 1)
            out[key] = (time.perf_counter() - start) * 1000

    worker = threading.Thread(target=forwards)
    worker.start()
    worker.join()
    return out


def app_in_a_process_of_its_own(source: str, arch: str | None, device: str,
                                inputs: list, dtype: str | None = None) -> dict:
    """(In a child process.) The app as a user starts it: the folder opened, the window,
    the edits and hovers of bench_gui. Before each edit, the model's own plain and traced
    forward on the same input, on the app's session (the app idle): taken turn about with the
    app's runs, a machine whose speed drifts (a shared VM) slows both alike. The peak RSS is
    the app's alone: the process's VmHWM restarts after each pair of forwards."""
    from models.memory import give_back_freed
    from models.opening import open_model_ready
    from models.session import set_weights_dtype

    set_weights_dtype(dtype)  # (--dtype: this process is a fresh one)
    preset, session = open_model_ready(source, arch)  # read once, as File ▸ Open does
    runs, peaks = [], []

    def forwards_first(value):
        peaks.append(peak_rss_mb())  # the app's so far (opened, window, first run)
        runs.append(own_forwards(session, value, device))
        give_back_freed()
        reset_peak_rss()

    figures = bench_gui(preset.name, device, inputs, ready=session, before_each=forwards_first)
    peaks.append(peak_rss_mb())
    figures.update(tokens=runs[-1]["tokens"], trace_mb=runs[-1]["trace_mb"],
                   forward_ms=stats([r["plain"] for r in runs]),
                   forward_traced_ms=stats([r["traced"] for r in runs]),
                   forward_stream_ms=stats([r["stream"] for r in runs]), peak_mem_mb=max(peaks),
                   lens_ms=stats([r["lens_ms"] for r in runs]),
                   dla_ms=stats([r["dla_ms"] for r in runs]))
    return figures


def bench_length(name: str, device: str, edits: int, tokens: int) -> dict:
    """One input length of a language model, in the layout of issue 18's goals. An opened
    folder runs in a fresh process (spawned), its own forwards taken in turn with the app's
    runs (app_in_a_process_of_its_own): the peak memory is that of the app alone."""
    inputs = edits_for(name, max(2, min(edits, 5)), tokens)
    preset = get_preset(name)
    if preset.source:
        from models.session import KEEP

        with multiprocessing.get_context("spawn").Pool(1) as pool:
            f = pool.apply(app_in_a_process_of_its_own,
                           (preset.source, preset.source_arch, device, inputs, KEEP["dtype"]))
    else:
        f = bench_once(name, device, inputs)
    return {"tokens": f.get("tokens", tokens), "forward_ms": f["forward_ms"],
            "traced_ms": f["forward_traced_ms"], "stream_ms": f.get("forward_stream_ms"),
            "input_to_pixels_ms": f["input_to_pixels_ms"],
            "hover_ms": f["hover_ms"], "redraw_ms": f["redraw_ms"],
            "hover_during_sweep_ms": f.get("hover_during_sweep_ms"),
            "trace_mb": f.get("trace_mb"), "peak_rss_mb": f["peak_mem_mb"],
            "pixels_per_forward": f["input_to_pixels_ms"]["median"] / f["forward_ms"]["median"],
            "lens_ms": f.get("lens_ms"), "dla_ms": f.get("dla_ms")}


def print_report(report: dict) -> None:
    m = report["machine"]
    print(f"{m['cpu']} · {m['threads']} torch threads · torch {m['torch']}")
    print(f"{'preset':<12} {'device':<6} {'forward':>9} {'traced':>9} {'redraw':>9} "
          f"{'input→px med/p95':>18} {'hover':>8} {'mem MB':>7}")
    for name, by_device in report["presets"].items():
        for device, f in by_device.items():
            if "lengths" in f:
                for n, g in f["lengths"].items():
                    print(f"{name:<12} {device:<6} {g['forward_ms']['median']:8.1f}m "
                          f"{g['traced_ms']['median']:8.1f}m {g['redraw_ms']['median']:8.1f}m "
                          f"{g['input_to_pixels_ms']['median']:8.1f}/"
                          f"{g['input_to_pixels_ms']['p95']:<7.1f}   "
                          f"{g['hover_ms']['median']:7.1f}m {g['peak_rss_mb']:7.0f}   "
                          f"{g['tokens']} tokens ({n} asked), input→pixels "
                          f"{g['pixels_per_forward']:.2f}× the plain forward, trace "
                          f"{g['trace_mb']:.0f} MB")
                continue
            ok = (f["input_to_pixels_ms"]["median"] <= GOALS["input_to_pixels_ms"]["median"]
                  and f["input_to_pixels_ms"]["p95"] <= GOALS["input_to_pixels_ms"]["p95"])
            print(f"{name:<12} {device:<6} {f['forward_ms']['median']:8.1f}m "
                  f"{f['forward_traced_ms']['median']:8.1f}m {f['redraw_ms']['median']:8.1f}m "
                  f"{f['input_to_pixels_ms']['median']:8.1f}/{f['input_to_pixels_ms']['p95']:<7.1f}"
                  f"{'ok' if ok else '--':>3} {f['hover_ms']['median']:7.1f}m "
                  f"{f['peak_mem_mb']:7.0f}"
                  + f"   with the stream {f['forward_stream_ms']['median']:.1f}m"
                  + (f", hover during a sweep {f['hover_during_sweep_ms']['median']:.1f}m "
                     f"({f['hover_during_sweep_ms']['n']} taken)"
                     if f.get("hover_during_sweep_ms") else "")
                  + (f", {f['tokens']} tokens, trace {f['trace_mb']:.0f} MB"
                     if "tokens" in f else ""))
    print("goals: input→pixels median ≤ 16.7 ms, p95 ≤ 33 ms; hover median ≤ 8 ms; "
          "traced ≤ 1.5× plain (m = milliseconds, medians; traced: the app's live run, "
          "without the residual stream the Logit lens reads)")
