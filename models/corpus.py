"""Attention over a whole corpus: head statistics and query/key samples of thousands of
inputs, written as a Parquet data set (docs/corpus.md).

`run_corpus(spec, source, out)` reads the inputs (a text file, JSON Lines, a folder of
images, a Hugging Face data set saved to disk), runs the model one batch at a time and writes
one shard per batch: `heads/part-NNNNN.parquet` (a row per input, site and head),
`inputs/part-NNNNN.parquet` (a row per input), and a shard of the query/key sample; at the
end `points.parquet` (the sample) and `report.json`. A shard already written is skipped, so
an interrupted job resumes where it stopped. With `ray` the same batch function runs on Ray
Data actors (one model each), locally or on a cluster; the files are the same.

How a batch runs: a language model's inputs are padded on the right into one forward
(a causal model's real tokens never see the padding; a bidirectional one's padding is masked
out), a picture model's are stacked; the attention sites record every input's q and k
(`Trace.whole_batch`), and each input gets a trace of its own, cut to its own tokens, from
which the weights are derived exactly as a single run's are. A sequence-to-sequence model's
sources are padded likewise (the encoder and cross-attention mask the padding out), the
batch decodes greedily at once (each row to its own end token and limit), then one traced
teacher-forced pass over the padded outputs; each input's trace is cut to its own source and
output. Only with an intervention that mixes positions (no causal mask, a head's mean, the
bottleneck) do its inputs run one at a time (`Session.run`).

The statistics reuse the per-head numbers of models/analysis.py (entropy, distance, first
token) and models/head_roles.py (previous-token, duplicate-token, local; vision: local).
"""
from __future__ import annotations

import base64
import hashlib
import io
import json
import math
import os
import re
import sys
import time
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .analysis import head_figures, sequence_figures, window_cells
from .errors import InputError
from .head_roles import text_scores, vision_scores
from .runs import seq2seq
from .sites import kind_of
from .trace import CAUSAL_FLAG, WINDOW_FLAG, Trace, paused, recording

FORMAT = "transformer-explorer-corpus"
VERSION = 1
STATISTICS = ("entropy", "first_token", "previous_token", "distance", "duplicate_token",
              "local", "induction")
ROLES = ("query", "key")
TABLES = ("heads", "inputs", "sample")  # what a shard writes
SEED = 0  # the sample's: every (input, position, site, head, role) has a fixed random key
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"}
INSTALL = "pip install 'transformer-explorer[corpus]'"
BATCH_WEIGHTS = 256 * 2**20  # a batch's weights derived at once up to this many bytes


def pyarrow():
    """pyarrow, or an InputError that says how to install it (the [corpus] extra)."""
    try:
        import pyarrow as pa
        import pyarrow.parquet  # noqa: F401
    except ImportError:
        raise InputError("the corpus command writes Parquet with pyarrow: {install}",
                         install=INSTALL) from None
    return pa


# -- the inputs ------------------------------------------------------------------------
@dataclass
class Item:
    """One input as read: its id, what the model reads (text, an image path, image bytes),
    what the inputs table shows, or why it was skipped."""
    input_id: str
    value: Any = None
    text: str = ""
    reason: str | None = None

    def to_json(self) -> dict:
        value = self.value
        if isinstance(value, bytes):
            value = {"bytes": base64.b64encode(value).decode("ascii")}
        return {"id": self.input_id, "value": value, "text": self.text, "reason": self.reason}

    @classmethod
    def from_json(cls, data: dict) -> Item:
        value = data["value"]
        if isinstance(value, dict):
            value = base64.b64decode(value["bytes"])
        return cls(data["id"], value, data["text"], data["reason"])


@dataclass
class Source:
    """What `--inputs` names: its form ("text", "jsonl", "images", "datasets"), the field
    read (JSON Lines, data sets) and what kind of input it holds."""
    path: Path
    form: str
    field: str | None
    input_kind: str
    files: list[Path] = field(default_factory=list)  # images; a data set's Arrow files

    def count(self) -> int | None:
        """How many inputs it holds, where that is cheap to know (for the progress bar)."""
        if self.form in ("text", "jsonl"):
            with open(self.path, "rb") as file:
                return sum(chunk.count(b"\n") for chunk in iter(lambda: file.read(1 << 20), b""))
        if self.form == "images":
            return len(self.files)
        info = self.path / "state.json"
        try:
            return sum(int(f.get("num_rows", 0)) for f in json.loads(info.read_text())
                       .get("_data_files", [])) or None
        except (OSError, ValueError, AttributeError):
            return None


def open_source(path: str | Path, input_kind: str, field: str | None = None) -> Source:
    """Check `path` before anything runs: an InputError says what is wrong with it."""
    path = Path(path)
    if not path.exists():
        raise InputError("no such file or folder: {path}", path=str(path))
    if path.is_dir():
        if (path / "dataset_dict.json").is_file():
            splits = sorted(p.name for p in path.iterdir() if p.is_dir())
            raise InputError("{path} holds several splits ({splits}): give one split's "
                             "folder", path=str(path), splits=", ".join(splits))
        if (path / "state.json").is_file() or (path / "dataset_info.json").is_file():
            return _dataset_source(path, input_kind, field)
        files = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
        if input_kind != "image":
            raise InputError("{path} is a folder: this model reads text (give a text file, "
                             "JSON Lines or a saved data set)", path=str(path))
        if not any(p.suffix.lower() in IMAGE_SUFFIXES for p in files):
            raise InputError("no images in {path}", path=str(path))
        return Source(path, "images", None, input_kind, files)
    if input_kind == "image":
        raise InputError("{path} is a file: this model reads images (give a folder of "
                         "images, or a saved data set)", path=str(path))
    if path.suffix.lower() in (".jsonl", ".json", ".ndjson"):
        name = field or "text"
        for line in _lines(path):
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict):
                if name not in record:
                    raise InputError("{path} has no field '{field}' (its records have: "
                                     "{fields}); name one with --field", path=str(path),
                                     field=name, fields=", ".join(map(str, record)) or "none")
                break
        return Source(path, "jsonl", name, input_kind)
    if field is not None:
        raise InputError("--field names a field of JSON Lines or a data set; {path} is a "
                         "text file (one input a line)", path=str(path))
    return Source(path, "text", None, input_kind)


def _lines(path: Path) -> Iterator[str | None]:
    """Each line of a file, or None where it is not UTF-8."""
    with open(path, "rb") as file:
        for raw in file:
            try:
                yield raw.decode("utf-8").rstrip("\r\n")
            except UnicodeDecodeError:
                yield None


def _dataset_source(path: Path, input_kind: str, field: str | None) -> Source:
    """A `datasets` data set written by `save_to_disk`: its Arrow files, read with pyarrow."""
    pa = pyarrow()
    try:
        state = json.loads((path / "state.json").read_text(encoding="utf-8"))
        files = [path / f["filename"] for f in state.get("_data_files", [])]
    except (OSError, ValueError, KeyError, TypeError):
        files = sorted(path.glob("*.arrow"))
    if not files or not all(f.is_file() for f in files):
        raise InputError("{path} is not a data set saved by save_to_disk (no Arrow files)",
                         path=str(path))
    try:
        with pa.memory_map(str(files[0])) as stream:
            names = pa.ipc.open_stream(stream).schema.names
    except (OSError, pa.ArrowInvalid) as error:
        raise InputError("{path} cannot be read: {error}", path=str(files[0]),
                         error=str(error).splitlines()[0][:120]) from None
    name = field or ("text" if input_kind == "text" else
                     next((n for n in ("image", "img", "pixel_values") if n in names), "image"))
    if name not in names:
        raise InputError("{path} has no field '{field}' (its columns: {fields}); name one "
                         "with --field", path=str(path), field=name, fields=", ".join(names))
    return Source(path, "datasets", name, input_kind, files)


