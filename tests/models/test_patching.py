"""Activation patching (models/patching.py) against independent computations: a head's
patch redone with a forward pre-hook on the attention's output projection (the heads'
concatenated outputs, before W_O), the whole stream patched giving the clean run, and the
induction preset's circuit found by the sweep."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from models import patching as P
from models.errors import InputError
from models.head_roles import session_scores
from models.session import load_folder, load_preset
from tests.models.lm_folders import build

DIGITS = "resources/samples/digits/digit_{}.png"
# The induction preset's circuit: the clean input repeats a stretch of words and ends inside
# the repeat, so the next word is copied from the first stretch ("bird" -> "sing"). The
# corrupted input differs in ONE token, the first "bird" (-> "cat"): every token the
# induction head could copy is still there, only the previous-token information at "sing"
# ("the word before me is bird") is gone. Patching it back needs the previous-token head
# (which writes it) or the induction head (which reads it through its keys).
INDUCTION = ("happy dog run park green tree big bird sing rain happy dog run park green tree "
             "big bird",
             "happy dog run park green tree big cat sing rain happy dog run park green tree "
             "big bird")
TEXT = "The man went to the store to buy a gallon of {}"
PAIRS = {
    "translate": ("the small cat sees the big dog", "the big cat sees the small dog"),
    "reverse": ("abc123", "abd123"),
    "induction": INDUCTION,
    "vit-digits": (DIGITS.format(3), DIGITS.format(8)),
    "swin-digits": (DIGITS.format(3), DIGITS.format(8)),
    "gpt2": (TEXT.format("milk"), TEXT.format("tea")),
    "llama": (TEXT.format("milk"), TEXT.format("man")),  # (the same token count)
    "qwen2": (TEXT.format("milk"), TEXT.format("tea")),
    "bert": ("the milk [MASK] the store.", "the brother [MASK] the store."),
}
FOLDERS = ("gpt2", "llama", "qwen2", "bert")


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    """Small random folders saved by transformers; weights drawn wider than the libraries'
    default (0.02) so that the context changes the prediction by logits, not by 1e-4."""
    root = tmp_path_factory.mktemp("patching")
    for family in FOLDERS:
        build(family, root / family, initializer_range=0.3)
    return root


@pytest.fixture(scope="module")
def sessions(folders):
    opened: dict = {}

    def get(name: str):
        if name not in opened:
            opened[name] = load_folder(folders / name) if name in FOLDERS else \
                load_preset(name)
        return opened[name]
    return get


# -- an independent patch: a hook on W_O's input -----------------------------------------
def _out_proj(model, site: str) -> torch.nn.Linear:
    attn = model.get_submodule(site)
    return next(getattr(attn, n) for n in ("o_proj", "out_proj", "proj") if hasattr(attn, n))


def _logits(session, pair: P.Pair, inputs: tuple) -> torch.Tensor:
    with torch.inference_mode():
        out = session.model(*inputs)[0]
    if pair.form == "lm":
        out = out[pair.position]
    elif pair.form == "seq2seq":
        out = out[-1]  # the decoder's last position
    return out.double()


def _swin_slot(model, site: str, position: int) -> tuple[int, int]:
    """Which window, and where in it, a Swin block puts token `position` (its grid rolled
    by -shift, cut into windows row-major)."""
    block = model.get_submodule(site.rsplit(".", 1)[0])
    side, ws, shift = block.resolution, block.window, block.shift
    y, x = divmod(position, side)
    ry, rx = (y - shift) % side, (x - shift) % side
    return (ry // ws) * (side // ws) + rx // ws, (ry % ws) * ws + rx % ws


def independent_score(session, clean, corrupt, site: str, head: int, targets,
                      position: int | None = None) -> float:
    """The corrupted run with head `head`'s output at `site` (at `position`, else all)
    replaced by the clean run's, by a forward pre-hook on the output projection."""
    model = session.model
    pair = P.prepare(session, clean, corrupt)
    proj = _out_proj(model, site)
    dh = model.describe_sites()[site]["head_dim"]
    cols = slice(head * dh, (head + 1) * dh)
    seen = {}
    hook = proj.register_forward_pre_hook(lambda m, args: seen.__setitem__("x", args[0]))
    clean_logits = _logits(session, pair, pair.clean)
    hook.remove()

    def swap(module, args):
        x = args[0].clone()
        if position is None:
            x[..., cols] = seen["x"][..., cols]
        else:
            row = _swin_slot(model, site, position) if x.shape[0] > 1 else (0, position)
            x[row[0], row[1], cols] = seen["x"][row[0], row[1], cols]
        return (x,)
    hook = proj.register_forward_pre_hook(swap)
    patched = _logits(session, pair, pair.corrupt)
    hook.remove()
    corrupt_logits = _logits(session, pair, pair.corrupt)
    a, b = targets
    m = [float(v[a] - v[b]) for v in (clean_logits, corrupt_logits, patched)]
    return (m[2] - m[1]) / (m[0] - m[1])


