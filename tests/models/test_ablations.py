"""The interventions that switch an MLP off and replace a head by its mean over positions,
checked against independent computations: `transformers`' own models with a forward hook
doing the same edit, and the presets' modules with hooks on their output projections."""
import numpy as np
import pytest
import torch

from models.errors import InputError
from models.lens import attribution, lens_column, reader
from models.presets import PRESETS
from models.session import load_folder, load_preset
from tests.models.lm_folders import build

TEXT = {"gpt2": "The quick brown fox jumps over the lazy dog.",
        "llama": "Once upon a time there was a little girl.",
        "bert": "The capital of [MASK] is Paris."}


@pytest.fixture(scope="module", params=list(TEXT))
def folder(request, tmp_path_factory):
    family = request.param
    path = tmp_path_factory.mktemp(family)
    library = build(family, path)
    return family, library, load_folder(path)


def library_parts(family, library, layer):
    """(the MLP module whose output is the write, the attention's output projection, the
    number of heads) of `layer` in the library's model."""
    if family == "gpt2":
        block = library.transformer.h[layer]
        return block.mlp, block.attn.c_proj, library.config.n_head
    if family == "bert":
        block = library.bert.encoder.layer[layer]
        return block.output.dense, block.attention.output.dense, \
            library.config.num_attention_heads
    block = library.model.layers[layer]
    return block.mlp, block.self_attn.o_proj, library.config.num_attention_heads


def zero_output(module, args, output):
    return torch.zeros_like(output)