def read_items(source: Source, limit: int | None = None) -> Iterator[Item]:
    """The inputs in order, `limit` at most; what cannot be read is an Item with a reason."""
    items = {"text": _text_items, "jsonl": _jsonl_items, "images": _image_items,
             "datasets": _dataset_items}[source.form](source)
    for number, item in enumerate(items):
        if limit is not None and number >= limit:
            return
        yield item


def _text_items(source: Source) -> Iterator[Item]:
    for number, line in enumerate(_lines(source.path)):
        if line is None:
            yield Item(str(number), reason="unreadable")
        elif not line.strip():
            yield Item(str(number), text=line, reason="empty")
        else:
            yield Item(str(number), line, line)


def _jsonl_items(source: Source) -> Iterator[Item]:
    for number, line in enumerate(_lines(source.path)):
        name = str(number)
        if line is None:
            yield Item(name, reason="unreadable")
            continue
        try:
            record = json.loads(line)
        except ValueError:
            yield Item(name, reason="empty" if not line.strip() else "unreadable")
            continue
        value = record.get(source.field) if isinstance(record, dict) else None
        if not isinstance(value, str):
            yield Item(name, reason="no field" if value is None else "not text")
        elif not value.strip():
            yield Item(name, text=value, reason="empty")
        else:
            yield Item(name, value, value)


def _image_items(source: Source) -> Iterator[Item]:
    for path in source.files:
        if path.suffix.lower() in IMAGE_SUFFIXES:  # (absolute: the tab opens it from anywhere)
            yield Item(path.name, str(path.resolve()), str(path.resolve()))
        else:
            yield Item(path.name, text=str(path), reason="not an image")


def _dataset_items(source: Source) -> Iterator[Item]:
    pa = pyarrow()
    number = 0
    for path in source.files:
        with pa.memory_map(str(path)) as stream:
            for batch in pa.ipc.open_stream(stream):
                for value in batch.column(source.field).to_pylist():
                    yield _dataset_item(str(number), value, source.input_kind)
                    number += 1


def _dataset_item(name: str, value: Any, input_kind: str) -> Item:
    if input_kind == "image":  # datasets' Image feature: {"bytes": …, "path": …}
        if isinstance(value, dict) and value.get("bytes"):
            return Item(name, bytes(value["bytes"]), value.get("path") or f"image {name}")
        if isinstance(value, dict) and value.get("path"):
            return Item(name, value["path"], value["path"])
        return Item(name, reason="unreadable")
    if not isinstance(value, str):
        return Item(name, reason="not text" if value is not None else "empty")
    if not value.strip():
        return Item(name, text=value, reason="empty")
    return Item(name, value, value)


# -- the model -------------------------------------------------------------------------
def load_session(spec: dict):
    """The Session a spec names: {"preset", "weights", "arch", "device"} as the command line
    gives them (a worker process loads its own from the same spec)."""
    from .checkpoints.common import is_model_folder
    from .presets import resolve_device
    from .session import load_folder, load_preset

    device = resolve_device(spec.get("device") or "cpu")
    weights, arch = spec.get("weights"), spec.get("arch")
    if weights and (is_model_folder(weights) or arch or spec.get("preset") is None):
        return load_folder(weights, device, arch)
    return load_preset(spec["preset"], device, weights=weights)


def fingerprint(session) -> str:
    """The model, named: its preset (or folder) name, and a hash of its config and of the
    first and last numbers of every weight (a folder of another model is refused)."""
    digest = hashlib.sha1(json.dumps(session.model.cfg.to_dict(), sort_keys=True,
                                     default=str).encode())
    for name, tensor in session.model.state_dict().items():
        flat = tensor.detach().reshape(-1)
        if flat.numel():
            digest.update(name.encode())
            digest.update(flat[:8].float().cpu().numpy().tobytes())
            digest.update(flat[-8:].float().cpu().numpy().tobytes())
    return f"{session.preset.name}:{digest.hexdigest()[:16]}"


def row_label(site: str) -> str:
    """A site's row as people say it: "3" (layer 3), "enc 3", "dec 3", "1.0" (stage.block)."""
    stack = site.split(".")[0]
    numbers = ".".join(re.findall(r"\d+", site))
    return f"{stack[:3]} {numbers}" if stack.endswith("coder") else numbers


def layers_of(meta: dict) -> list[dict]:
    return [{"site": site, "row": row_label(site), "kind": info["kind"],
             "heads": int(info["heads"])} for site, info in meta["sites"].items()]


# -- statistics from one input's trace ---------------------------------------------------
def induction_scores(weights: np.ndarray, ids: np.ndarray) -> np.ndarray | None:
    """(H,): the mean over queries i whose token appeared before (at j' < i) of the weight
    on j' + 1 (every such j'); None when no token repeats."""
    n = len(ids)
    rows = np.arange(n)
    earlier = (ids[:, None] == ids[None, :]) & (rows[None, :] < rows[:, None])
    has = earlier.any(-1)
    if not has.any():
        return None
    after = np.zeros((n, n), bool)
    after[:, 1:] = earlier[:, :-1]
    return (weights * after).sum(-1)[:, has].mean(-1)


def site_statistics(trace: Trace, site: str) -> tuple[int, dict[str, np.ndarray]]:
    """(the site's number of query tokens, {statistic: (H,) with NaN where undefined})."""
    meta = trace.meta
    kind = kind_of(meta, site)
    heads = int(meta["sites"][site]["heads"])
    weights = trace[f"{site}/weights"]  # (H, Nq, Nk); Swin: (nW, H, n, n)
    stats = {name: np.full(heads, np.nan) for name in STATISTICS}
    if kind.layout == "text":  # every head at once
        figures = sequence_figures(weights, kind.distance is not None)
        stats["entropy"], stats["distance"] = figures["entropy"], figures["distance"]
        stats["first_token"] = figures["first"]
    for h in range(heads if kind.layout != "text" else 0):
        figures = head_figures(trace, site, h, weights[:, h] if kind.windowed else weights[h])
        stats["entropy"][h], stats["distance"][h] = figures["entropy"], figures["distance"]
        stats["first_token"][h] = figures["first"]
    tokens = weights.shape[-2] * (weights.shape[0] if kind.windowed else 1)
    if kind.layout != "text":
        stats["local"] = np.asarray(vision_scores(trace, site)["local"], float)
    elif kind.distance is not None:  # self-attention over one token sequence
        ids = trace.records.get("input/decoder_ids" if kind.decoding_steps else "input/ids")
        if ids is not None and len(ids) == weights.shape[-1]:
            ids = np.asarray(ids)
            scores = text_scores(weights, ids)
            stats["local"] = scores["local"]
            if len(ids) > 1:
                stats["previous_token"] = scores["previous_token"]
            rows = np.arange(len(ids))
            if ((ids[:, None] == ids[None, :]) & (rows[None, :] < rows[:, None])).any():
                stats["duplicate_token"] = scores["duplicate_token"]
                stats["induction"] = induction_scores(weights, ids)  # (repeats: defined)
    return tokens, stats