@pytest.mark.parametrize("name", list(PAIRS))
def test_a_heads_patch_equals_a_hook_on_the_output_projection(sessions, name):
    session = sessions(name)
    clean, corrupt = PAIRS[name]
    result = P.sweep(session, clean, corrupt, "heads")
    assert abs(result.clean - result.corrupt) > 0.1  # a difference worth normalising by
    sites = session.model.describe_sites()
    checked = 0
    for cell in result.cells:
        if cell["head"] >= sites[cell["site"]]["heads"]:
            assert np.isnan(cell["score"])  # (Swin: a stage with fewer heads)
            continue
        expected = independent_score(session, clean, corrupt, cell["site"], cell["head"],
                                     result.targets)
        assert cell["score"] == pytest.approx(expected, abs=1e-5)
        checked += 1
    assert checked == sum(s["heads"] for s in sites.values())
    # one head at one position: the last site's first head where the metric is read (an
    # image: a patch; Swin: a token of a shifted block, found in its window)
    site, position = list(sites)[-1], P.prepare(session, clean, corrupt).position
    if name == "vit-digits":
        position = 1
    elif name == "swin-digits":
        site, position = "layers.0.blocks.1.attn", 17
        assert session.model.get_submodule("layers.0.blocks.1").shift
    score = P.patch_score(session, clean, corrupt,
                          [{"site": site, "head": 0, "position": position}], result.targets)
    assert score == pytest.approx(independent_score(
        session, clean, corrupt, site, 0, result.targets, position), abs=1e-5)


@pytest.mark.parametrize("name", ["induction", "translate", "swin-digits", "bert"])
def test_the_whole_stream_patched_is_the_clean_run_and_nothing_the_corrupted(sessions, name):
    session = sessions(name)
    clean, corrupt = PAIRS[name]
    last = list(session.model.residual_points().values())[-1][-1]
    assert P.patch_score(session, clean, corrupt, [{"point": last}]) == \
        pytest.approx(1.0, abs=1e-5)
    assert P.patch_score(session, clean, corrupt, []) == pytest.approx(0.0, abs=1e-5)


@pytest.mark.parametrize("name, kind", [("induction", "heads-by-pos"), ("translate", "attn"),
                                        ("swin-digits", "heads"), ("gpt2", "resid")])
def test_batched_sweeps_equal_one_run_at_a_time(sessions, name, kind):
    session = sessions(name)
    told = []
    batched = P.sweep(session, *PAIRS[name], kind, batch=16,
                      progress=lambda done, total: told.append((done, total)))
    alone = P.sweep(session, *PAIRS[name], kind, batch=1)
    np.testing.assert_allclose(batched.scores, alone.scores, atol=1e-5)
    assert told[0][0] == 0 and told[-1][0] == told[-1][1] > 0
    assert [d for d, _ in told] == sorted(d for d, _ in told)


def test_progress_may_stop_a_sweep(sessions):
    def stop(done, total):
        if done:
            raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        P.sweep(sessions("induction"), *INDUCTION, "heads-by-pos", batch=4, progress=stop)


