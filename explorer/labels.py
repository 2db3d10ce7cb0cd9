"""What each row and column of a site's matrices stands for, read from the trace alone."""
from __future__ import annotations

import numpy as np

from models.analysis import SEQUENCE_KINDS, prefix_tokens, window_cells
from models.trace import Trace

from .i18n import tr


def site_tokens(trace: Trace, site: str) -> tuple[list[str], list[str]]:
    """(query labels, key labels) of an attention site; Swin: of window 0's layout."""
    meta = trace.meta
    kind = meta["sites"][site]["kind"]
    if kind == "encoder_self":
        return meta["source_tokens"], meta["source_tokens"]
    if kind == "decoder_self":
        return meta["target_tokens"], meta["target_tokens"]
    if kind == "cross":  # rows read as the word each decoding step produced
        return meta["output_tokens"], meta["source_tokens"]
    if kind == "self" or kind in SEQUENCE_KINDS:
        return meta["tokens"], meta["tokens"]
    raise KeyError(kind)


def window_tokens(trace: Trace, site: str, window: int) -> list[str]:
    """Swin: "y,x" (original grid coordinates) of each token in a window, row-major."""
    grid = window_grid(trace, site, window)
    return [f"{y},{x}" for y, x in grid.reshape(-1, 2)]


def window_grid(trace: Trace, site: str, window: int) -> np.ndarray:
    """Swin: (ws, ws, 2) original (y, x) of the tokens of a window of the rolled grid."""
    ws = trace.meta["sites"][site]["window_size"]
    return window_cells(trace, site)[window].reshape(ws, ws, 2)


def axis_labels(trace: Trace, site: str, window: int = 0) -> tuple[list[str], list[str]]:
    if trace.meta["sites"][site]["kind"] == "window":
        labels = window_tokens(trace, site, window)
        return labels, labels
    return site_tokens(trace, site)


def picture(trace: Trace) -> np.ndarray:
    """The input as the image panels draw it: in colour (H, W, 3) when the trace has it (an
    opened photo model), else grey (H, W); values in [0, 1]."""
    return trace["input/rgb"] if "input/rgb" in trace else trace["input/image"]


def block_name(site: str) -> str:
    """layers.0.blocks.1.attn -> layers.0.blocks.1"""
    return site.rsplit(".", 1)[0]


def site_title(trace: Trace, site: str) -> str:
    info = trace.meta["sites"][site]
    kind = {"encoder_self": "encoder self-attention", "cross": "cross-attention",
            "decoder_self": "decoder masked self-attention",
            "self": "self-attention", "causal": "masked (causal) self-attention",
            "bidirectional": "bidirectional self-attention"}.get(info["kind"])
    if kind is None:
        kind = "SW-MSA (shifted windows)" if info.get("shift") else "W-MSA (windows)"
    return f"{site}  ·  {tr(kind)}"


def window_token_at(trace: Trace, site: str, y: int, x: int) -> dict:
    """Swin: the window and index inside it of the token at original grid cell (y, x)."""
    block = block_name(site)
    return {"window": int(trace[f"{block}/window_of_token"][y, x]),
            "query": int(trace[f"{block}/index_in_window"][y, x])}


def window_token_cell(trace: Trace, site: str, window: int, index: int) -> tuple[int, int] | None:
    """Swin: the original grid cell (y, x) of token `index` of `window`, or None."""
    block = block_name(site)
    found = np.argwhere((trace[f"{block}/window_of_token"] == window)
                        & (trace[f"{block}/index_in_window"] == index))
    return (int(found[0][0]), int(found[0][1])) if len(found) else None


def query_heat(trace: Trace, site: str, window: int, head: int, query: int) -> np.ndarray:
    """Image presets: one query token's attention laid out on the site's token grid (R, R).

    ViT: the weights to the patches (CLS left out). Swin: the weights to the tokens of the
    query's window, put back at their original grid positions; zero elsewhere.
    """
    info = trace.meta["sites"][site]
    weights = trace[f"{site}/weights"]
    if info["kind"] == "window":
        res = info["resolution"][0]
        block = block_name(site)
        window_of = trace[f"{block}/window_of_token"]
        inside = trace[f"{block}/index_in_window"]
        heat = np.zeros((res, res), np.float32)
        where = window_of == window
        heat[where] = weights[window, head, query][inside[where]]
        return heat
    g = info["grid"][1]
    return weights[head, query, prefix_tokens(trace.meta):].reshape(g, g)