def token_names(trace: Trace, site: str, side: str) -> list[str]:
    """The query ("query_tokens") or key ("key_tokens") tokens of a site, in the order of
    its q or k rows (Swin: window by window, each token named by its cell "y,x")."""
    kind = kind_of(trace.meta, site)
    name = getattr(kind, side)
    if name is not None and name in trace.meta:
        return [str(t) for t in trace.meta[name]]
    cells = window_cells(trace, site).reshape(-1, 2)
    return [f"{y},{x}" for y, x in cells]


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: well-spread 64-bit keys from counters."""
    with np.errstate(over="ignore"):
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def sample_keys(input_id: str, layer: int, head: int, role: int, n: int) -> np.ndarray:
    """(n,) keys in [0, 1) for the positions of one input at one (site, head, role): the
    sample keeps the smallest, so it is the same whatever the batches, order or workers."""
    return head_keys(input_id, layer, head + 1, role, n)[head]


def head_keys(input_id: str, layer: int, heads: int, role: int, n: int) -> np.ndarray:
    """(heads, n): `sample_keys` of heads 0 … heads − 1 at once."""
    base = np.uint64((zlib.crc32(input_id.encode("utf-8")) << 32) ^ (layer << 20) ^ role) ^ (
        np.arange(heads, dtype=np.uint64) << np.uint64(2))
    seeds = _mix(base ^ np.uint64(SEED))
    with np.errstate(over="ignore"):
        keys = _mix(seeds[:, None] + np.arange(1, n + 1, dtype=np.uint64) *
                    np.uint64(0x9E3779B97F4A7C15))
    return (keys >> np.uint64(11)).astype(np.float64) * 2.0 ** -53


@dataclass
class Candidates:
    """One input's candidates for the sample at one (site, role), every head at once."""
    number: int  # the input's place in the shard's sampled inputs
    keys: np.ndarray  # (H, m) float64
    positions: np.ndarray  # (H, m) int32: each candidate's row in q or k
    vectors: np.ndarray  # (H, m, dh)
    names: int  # the first of its tokens' names in the shard's pool of names
    named: int  # how many of its positions have a name


class Shard:
    """What one batch writes: head rows, input rows and its candidates for the sample."""

    def __init__(self, layers: list[dict], points: int) -> None:
        self.layers, self.points = layers, points
        self.index = {layer["site"]: i for i, layer in enumerate(layers)}
        self.heads: dict[str, list] = {name: [] for name in (
            "input_id", "site", "layer", "head", "tokens", *STATISTICS)}
        self.inputs: dict[str, list] = {name: [] for name in (
            "input_id", "text", "tokens", "prediction", "probability")}
        # (layer, role) -> each input's candidates; the inputs' ids and tokens' names
        self.candidates: dict[tuple[int, int], list[Candidates]] = {}
        self.sampled: list[str] = []
        self.names: list[str] = []
        self.report = {"read": 0, "written": 0, "skipped": {}, "truncated": 0}
        self.pending: list[Item] = []
        self.traces: list[Trace] = []

    def skip(self, reason: str) -> None:
        self.report["skipped"][reason] = self.report["skipped"].get(reason, 0) + 1

    def add(self, item: Item, trace: Trace, tokens: int, prediction: str,
            probability: float | None) -> None:
        """One input's trace (a single run's, or cut from a batch's): its numbers are
        worked out by `tables` (in-process: on the writer's thread, while the next batch
        runs)."""
        self.pending.append(item)
        self.traces.append(trace)
        self.inputs["input_id"].append(item.input_id)
        self.inputs["text"].append(item.text)
        self.inputs["tokens"].append(tokens)
        self.inputs["prediction"].append(prediction)
        self.inputs["probability"].append(probability)
        self.report["written"] += 1

    def _settle(self) -> None:
        """The statistics and sample candidates of the inputs added since."""
        for item, trace in zip(self.pending, self.traces):
            self._statistics(item, trace)
        self.pending, self.traces = [], []

    def _statistics(self, item: Item, trace: Trace) -> None:
        named: dict = {}  # (the sites' token lists: one per sequence, shared)
        if self.points:
            self.sampled.append(item.input_id)
        for site, layer in self.index.items():
            n, stats = site_statistics(trace, site)
            heads = len(stats["entropy"])
            self.heads["input_id"] += [item.input_id] * heads
            self.heads["site"] += [site] * heads
            self.heads["layer"] += [layer] * heads
            self.heads["head"] += list(range(heads))
            self.heads["tokens"] += [n] * heads
            for name in STATISTICS:
                self.heads[name] += stats[name].tolist()
            if self.points:
                self._sample(item.input_id, trace, site, layer, named)

    def _sample(self, input_id: str, trace: Trace, site: str, layer: int, named: dict) -> None:
        kind = kind_of(trace.meta, site)
        for role, (record, side) in enumerate((("q", "query_tokens"), ("k", "key_tokens"))):
            vectors = trace.records[f"{site}/{record}"]  # (H, N, dh); Swin (nW, H, n, dh)
            if vectors.ndim == 4:
                vectors = vectors.transpose(1, 0, 2, 3).reshape(vectors.shape[1], -1,
                                                                vectors.shape[-1])
            heads, n = vectors.shape[:2]
            sequence = getattr(kind, side)  # (a name in the meta: shared by sites)
            if sequence is None or sequence not in trace.meta:
                sequence = (site, side)
            if sequence not in named:  # where its tokens' names start in the pool
                names = token_names(trace, site, side)
                named[sequence] = (len(self.names), len(names))
                self.names += names
            start, count = named[sequence]
            keys = head_keys(input_id, layer, heads, role, n)
            positions = np.broadcast_to(np.arange(n, dtype=np.int32), (heads, n))
            if n > self.points:  # the smallest `points` of each head only
                keep = np.argsort(keys, axis=1, kind="stable")[:, : self.points]
                keys = np.take_along_axis(keys, keep, 1)
                positions = keep.astype(np.int32)
                vectors = np.take_along_axis(vectors, keep[..., None], 1)
            self.candidates.setdefault((layer, role), []).append(Candidates(
                len(self.sampled) - 1, keys, positions, vectors, start, count))

    def tables(self, limits: dict | None = None):
        """(heads, inputs, sample) as Arrow tables. `limits`: {(layer, head, role): the
        largest key that can still be in the corpus's sample} (what the folder holds so
        far); the rows of larger keys are left out (the folder would drop them)."""
        self._settle()
        pa = pyarrow()
        f32 = pa.float32()
        heads = pa.table({
            "input_id": pa.array(self.heads["input_id"], pa.string()),
            "site": pa.array(self.heads["site"], pa.string()),
            "layer": pa.array(self.heads["layer"], pa.int32()),
            "head": pa.array(self.heads["head"], pa.int32()),
            "tokens": pa.array(self.heads["tokens"], pa.int32()),
            **{name: pa.array(np.asarray(self.heads[name], np.float32), f32, from_pandas=True)
               for name in STATISTICS}})
        inputs = pa.table({
            "input_id": pa.array(self.inputs["input_id"], pa.string()),
            "text": pa.array(self.inputs["text"], pa.string()),
            "tokens": pa.array(self.inputs["tokens"], pa.int32()),
            "prediction": pa.array(self.inputs["prediction"], pa.string()),
            "probability": pa.array(self.inputs["probability"], f32)})
        return heads, inputs, self._sample_table(limits or {})

    def _sample_table(self, limits: dict):
        """Each (site, head, role)'s `points` smallest keys of the batch, rows in the order
        of layer, head, role and key (a tie: the earlier input, then position); the vectors
        copied once, from the inputs' q and k into the table's buffer."""
        columns: dict[str, list] = {n: [] for n in ("layer", "head", "role", "key", "input",
                                                    "position", "name")}
        plans = []
        for layer in sorted({layer for layer, _ in self.candidates}):
            sides = [self._choose(layer, role, limits) for role in range(len(ROLES))]
            heads = len(sides[0]["key"])
            if any(len(side["key"]) != heads for side in sides):
                raise ValueError("queries and keys of a site with different head counts")
            # (H, k_query) and (H, k_key) side by side: each head's queries, then its keys
            valid = np.concatenate([side["valid"] for side in sides], axis=1)
            role = np.concatenate([np.full(side["key"].shape, r, np.int8)
                                   for r, side in enumerate(sides)], axis=1)
            columns["layer"].append(np.full(int(valid.sum()), layer, np.int32))
            columns["head"].append(np.broadcast_to(np.arange(heads, dtype=np.int32)[:, None],
                                                   valid.shape)[valid])
            columns["role"].append(role[valid])
            for name in ("key", "input", "position", "name"):
                columns[name].append(np.concatenate([side[name] for side in sides],
                                                    axis=1)[valid])
            plans.append((layer, sides, valid))
        widths = [self.candidates[layer, 0][0].vectors.shape[-1] for layer, _, _ in plans]
        rows = [int(valid.sum()) for _, _, valid in plans]
        flat = np.empty(sum(r * w for r, w in zip(rows, widths)), np.float32)
        start = 0
        for (layer, sides, valid), n, width in zip(plans, rows, widths):
            out = flat[start: start + n * width].reshape(n, width)
            start += n * width
            row = np.cumsum(valid.ravel()).reshape(valid.shape) - 1  # each kept one's row
            before = 0
            for role, side in enumerate(sides):
                for i, found in enumerate(self.candidates[layer, role]):
                    hh, jj = np.nonzero((side["block"] == i) & side["valid"])
                    out[row[hh, before + jj]] = found.vectors[hh, side["local"][hh, jj]]
                before += side["key"].shape[1]
        lengths = np.repeat(np.array(widths, np.int64), rows)
        return sample_table(columns, self.sampled, self.names, list_array(flat, lengths))

    def _choose(self, layer: int, role: int, limits: dict) -> dict[str, np.ndarray]:
        """Every head's smallest `points` keys at (layer, role), in order, (H, k) each:
        "key", "input", "position", "name", the candidates' "block" and the row in it
        ("local"), and whether it is at most the head's limit ("valid")."""
        candidates = self.candidates[layer, role]
        widths = [found.keys.shape[1] for found in candidates]
        starts = np.cumsum([0] + widths)
        keys = np.concatenate([found.keys for found in candidates], axis=1)  # (H, T)
        keep = np.argsort(keys, axis=1, kind="stable")[:, : self.points]  # (H, k)
        block = np.searchsorted(starts, keep, side="right") - 1
        key = np.take_along_axis(keys, keep, 1)
        limit = np.array([limits.get((layer, h, role), np.inf) for h in range(len(keys))])
        position = np.take_along_axis(
            np.concatenate([found.positions for found in candidates], axis=1), keep, 1)
        first = np.array([found.names for found in candidates], np.int64)[block]
        named = np.array([found.named for found in candidates], np.int64)[block]
        number = np.array([found.number for found in candidates], np.int32)[block]
        # a position past the names (none in practice): the empty name, after the pool
        name = np.where(position < named, first + position, len(self.names))
        return {"key": key, "input": number, "position": position, "name": name,
                "block": block, "local": keep - starts[block], "valid": key <= limit[:, None]}


