"""A corpus result folder (`python main.py corpus`, docs/corpus.md) read for the Corpus panel.

No Qt here: the panel's data layer. Everything over the Parquet files is a query — DuckDB's
GROUP BY for the heads' means, a WHERE for one head's distribution and for one head's
points — so no Python loop ever walks the rows, and only the points
of the head on screen are in memory.

The folder's layout (fixed, versioned by meta.json's "format" and "version"):

    meta.json               what was run: the model, its layers (site, row label, kind, heads),
                            the statistics, how many inputs
    heads/part-*.parquet    one row per (input, site, head): the statistics of that head on
                            that input
    inputs/part-*.parquet   one row per input: its text (or image path), tokens, prediction
    points.parquet          a reservoir sample of query and key vectors per (site, head, role)
    report.json             what was read, written and skipped
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from models.corpus import FORMAT, STATISTICS, VERSION, part_name

from ..i18n import ModelMessage, say

UMAP_POINTS = 4000  # UMAP embeds at most this many points (half queries, half keys)


class CorpusError(Exception):
    """A folder that is not a corpus result we can read; its message is one line, kept as a
    template with its values (said in the interface's language)."""

    def __init__(self, message: ModelMessage) -> None:
        super().__init__(str(message))
        self.message = message


def _quoted(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _column(name: str) -> str:
    """A column name quoted for SQL."""
    return '"' + name.replace('"', '""') + '"'


def _files(paths: list[Path]) -> str:
    """A DuckDB list of file names (named one by one: a folder name holding '[' or '*' is
    not read as a pattern)."""
    return "[" + ", ".join(_quoted(p) for p in paths) + "]"


@dataclass
class Points:
    """One head's sample of query and key vectors."""

    role: np.ndarray  # bool: True for a query
    input_id: np.ndarray  # str (an object array)
    position: np.ndarray  # int32
    token: np.ndarray  # str (an object array): token_names[token_code]
    vectors: np.ndarray  # (n, d) float32
    token_code: np.ndarray | None = None  # int32: each point's token as a number …
    token_names: np.ndarray | None = None  # … into these (each distinct token once)

    def __len__(self) -> int:
        return len(self.position)

    def without_vectors(self) -> Points:
        """The same points without their vectors (what a drawn embedding keeps)."""
        return Points(self.role, self.input_id, self.position, self.token,
                      np.zeros((len(self), 0), np.float32), self.token_code, self.token_names)


def empty_points() -> Points:
    return Points(np.zeros(0, bool), np.zeros(0, object), np.zeros(0, np.int32),
                  np.zeros(0, object), np.zeros((0, 2), np.float32), np.zeros(0, np.int32),
                  np.zeros(0, object))


class CorpusResult:
    """An opened result folder. Raises CorpusError (one line) for a folder without meta.json,
    of another format or version, or with a file that cannot be read."""

    def __init__(self, folder: str | Path) -> None:
        import duckdb
        import pyarrow.parquet as pq

        self.folder = Path(folder).expanduser()
        where = str(self.folder)
        meta_path = self.folder / "meta.json"
        if not meta_path.is_file():
            raise CorpusError(say("{folder} is not a corpus result: it has no meta.json",
                                  folder=where))
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise CorpusError(say("{folder}: meta.json cannot be read ({reason})",
                                  folder=where, reason=str(error))) from None
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise CorpusError(say("{folder} is not a corpus result: meta.json's format is "
                                  "not {format}", folder=where, format=FORMAT))
        if meta.get("version") != VERSION:
            raise CorpusError(say("{folder}: corpus result version {version} is not one "
                                  "this app reads ({known})", folder=where,
                                  version=meta.get("version"), known=VERSION))
        layers = meta.get("layers")
        statistics = meta.get("statistics")
        if not isinstance(layers, list) or not layers or not all(
                isinstance(x, dict) and {"site", "row", "heads"} <= set(x) for x in layers) \
                or not isinstance(statistics, list) or not statistics:
            raise CorpusError(say("{folder}: meta.json has no layers or statistics",
                                  folder=where))
        self.meta = meta
        self.layers: list[dict] = layers
        self.statistics: list[str] = [str(s) for s in statistics]
        self.heads = max(int(layer["heads"]) for layer in layers)
        self.head_files = sorted((self.folder / "heads").glob("part-*.parquet"))
        input_files = sorted((self.folder / "inputs").glob("part-*.parquet"))
        self.points_path = self.folder / "points.parquet"
        if not self.head_files or not input_files:
            raise CorpusError(say("{folder}: a corpus result needs heads/ and inputs/ with "
                                  "part-*.parquet files", folder=where))
        self.db = duckdb.connect()  # in memory: views over the files, nothing copied
        try:
            self.db.execute(f"CREATE VIEW heads AS SELECT * FROM read_parquet("
                            f"{_files(self.head_files)})")
            self.means = self._means()
            self.inputs = pq.read_table([str(p) for p in input_files]
                                        if len(input_files) > 1 else str(input_files[0]),
                                        columns=["input_id", "text", "tokens", "prediction"])
            self.has_points = self.points_path.is_file()
            self.groups: dict[tuple[int, int], list[int]] | None = None
            if self.has_points:
                metadata = pq.ParquetFile(self.points_path).metadata
                self.points_rows = metadata.num_rows
                self.groups = _head_groups(metadata)
        except Exception as error:  # a damaged file: DuckDB's or Arrow's reason, in one line
            self.db.close()
            raise CorpusError(say("{folder}: a file cannot be read ({reason})", folder=where,
                                  reason=str(error).splitlines()[0][:300])) from None
        # input id -> row of self.inputs (hover and click look inputs up by id)
        self.row_of = {str(x): i for i, x in enumerate(self.inputs.column("input_id")
                                                     .to_pylist())}

    # -- queries -------------------------------------------------------------------------
    def _means(self) -> dict[str, np.ndarray]:
        """{statistic: (layers, heads) mean over the inputs}; NaN where a head has no
        value (a smaller layer, or a statistic that was not measured)."""
        columns = ", ".join(f"avg({_column(s)}) AS m{i}" for i, s in enumerate(self.statistics))
        rows = self.db.cursor().execute(
            f"SELECT layer, head, count(*) AS n, {columns} FROM heads GROUP BY layer, head"
        ).fetchnumpy()
        shape = (len(self.layers), self.heads)
        layer = np.asarray(rows["layer"], dtype=np.int64)
        head = np.asarray(rows["head"], dtype=np.int64)
        inside = (layer >= 0) & (layer < shape[0]) & (head >= 0) & (head < shape[1])
        self.counts = np.zeros(shape, np.int64)
        self.counts[layer[inside], head[inside]] = np.asarray(rows["n"])[inside]
        means = {}
        for i, s in enumerate(self.statistics):
            grid = np.full(shape, np.nan)
            values = rows[f"m{i}"]
            values = np.ma.filled(np.ma.asarray(values, dtype=np.float64), np.nan)
            grid[layer[inside], head[inside]] = values[inside]
            means[s] = grid
        return means

    def distribution(self, layer: int, head: int, statistic: str) -> np.ndarray:
        """One head's `statistic` on every input (nulls left out)."""
        if statistic not in self.statistics:
            return np.zeros(0, np.float64)
        rows = self.db.cursor().execute(
            f"SELECT {_column(statistic)} AS v FROM heads WHERE layer = ? AND head = ? "
            f"AND {_column(statistic)} IS NOT NULL", [int(layer), int(head)]).fetchnumpy()
        return np.asarray(rows["v"], dtype=np.float64)

    def points(self, layer: int, head: int) -> Points:
        """One head's queries and keys, in the file's order. The corpus command writes one
        row group per head (sorted by layer and head): those groups are read directly, found
        at opening from their statistics. A file written otherwise goes through DuckDB,
        which skips the row groups whose statistics rule the head out and streams the others
        through its WHERE, so memory holds one head's sample (pyarrow's filters decoded whole
        row groups first: 10 s and 900 MB for a head of a 1.6 GB file written in
        1-million-row groups, against DuckDB's 0.2 s and 170 MB)."""
        import pyarrow.compute as pc
        import pyarrow.parquet as pq

        if not self.has_points:
            return empty_points()
        columns = ["role", "input_id", "position", "token", "vector"]
        if self.groups is not None:
            groups = self.groups.get((int(layer), int(head)), [])
            if not groups:
                return empty_points()
            table = pq.ParquetFile(self.points_path).read_row_groups(groups, columns=columns)
        else:
            table = self.db.cursor().sql(
                f"SELECT {', '.join(columns)} FROM read_parquet({_quoted(self.points_path)}) "
                f"WHERE layer = {int(layer)} AND head = {int(head)}").to_arrow_table()
        n = table.num_rows
        if n == 0:
            return empty_points()
        flat = table.column("vector").combine_chunks().flatten().to_numpy(zero_copy_only=False)
        d = len(flat) // n
        tokens = pc.dictionary_encode(table.column("token")).combine_chunks()
        names = tokens.dictionary.to_numpy(zero_copy_only=False).astype(object)
        codes = tokens.indices.to_numpy(zero_copy_only=False).astype(np.int32)
        return Points(role=pc.equal(table.column("role"), "query").to_numpy(),
                      input_id=table.column("input_id").to_numpy().astype(object),
                      position=table.column("position").to_numpy().astype(np.int32),
                      token=names[codes], token_code=codes, token_names=names,
                      vectors=np.asarray(flat, np.float32).reshape(n, d))

    def input(self, input_id: str) -> dict | None:
        """{"input_id", "text", "tokens", "prediction"} of one input, or None."""
        row = self.row_of.get(str(input_id))
        if row is None:
            return None
        return {name: self.inputs.column(name)[row].as_py() for name in self.inputs.column_names}

    # -- what it is of -----------------------------------------------------------------
    def model_name(self) -> str:
        """The model to open to see its inputs live: the preset, else the weights folder."""
        return str(self.meta.get("preset") or self.meta.get("weights")
                   or self.meta.get("model") or "?")

    def close(self) -> None:
        self.db.close()


def _head_groups(metadata) -> dict[tuple[int, int], list[int]] | None:
    """{(layer, head): its row groups} where every row group of points.parquet holds one
    head (its statistics say so), else None."""
    names = [metadata.schema.column(i).name for i in range(metadata.num_columns)]
    if "layer" not in names or "head" not in names:
        return None
    layer_at, head_at = names.index("layer"), names.index("head")
    groups: dict[tuple[int, int], list[int]] = {}
    for g in range(metadata.num_row_groups):
        group = metadata.row_group(g)
        if group.num_rows == 0:
            continue
        found = []
        for at in (layer_at, head_at):
            stats = group.column(at).statistics
            if stats is None or not stats.has_min_max or stats.min != stats.max \
                    or stats.null_count:
                return None
            found.append(int(stats.min))
        groups.setdefault((found[0], found[1]), []).append(g)
    return groups


def attentionviz(queries: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Queries and keys made comparable in one space, as AttentionViz does (Yeh et al. 2023,
    "AttentionViz: A Global View of Transformer Attention", IEEE VIS; section 4.1):

    - scaled: queries by c and keys by 1/c, c = sqrt(mean |k| / mean |q|), so that their
      mean norms match; every q·k is unchanged (c q · k / c);
    - translated: the keys moved so that their mean is the queries' mean; q·(k + t) =
      q·k + q·t adds the same amount to every key's score of a query, so each query's
      ranking of the keys (and its softmax) is unchanged.

    Without this, queries and keys lie in two separate clouds and a joint projection shows
    the gap between them rather than which keys each query attends to."""
    dtype = np.result_type(queries, keys, np.float32)  # float32 stays float32: twice as fast
    q = np.asarray(queries, dtype)
    k = np.asarray(keys, dtype)
    if len(q) and len(k):
        norm_q = float(np.linalg.norm(q, axis=1).mean())
        norm_k = float(np.linalg.norm(k, axis=1).mean())
        if norm_q > 0 and norm_k > 0:
            c = math.sqrt(norm_k / norm_q)
            q, k = q * c, k / c
        k = k - k.mean(axis=0) + q.mean(axis=0)
    return q, k


def pca_2d(x: np.ndarray) -> np.ndarray:
    """(n, 2): the points on their first two principal axes (numpy's SVD), each axis
    signed so that its largest loading is positive (the same picture every time). In
    float32 where the points are (a picture), and on one BLAS thread (below)."""
    x = np.asarray(x, np.result_type(x, np.float32))
    out = np.zeros((len(x), 2), x.dtype)
    if len(x) < 2 or x.shape[1] == 0:
        return out
    with one_blas_thread():
        centred = x - x.mean(axis=0)
        # the principal axes are the right singular vectors of the centred points, found
        # from the small d × d matrix X^T X (its singular vectors are the same): 40 times
        # faster than the SVD of the n × d points themselves
        _, _, vt = np.linalg.svd((centred.T @ centred).astype(np.float64))
        axes = vt[:2].astype(x.dtype)
        axes = axes * np.sign(axes[np.arange(len(axes)), np.abs(axes).argmax(axis=1)])[:, None]
        out[:, :len(axes)] = centred @ axes.T
    return out


def one_blas_thread():
    """numpy's BLAS on one thread for a block (threadpoolctl, where installed; else as it
    is). On a 2-core machine busy with other work, OpenBLAS's two threads wait for each
    other: X^T X of 40,000 × 64 float32 took 0.1–3 s on two threads, 0.02 s on one
    (2-core AMD EPYC VM, load average 11, 2026-12-07)."""
    import contextlib

    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(1, user_api="blas")


def umap_2d(x: np.ndarray, seed: int = 0) -> np.ndarray:
    """(n, 2) by UMAP (umap-learn; ImportError when it is not installed)."""
    import umap

    if len(x) < 4:
        return pca_2d(x)
    reducer = umap.UMAP(n_components=2, random_state=seed, n_neighbors=min(15, len(x) - 1),
                        n_jobs=1)  # (a seed runs on one thread anyway; said, not warned)
    return np.asarray(reducer.fit_transform(np.asarray(x, np.float32)), np.float64)


def umap_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("umap") is not None


class NoTask:
    """A task nobody cancels or watches (a call from a script or a test)."""

    def cancelled(self) -> bool:
        return False

    def check(self) -> None:
        pass

    def report(self, fraction: float | None) -> None:
        pass


def pca_reducer(x: np.ndarray, seed: int, task) -> np.ndarray:
    return pca_2d(x)


def umap_reducer(x: np.ndarray, seed: int, task, poll: float = 0.1) -> np.ndarray:
    """UMAP on a thread of its own, watched from the job's: umap-learn's fit cannot be
    stopped midway, so a cancelled fit is left to end by itself (its result dropped) while
    the job returns at once (`task.check()` raises). Progress: not known (umap-learn says
    nothing of how far it is); reported as such, so the panel shows it is busy."""
    import threading

    found: dict = {}

    def fit() -> None:
        try:
            found["xy"] = umap_2d(x, seed)
        except BaseException as error:  # said by the job's thread
            found["error"] = error

    thread = threading.Thread(target=fit, name="umap", daemon=True)
    thread.start()
    while thread.is_alive():
        task.check()
        task.report(None)
        thread.join(poll)
    if "error" in found:
        raise found["error"]
    return found["xy"]


# each projection: (vectors, seed, task) -> (n, 2); a test may put a stand-in here
REDUCERS = {"pca": pca_reducer, "umap": umap_reducer}


def embed(points: Points, method: str = "pca", seed: int = 0, task=None) -> dict:
    """The AttentionViz picture of one head: {"index": rows of `points` drawn, "xy": (n, 2)}.
    PCA draws every point; UMAP at most UMAP_POINTS (an even sample of each role). `task`
    (analyst.Task): the projection reports its progress to it and stops when cancelled."""
    task = task or NoTask()
    index = np.arange(len(points))
    if method == "umap" and len(index) > UMAP_POINTS:
        rng = np.random.default_rng(seed)
        parts = []
        for role in (True, False):
            rows = index[points.role == role]
            parts.append(np.sort(rng.choice(rows, min(len(rows), UMAP_POINTS // 2),
                                            replace=False)))
        index = np.concatenate(parts)
    role = points.role[index]
    vectors = points.vectors[index]
    q, k = attentionviz(vectors[role], vectors[~role])
    joint = np.empty((len(index), vectors.shape[1] if vectors.ndim == 2 else 0), q.dtype)
    joint[role], joint[~role] = q, k
    task.check()
    xy = REDUCERS[method](joint, seed, task)
    return {"index": index, "xy": np.asarray(xy, np.float64), "method": method}


# -- a result folder written directly (tests, the soak, the open-time measurement) ---------

def write_example(folder: str | Path, texts: list[str], layers: list[dict],
                  points_per_head: int = 40, d_head: int = 8, seed: int = 0,
                  preset: str | None = None, weights: str | None = None, model: str = "",
                  max_position: int = 3, parts: int = 2, input_kind: str = "text") -> Path:
    """A corpus result in the fixed layout, from random numbers: `layers` as meta.json
    lists them ({"site", "row", "kind", "heads"}), `texts` the inputs (every input has every
    head), `points_per_head` queries and as many keys per head, at positions below
    `max_position`. Points are written sorted by (layer, head), one row group per head."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = Path(folder)
    rng = np.random.default_rng(seed)
    (folder / "heads").mkdir(parents=True, exist_ok=True)
    (folder / "inputs").mkdir(exist_ok=True)
    n = len(texts)
    ids = np.array([f"{i:06d}" for i in range(n)], dtype=object)
    tokens = rng.integers(max_position, max_position + 20, n).astype(np.int32)
    heads_of = [int(layer["heads"]) for layer in layers]
    layer_col = np.concatenate([np.full(h, li, np.int32) for li, h in enumerate(heads_of)])
    head_col = np.concatenate([np.arange(h, dtype=np.int32) for h in heads_of])
    site_col = np.concatenate([np.full(h, layer["site"], dtype=object)
                               for layer, h in zip(layers, heads_of)])
    per_input = len(head_col)
    bounds = np.linspace(0, n, parts + 1).astype(int)
    for part, (a, b) in enumerate(zip(bounds[:-1], bounds[1:])):
        m = (b - a) * per_input
        stats = {}
        centre = (layer_col * 7 + head_col * 3) % 10 / 10.0  # each head its own level
        for j, s in enumerate(STATISTICS):
            values = (np.tile(centre, b - a) + 0.1 * j
                      + rng.normal(0, 0.1, m)).astype(np.float32)
            stats[s] = pa.array(values, pa.float32(),
                                mask=(rng.random(m) < 0.1) if s == "induction" else None)
        table = pa.table({
            "input_id": pa.array(np.repeat(ids[a:b], per_input), pa.string()),
            "site": pa.array(np.tile(site_col, b - a), pa.string()),
            "layer": pa.array(np.tile(layer_col, b - a), pa.int32()),
            "head": pa.array(np.tile(head_col, b - a), pa.int32()),
            "tokens": pa.array(np.repeat(tokens[a:b], per_input), pa.int32()),
            **stats})
        pq.write_table(table, folder / "heads" / part_name(part))
        pq.write_table(pa.table({
            "input_id": pa.array(ids[a:b], pa.string()),
            "text": pa.array(texts[a:b], pa.string()),
            "tokens": pa.array(tokens[a:b], pa.int32()),
            "prediction": pa.array(["?"] * (b - a), pa.string()),
            "probability": pa.array(rng.random(b - a), pa.float32())}),
            folder / "inputs" / part_name(part))
    schema = pa.schema([("site", pa.string()), ("layer", pa.int32()), ("head", pa.int32()),
                        ("role", pa.string()), ("input_id", pa.string()),
                        ("position", pa.int32()), ("token", pa.string()),
                        ("vector", pa.list_(pa.float32()))])
    words = np.array(["<s>", "the", "cat", "dog", "sat", "<b>", "and", "mat"], dtype=object)
    with pq.ParquetWriter(folder / "points.parquet", schema) as writer:
        for li, layer in enumerate(layers):
            for h in range(int(layer["heads"])):
                k = points_per_head
                which = rng.integers(0, n, 2 * k)
                position = rng.integers(0, max_position, 2 * k).astype(np.int32)
                offset = np.where(np.arange(2 * k) < k, 0.0, 3.0)[:, None]  # keys apart
                vectors = (rng.normal(0, 1, (2 * k, d_head)) + offset).astype(np.float32)
                writer.write_table(pa.table({
                    "site": pa.array([layer["site"]] * 2 * k, pa.string()),
                    "layer": pa.array(np.full(2 * k, li, np.int32)),
                    "head": pa.array(np.full(2 * k, h, np.int32)),
                    "role": pa.array(["query"] * k + ["key"] * k, pa.string()),
                    "input_id": pa.array(ids[which], pa.string()),
                    "position": pa.array(position),
                    "token": pa.array(words[position % len(words)], pa.string()),
                    "vector": pa.FixedSizeListArray.from_arrays(
                        pa.array(vectors.reshape(-1)), d_head).cast(
                            pa.list_(pa.float32()))}, schema=schema))
    meta = {"format": FORMAT, "version": VERSION, "preset": preset, "weights": weights,
            "arch": "decoder", "model": model or str(preset or weights),
            "input_kind": input_kind, "source": "example", "field": None,
            "points": points_per_head, "layers": layers, "statistics": list(STATISTICS),
            "inputs": n}
    (folder / "meta.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
    (folder / "report.json").write_text(json.dumps(
        {"read": n, "written": n, "skipped": {}, "truncated": 0, "seconds": 0.0}),
        encoding="utf-8")
    return folder