def test_the_induction_sweep_finds_the_previous_token_and_induction_heads(sessions):
    session = sessions("induction")
    result = P.sweep(session, *INDUCTION, "heads")
    assert result.target_names == ("sing", result.target_names[1])
    # the heads the eval names, from the head-role probe (models/head_roles.py)
    scores = session_scores(session, session.run(INDUCTION[0]))
    previous = ("layers.0.attn", int(np.argmax(scores["layers.0.attn"]["probe_previous_token"])))
    induction = ("layers.1.attn", int(np.argmax(scores["layers.1.attn"]["induction"])))
    ranked = sorted(result.cells, key=lambda c: -c["score"])
    assert {(c["site"], c["head"]) for c in ranked[:2]} == {previous, induction}
    # the previous-token head reaches the answer through the induction head's keys
    through_keys = P.path_patch(session, *INDUCTION, previous, induction, "k")
    other = ("layers.0.attn", 1 - previous[1])
    assert through_keys > 0.2
    assert through_keys > 10 * abs(P.path_patch(session, *INDUCTION, other, induction, "k"))


def independent_path_score(session, clean, corrupt, sender, receiver, part, targets):
    """The normalised metric of `independent_path_logits`."""
    a, b = targets
    m = [float(v[a] - v[b]) for v in independent_path_logits(session, clean, corrupt, sender,
                                                             receiver, part)]
    return (m[2] - m[1]) / (m[0] - m[1])


def independent_path_logits(session, clean, corrupt, sender, receiver, part):
    """(clean, corrupted, path-patched) logits where the metric is read. The path-patched
    run: the corrupted run with the receiver head's q, k or v computed from a stream where
    only the sender head's output is the clean run's: the corrupted stream entering the
    receiver's layer plus (clean − corrupted sender head output) @ W_O. By hooks on the
    model's own modules (the induction preset: attention only, so nothing else lies
    between the two; RoPE acts per head after the projection, so replacing the head's
    columns of k_proj's output replaces its k)."""
    model = session.model
    pair = P.prepare(session, clean, corrupt)
    (s_site, s_head), (r_site, r_head) = sender, receiver
    dh = model.describe_sites()[s_site]["head_dim"]
    s_cols, r_cols = (slice(h * dh, (h + 1) * dh) for h in (s_head, r_head))
    o_proj = model.get_submodule(s_site).o_proj
    r_block = model.get_submodule(r_site.rsplit(".", 1)[0])
    seen: dict = {}
    hooks = [o_proj.register_forward_pre_hook(
                 lambda m, args: seen.__setitem__("o", args[0].detach().clone())),
             r_block.register_forward_pre_hook(
                 lambda m, args: seen.__setitem__("x", args[0].detach().clone()))]
    clean_logits = _logits(session, pair, pair.clean)
    clean_o = seen["o"]
    corrupt_logits = _logits(session, pair, pair.corrupt)
    corrupt_o, stream = seen["o"], seen["x"]
    for hook in hooks:
        hook.remove()
    w = o_proj.weight[:, s_cols]  # (D, dh)
    stream = stream + (clean_o[..., s_cols] - corrupt_o[..., s_cols]) @ w.T
    projection = getattr(r_block.attn, f"{part}_proj")
    with torch.inference_mode():
        received = projection(r_block.norm1(stream))[..., r_cols]

    def swap(module, args, out):
        out = out.clone()
        out[..., r_cols] = received
        return out
    hook = projection.register_forward_hook(swap)
    patched = _logits(session, pair, pair.corrupt)
    hook.remove()
    return clean_logits, corrupt_logits, patched