def sample_table(columns: dict, ids: list[str], names: list[str], vectors=None):
    """The sample's Arrow table from blocks of rows: input and name columns number `ids`
    and `names` (one past the names: the empty one); `vectors` a list<float32> array."""
    pa = pyarrow()
    cat = (lambda parts, dtype: np.concatenate(parts).astype(dtype, copy=False) if parts
           else np.zeros(0, dtype))
    columns = {name: columns.get(name, []) for name in (
        "layer", "head", "role", "key", "input", "position", "name")}
    return pa.table({
        "layer": pa.array(cat(columns["layer"], np.int32), pa.int32()),
        "head": pa.array(cat(columns["head"], np.int32), pa.int32()),
        "role": pa.array(cat(columns["role"], np.int8), pa.int8()),
        "key": pa.array(cat(columns["key"], np.float64), pa.float64()),
        "input_id": pa.array(ids, pa.string()).take(pa.array(cat(columns["input"], np.int32))),
        "position": pa.array(cat(columns["position"], np.int32), pa.int32()),
        "token": pa.array(names + [""], pa.string()).take(
            pa.array(cat(columns["name"], np.int64))),
        "vector": vectors if vectors is not None else
        list_array(np.zeros(0, np.float32), np.zeros(0, np.int64))})


def list_array(flat: np.ndarray, lengths: np.ndarray):
    """list<float32> over `flat` (not copied), rows of `lengths` numbers."""
    pa = pyarrow()
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32)
    return pa.ListArray.from_arrays(pa.array(offsets), pa.array(flat, pa.float32()))


