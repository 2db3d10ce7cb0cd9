"""The corpus command's engine (models/corpus.py): statistics from batched runs equal those
computed here, with numpy, from each input's own `Session.run` trace; a killed job resumes
to the same files; Ray writes what the process writes; every source form; every skipped
input counted; bad sources refused before anything runs."""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from models.corpus import STATISTICS, load_session, run_corpus
from models.errors import InputError
from models.resources import resource_path
from tests.models.lm_folders import build

pq = pytest.importorskip("pyarrow.parquet")
pa = pytest.importorskip("pyarrow")

TEXTS = ["the cat sat on the mat and the cat sat",
         "She picked up the book and started to read.",
         "a b a b a b",
         "The quick brown fox jumps over the lazy dog.",
         "I drink coffee every morning; my brother drinks tea.",
         "once"]


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    """Small random GPT-2, Llama, Qwen2 and BERT folders saved by transformers."""
    root = tmp_path_factory.mktemp("lm")
    for family in ("gpt2", "llama", "qwen2", "bert"):
        build(family, root / family)
    return root


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def table(folder: Path, name: str):
    return pq.read_table(folder / name).to_pandas()


def expected_text(weights: np.ndarray, ids: list[int]) -> dict[str, np.ndarray]:
    """The definitions of docs/corpus.md, written out for one input: weights (H, N, N)."""
    weights = weights.astype(np.float64)
    heads, n, _ = weights.shape
    out = {name: np.full(heads, np.nan) for name in STATISTICS}
    for h in range(heads):
        w = weights[h]
        out["entropy"][h] = np.mean([-sum(p * math.log(max(p, 1e-12)) for p in row)
                                     for row in w])
        out["first_token"][h] = w[:, 0].mean()
        if n > 1:
            out["previous_token"][h] = np.mean([w[i, i - 1] for i in range(1, n)])
        out["distance"][h] = np.mean([sum(w[i, j] * abs(i - j) for j in range(n))
                                      for i in range(n)])
        out["local"][h] = np.mean([sum(w[i, j] for j in range(n) if abs(i - j) <= 2)
                                   for i in range(n)])
        duplicate, induction = [], []
        for i in range(n):
            before = [j for j in range(i) if ids[j] == ids[i]]
            if before:
                duplicate.append(sum(w[i, j] for j in before))
                induction.append(sum(w[i, j + 1] for j in before))
        if duplicate:
            out["duplicate_token"][h] = np.mean(duplicate)
            out["induction"][h] = np.mean(induction)
    return out


def assert_rows(rows, expected: dict[str, np.ndarray], tokens: int) -> None:
    rows = rows.sort_values("head")
    assert list(rows["tokens"]) == [tokens] * len(rows)
    for name in STATISTICS:
        got = rows[name].to_numpy(dtype=float)
        assert np.array_equal(np.isnan(got), np.isnan(expected[name])), name
        np.testing.assert_allclose(got, expected[name], atol=2e-5, rtol=1e-4,
                                   equal_nan=True, err_msg=name)


@pytest.mark.parametrize("model", ["gpt2", "llama", "qwen2", "bert", "induction"])
def test_batched_statistics_equal_single_runs(model, folders, tmp_path):
    """Inputs of different lengths share a padded forward (batch of 4); each input's rows
    equal the definitions applied to its own single run's weights."""
    spec = ({"preset": "induction"} if model == "induction" else
            {"preset": None, "weights": str(folders / model)})
    session = load_session(spec)
    texts = (TEXTS if model != "induction" else
             resource_path("samples/induction.txt").read_text().splitlines()[:6])
    if model == "bert":
        texts = [t.replace("book", "[MASK]") for t in texts]
    source = write_lines(tmp_path / "in.txt", texts)
    report = run_corpus(spec, source, tmp_path / "out", batch=4, points=5, session=session,
                        quiet=True)
    assert report["written"] == len(texts) and report["skipped"] == {}
    heads, inputs = table(tmp_path / "out", "heads"), table(tmp_path / "out", "inputs")
    meta = json.loads((tmp_path / "out" / "meta.json").read_text())
    assert [layer["site"] for layer in meta["layers"]] == list(session.describe()["sites"])
    for number, text in enumerate(texts):
        trace = session.run(text)
        ids = [int(i) for i in trace["input/ids"]]
        mine = heads[heads["input_id"] == str(number)]
        for layer, site in enumerate(trace.sites()):
            rows = mine[mine["site"] == site]
            assert set(rows["layer"]) == {layer}
            assert_rows(rows, expected_text(trace[f"{site}/weights"], ids), len(ids))
        row = inputs[inputs["input_id"] == str(number)].iloc[0]
        assert row["text"] == text and row["tokens"] == len(ids)
        if session.preset.task_info.generates:
            assert row["prediction"] == trace.meta["prediction"]
            top = trace.meta["topk"][-1][0]
            assert row["probability"] == pytest.approx(top[1], abs=1e-5)
        else:
            assert row["prediction"] == trace.meta["prediction"]


