"""Site kinds as data (issue 27): models/sites.py is the one place that names a kind by its
string. A scan of the code keeps it so; the kinds' fields give what the code that compared
strings gave (each preset's row and column labels, titles, layouts)."""
import ast
from pathlib import Path

import numpy as np
import pytest

from explorer.labels import axis_labels, site_title, site_tokens, window_tokens
from models.analysis import head_statistics, token_positions
from models.presets import PRESETS
from models.resources import shipped
from models.session import load_preset
from models.sites import (
    CAUSAL,
    CROSS,
    KINDS,
    PATCH_SELF,
    WINDOW,
    kind_of,
    kinds_listed,
    token_layout,
)

ROOT = Path(__file__).resolve().parents[2]

# A trace record's name that happens to be spelled like a kind: the causal mask's flag
# `S/causal` (models/trace.py), assigned once to this constant and used through it.
RECORD_NAMES = {("models/trace.py", "CAUSAL_FLAG")}

PLAIN = {"encoder_self", "decoder_self", "cross", "causal", "bidirectional"}
# also ordinary words and selection fields (Selection.window): a kind only where compared,
# asked for with .sites(…) or written as a site's "kind"
AMBIGUOUS = {"self", "window"}


def scanned_files() -> list[Path]:
    files = sorted((ROOT / "models").rglob("*.py")) + sorted((ROOT / "explorer").rglob("*.py"))
    files.append(ROOT / "main.py")  # (explorer/cli.py, once it exists, is under explorer/)
    return [f for f in files if f.relative_to(ROOT).as_posix() != "models/sites.py"]


def _strings(node: ast.AST) -> list[ast.Constant]:
    """String constants that are `node` or an element of a set, tuple or list literal."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node]
    if isinstance(node, (ast.Set, ast.Tuple, ast.List)):
        return [c for element in node.elts for c in _strings(element)]
    return []


def kind_literals(source: str, path: str = "<probe>") -> list[str]:
    """'path:line: "key"' for every place `source` names a site kind by its string."""
    tree = ast.parse(source)
    allowed = set()  # the constants assigned to a RECORD_NAMES name
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and (path, t.id) in RECORD_NAMES for t in node.targets):
            allowed.add(id(node.value))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and node.value in PLAIN and id(node) not in allowed:
            found.append(node)
        elif isinstance(node, ast.Compare):
            for operand in [node.left, *node.comparators]:
                found += [c for c in _strings(operand) if c.value in AMBIGUOUS]
        elif isinstance(node, ast.Call):
            arguments = [k.value for k in node.keywords if k.arg == "kind"]
            if getattr(node.func, "attr", None) == "sites":
                arguments += node.args
            for argument in arguments:
                found += [c for c in _strings(argument) if c.value in AMBIGUOUS]
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values):
                if isinstance(key, ast.Constant) and key.value == "kind":
                    found += [c for c in _strings(value) if c.value in AMBIGUOUS]
    return sorted(f"{path}:{c.lineno}: {c.value!r}" for c in found)


def test_no_kind_is_named_by_its_string_outside_models_sites():
    files = scanned_files()
    assert len(files) > 60 and ROOT / "explorer" / "labels.py" in files
    found = []
    for path in files:
        name = path.relative_to(ROOT).as_posix()
        found += kind_literals(path.read_text(encoding="utf-8"), name)
    assert found == []


@pytest.mark.parametrize("planted", [
    'if info["kind"] == "cross": pass',
    'SEQUENCE = ("causal", "bidirectional")',
    'windowed = meta["sites"][site]["kind"] == "window"',
    'ok = kind in ("self", other)',
    'ok = kind not in {"window"}',
    'names = trace.sites("self")',
    'state.sites_of_kind(kind="window")',
    'sites = {"blocks.0.attn": {"kind": "self", "heads": 4}}',
])
def test_the_scan_catches_a_planted_kind_string(planted):
    assert len(kind_literals(planted)) >= 1, planted


@pytest.mark.parametrize("innocent", [
    'explorer.select(head=0, window=state.get("window"))',
    'KEYS = {"site", "head", "window"}',
    'cell = {"window": 3, "query": 1}',
    'self.window = 0',
    'flag = f"{site}/causal"',
])
def test_the_scan_leaves_ordinary_words_alone(innocent):
    assert kind_literals(innocent) == [], innocent


def test_the_record_name_allowance_is_for_its_one_constant():
    assert kind_literals('CAUSAL_FLAG = "causal"', "models/trace.py") == []
    assert kind_literals('CAUSAL_FLAG = "causal"', "models/other.py") != []
    assert kind_literals('OTHER = "causal"', "models/trace.py") != []


def test_every_kind_is_whole():
    keys = [k.key for k in KINDS.values()]
    assert keys == list(KINDS) and len(set(keys)) == len(keys)
    assert len({k.menu_name for k in KINDS.values()}) == len(KINDS)
    for kind in KINDS.values():
        assert kind.layout in ("text", "patches", "windows"), kind.key
        # labels are meta fields, except where computed (Swin's window cells)
        assert (kind.query_tokens is None) == (kind.key_tokens is None) == kind.windowed
        assert kind.distance in ("tokens", "pixels", None)
        assert kind.embedding in ("encoder.embed", "decoder.embed")


def test_the_token_layout_prefers_text_then_windows():
    def meta(*kinds):
        return {"sites": {f"s{i}": {"kind": k.key} for i, k in enumerate(kinds)}}

    assert token_layout(meta(CROSS, WINDOW, PATCH_SELF)) == "text"
    assert token_layout(meta(PATCH_SELF, WINDOW)) == "windows"
    assert token_layout(meta(PATCH_SELF)) == "patches"
    assert [k.key for k in kinds_listed(meta(CAUSAL, CROSS, CAUSAL))] == ["causal", "cross"]


DIGIT = "resources/samples/digits/digit_4.png"
INPUTS = {"translate": "the cat sees the dog", "reverse": "a b c d", "vit-digits": DIGIT,
          "swin-digits": DIGIT, "induction": None}  # (None: the preset's own sample)


@pytest.fixture(scope="module")
def traces():
    return {name: load_preset(name).run(value if value is not None else
                                         shipped(PRESETS[name].default_input))
            for name, value in INPUTS.items()}


def expected_labels(name: str, site: str, meta: dict):
    """What each site's rows and columns were labelled before kinds were data, from the
    preset and the site's name alone: encoder sites read the source, the decoder's own
    attention the target, cross-attention's rows the words produced against the source."""
    if name in ("translate", "reverse"):
        if site.startswith("encoder."):
            return meta["source_tokens"], meta["source_tokens"]
        if site.endswith("cross_attn"):
            return meta["output_tokens"], meta["source_tokens"]
        return meta["target_tokens"], meta["target_tokens"]
    return meta["tokens"], meta["tokens"]  # ViT's CLS and patches, the language model's