# -- running a batch ----------------------------------------------------------------------
class Engine:
    """One loaded model: a batch of Items -> a Shard."""

    def __init__(self, session, points: int) -> None:
        self.session, self.points = session, points
        self.meta = session.describe()
        self.layers = layers_of(self.meta)

    def process(self, items: list[Item]) -> Shard:
        shard = Shard(self.layers, self.points)
        ready = []
        for item in items:
            shard.report["read"] += 1
            if item.reason is not None:
                shard.skip(item.reason)
            else:
                ready.append(item)
        form = self.session.model.form
        with torch.inference_mode():
            if form == "lm":
                self._language(ready, shard)
            elif form == "image":
                self._images(ready, shard)
            elif seq2seq.plain(self.session):
                self._sequences(ready, shard)
            else:  # (an intervention that mixes positions: padding would change numbers)
                self._one_by_one(ready, shard)
        return shard

    # a language model: one right-padded forward
    def _language(self, items: list[Item], shard: Shard) -> None:
        session = self.session
        tokenizer, model = session.tokenizer, session.model
        limit = model.cfg.max_len
        encoded = []
        for item in items:
            try:
                ids, special = tokenizer.encode(item.value)
            except InputError:  # a word-level model's unknown words
                shard.skip("refused")
                continue
            if not ids or all(special):
                shard.skip("empty")
                continue
            if len(ids) > limit:
                ids, special = ids[:limit], special[:limit]
                shard.report["truncated"] += 1
            encoded.append((item, ids, special))
        if not encoded:
            return
        longest = max(len(ids) for _, ids, _ in encoded)
        x = torch.zeros(len(encoded), longest, dtype=torch.long)
        pad = torch.zeros(len(encoded), 1, 1, longest)
        for b, (_, ids, _) in enumerate(encoded):
            x[b, : len(ids)] = torch.tensor(ids)
            pad[b, ..., len(ids):] = float("-inf")
        x, pad = x.to(session.device), pad.to(session.device)
        causal = all(kind_of(self.meta, s).masked for s in self.meta["sites"])
        captured = Trace()
        captured.whole_batch = True
        with recording(captured):
            hidden = model.hidden(x) if causal else model.hidden(x, mask=pad)
        weights = self._batch_weights(captured)
        head = model.output_head()
        generates = session.preset.task_info.generates
        mask_id = None if generates else tokenizer.id_of(tokenizer.mask_token)
        for b, (item, ids, special) in enumerate(encoded):
            n = len(ids)
            trace = self._cut(captured, b, n, weights)
            trace.records["input/ids"] = np.asarray(ids)
            trace.meta.update(tokens=tokenizer.tokens(ids),
                              special=[i for i, s in enumerate(special) if s])
            if generates:
                probs = head(hidden[b, n - 1: n]).float().softmax(-1)[0]
                top = int(probs.argmax())
                prediction, probability = tokenizer.tokens([top])[0], float(probs[top])
            else:
                masked = [i for i, t in enumerate(ids) if t == mask_id]
                prediction, probability = "", None
                if masked:
                    probs = head(hidden[b, masked]).float().softmax(-1)
                    best = probs.max(-1)
                    filled = dict(zip(masked, best.indices.tolist()))
                    prediction = tokenizer.text([filled.get(i, t) for i, t in enumerate(ids)
                                                 if i in filled or not special[i]])
                    probability = float(best.values.mean())
            shard.add(item, trace, n, prediction, probability)

    # a picture model: one stacked forward
    def _images(self, items: list[Item], shard: Shard) -> None:
        session = self.session
        pictures, kept = [], []
        for item in items:
            try:
                pictures.append(self._picture(item.value))
                kept.append(item)
            except (InputError, OSError, ValueError):
                shard.skip("unreadable")
        if not kept:
            return
        x = torch.from_numpy(np.stack(pictures)).to(session.device)
        captured = Trace()
        captured.whole_batch = True
        with recording(captured):
            logits = session.model(x)
        probs = logits.float().softmax(-1)
        weights = self._batch_weights(captured)
        for b, item in enumerate(kept):
            trace = self._cut(captured, b, None, weights)
            top = int(probs[b].argmax())
            label = session.labels[top] if top < len(session.labels) else str(top)
            tokens = len(self.meta.get("tokens", [])) or int(np.prod(self.meta["patch_grid"]))
            shard.add(item, trace, tokens, label, float(probs[b, top]))

    def _picture(self, value: Any) -> np.ndarray:
        from PIL import Image

        if isinstance(value, bytes):
            value = Image.open(io.BytesIO(value))
            value.load()
        if self.session.preprocessing is None:
            from .tasks.digits import prepare_digit

            return prepare_digit(value)[0][None]
        from .checkpoints.images import prepare_photo

        return prepare_photo(value, self.session.preprocessing, self.session.model.cfg)[0]

    def _batch_weights(self, captured: Trace) -> dict[str, np.ndarray] | None:
        """Every site's weights for the whole batch, derived at once the way a single run's
        are (a language model's padding: masked, or after the causal rows), where they take
        at most BATCH_WEIGHTS bytes; else None, and each input's are derived on its own."""
        size = 0
        for site in self.meta["sites"]:
            q, k = captured.records[f"{site}/q"], captured.records[f"{site}/k"]
            size += q.size // q.shape[-1] * k.shape[-2] * 4
        if size > BATCH_WEIGHTS:
            return None
        return {site: captured[f"{site}/weights"] for site in self.meta["sites"]}

    def _cut(self, captured: Trace, b: int, n: int | None = None,
             weights: dict[str, np.ndarray] | None = None,
             sizes: dict[str, tuple[int, int]] | None = None) -> Trace:
        """Input b's own trace from a batch's records, as a single run records it: its q, k
        and v (a language model's: its first n tokens, without the padding's mask; a
        sequence-to-sequence model's: `sizes[site]` queries and keys, with the mask cut to
        them), Swin's windows with their mask, bias and geometry; its weights cut from the
        batch's, or derived when read."""
        trace = Trace()
        trace.meta = dict(self.meta)
        keys = ("q", "k", "v") if n is not None else ("q", "k", "v", "mask")
        for site, info in self.meta["sites"].items():
            rows: Any = b
            if kind_of(self.meta, site).windowed:  # (batch × windows, …): this image's
                w = int(info["num_windows"])
                rows = slice(b * w, (b + 1) * w)
            queries, keys_ = (n, n) if sizes is None else sizes[site]
            for key in keys:
                value = captured.records.get(f"{site}/{key}")
                if value is None:
                    continue
                if key == "mask" and sizes is not None:  # (B, 1, Nq or 1, Nk), or shared
                    value = value[rows] if value.ndim == 4 else value
                    value = value[..., :queries, :keys_]
                else:
                    value = value[rows]
                    if queries is not None:
                        value = value[..., : queries if key == "q" else keys_, :]
                trace.records[f"{site}/{key}"] = value
            trace.records[f"{site}/out"] = trace.records[f"{site}/v"]  # (what derives)
            if weights is not None:
                cut = weights[site][rows]
                trace.records[f"{site}/weights"] = cut if queries is None else \
                    cut[..., :queries, :keys_]
            for key in ("bias", CAUSAL_FLAG, WINDOW_FLAG):
                if f"{site}/{key}" in captured.records:
                    trace.records[f"{site}/{key}"] = captured.records[f"{site}/{key}"]
        for name, value in captured.records.items():  # Swin's window geometry
            if name.endswith(("/window_of_token", "/index_in_window")):
                trace.records[name] = value
        return trace

    # a sequence-to-sequence model: sources padded into one batch, decoded greedily together
    def _sequences(self, items: list[Item], shard: Shard) -> None:
        """The sources padded on the right (the encoder and cross-attention mask the
        padding out), greedy decoding of the whole batch (each row to its own end token,
        cut at its own limit), then one traced teacher-forced pass over every output,
        padded too (the causal decoder's rows never see the padding after them): each
        input's trace cut to its own source and output, as `Session.run` records it."""
        session = self.session
        model, cfg = session.model, session.model.cfg
        ready = []
        for item in items:
            text = item.value
            try:
                src, tokens, _ = seq2seq.source(session, text)
            except InputError:
                shortened = self._shortened(text)
                if shortened is None:
                    shard.skip("too long" if session.task.split(text) else "empty")
                    continue
                src, tokens, _ = seq2seq.source(session, shortened)
                shard.report["truncated"] += 1
            ready.append((item, src[0].tolist(), tokens))
        if not ready:
            return
        pad, bos, eos = cfg.pad_id, cfg.bos_id, cfg.eos_id
        longest = max(len(ids) for _, ids, _ in ready)
        src = torch.full((len(ready), longest), pad, dtype=torch.long)
        for b, (_, ids, _) in enumerate(ready):
            src[b, : len(ids)] = torch.tensor(ids)
        src = src.to(session.device)
        limits = [min(cfg.max_len - 1, seq2seq.output_limit(len(ids))) for _, ids, _ in ready]
        captured = Trace()
        captured.whole_batch = True
        with recording(captured):
            encoded = model.encode(src)
            with paused():
                rows = model.greedy(src, max_new=max(limits), encoded=encoded).tolist()
            outputs = []
            for row, limit in zip(rows, limits):  # (what a single run of it decodes)
                output = row[:limit]
                outputs.append(output[: output.index(eos) + 1] if eos in output else output)
            steps = max(len(output) for output in outputs)
            decoder_in = torch.full((len(ready), steps), pad, dtype=torch.long)
            for b, output in enumerate(outputs):
                decoder_in[b, : len(output)] = torch.tensor([bos] + output[:-1])
            logits = model.decode(decoder_in.to(session.device), *encoded)  # (B, T, V)
        weights = self._batch_weights(captured)
        for b, ((item, ids, tokens), output) in enumerate(zip(ready, outputs)):
            sizes = {}  # (queries, keys): the source's or the output's
            for site in self.meta["sites"]:
                kind = kind_of(self.meta, site)
                sizes[site] = (len(output) if kind.decoding_steps else len(ids),
                               len(output) if kind.decoding_steps and not kind.reads_encoder
                               else len(ids))
            trace = self._cut(captured, b, None, weights, sizes)
            steered = [bos] + output[:-1]
            out_words = seq2seq.words(session, output)
            trace.records["input/ids"] = np.asarray(ids)
            trace.records["input/decoder_ids"] = np.asarray(steered)
            trace.meta.update(source_tokens=tokens + seq2seq.words(session, [eos]),
                              target_tokens=seq2seq.words(session, steered),
                              output_tokens=out_words)
            probs = logits[b, : len(output)].float().softmax(-1).cpu().numpy()
            chosen = probs[np.arange(len(output)), output]
            prediction = seq2seq.prediction_text(session, output, out_words)
            shard.add(item, trace, len(ids), prediction, float(chosen.mean()))

    # an intervention that mixes positions: each input on its own
    def _one_by_one(self, items: list[Item], shard: Shard) -> None:
        session = self.session
        for item in items:
            text = item.value
            try:
                trace = session.run(text)
            except InputError:
                shortened = self._shortened(text)
                if shortened is None:
                    shard.skip("too long" if session.task.split(text) else "empty")
                    continue
                trace = session.run(shortened)
                shard.report["truncated"] += 1
            ids = trace["prediction/ids"]
            probs = trace["prediction/probs"]
            chosen = probs[np.arange(len(ids)), ids] if len(ids) else np.zeros(0)
            shard.add(item, trace, len(trace["input/ids"]), trace.meta["prediction"],
                      float(chosen.mean()) if len(chosen) else None)

    def _shortened(self, text: str) -> str | None:
        """A preset's over-long input cut to the tokens it takes (None: nothing to cut)."""
        session = self.session
        if session.tokenizer is not None:
            return None
        tokens = session.task.split(text)
        limit = session.model.cfg.max_len - 1
        if not tokens or len(tokens) <= limit:
            return None
        return session.task.joiner.join(tokens[:limit])