@pytest.mark.parametrize("preset", ["translate", "reverse"])
def test_translations_in_padded_batches_equal_single_runs(preset, tmp_path, monkeypatch):
    """The test sentences (5 to 18 words) in batches of 4: sources padded, decoded greedily
    together, one traced pass over the padded outputs. Each input's statistics at every
    site (cross-attention: its own, queries and keys in different sequences), its tokens,
    prediction and probability equal those of its own `Session.run`; the batch never runs
    an input on its own."""
    spec = {"preset": preset}
    session = load_session(spec)
    texts = session.preset.task_info.samples()
    singles = [session.run(text) for text in texts]

    def refused(*args, **kwargs):
        raise AssertionError("an input of the batch ran on its own")

    monkeypatch.setattr(session, "run", refused)
    run_corpus(spec, write_lines(tmp_path / "in.txt", texts), tmp_path / "out", batch=4,
               points=5, session=session, quiet=True)
    heads, inputs = table(tmp_path / "out", "heads"), table(tmp_path / "out", "inputs")
    for number, trace in enumerate(singles):
        mine = heads[heads["input_id"] == str(number)]
        for site in trace.sites():
            info = trace.meta["sites"][site]
            rows = mine[mine["site"] == site]
            weights = trace[f"{site}/weights"]
            if "cross" in site:  # queries and keys in different sequences
                expected = {name: np.full(info["heads"], np.nan) for name in STATISTICS}
                w = weights.astype(np.float64)
                expected["entropy"] = -(w * np.log(np.clip(w, 1e-12, None))).sum(-1).mean(-1)
                expected["first_token"] = w[:, :, 0].mean(-1)
            else:
                ids = trace["input/decoder_ids" if "decoder" in site else "input/ids"]
                expected = expected_text(weights, [int(i) for i in ids])
            assert_rows(rows, expected, weights.shape[-2])
        row = inputs.iloc[number]
        assert row["input_id"] == str(number) and row["text"] == texts[number]
        assert row["tokens"] == len(trace["input/ids"])
        assert row["prediction"] == trace.meta["prediction"]
        ids, probs = trace["prediction/ids"], trace["prediction/probs"]
        assert row["probability"] == pytest.approx(
            float(probs[np.arange(len(ids)), ids].mean()), abs=1e-5)
    # the sample's tokens are each input's own: source words, output words
    points = table(tmp_path / "out", "points.parquet")
    for point in points.itertuples():
        trace = singles[int(point.input_id)]
        kind = trace.meta["sites"][point.site]["kind"]
        side = {"encoder_self": ("source_tokens", "source_tokens"),
                "decoder_self": ("target_tokens", "target_tokens"),
                "cross": ("output_tokens", "source_tokens")}[kind][point.role == "key"]
        assert point.token == trace.meta[side][point.position]