@pytest.mark.parametrize("part", P.PARTS)
def test_path_patching_equals_the_receiver_fed_a_stream_with_only_the_sender_clean(
        sessions, part):
    """Every layer-0 head into each layer-1 head's q, k or v: path_patch and the batched
    path_sweep both equal the independent computation; on keys, the previous-token head
    into the induction head scores high and the other layer-0 head about nothing."""
    session = sessions("induction")
    targets = P.default_targets(session, *INDUCTION)
    for r_head in range(2):
        receiver = ("layers.1.attn", r_head)
        swept = P.path_sweep(session, *INDUCTION, receiver, part)
        assert swept.rows == ["0"] and swept.columns == ["0", "1"]
        assert swept.targets == targets
        for cell in swept.cells:
            sender = (cell["site"], cell["head"])
            expected = independent_path_score(session, *INDUCTION, sender, receiver, part,
                                              targets)
            assert cell["score"] == pytest.approx(expected, abs=1e-5)
            assert P.path_patch(session, *INDUCTION, sender, receiver, part) == \
                pytest.approx(expected, abs=1e-5)
    if part == "k":
        k = P.path_sweep(session, *INDUCTION, ("layers.1.attn", 1), "k").scores[0]
        assert k[1] > 0.4 and abs(k[0]) < 0.01


@pytest.mark.parametrize("part", P.PARTS)
def test_a_path_sweep_into_a_shifted_window_block_equals_each_head_alone(sessions, part):
    """A Swin receiver with shifted windows: the sweep's copies of the input (one per
    sender head) used to begin at the receiver's q, k or v, beside a mask made for one
    input (a RuntimeError on the model's thread); each cell now equals the path patched
    for that head alone, which needs no copies."""
    session = sessions("swin-digits")
    receiver = ("layers.0.blocks.1.attn", 1)
    swept = P.path_sweep(session, *PAIRS["swin-digits"], receiver, part)
    assert len(swept.cells) == 2
    for cell in swept.cells:
        alone = P.path_patch(session, *PAIRS["swin-digits"], (cell["site"], cell["head"]),
                             receiver, part)
        assert cell["score"] == pytest.approx(alone, abs=1e-5)


def test_path_sweep_refuses_a_receiver_with_no_sender(sessions):
    session = sessions("induction")
    with pytest.raises(InputError, match="no attention site comes before"):
        P.path_sweep(session, *INDUCTION, ("layers.0.attn", 0), "k")
    with pytest.raises(InputError, match="after the sender"):
        P.path_sweep(session, *INDUCTION, ("layers.1.attn", 0), "k",
                     senders=["layers.1.attn"])


def test_path_patching_checks_its_heads(sessions):
    session = sessions("induction")
    with pytest.raises(InputError, match="after the sender"):
        P.path_patch(session, *INDUCTION, ("layers.1.attn", 0), ("layers.0.attn", 0), "q")
    with pytest.raises(InputError, match="no head 9"):
        P.path_patch(session, *INDUCTION, ("layers.0.attn", 9), ("layers.1.attn", 0), "q")
    with pytest.raises(InputError, match="choose q, k or v"):
        P.path_patch(session, *INDUCTION, ("layers.0.attn", 0), ("layers.1.attn", 0), "o")


def test_a_patched_run_is_traced_with_the_patch_and_its_score(sessions):
    session = sessions("induction")
    result = P.sweep(session, *INDUCTION, "heads")
    cell = max(result.cells, key=lambda c: c["score"])
    trace = P.patched_run(session, *INDUCTION, cell)
    assert trace.meta["patched"] == cell
    assert "layers.1.attn/weights" in trace  # every panel's records
    logp = np.log(trace["prediction/probs"][-1].astype(np.float64))
    a, b = result.targets
    m = logp[a] - logp[b]  # log-probability differences are logit differences
    assert (m - result.corrupt) / (result.clean - result.corrupt) == \
        pytest.approx(cell["score"], abs=1e-4)