# -- the folder ----------------------------------------------------------------------------
def part_name(shard: int) -> str:
    return f"part-{shard:05d}.parquet"


def write_table(table, path: Path, group_by: list[str] | None = None) -> None:
    """Written whole under another name, then renamed: a killed job leaves no half file
    (and the name starts with a dot, which readers of a folder of Parquet files skip).
    `group_by`: columns the table is sorted by; one row group per value of them, so that a
    reader filtering on them (the Corpus tab: one head's points) reads that group only.
    Floating columns and the vectors are written without a dictionary (random keys and
    vectors repeat nowhere: a dictionary made them larger and slower to write)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    plain = (pa.types.is_floating, pa.types.is_list)
    dictionary = [f.name for f in table.schema if not any(t(f.type) for t in plain)]
    if not group_by or table.num_rows == 0:
        pq.write_table(table, partial, use_dictionary=dictionary)
    else:
        keys = np.stack([table.column(c).to_numpy() for c in group_by], axis=1)
        starts = np.flatnonzero(np.r_[True, (keys[1:] != keys[:-1]).any(axis=1)])
        ends = np.r_[starts[1:], table.num_rows]
        with pq.ParquetWriter(partial, table.schema, use_dictionary=dictionary) as writer:
            for start, end in zip(starts, ends):
                writer.write_table(table.slice(int(start), int(end - start)))
    os.replace(partial, path)


def write_arrow(table, path: Path) -> None:
    """An Arrow file (a shard's sample: read back whole at the end, mapped, without
    decoding), written as `write_table` writes."""
    pa = pyarrow()
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    with pa.OSFile(str(partial), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    os.replace(partial, path)


def write_json(data: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(json.dumps(data, indent=1), encoding="utf-8")
    os.replace(partial, path)


class Folder:
    """DIR: the meta, the shards done, the sample's running thresholds, the final files."""

    def __init__(self, out: str | Path, meta: dict, points: int) -> None:
        self.out, self.points = Path(out), points
        self.meta = meta
        found = self.out / "meta.json"
        if found.is_file():
            try:
                old = json.loads(found.read_text(encoding="utf-8"))
            except ValueError:
                old = {}
            same = ("format", "model", "source", "field", "points", "batch")
            if old.get("format") != FORMAT or any(old.get(k) != meta[k] for k in same):
                differ = [k for k in same if old.get(k) != meta[k]]
                raise InputError("{out} holds another corpus ({what} differ): choose another "
                                 "--out, or delete it to start again", out=str(self.out),
                                 what=", ".join(differ))
        elif self.out.exists() and any(self.out.iterdir()):
            raise InputError("{out} is not empty and holds no corpus: choose another --out",
                             out=str(self.out))
        write_json({**meta, "inputs": self.written()}, found)
        self.kept: dict[tuple, np.ndarray] = {}  # (layer, head, role) -> smallest keys so far
        for path in self.samples():
            self._keep(_read(path, ["layer", "head", "role", "key"]))

    def samples(self) -> list[Path]:
        """Each shard's sample: Arrow files (a folder begun by an earlier version: Parquet)."""
        found = {p.stem: p for p in (self.out / "sample").glob("part-*.parquet")}
        found.update({p.stem: p for p in (self.out / "sample").glob("part-*.arrow")})
        return [found[name] for name in sorted(found)]

    def limits(self) -> dict[tuple[int, int, int], float]:
        """{(layer, head, role): the largest key that can still be in the sample}, for the
        groups that hold `points` keys already (`Shard.tables` leaves out larger ones)."""
        return {group: float(kept[self.points - 1]) for group, kept in self.kept.items()
                if self.points and len(kept) >= self.points}

    def done(self, shard: int, count: int) -> bool:
        """Whether the shard is written with all its `count` inputs (a shard cut short by
        an earlier --limit is done again)."""
        path = self.out / "state" / f"part-{shard:05d}.json"
        try:
            return json.loads(path.read_text(encoding="utf-8"))["read"] == count
        except (OSError, ValueError, KeyError):
            return False

    def states(self) -> list[dict]:
        return [json.loads(p.read_text(encoding="utf-8"))
                for p in sorted((self.out / "state").glob("part-*.json"))]

    def written(self) -> int:
        return sum(s["written"] for s in self.states())

    def save(self, shard: int, heads, inputs, sample, report: dict) -> None:
        """A shard's files; its state file last (what marks it done)."""
        sample = self._below(sample)
        write_arrow(sample, self.out / "sample" / f"part-{shard:05d}.arrow")
        (self.out / "sample" / part_name(shard)).unlink(missing_ok=True)  # (an earlier one)
        write_table(heads, self.out / "heads" / part_name(shard))
        write_table(inputs, self.out / "inputs" / part_name(shard))
        write_json(report, self.out / "state" / f"part-{shard:05d}.json")

    def _below(self, sample):
        """The rows of a shard's sample that can still be among the smallest keys."""
        groups = _groups(sample)
        keep = np.ones(sample.num_rows, bool)
        keys = sample.column("key").to_numpy()
        for group, rows in groups.items():
            kept = self.kept.get(group)
            if kept is not None and len(kept) >= self.points:
                keep[rows] = keys[rows] <= kept[self.points - 1]
        if not keep.all():
            sample = sample.filter(keep)
        self._keep(sample)
        return sample

    def _keep(self, table) -> None:
        keys = table.column("key").to_numpy()
        for group, rows in _groups(table).items():
            merged = np.concatenate([self.kept.get(group, np.zeros(0)), keys[rows]])
            merged.sort(kind="stable")  # (two sorted runs: merged)
            fresh = np.ones(len(merged), bool)  # (a shard done again: its keys once)
            fresh[1:] = merged[1:] != merged[:-1]
            self.kept[group] = merged[fresh][: self.points]

    def finish(self, seconds: float) -> dict:
        """points.parquet from every shard's sample, report.json, meta.json's count."""
        pa = pyarrow()
        table = self._points(self.samples())
        sites = pa.array([layer["site"] for layer in self.meta["layers"]], pa.string())
        points = pa.table({
            "site": sites.take(table.column("layer")),
            "layer": table.column("layer"), "head": table.column("head"),
            "role": pa.array(list(ROLES), pa.string()).take(table.column("role")),
            "input_id": table.column("input_id"), "position": table.column("position"),
            "token": table.column("token"), "vector": table.column("vector")})
        write_table(points, self.out / "points.parquet", group_by=["layer", "head"])
        report: dict = {"read": 0, "written": 0, "skipped": {}, "truncated": 0}
        for state in self.states():
            for key in ("read", "written", "truncated"):
                report[key] += state[key]
            for reason, n in state["skipped"].items():
                report["skipped"][reason] = report["skipped"].get(reason, 0) + n
        report["seconds"] = round(seconds, 3)
        write_json(report, self.out / "report.json")
        write_json({**self.meta, "inputs": report["written"]}, self.out / "meta.json")
        return report

    def _points(self, parts: list[Path]):
        """The `points` smallest keys of each (layer, head, role) over every shard's sample,
        in the order of layer, head, role, key, input id and position; one part read at a
        time (what is held is the result)."""
        pa = pyarrow()
        import pyarrow.compute as pc

        if not parts:
            return sample_table({}, [], [])
        read = [_read(p, ["layer", "head", "role", "key"]) for p in parts]
        part = np.concatenate([np.full(t.num_rows, i, np.int32) for i, t in enumerate(read)])
        row = np.concatenate([np.arange(t.num_rows, dtype=np.int64) for t in read])
        code = np.concatenate([_codes(t) for t in read])
        key = np.concatenate([t.column("key").to_numpy() for t in read])
        order = np.lexsort((key, code))
        same = (code[order][1:] == code[order][:-1]) & (key[order][1:] == key[order][:-1])
        if same.any():  # equal keys (inputs whose ids hash alike): by input id, position
            ids = pa.chunked_array([_read(p, ["input_id"]).column(0) for p in parts])
            rank = pc.rank(ids, sort_keys="ascending", tiebreaker="dense").to_numpy()
            position = np.concatenate([_read(p, ["position"]).column(0).to_numpy()
                                       for p in parts])
            order = np.lexsort((position, rank, key, code))
        code = code[order]
        first = np.flatnonzero(np.r_[True, code[1:] != code[:-1]])  # each group's first row
        nth = np.arange(len(order)) - np.repeat(first, np.diff(np.r_[first, len(order)]))
        order, code = order[nth < self.points], code[nth < self.points]
        if not len(order):
            return sample_table({}, [], [])
        layer, head, role = code >> 32, (code >> 8) & 0xFFFFFF, code & 0xFF
        chosen, place, vectors = [], [], []
        for i, path in enumerate(parts):
            mine = np.flatnonzero(part[order] == i)  # where its chosen rows go
            if not len(mine):
                continue
            table = _read(path, ["input_id", "position", "token", "vector"])
            rows = pa.array(row[order][mine])
            chosen.append(table.select(["input_id", "position", "token"]).take(rows))
            place.append(mine)
            vector = table.column("vector")
            vectors.append((mine, vector.chunk(0) if vector.num_chunks == 1 else
                            vector.combine_chunks(), rows))
        place = np.concatenate(place)
        back = pa.array(np.argsort(place))  # (each part's rows to their places)
        columns = pa.concat_tables(chosen).take(back)
        return pa.table({
            "layer": pa.array(layer.astype(np.int32)), "head": pa.array(head.astype(np.int32)),
            "role": pa.array(role.astype(np.int8)), "key": pa.array(key[order]),
            "input_id": columns.column("input_id"), "position": columns.column("position"),
            "token": columns.column("token"), "vector": _gather(vectors, len(order), back)})


