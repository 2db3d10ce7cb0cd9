"""What each row and column of a site's matrices stands for, read from the trace alone."""
from __future__ import annotations

import numpy as np

from models import sites
from models.analysis import prefix_tokens, window_cells
from models.sites import kind_of
from models.trace import Trace

from .i18n import tr


def site_tokens(trace: Trace, site: str) -> tuple[list[str], list[str]]:
    """(query labels, key labels) of an attention site, from the meta fields its kind names
    (cross-attention's rows read as the word each decoding step produced). A kind whose
    labels are computed (Swin's windows: `window_tokens`) is a KeyError."""
    meta = trace.meta
    kind = kind_of(meta, site)
    if kind.query_tokens is None or kind.key_tokens is None:
        raise KeyError(kind.key)
    return meta[kind.query_tokens], meta[kind.key_tokens]


def window_tokens(trace: Trace, site: str, window: int) -> list[str]:
    """Swin: "y,x" (original grid coordinates) of each token in a window, row-major."""
    grid = window_grid(trace, site, window)
    return [f"{y},{x}" for y, x in grid.reshape(-1, 2)]


def window_grid(trace: Trace, site: str, window: int) -> np.ndarray:
    """Swin: (ws, ws, 2) original (y, x) of the tokens of a window of the rolled grid."""
    ws = trace.meta["sites"][site]["window_size"]
    return window_cells(trace, site)[window].reshape(ws, ws, 2)


def axis_labels(trace: Trace, site: str, window: int = 0) -> tuple[list[str], list[str]]:
    if kind_of(trace.meta, site).windowed:
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
    """The site's name and what it is ("decoder.layers.1.cross_attn  ·  cross-attention"),
    the kind's title translated."""
    return f"{site}  ·  {tr(sites.site_title(trace.meta, site))}"


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
    if kind_of(trace.meta, site).windowed:
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