def test_an_intervention_that_mixes_positions_runs_each_translation_on_its_own(tmp_path):
    """The bottleneck (the mean over the source) would count the padding: with it on, each
    input runs through `Session.run`, and its prediction is that run's."""
    spec = {"preset": "translate"}
    session = load_session(spec)
    session.set_interventions(bottleneck=True)
    texts = session.preset.task_info.samples()[:3]
    expected = [session.run(text).meta["prediction"] for text in texts]
    ran, single = [], session.run
    session.run = lambda text, *args, **kwargs: ran.append(text) or single(text, *args,
                                                                           **kwargs)
    run_corpus(spec, write_lines(tmp_path / "in.txt", texts), tmp_path / "out", batch=3,
               points=0, session=session, quiet=True)
    assert ran == texts
    assert list(table(tmp_path / "out", "inputs")["prediction"]) == expected


@pytest.mark.parametrize("preset", ["vit-digits", "swin-digits", "vit-folder"])
def test_image_batches_equal_single_runs(preset, tmp_path):
    """A folder of digits, stacked into one forward (the presets, and a transformers ViT
    folder with its own processor): each picture's entropy (and ViT's class-token weight)
    from its own run, and the rest equal to the single run's."""
    from models.analysis import head_figures
    from models.head_roles import vision_scores

    images = tmp_path / "digits"
    images.mkdir()
    digits = sorted(resource_path("samples/digits").glob("*.png"))[:3]
    for path in digits:
        (images / path.name).write_bytes(path.read_bytes())
    spec = {"preset": preset}
    if preset == "vit-folder":
        from tests.models.checkpoints.test_hub import build as build_vit
        from tests.models.checkpoints.test_hub import save

        spec = {"preset": None, "weights": str(save(build_vit("vit"), tmp_path / "vit"))}
    session = load_session(spec)
    run_corpus(spec, images, tmp_path / "out", batch=2, points=5, session=session, quiet=True)
    heads, inputs = table(tmp_path / "out", "heads"), table(tmp_path / "out", "inputs")
    for path in digits:
        trace = session.run(str(images / path.name))
        mine = heads[heads["input_id"] == path.name]
        for site in trace.sites():
            rows = mine[mine["site"] == site].sort_values("head")
            w = trace[f"{site}/weights"].astype(np.float64)  # (H, N, N); Swin (nW, H, n, n)
            windowed = w.ndim == 4
            per_head = w.transpose(1, 0, 2, 3).reshape(w.shape[1], -1, w.shape[-1]) \
                if windowed else w
            entropy = -(per_head * np.log(np.clip(per_head, 1e-12, None))).sum(-1).mean(-1)
            np.testing.assert_allclose(rows["entropy"], entropy, atol=2e-5, rtol=1e-4)
            if not windowed:
                np.testing.assert_allclose(rows["first_token"], w[:, :, 0].mean(-1),
                                           atol=2e-5)
            distance = [head_figures(trace, site, h, w[:, h] if windowed else w[h])["distance"]
                        for h in range(w.shape[-3])]
            np.testing.assert_allclose(rows["distance"], distance, rtol=1e-4)
            np.testing.assert_allclose(rows["local"], vision_scores(trace, site)["local"],
                                       atol=2e-5)
            assert rows[["previous_token", "duplicate_token", "induction"]].isna().all().all()
        row = inputs[inputs["input_id"] == path.name].iloc[0]
        probs = trace["prediction/probs"]
        assert row["prediction"] == session.labels[int(probs.argmax())]
        assert row["probability"] == pytest.approx(float(probs.max()), abs=1e-5)
    points = table(tmp_path / "out", "points.parquet")
    assert set(points["role"]) == {"query", "key"}
    assert (points.groupby(["site", "head", "role"]).size() == 5).all()
    # one row group per head: a reader of one head's points reads its group only
    import pyarrow.parquet as pq

    file = pq.ParquetFile(tmp_path / "out" / "points.parquet")
    heads = [set(zip(*(file.read_row_group(g, columns=["layer", "head"]).column(c).to_pylist()
                       for c in ("layer", "head")))) for g in range(file.num_row_groups)]
    assert all(len(group) == 1 for group in heads)
    assert len(set().union(*heads)) == file.num_row_groups == len(
        points.groupby(["site", "head"]))