def _read(path: Path, columns):
    """Columns of a shard's sample: an Arrow file, mapped (not read), or Parquet."""
    pa = pyarrow()
    if path.suffix == ".arrow":
        mapped = pa.memory_map(str(path))
        table = pa.ipc.open_file(mapped).read_all()
        mapped.close()  # (its buffers keep the mapping)
        return table if columns is None else table.select(columns)
    import pyarrow.parquet as pq

    return pq.read_table(path, columns=columns)


def _codes(table) -> np.ndarray:
    """Each row's (layer, head, role) as one int64 (in their order)."""
    layer, head, role = (table.column(c).to_numpy().astype(np.int64)
                         for c in ("layer", "head", "role"))
    return (layer << 32) | (head << 8) | role


def _gather(blocks: list, rows: int, back):
    """list<float32> of `rows` vectors from (places, list array, its rows) blocks, each
    of its rows going to its place; one buffer written in place where every vector has one
    width, else Arrow's take."""
    pa = pyarrow()
    widths = set()
    for _, array, _ in blocks:
        lengths = np.diff(array.offsets.to_numpy())
        widths |= {int(lengths.min()), int(lengths.max())} if len(lengths) else set()
    if len(widths) > 1:
        return pa.concat_arrays([array.take(taken) for _, array, taken in blocks]).take(back)
    width = widths.pop() if widths else 0
    out = np.empty((rows, width), np.float32)
    for places, array, taken in blocks:
        start = array.offsets[0].as_py()
        flat = array.values.to_numpy()[start: start + len(array) * width]
        out[places] = flat.reshape(len(array), width)[taken.to_numpy()]
    return list_array(out.reshape(-1), np.full(rows, width, np.int64))


def _groups(table) -> dict[tuple, np.ndarray]:
    """{(layer, head, role): row numbers}, in the table's order."""
    if table.num_rows == 0:
        return {}
    code = _codes(table)
    unique, inverse = np.unique(code, return_inverse=True)
    order = np.argsort(inverse, kind="stable")
    bounds = np.searchsorted(inverse[order], np.arange(len(unique) + 1))
    return {(int(c >> 32), int((c >> 8) & 0xFFFFFF), int(c & 0xFF)):
            order[bounds[g]: bounds[g + 1]] for g, c in enumerate(unique)}