@pytest.mark.parametrize("part", P.PARTS)
def test_a_path_cells_patched_run_is_the_path_patch_traced(sessions, part):
    """A path sweep's cell opens its run: the corrupted input traced with only the receiver
    head's q, k or v fed the sender's clean output. Its last position's probabilities are
    the softmax of the hook-built path-patched logits, its metric gives the cell's score,
    and it is not the sender head patched into every later reader."""
    session = sessions("induction")
    receiver = ("layers.1.attn", 1)
    swept = P.path_sweep(session, *INDUCTION, receiver, part)
    cell = max(swept.cells, key=lambda c: c["score"])
    sender = (cell["site"], cell["head"])
    trace = P.patched_run(session, *INDUCTION, cell)
    assert trace.meta["patched"] == cell
    probs = trace["prediction/probs"][-1].astype(np.float64)
    _, _, patched = independent_path_logits(session, *INDUCTION, sender, receiver, part)
    np.testing.assert_allclose(probs, torch.softmax(patched, -1).numpy(), atol=1e-6)
    a, b = swept.targets
    m = np.log(probs[a]) - np.log(probs[b])
    assert (m - swept.corrupt) / (swept.clean - swept.corrupt) == \
        pytest.approx(cell["score"], abs=1e-5)
    # only the receiver head's part changed: the sender's own output stays the corrupted
    # run's, the receiver's other head reads what it read there
    corrupted = session.run(INDUCTION[1])
    s_site, r_site = sender[0], receiver[0]
    np.testing.assert_allclose(trace[f"{s_site}/out"], corrupted[f"{s_site}/out"], atol=1e-6)
    np.testing.assert_allclose(trace[f"{r_site}/{part}"][0], corrupted[f"{r_site}/{part}"][0],
                               atol=1e-6)
    assert np.abs(trace[f"{r_site}/{part}"][1] - corrupted[f"{r_site}/{part}"][1]).max() > 1e-3
    # the plain head patch of the same sender: its clean output, read by every later head
    plain = P.patched_run(session, *INDUCTION, {"site": s_site, "head": sender[1]})
    h = sender[1]
    assert np.abs(plain[f"{s_site}/out"][h] - trace[f"{s_site}/out"][h]).max() > 1e-3
    if part == "k":  # the previous-token head: about half the answer back by the keys
        # alone, all of it as a head patch (the induction preset's q and v paths carry ~0)
        plain_probs = plain["prediction/probs"][-1].astype(np.float64)
        m_plain = np.log(plain_probs[a]) - np.log(plain_probs[b])
        plain_score = (m_plain - swept.corrupt) / (swept.clean - swept.corrupt)
        assert cell["score"] > 0.4 and plain_score > cell["score"] + 0.3


def test_a_path_cell_written_by_hand_is_checked(sessions):
    session = sessions("induction")
    cell = {"site": "layers.1.attn", "head": 0, "receiver": "layers.0.attn",
            "receiver_head": 0, "part": "k"}
    with pytest.raises(InputError, match="after the sender"):
        P.patched_run(session, *INDUCTION, cell)
    with pytest.raises(InputError, match="names its sender"):
        P.patched_run(session, *INDUCTION, {"receiver": "layers.1.attn", "part": "k"})


def test_a_translation_is_patched_at_the_step_where_the_outputs_part(sessions):
    session = sessions("translate")
    clean, corrupt = PAIRS["translate"]
    pair = P.prepare(session, clean, corrupt)
    ours = [session.run(text).meta["output_tokens"] for text in (clean, corrupt)]
    step = next(i for i, (a, b) in enumerate(zip(*ours)) if a != b)
    assert pair.position == step
    result = P.sweep(session, clean, corrupt, "resid")
    assert result.target_names == (ours[0][step], ours[1][step])
    assert result.rows[0] == "enc embed" and "dec 1" in result.rows
    decoder_last = result.scores[result.rows.index("dec 1")]
    assert decoder_last[-1] == pytest.approx(1.0, abs=1e-5)  # the stream the logits read
    assert np.isnan(decoder_last[0])  # a source column: not the decoder's
    trace = P.patched_run(session, clean, corrupt, {"point": "decoder.layers.1.ff"})
    assert trace.meta["output_tokens"][step] == ours[0][step]