def files_of(folder: Path) -> dict:
    """Every file a reader sees, as data (the report's time left out)."""
    found = {"meta": json.loads((folder / "meta.json").read_text())}
    report = json.loads((folder / "report.json").read_text())
    report.pop("seconds")
    found["report"] = report
    for name in ("heads", "inputs"):
        parts = sorted((folder / name).glob("part-*.parquet"))
        found[name] = [pq.read_table(p).to_pylist() for p in parts]
    found["points"] = pq.read_table(folder / "points.parquet").to_pylist()
    return found


def test_a_killed_job_resumes_to_the_same_files(folders, tmp_path):
    spec = {"preset": None, "weights": str(folders / "gpt2")}
    session = load_session(spec)
    source = write_lines(tmp_path / "in.txt", TEXTS + ["", "again the cat sat"])
    whole = run_corpus(spec, source, tmp_path / "whole", batch=2, points=7, session=session,
                       quiet=True)
    assert run_corpus(spec, source, tmp_path / "resumed", batch=2, points=7,
                      session=session, quiet=True, stop_after=2) == {"stopped": True}
    assert len(list((tmp_path / "resumed" / "heads").glob("*.parquet"))) == 2
    assert not (tmp_path / "resumed" / "points.parquet").exists()
    again = run_corpus(spec, source, tmp_path / "resumed", batch=2, points=7, session=session,
                       quiet=True)
    assert {k: v for k, v in again.items() if k != "seconds"} == \
        {k: v for k, v in whole.items() if k != "seconds"}
    assert files_of(tmp_path / "resumed") == files_of(tmp_path / "whole")
    # a job run with --limit, then without: its last, short shard is done again
    run_corpus(spec, source, tmp_path / "longer", batch=2, points=7, session=session,
               quiet=True, limit=5)
    run_corpus(spec, source, tmp_path / "longer", batch=2, points=7, session=session,
               quiet=True)
    assert files_of(tmp_path / "longer") == files_of(tmp_path / "whole")
    # the sample is a uniform one of every (input, position), the same whatever the batches
    other = run_corpus(spec, source, tmp_path / "other", batch=3, points=7, session=session,
                       quiet=True)
    assert other["written"] == whole["written"]
    mine = pq.read_table(tmp_path / "other" / "points.parquet").to_pandas()
    first = pq.read_table(tmp_path / "whole" / "points.parquet").to_pandas()
    chosen = ["site", "layer", "head", "role", "input_id", "position", "token"]
    assert mine[chosen].equals(first[chosen])  # (the vectors: to float rounding)
    np.testing.assert_allclose(np.stack(mine["vector"]), np.stack(first["vector"]),
                               atol=1e-5)
    with pytest.raises(InputError, match="another corpus"):  # another batch size
        run_corpus(spec, source, tmp_path / "whole", batch=3, points=7, session=session,
                   quiet=True)
    # a folder begun by an earlier version (each shard's sample in Parquet) goes on
    run_corpus(spec, source, tmp_path / "earlier", batch=2, points=7, session=session,
               quiet=True, stop_after=2)
    for part in (tmp_path / "earlier" / "sample").glob("part-*.arrow"):
        pq.write_table(pa.ipc.open_file(pa.memory_map(str(part))).read_all(),
                       part.with_suffix(".parquet"))
        part.unlink()
    run_corpus(spec, source, tmp_path / "earlier", batch=2, points=7, session=session,
               quiet=True)
    assert files_of(tmp_path / "earlier") == files_of(tmp_path / "whole")


