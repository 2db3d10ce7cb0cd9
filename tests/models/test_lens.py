"""The residual stream records, the logit lens, direct logit attribution and head roles,
checked against independent computations: the model's own forward, `transformers`'
output_hidden_states, and a head's write removed by hand from the final stream."""
import json

import numpy as np
import pytest
import torch

from models.head_roles import best_heads, roles, session_scores
from models.lens import attribution, default_position, lens_column, lens_grid, reader, report
from models.presets import PRESETS
from models.session import load_folder, load_preset
from models.trace import head_writes
from tests.models.checkpoints.test_marian import marian  # noqa: F401 (a fixture)
from tests.models.lm_folders import build

DIGIT = "resources/samples/digits/digit_4.png"
INPUTS = {"translate": "the cat sees the dog", "reverse": "hello",
          "vit-digits": DIGIT, "swin-digits": DIGIT,
          "induction": PRESETS["induction"].default_input}
TEXT = {"gpt2": "The quick brown fox jumps over the lazy dog.",
        "llama": "Once upon a time there was a little girl.",
        "qwen2": "The capital of France is Paris.",
        "bert": "The capital of [MASK] is Paris."}


@pytest.fixture(scope="module", params=list(INPUTS))
def preset_run(request):
    session = load_preset(request.param)
    return session, session.run(INPUTS[request.param])


@pytest.fixture(scope="module", params=list(TEXT))
def folder_run(request, tmp_path_factory):
    family = request.param
    folder = tmp_path_factory.mktemp(family)
    library = build(family, folder)
    session = load_folder(folder)
    return family, library, session, session.run(TEXT[family])


def model_output(session, trace) -> torch.Tensor:
    """The model's own forward on exactly what the trace says it saw: logits (n, V)."""
    model, r = session.model, trace.records
    with torch.inference_mode():
        if model.form == "seq2seq":
            out = model(torch.tensor(r["input/ids"])[None],
                        torch.tensor(r["input/decoder_ids"])[None])
        elif model.form == "image":
            out = model(torch.from_numpy(r["input/pixels"])[None])
        else:
            out = model(torch.tensor(r["input/ids"])[None])
    return out[0].reshape(-1, out.shape[-1]).float()