TITLES = {("encoder.", "self_attn"): "encoder self-attention",
          ("decoder.", "self_attn"): "decoder masked self-attention",
          ("decoder.", "cross_attn"): "cross-attention"}


@pytest.mark.parametrize("name", list(INPUTS))
def test_each_presets_labels_and_titles_come_from_its_kinds_fields(traces, name):
    trace = traces[name]
    meta = trace.meta
    assert trace.sites()
    for site in trace.sites():
        assert trace.sites(kind_of(meta, site)) == trace.sites(meta["sites"][site]["kind"])
        title = site_title(trace, site)
        if name == "swin-digits":  # window cells, computed; every other block shifted
            with pytest.raises(KeyError):
                site_tokens(trace, site)
            last = meta["sites"][site]["num_windows"] - 1
            labels = window_tokens(trace, site, last)
            assert axis_labels(trace, site, last) == (labels, labels)
            assert len(labels) == meta["sites"][site]["window_size"] ** 2
            shifted = meta["sites"][site]["shift"] > 0
            assert title.endswith("SW-MSA (shifted windows)" if shifted else "W-MSA (windows)")
            continue
        rows, cols = expected_labels(name, site, meta)
        assert site_tokens(trace, site) == (rows, cols) == axis_labels(trace, site)
        n_q, n_k = trace[f"{site}/q"].shape[-2], trace[f"{site}/k"].shape[-2]
        assert (len(rows), len(cols)) == (n_q, n_k)
        if name in ("translate", "reverse"):
            words = [w for (part, end), w in TITLES.items()
                     if site.startswith(part) and site.endswith(end)]
            assert title == f"{site}  ·  {words[0]}"
        else:
            assert title == f"{site}  ·  " + {"vit-digits": "self-attention",
                                               "induction": "masked (causal) self-attention"}[name]


def test_distances_apply_where_queries_and_keys_are_one_sequence(traces):
    translate = traces["translate"]
    for site in translate.sites():
        positions = token_positions(translate, site)
        if site.endswith("cross_attn"):
            assert positions is None
            assert all(np.isnan(h["distance"]) for h in head_statistics(translate, site))
        else:
            assert positions[2] == "tokens"
            np.testing.assert_array_equal(positions[0][:, 0], np.arange(len(positions[0])))
    vit = traces["vit-digits"]
    q_pos, _, unit = token_positions(vit, vit.sites()[0])
    patch = vit.meta["config"]["patch_size"]
    assert unit == "pixels" and np.isnan(q_pos[0]).all()  # CLS: no position
    np.testing.assert_allclose(q_pos[1], [patch / 2, patch / 2])
    swin = traces["swin-digits"]
    assert token_positions(swin, swin.sites()[0])[2] == "pixels"


def test_trace_imports_no_model_module_but_sites():
    """attention.py records through trace.py: trace.py importing attention back (even inside
    a function, as it did for the causal mask) was an import circle."""
    tree = ast.parse((ROOT / "models" / "trace.py").read_text(encoding="utf-8"))
    relative = {node.module for node in ast.walk(tree)
                if isinstance(node, ast.ImportFrom) and node.level == 1}
    assert relative == {"sites"}