def test_inputs_whose_ids_hash_alike_are_sampled_in_the_order_of_their_ids(tmp_path):
    """Two picture names with the same CRC-32 get the same key at every position: where
    the sample holds both, the earlier name comes first, with any batch size."""
    from models.corpus import sample_keys

    alike = ("1fdc0ee9.png", "5fb19e8e.png")
    assert np.array_equal(sample_keys(alike[0], 3, 1, 0, 20), sample_keys(alike[1], 3, 1, 0, 20))
    images = tmp_path / "digits"
    images.mkdir()
    digits = sorted(resource_path("samples/digits").glob("*.png"))
    for name, path in zip((alike[1], "a.png", alike[0], "b.png"), digits):
        (images / name).write_bytes(path.read_bytes())
    spec = {"preset": "vit-digits"}
    session = load_session(spec)
    found = []
    for batch in (1, 4):
        run_corpus(spec, images, tmp_path / f"b{batch}", batch=batch, points=9,
                   session=session, quiet=True)
        found.append(table(tmp_path / f"b{batch}", "points.parquet"))
    chosen = ["site", "layer", "head", "role", "input_id", "position", "token"]
    assert found[0][chosen].equals(found[1][chosen])
    points, pairs = found[0], 0
    same = ["layer", "head", "role", "position"]
    for row in np.flatnonzero(points["input_id"] == alike[1]):
        twin = points[(points[same] == points.iloc[row][same]).all(axis=1) &
                      (points["input_id"] == alike[0])]
        if len(twin):  # the same key: the earlier name, just before
            assert list(twin.index) == [row - 1]
            pairs += 1
    assert pairs > 10


def test_ray_writes_what_the_process_writes(folders, tmp_path):
    ray = pytest.importorskip("ray")
    pytest.importorskip("ray.data")
    spec = {"preset": None, "weights": str(folders / "gpt2"), "device": "cpu"}
    texts = [f"{TEXTS[i % len(TEXTS)]} {i}" for i in range(20)]
    source = write_lines(tmp_path / "in.txt", texts)
    run_corpus(spec, source, tmp_path / "here", batch=4, points=6, quiet=True)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        run_corpus(spec, source, tmp_path / "ray", batch=4, points=6, ray=True, workers=2,
                   quiet=True)
    finally:
        ray.shutdown()
    assert files_of(tmp_path / "ray") == files_of(tmp_path / "here")


def test_every_skipped_input_is_counted_and_long_ones_truncated(folders, tmp_path):
    spec = {"preset": None, "weights": str(folders / "gpt2")}
    session = load_session(spec)
    long = " ".join(["word"] * 200)  # over the model's 64 positions
    source = tmp_path / "in.txt"
    source.write_bytes(b"one\n\n   \n" + b"\xff\xfe broken\n" + f"{long}\ntwo\n"
                       .encode())
    report = run_corpus(spec, source, tmp_path / "out", batch=2, points=3, session=session,
                        quiet=True)
    assert report["read"] == 6 and report["written"] == 3
    assert report["skipped"] == {"empty": 2, "unreadable": 1}
    assert report["truncated"] == 1
    inputs = table(tmp_path / "out", "inputs")
    assert list(inputs["input_id"]) == ["0", "4", "5"]
    assert inputs.iloc[1]["tokens"] == session.model.cfg.max_len
    assert json.loads((tmp_path / "out" / "report.json").read_text())["skipped"] == \
        report["skipped"]
    assert json.loads((tmp_path / "out" / "meta.json").read_text())["inputs"] == 3


def test_json_lines_with_a_field_and_bad_records(folders, tmp_path):
    spec = {"preset": None, "weights": str(folders / "gpt2")}
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join([json.dumps({"body": "the cat sat"}), "{not json",
                                 json.dumps({"other": 1}), json.dumps({"body": ""}),
                                 json.dumps({"body": "the dog ran"})]) + "\n")
    report = run_corpus(spec, source, tmp_path / "out", field="body", points=0, quiet=True)
    assert report["written"] == 2
    assert report["skipped"] == {"unreadable": 1, "no field": 1, "empty": 1}
    assert list(table(tmp_path / "out", "inputs")["text"]) == ["the cat sat", "the dog ran"]
    assert table(tmp_path / "out", "points.parquet").empty
    with pytest.raises(InputError, match="no field 'text'"):  # before anything runs
        run_corpus(spec, source, tmp_path / "other", quiet=True)
    assert not (tmp_path / "other").exists()