def test_swin_patches_by_token_through_its_stages(sessions):
    session = sessions("swin-digits")
    result = P.sweep(session, *PAIRS["swin-digits"], "resid", batch=64)
    assert len(result.columns) == 16 * 16  # the first stage's grid of patches
    stage2 = [i for i, r in enumerate(result.rows) if r.startswith("stage 2")]
    # a stage-2 token covers 4 × 4 patches: one run, the same score in each
    block = result.scores[stage2[-1]].reshape(16, 16)[:4, :4]
    assert np.all(block == block[0, 0])


def test_different_lengths_and_long_targets_are_refused(sessions):
    session = sessions("induction")
    with pytest.raises(InputError, match="19 tokens and the corrupted one 3"):
        P.check_pair(session, INDUCTION[0], "happy dog")
    with pytest.raises(InputError, match="'happy dog' is 2 here: happy | dog"):
        P.target_id(session, "happy dog")
    assert P.target_id(session, "sing") == session.tokenizer.id_of("sing")
    gpt2 = sessions("gpt2")
    with pytest.raises(InputError) as error:
        P.sweep(gpt2, *PAIRS["gpt2"], "heads", targets=("Paris", "tea"))
    pieces = gpt2.tokenizer.tokens(gpt2.tokenizer.encode("Paris")[0])
    assert " | ".join(pieces) in str(error.value) and len(pieces) > 1
    with pytest.raises(InputError, match="no mlp outputs"):
        P.sweep(session, *INDUCTION, "mlp")
    with pytest.raises(InputError, match="choose one of"):
        P.sweep(session, *INDUCTION, "neurons")
    with pytest.raises(InputError, match="on both inputs"):
        P.sweep(session, *INDUCTION, "heads", targets=("sing", "sing"))


def test_the_json_has_every_field(sessions):
    session = sessions("vit-digits")
    result = P.sweep(session, *PAIRS["vit-digits"], "heads")
    data = json.loads(json.dumps(result.to_json()))
    assert set(data) == {"sweep", "targets", "target_names", "clean", "corrupt", "rows",
                         "columns", "cells"}
    assert len(data["cells"]) == len(data["rows"]) * len(data["columns"])
    assert data["target_names"] == ["3", "8"]
    assert {"layer", "head", "position", "site", "point", "score"} <= set(data["cells"][0])
    assert result.scores.dtype == np.float32
    np.testing.assert_allclose(result.scores.ravel(), [c["score"] for c in result.cells])



def test_a_post_norm_translation_model_is_patched_before_its_norms(sessions):
    """Post-norm (Marian's and the paper's layout): each write joins the stream inside a
    LayerNorm, so a sublayer's output is patched before the norm. A random post-norm model
    with the translate preset's vocabularies."""
    from dataclasses import replace

    from models.transformer import Transformer

    session = load_preset("translate")
    torch.manual_seed(0)
    session.model = Transformer(replace(session.model.cfg, norm_first=False)).eval()
    with torch.no_grad():  # wide weights: the two sources give different outputs
        for p in session.model.parameters():
            if p.dim() == 2:
                p.normal_(0, 0.3)
    clean, corrupt = PAIRS["translate"]
    result = P.sweep(session, clean, corrupt, "heads")
    assert abs(result.clean - result.corrupt) > 1
    for cell in result.cells:
        assert cell["score"] == pytest.approx(independent_score(
            session, clean, corrupt, cell["site"], cell["head"], result.targets), abs=1e-5)
    last = list(session.model.residual_points().values())[-1][-1]
    assert P.patch_score(session, clean, corrupt, [{"point": last}]) == \
        pytest.approx(1.0, abs=1e-5)
    mlp = P.sweep(session, clean, corrupt, "mlp")
    assert np.nanmax(np.abs(mlp.scores)) > 0.01  # (an MLP's output matters here)


@pytest.mark.parametrize("name", ["bert", "gpt2", "induction"])
def test_the_metric_is_read_where_the_lens_opens(sessions, name):
    from models.lens import default_position

    session = sessions(name)
    clean, corrupt = PAIRS[name]
    assert P.prepare(session, clean, corrupt).position == \
        default_position(session, session.run(clean))