# -- the job -----------------------------------------------------------------------------------
def batches(source: Source, batch: int, limit: int | None) -> Iterator[tuple[int, list[Item]]]:
    """(shard number, its items): `batch` inputs as read, skipped ones included, so a shard
    is the same inputs on every run."""
    items: list[Item] = []
    shard = 0
    for item in read_items(source, limit):
        items.append(item)
        if len(items) == batch:
            yield shard, items
            shard, items = shard + 1, []
    if items:
        yield shard, items


class Progress:
    """A bar on stderr with the rate and the time left (tqdm where installed)."""

    def __init__(self, total: int | None, quiet: bool) -> None:
        self.bar = None
        self.quiet, self.total, self.done, self.start = quiet, total, 0, time.monotonic()
        if not quiet:
            try:
                from tqdm import tqdm

                self.bar = tqdm(total=total, unit="input", file=sys.stderr, smoothing=0.1)
            except ImportError:
                pass

    def update(self, n: int) -> None:
        self.done += n
        if self.bar is not None:
            self.bar.update(n)
        elif not self.quiet:
            spent = time.monotonic() - self.start
            rate = self.done / spent if spent else 0.0
            left = (f", {(self.total - self.done) / rate:.0f} s left" if rate and self.total
                    else "")
            print(f"\r{self.done}/{self.total or '?'} inputs, {rate:.1f}/s{left}",
                  end="", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        elif not self.quiet:
            print(file=sys.stderr)


def corpus_meta(session, spec: dict, source: Source, points: int, batch: int) -> dict:
    meta = session.describe()
    return {"format": FORMAT, "version": VERSION, "preset": spec.get("preset"),
            "weights": None if spec.get("weights") is None else str(spec["weights"]),
            "arch": session.arch, "model": fingerprint(session),
            "input_kind": session.model.input_kind, "source": str(source.path),
            "field": source.field, "points": points, "layers": layers_of(meta),
            "statistics": list(STATISTICS), "inputs": 0, "batch": batch}


def run_corpus(spec: dict, inputs: str | Path, out: str | Path, *, field: str | None = None,
               limit: int | None = None, batch: int = 16, points: int = 20000,
               ray: str | bool | None = None, workers: int = 2, session=None,
               quiet: bool = False, stop_after: int | None = None) -> dict:
    """Write the corpus folder `out` (docs/corpus.md) and return the report. `spec`: the
    model as `load_session` takes it (`session`: already loaded). `ray`: None in this
    process; True for a local Ray, or a cluster's address. `stop_after`: stop after that
    many new shards (what a killed job leaves behind; the tests' resume)."""
    pyarrow()
    if batch < 1 or points < 0 or workers < 1:
        raise InputError("--batch and --workers count from 1, --points from 0")
    if ray:
        _check_ray()
    session = session or load_session(spec)
    source = open_source(inputs, session.model.input_kind, field)
    folder = Folder(out, corpus_meta(session, spec, source, points, batch), points)
    total = source.count()
    total = min(total, limit) if total is not None and limit is not None else total or limit
    start = time.monotonic()
    progress = Progress(total, quiet)
    try:
        pending = _pending(folder, source, batch, limit, progress)
        if ray:
            _run_on_ray(spec, pending, folder, points, ray, workers, progress, stop_after)
        else:
            if _in_process(Engine(session, points), pending, folder, progress, stop_after):
                return {"stopped": True}
    finally:
        progress.close()
    return folder.finish(time.monotonic() - start)


def _in_process(engine: Engine, pending, folder: Folder, progress: Progress,
                stop_after: int | None) -> bool:
    """Batch after batch; each shard's statistics, sample and files made on a writer
    thread while the next batch runs (one shard at a time, in order; torch and Arrow let go
    of the interpreter while they work). Whether it stopped at `stop_after`."""
    def write(shard: int, result: Shard) -> int:
        folder.save(shard, *result.tables(folder.limits()), result.report)
        return result.report["read"]

    with ThreadPoolExecutor(1, thread_name_prefix="corpus-writer") as writer:
        writing = None
        for new, (shard, items) in enumerate(pending):
            if stop_after is not None and new >= stop_after:
                break
            result = engine.process(items)
            if writing is not None:
                progress.update(writing.result())  # (its error, if any, raised here)
            writing = writer.submit(write, shard, result)
        else:
            stop_after = None
        if writing is not None:
            progress.update(writing.result())
    return stop_after is not None


def _pending(folder: Folder, source: Source, batch: int, limit, progress):
    for shard, items in batches(source, batch, limit):
        if folder.done(shard, len(items)):
            progress.update(len(items))
        else:
            yield shard, items


def _check_ray() -> None:
    try:
        import ray  # noqa: F401
        import ray.data  # noqa: F401
    except ImportError:
        raise InputError("--ray needs Ray Data: {install}", install=INSTALL) from None


class RayWorker:
    """A Ray Data actor: one model, loaded once, runs shard after shard."""

    def __init__(self, spec: dict, points: int) -> None:
        self.engine = Engine(load_session(spec), points)

    def __call__(self, batch: dict) -> dict:
        """Each shard's three tables as Arrow streams (bytes, not text: a shard's sample
        is tens of MB) and its report."""
        pa = pyarrow()
        out: dict[str, list] = {"shard": [], "report": [], **{name: [] for name in TABLES}}
        for shard, items in zip(batch["shard"], batch["items"]):
            result = self.engine.process([Item.from_json(i) for i in json.loads(items)])
            for name, table in zip(TABLES, result.tables()):
                sink = pa.BufferOutputStream()
                with pa.ipc.new_stream(sink, table.schema) as writer:
                    writer.write_table(table)
                out[name].append(sink.getvalue().to_pybytes())
            out["shard"].append(int(shard))
            out["report"].append(json.dumps(result.report))
        return {k: np.array(v, dtype=object) if k != "shard" else np.array(v)
                for k, v in out.items()}


def _run_on_ray(spec, pending, folder: Folder, points: int, address, workers: int,
                progress: Progress, stop_after: int | None) -> None:
    """The same batches on Ray Data: `workers` actors, a GPU each where CUDA is there."""
    import ray

    pa = pyarrow()
    started = not ray.is_initialized()
    if started:
        ray.init(address=None if address is True else address, include_dashboard=False,
                 log_to_driver=False)
    try:
        rows = [{"shard": shard, "items": json.dumps([i.to_json() for i in items])}
                for new, (shard, items) in enumerate(pending)
                if stop_after is None or new < stop_after]
        if not rows:
            return
        from .presets import resolve_device

        gpus = 1 if str(resolve_device(spec.get("device") or "cpu")).startswith("cuda") else 0
        # the workers import this very code (a checkout's, ahead of an installed copy)
        here = {"env_vars": {"PYTHONPATH": os.pathsep.join(
            [str(Path(__file__).resolve().parents[1]), os.environ.get("PYTHONPATH", "")])}}
        data = ray.data.from_items(rows).map_batches(
            RayWorker, fn_constructor_args=(spec, points), batch_size=1,
            concurrency=workers, num_gpus=gpus, batch_format="numpy", runtime_env=here)
        for row in data.iter_rows():
            tables = [pa.ipc.open_stream(pa.py_buffer(row[name])).read_all() for name in TABLES]
            report = json.loads(row["report"])
            folder.save(int(row["shard"]), *tables, report)
            progress.update(report["read"])
    finally:
        if started:
            ray.shutdown()


def timing_note(seconds: float, inputs: int) -> str:  # for the command's last line
    rate = inputs / seconds if seconds else math.inf
    return f"{inputs} inputs in {seconds:.1f} s ({rate:.1f}/s)"