def test_a_saved_data_set_is_read_without_the_datasets_library(folders, tmp_path):
    datasets = pytest.importorskip("datasets")
    texts = ["the cat sat", "", "the dog ran", "a b a b"]
    datasets.Dataset.from_dict({"sentence": texts, "label": [0, 1, 0, 1]}).save_to_disk(
        str(tmp_path / "set"))
    spec = {"preset": None, "weights": str(folders / "gpt2")}
    report = run_corpus(spec, tmp_path / "set", tmp_path / "out", field="sentence", points=2,
                        quiet=True)
    assert report["written"] == 3 and report["skipped"] == {"empty": 1}
    inputs = table(tmp_path / "out", "inputs")
    assert list(inputs["input_id"]) == ["0", "2", "3"]
    assert list(inputs["text"]) == ["the cat sat", "the dog ran", "a b a b"]
    with pytest.raises(InputError, match="its columns: sentence, label"):
        run_corpus(spec, tmp_path / "set", tmp_path / "other", quiet=True)
    datasets.DatasetDict({"train": datasets.Dataset.from_dict({"text": ["x"]})}).save_to_disk(
        str(tmp_path / "dict"))
    with pytest.raises(InputError, match="several splits"):
        run_corpus(spec, tmp_path / "dict", tmp_path / "other", quiet=True)


def test_bad_sources_and_folders_are_refused_before_anything_runs(tmp_path):
    spec = {"preset": "induction"}
    session = load_session(spec)
    source = write_lines(tmp_path / "in.txt", ["a b a b"])
    cases = [(tmp_path / "missing.txt", "no such file or folder"),
             (tmp_path, "is a folder: this model reads text")]
    for path, message in cases:
        with pytest.raises(InputError, match=message):
            run_corpus(spec, path, tmp_path / "out", session=session, quiet=True)
    with pytest.raises(InputError, match="is a file: this model reads images"):
        run_corpus({"preset": "vit-digits"}, source, tmp_path / "out", quiet=True)
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "mine.txt").write_text("keep me")
    with pytest.raises(InputError, match="holds no corpus"):
        run_corpus(spec, source, tmp_path / "busy", session=session, quiet=True)
    run_corpus(spec, source, tmp_path / "done", points=2, session=session, quiet=True)
    with pytest.raises(InputError, match="another corpus .*model"):
        run_corpus({"preset": "reverse"}, source, tmp_path / "done", quiet=True)
    with pytest.raises(InputError, match="--field names a field"):
        run_corpus(spec, source, tmp_path / "out2", field="body", session=session, quiet=True)


def test_without_ray_the_option_says_how_to_install_it(monkeypatch, tmp_path):
    monkeypatch.setitem(__import__("sys").modules, "ray", None)  # import ray fails
    with pytest.raises(InputError, match=r"pip install 'transformer-explorer\[corpus\]'"):
        run_corpus({"preset": "induction"}, tmp_path, tmp_path / "out", ray=True)


def test_an_image_data_set_reads_its_pictures_from_the_arrow_bytes(tmp_path):
    datasets = pytest.importorskip("datasets")
    from PIL import Image

    digits = sorted(resource_path("samples/digits").glob("*.png"))[:3]
    pictures = [Image.open(p).convert("L") for p in digits]
    data = datasets.Dataset.from_dict({"image": pictures, "label": [0, 1, 2]})
    data.cast_column("image", datasets.Image()).save_to_disk(str(tmp_path / "set"))
    spec = {"preset": "vit-digits"}
    session = load_session(spec)
    report = run_corpus(spec, tmp_path / "set", tmp_path / "out", points=0, session=session,
                        quiet=True)
    assert report["written"] == 3
    inputs = table(tmp_path / "out", "inputs")
    for row, path in zip(inputs.itertuples(), digits):
        trace = session.run(str(path))
        assert row.prediction == session.labels[int(trace["prediction/probs"].argmax())]
        assert row.probability == pytest.approx(float(trace["prediction/probs"].max()),
                                                abs=1e-4)