def zero_last_head(module, args):
    """A pre-hook on an output projection: the last of 4 heads' slice zeroed."""
    x = args[0].clone()
    x[..., 3 * x.shape[-1] // 4:] = 0
    return (x,)


def mean_of_head(head, heads):
    """A pre-hook on an output projection: head `head`'s slice of its input (B, N, H·dh)
    replaced, at every position, by its mean over the positions."""
    def hook(module, args):
        x = args[0].clone()
        dh = x.shape[-1] // heads
        part = x[..., head * dh:(head + 1) * dh]
        x[..., head * dh:(head + 1) * dh] = part.mean(-2, keepdim=True).expand_as(part)
        return (x,)
    return hook


def library_probs(library, ids, hooks):
    handles = [module.register_forward_hook(fn) if kind == "out" else
               module.register_forward_pre_hook(fn) for kind, module, fn in hooks]
    try:
        with torch.no_grad():
            logits = library(torch.tensor([ids])).logits[0]
    finally:
        for h in handles:
            h.remove()
    return logits.float().softmax(-1).numpy()


def test_mlp_off_and_head_mean_match_the_library_with_hooks(folder):
    family, library, session = folder
    mlp0, proj1, heads = library_parts(family, library, 0)
    _, proj_last, _ = library_parts(family, library, 1)
    edits = [
        (dict(mlps_off=["layers.0.mlp"]), [("out", mlp0, zero_output)]),
        (dict(heads_mean=[["layers.1.attn", 2]]),
         [("pre", proj_last, mean_of_head(2, heads))]),
        (dict(mlps_off=["layers.0.mlp"], heads_mean=[["layers.0.attn", 1]],
              heads_off=[["layers.1.attn", 3]]),
         [("out", mlp0, zero_output), ("pre", proj1, mean_of_head(1, heads)),
          ("pre", proj_last, zero_last_head)]),
    ]
    plain = session.run(TEXT[family])
    ids = [int(i) for i in plain.records["input/ids"]]
    for edit, hooks in edits:
        session.set_interventions(**edit)
        trace = session.run(TEXT[family])
        ours = trace["prediction/probs"]
        theirs = library_probs(library, ids, hooks)
        np.testing.assert_allclose(ours, theirs, atol=1e-4)
        # (a random model's probabilities are nearly uniform: log-probabilities, stricter)
        np.testing.assert_allclose(np.log(ours), np.log(theirs), atol=1e-4)
        last = f"{reader(session.model).points[-1]}/resid"
        assert np.abs(trace[last] - plain[last]).max() > 1e-5  # the edit changed the run
        assert trace.meta["interventions"] == edit
        # the lens and the attribution read the edited run
        column = lens_column(session.model, trace, len(ids) - 1)
        np.testing.assert_allclose(column[-1]["target_prob"], ours[-1].max(), atol=1e-5)
        dla = attribution(session.model, trace, len(ids) - 1)
        assert sum(p["value"] for p in dla["parts"]) == pytest.approx(dla["value"], abs=1e-4)
        for point in edit.get("mlps_off", []):
            assert not trace[f"{point}/write"].any()
    session.set_interventions()
    np.testing.assert_allclose(session.run(TEXT[family])["prediction/probs"],
                               plain["prediction/probs"], atol=1e-6)


def test_a_mean_ablated_head_writes_its_mean_at_every_position(folder):
    family, _, session = folder
    session.set_interventions(heads_mean=[["layers.0.attn", 1]])
    try:
        trace = session.run(TEXT[family])
    finally:
        session.set_interventions()
    out = trace["layers.0.attn/out"]  # (H, N, dh)
    np.testing.assert_allclose(out[1], np.broadcast_to(out[1].mean(0), out[1].shape),
                               atol=1e-6)
    assert np.abs(out[0] - out[0].mean(0)).max() > 1e-5  # another head is left alone
    dla = attribution(session.model, trace, trace["layers.0.attn/out"].shape[1] - 1)
    mlp = [p for p in dla["parts"] if p["kind"] == "mlp"]
    assert mlp and all(np.isfinite(p["value"]) for p in mlp)


def test_the_continuation_with_a_mean_head_is_the_librarys_uncached_greedy(tmp_path):
    library = build("gpt2", tmp_path / "g")
    session = load_folder(tmp_path / "g")
    session.generate = 6
    session.set_interventions(heads_mean=[["layers.1.attn", 0]])
    trace = session.run("The quick brown fox")
    ids = torch.tensor([[int(i) for i in trace.records["input/ids"]]])
    handle = library.transformer.h[1].attn.c_proj.register_forward_pre_hook(
        mean_of_head(0, library.config.n_head))
    try:
        with torch.no_grad():
            expected = library.generate(ids, max_new_tokens=6, do_sample=False,
                                        use_cache=False, pad_token_id=0)[0, ids.shape[1]:]
    finally:
        handle.remove()
    got = trace["prediction/ids"].tolist()
    assert got == expected.tolist()[:len(got)] and len(got) >= 1


def test_bad_interventions_are_refused_and_change_nothing(folder):
    _, _, session = folder
    session.set_interventions(mlps_off=["layers.1.mlp"])
    for bad in (dict(mlps_off=["layers.1.attn"]), dict(mlps_off=["layers.9.mlp"]),
                dict(heads_mean=[["layers.0.attn", 99]])):
        with pytest.raises(InputError):
            session.set_interventions(**bad)
    assert session.interventions == {"mlps_off": ["layers.1.mlp"]}
    assert session.model.mlp_points()["layers.1.mlp"].switched_off
    session.set_interventions()
    assert not any(m.switched_off for m in session.model.mlp_points().values())


# -- presets: the same edits by hand on the model's own modules --------------------------
def pre_hook_mean(heads, head, windows=0):
    def hook(module, args):
        x = args[0].clone()  # (B[·nW], N, H·dh)
        dh = x.shape[-1] // heads
        part = x[..., head * dh:(head + 1) * dh]
        if windows:  # one mean over every window of the image
            grid = part.reshape(-1, windows * part.shape[1], dh)
            mean = grid.mean(1, keepdim=True).expand_as(grid).reshape(part.shape)
        else:
            mean = part.mean(-2, keepdim=True).expand_as(part)
        x[..., head * dh:(head + 1) * dh] = mean
        return (x,)
    return hook


def test_translate_preset_matches_hooks_by_hand():
    session = load_preset("translate")
    model = session.model
    text = "the cat sees the dog"
    edit = dict(mlps_off=["encoder.layers.1.ff", "decoder.layers.0.ff"],
                heads_mean=[["encoder.layers.0.self_attn", 2]])
    session.set_interventions(**edit)
    trace = session.run(text)
    session.set_interventions()
    src = torch.tensor(trace.records["input/ids"])[None]
    tgt = torch.tensor(trace.records["input/decoder_ids"])[None]
    handles = [model.encoder.layers[1].ff.register_forward_hook(zero_output),
               model.decoder.layers[0].ff.register_forward_hook(zero_output),
               model.encoder.layers[0].self_attn.out_proj.register_forward_pre_hook(
                   pre_hook_mean(4, 2))]
    try:
        with torch.no_grad():
            expected = model(src, tgt)[0].float().softmax(-1).numpy()
    finally:
        for h in handles:
            h.remove()
    np.testing.assert_allclose(trace["prediction/probs"], expected, atol=1e-4)
    dla = attribution(model, trace, 0)
    assert sum(p["value"] for p in dla["parts"]) == pytest.approx(dla["value"], abs=1e-4)
    zero = [p for p in dla["parts"] if p["site"] == "decoder.layers.0.ff"]
    assert zero and abs(zero[0]["value"]) < 1e-9


def test_a_decoder_mean_head_decodes_word_by_word_and_says_so():
    session = load_preset("translate")
    session.set_interventions(heads_mean=[["decoder.layers.1.self_attn", 0]])
    trace = session.run("the cat sees the dog")
    assert "mean over every output position" in trace.meta["notice"]
    # the output is the word-by-word greedy one: each step's choice on its own prefix
    model, out = session.model, trace["prediction/ids"].tolist()
    src = torch.tensor(trace.records["input/ids"])[None]
    with torch.no_grad():
        step = model.greedy_stepwise(src, max_new=len(out))[0].tolist()
    assert step[:len(out)] == out


def test_induction_preset_mean_head_matches_a_hook_by_hand():
    session = load_preset("induction")
    text = PRESETS["induction"].default_input
    session.set_interventions(heads_mean=[["layers.1.attn", 0], ["layers.0.attn", 1]])
    trace = session.run(text)
    session.set_interventions()
    model = session.model
    handles = [model.layers[1].attn.o_proj.register_forward_pre_hook(pre_hook_mean(2, 0)),
               model.layers[0].attn.o_proj.register_forward_pre_hook(pre_hook_mean(2, 1))]
    try:
        with torch.no_grad():
            expected = model(torch.tensor(trace.records["input/ids"])[None])[0]
    finally:
        for h in handles:
            h.remove()
    np.testing.assert_allclose(trace["prediction/probs"], expected.softmax(-1).numpy(),
                               atol=1e-4)


def test_swin_mean_is_over_every_window_of_the_image():
    session = load_preset("swin-digits")
    model = session.model
    site = "layers.0.blocks.1.attn"
    session.set_interventions(heads_mean=[[site, 1]], mlps_off=["layers.1.blocks.0.mlp"])
    trace = session.run("resources/samples/digits/digit_4.png")
    session.set_interventions()
    attn = model.layers[0].blocks[1].attn
    windows = (model.layers[0].blocks[1].resolution // attn.window) ** 2
    handles = [attn.proj.register_forward_pre_hook(pre_hook_mean(attn.num_heads, 1, windows)),
               model.layers[1].blocks[0].mlp.register_forward_hook(zero_output)]
    try:
        with torch.no_grad():
            expected = model(torch.from_numpy(trace.records["input/pixels"])[None])[0]
    finally:
        for h in handles:
            h.remove()
    np.testing.assert_allclose(trace["prediction/probs"].reshape(-1),
                               expected.softmax(-1).numpy(), atol=1e-4)
    read = reader(model)
    column = lens_column(model, trace)
    assert column[-1]["name"] == read.points[-1]