def positions(session, trace):
    read = reader(session.model)
    if not read.per_token:
        return [None]
    n = trace[f"{read.points[0]}/resid"].shape[0]
    return sorted({0, n // 2, n - 1})


# -- the records -------------------------------------------------------------------------
def test_every_point_is_recorded_and_heads_sum_to_the_attention_write(preset_run):
    session, trace = preset_run
    sites = session.model.describe_sites()
    for points in session.model.residual_points().values():
        for before, point in zip(points, points[1:]):
            resid = trace[f"{point}/resid"]
            assert resid.ndim == 2 and resid.shape == trace[f"{before}/resid"].shape
            if point in sites and session.model.cfg.__dict__.get("norm_first", True):
                write = head_writes(trace, point).sum(0) + trace.records.get(
                    f"{point}/o_bias", 0)
                np.testing.assert_allclose(trace[f"{before}/resid"] + write, resid, atol=1e-5)
            elif point not in sites and session.model.cfg.__dict__.get("norm_first", True):
                np.testing.assert_allclose(trace[f"{before}/resid"] + trace[f"{point}/write"],
                                           resid, atol=1e-5)


def test_the_records_stay_linear_and_nothing_is_vocabulary_wide(preset_run):
    session, trace = preset_run
    n_max = max(v.shape[0] for k, v in trace.records.items() if k.endswith("/resid"))
    for name, value in trace.records.items():
        if name.endswith(("/resid", "/write")):
            assert value.shape[0] <= n_max and value.ndim == 2


# -- the lens ------------------------------------------------------------------------------
def test_the_lens_at_the_last_point_is_the_models_output(preset_run):
    session, trace = preset_run
    logits = model_output(session, trace)
    for position in positions(session, trace):
        column = lens_column(session.model, trace, position)
        probs = logits[0 if position is None else position].softmax(-1)
        for i, p in column[-1]["top"]:
            assert abs(float(probs[i]) - p) < 1e-5
        assert column[-1]["top"][0][0] == int(probs.argmax())
        assert len(column) == len(reader(session.model).points)


def test_the_grid_agrees_with_the_column(preset_run):
    session, trace = preset_run
    grid = lens_grid(session.model, trace)
    for j, position in enumerate(grid["positions"]):
        column = lens_column(session.model, trace, None if not reader(
            session.model).per_token else position)
        for row, layer in enumerate(column):
            assert grid["top"][row, j] == layer["top"][0][0]
            assert abs(grid["top_prob"][row, j] - layer["top"][0][1]) < 1e-6


def test_the_lens_matches_transformers_hidden_states(folder_run):
    family, library, session, trace = folder_run
    ids = torch.tensor(trace.records["input/ids"])[None]
    with torch.no_grad():
        out = library(ids, output_hidden_states=True)
    states = out.hidden_states  # embeddings, then after each layer (the last one normed)
    layers = len(states) - 1
    ends = ["embed"] + [f"layers.{i}.mlp" for i in range(layers)]
    if family == "bert":
        head = library.cls
    else:
        norm = library.transformer.ln_f if family == "gpt2" else library.model.norm

        def head(h):
            return library.lm_head(norm(h))
    for position in range(ids.shape[1]):
        column = {c["name"]: c for c in lens_column(session.model, trace, position)}
        for i, point in enumerate(ends):
            if i == layers:  # the library's last state is already normed: its output
                expected = out.logits[0, position].softmax(-1)
            else:
                with torch.no_grad():
                    expected = head(states[i][:, position])[0].softmax(-1)
            for token, p in column[point]["top"]:
                assert abs(float(expected[token]) - p) < 1e-4, (family, point, position)


# -- attribution ---------------------------------------------------------------------------
def check_sum(session, trace, position, target=None, minus=None):
    found = attribution(session.model, trace, position, target, minus)
    total = sum(p["value"] for p in found["parts"])
    assert abs(total - found["value"]) < 1e-4
    logits = model_output(session, trace)[0 if position is None else position].double()
    expected = logits[found["target"]] - (logits[minus] if minus is not None else 0.0)
    assert abs(found["value"] - float(expected)) < 1e-4
    kinds = {p["kind"] for p in found["parts"]}
    assert {"embed", "head", "bias"} <= kinds
    return found


def test_attribution_sums_to_the_logit_and_to_a_difference(preset_run):
    session, trace = preset_run
    for position in positions(session, trace):
        found = check_sum(session, trace, position)
        heads = sum(1 for p in found["parts"] if p["kind"] == "head")
        model_sites = session.model.describe_sites()
        assert heads >= min(info["heads"] for info in model_sites.values())
        check_sum(session, trace, position, target=1, minus=2)


def test_attribution_sums_on_opened_folders(folder_run):
    _, _, session, trace = folder_run
    for position in positions(session, trace):
        check_sum(session, trace, position)
        check_sum(session, trace, position, target=5, minus=7)


def removed_head_logit(session, trace, position, site, head, target):
    """The logit with one head's write taken out of the final stream, the final norm's
    scale kept from the run (an independent, by-hand read-out)."""
    model = session.model
    read = reader(model)
    final = torch.from_numpy(trace[f"{read.points[-1]}/resid"]).double()
    at = [position] if read.per_token else [0]
    x = final[at]
    write = torch.from_numpy(head_writes(trace, site, at)[head]).double()
    norm = read.norm
    weight = norm.weight.detach().double()
    if isinstance(norm, torch.nn.LayerNorm):
        sigma = torch.sqrt(x.var(-1, unbiased=False, keepdim=True) + norm.eps)
        y = x - write
        normed = (y - y.mean(-1, keepdim=True)) / sigma * weight + norm.bias.detach().double()
    else:
        rms = torch.sqrt(x.pow(2).mean(-1, keepdim=True) + norm.eps)
        normed = (x - write) / rms * weight
    linear = read.linear if read.per_token else read.reads[0][2]
    logit = normed[0] @ linear.weight.detach().double()[target]
    if linear.bias is not None:
        logit = logit + linear.bias.detach().double()[target]
    return float(logit)


def test_a_heads_attribution_is_the_logit_lost_without_its_write(preset_run, folder_run):
    cases = [preset_run[:2], folder_run[2:]]
    for session, trace in cases:
        read = reader(session.model)
        if read.post_norms or read.head is not None or (read.reads and len(read.reads) > 1) \
                or (read.reads and read.reads[0][0] == "mean"):
            continue  # post-norm, BERT's nonlinear head, DeiT's two heads, Swin's pooling
        position = positions(session, trace)[-1]
        found = attribution(session.model, trace, position)
        target = found["target"]
        logits = model_output(session, trace)[0 if position is None else position].double()
        for part in found["parts"]:
            if part["kind"] != "head":
                continue
            without = removed_head_logit(session, trace, position, part["site"], part["head"],
                                         target)
            assert abs((float(logits[target]) - without) - part["value"]) < 1e-4, part


# -- the induction preset --------------------------------------------------------------------
@pytest.fixture(scope="module")
def induction_figures_small():
    from models.evaluate import induction_figures
    from models.tasks import induction

    session = load_preset("induction")
    return session, induction_figures(session.model, induction.examples(20261207, 60))


def test_the_induction_head_writes_the_repeated_answer(induction_figures_small):
    session, figures = induction_figures_small
    text = PRESETS["induction"].default_input
    trace = session.run(text)
    words = text.split()
    ids = [int(i) for i in trace.records["input/ids"]]
    induction_heads = {(int(h.split()[-1])) for h in figures["induction_heads"]}
    checked = 0
    for position in range(1, len(ids) - 1):
        word = words[position - 1]
        if word not in words[: position - 1] or ids[position + 1] != ids[
                words.index(word) + 2]:
            continue  # only where the next word repeats what followed this word before
        found = attribution(session.model, trace, position)
        best = max(found["parts"], key=lambda p: p["value"])
        assert best["kind"] == "head" and best["site"] == "layers.1.attn", best
        assert best["head"] in induction_heads
        checked += 1
    assert checked >= 3


def test_head_roles_name_the_heads_eval_reports(induction_figures_small):
    session, figures = induction_figures_small
    trace = session.run(PRESETS["induction"].default_input)
    scores = session_scores(session, trace)
    named = roles(scores)
    prev = int(figures["previous_token_head"].split()[-1])
    ind = int(figures["induction_head"].split()[-1])
    assert named["layers.0.attn"][prev] == "previous_token"
    assert named["layers.1.attn"][ind] == "induction"
    assert best_heads(scores, "induction")[0][:2] in [("layers.1.attn", h) for h in (
        int(h.split()[-1]) for h in figures["induction_heads"])]
    assert best_heads(scores, "previous_token")[0][:2] == ("layers.0.attn", prev)


def test_head_scores_on_every_preset_are_fractions(preset_run):
    session, trace = preset_run
    scores = session_scores(session, trace)
    assert scores
    for site, by_role in scores.items():
        for role, values in by_role.items():
            assert len(values) == trace.meta["sites"][site]["heads"]
            assert all(-1e-6 <= v <= 1 + 1e-6 for v in values), (site, role)


# -- the report the command prints -------------------------------------------------------------
def test_the_report_has_the_documented_shape(preset_run):
    session, trace = preset_run
    found = json.loads(json.dumps(report(session, trace)))
    assert set(found) >= {"position", "target", "minus", "layers", "attribution"}
    assert found["position"] == default_position(session, trace)
    assert len(found["layers"]) == len(reader(session.model).points)
    assert all(len(layer["top"]) == 5 and "target_prob" in layer for layer in found["layers"])
    assert {"value", "parts"} <= set(found["attribution"])
    for part in found["attribution"]["parts"]:
        assert part["kind"] in ("embed", "head", "mlp", "bias")


def test_a_saved_trace_reads_the_same_lens_and_attribution(tmp_path):
    from models.trace import Trace

    session = load_preset("induction")
    trace = session.run(INPUTS["induction"])
    path = tmp_path / "run.npz"
    trace.save_npz(str(path), compact=True)
    again = Trace.load_npz(str(path))
    position = default_position(session, trace)
    assert lens_column(session.model, again, position) == lens_column(session.model, trace,
                                                                       position)
    first, second = (attribution(session.model, t, position) for t in (trace, again))
    assert [p["value"] for p in first["parts"]] == pytest.approx(
        [p["value"] for p in second["parts"]], abs=1e-9)


def test_attribution_sums_on_a_post_norm_marian_folder(marian):  # noqa: F811
    """OPUS-MT is post-norm: each part passes through every later LayerNorm, frozen."""
    session = load_folder(marian[0])
    trace = session.run("the small cat sees the big dog")
    assert reader(session.model).post_norms  # the case this test is for
    for position in positions(session, trace):
        check_sum(session, trace, position)
        check_sum(session, trace, position, target=3, minus=4)
        column = lens_column(session.model, trace, position)
        probs = model_output(session, trace)[position].softmax(-1)
        for i, p in column[-1]["top"]:
            assert abs(float(probs[i]) - p) < 1e-5


@pytest.mark.parametrize("family", ["qwen3", "phi3", "gemma3_text"])
def test_the_lens_and_attribution_on_qwen3_phi3_and_gemma3(family, tmp_path):
    """The newer families: QK-norm (Qwen3), fused projections (Phi-3), and Gemma 3's norms
    around each sublayer and sliding-window layers. The lens at the last point is the
    library's output, and the parts sum to the library's logit (and difference) at every
    position: each part of Gemma 3 passes through its sublayer's own output norm, frozen.
    Gemma's soft cap c·tanh(z/c) is not linear: the parts sum to z, the logit before it."""
    from tests.models.lm_folders import build_new

    library = build_new(family, tmp_path / family)
    session = load_folder(tmp_path / family)
    trace = session.run("The capital of France is Paris, and of Italy Rome.")
    ids = torch.tensor(trace.records["input/ids"])[None]
    with torch.no_grad():
        capped = library(ids).logits[0].double()
    cap = getattr(library.config, "final_logit_softcapping", None)
    reference = cap * torch.atanh(capped / cap) if cap else capped
    for position in positions(session, trace):
        column = lens_column(session.model, trace, position)
        probs = capped[position].softmax(-1)
        assert column[-1]["top"][0][0] == int(probs.argmax())
        for i, p in column[-1]["top"]:
            assert abs(float(probs[i]) - p) < 1e-4
        for target, minus in [(None, None), (5, 7)]:
            found = attribution(session.model, trace, position, target, minus)
            assert abs(sum(p["value"] for p in found["parts"]) - found["value"]) < 1e-4
            expected = reference[position, found["target"]] - (
                reference[position, minus] if minus is not None else 0.0)
            assert abs(found["value"] - float(expected)) < 1e-4
            assert {"embed", "head", "mlp"} <= {p["kind"] for p in found["parts"]}
