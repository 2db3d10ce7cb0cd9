"""Session: one loaded model and its task, user input -> Trace; and the loaders.

`load_preset(name)` gives the Session of a named preset (its shipped weights, or a file
of the user's) or of an opened model (models/catalog.py), `load_folder(path)` the Session
of a model folder from the hub. The Session only orchestrates: the model answers what it
is (models/protocol.py), the run of its prediction form turns input into a trace
(models/runs/), building and checking a model is models/build.py.
"""
from __future__ import annotations

import json
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import torch

from . import resources
from .build import build_model, mlp_names, site_heads, site_names, without_dropout  # noqa: F401
from .checkpoints.ours import read_checkpoint
from .errors import CheckpointError, InputError
from .presets import Preset, get_preset
from .runs import RUNS
from .trace import Trace, without_stream

DIGIT_LABELS = [str(d) for d in range(10)]


# -- the dtype an opened model computes in ------------------------------------------------
DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
# Session.recast's refusal: a device that cannot compute in the dtype chosen in the window
DTYPE_REFUSED = "the device {device} cannot compute in {dtype} ({error})"
KEEP = {"dtype": None}  # --dtype: None computes in float32; "bfloat16"/"float16" keep those


def set_weights_dtype(name: str | None) -> None:
    """What `--dtype` asks for every model folder opened from now on: None (float32
    compute, whatever the weights are stored in), or "bfloat16"/"float16": weights stored in
    that dtype are kept and computed in it (others are still computed in float32)."""
    if name is not None and name not in ("bfloat16", "float16"):
        raise InputError("--dtype {name}? choose bfloat16 or float16 (float32 is the "
                         "default)", name=name)
    KEEP["dtype"] = name


def stored_dtype(tensors: dict[str, torch.Tensor]) -> torch.dtype:
    """The dtype most of a folder's floating weights are stored in."""
    sizes: dict[torch.dtype, int] = {}
    for value in tensors.values():
        if value.is_floating_point():
            sizes[value.dtype] = sizes.get(value.dtype, 0) + value.numel()
    return max(sizes, key=sizes.get) if sizes else torch.float32


def dtype_refusal(dtype: torch.dtype, device: str) -> str:
    """'' where `device` computes in `dtype`, else why not (one line): the operations a
    language model needs, tried on a few numbers. The one rule for --dtype and the window's
    Device menu."""
    try:
        x = torch.ones(2, 4, dtype=dtype, device=device)
        F = torch.nn.functional
        F.scaled_dot_product_attention(x[None, None], x[None, None], x[None, None])
        F.linear(x, x).softmax(-1).float()
    except (RuntimeError, TypeError) as error:
        return str(error).splitlines()[0][:80]
    return ""


def compute_dtype(stored: torch.dtype, device: str, keep: str | None = None) -> torch.dtype:
    """float32, or the stored dtype when `keep` (default: what --dtype asked) names it and
    `device` runs it (else a CheckpointError that says so). `keep`: "float32", "bfloat16"
    or "float16"."""
    keep = KEEP["dtype"] if keep is None else keep
    if keep not in ("bfloat16", "float16") or DTYPES[keep] != stored:
        return torch.float32
    why = dtype_refusal(stored, device)
    if why:
        raise CheckpointError("the device {device} cannot compute in {dtype} ({error}); open "
                              "the folder without --dtype to compute in float32",
                              device=device, dtype=keep, error=why)
    return stored


def cast_shared(model: torch.nn.Module, dtype: torch.dtype) -> None:
    """Every floating parameter and buffer of `model` in `dtype`, one tensor at a time; two
    names that share one tensor's memory (a tied output and embedding) still share it
    (`Module.to` would make them two copies)."""
    done: dict[tuple, torch.Tensor] = {}
    with torch.no_grad():
        for module in model.modules():
            for table in (module._parameters, module._buffers):
                for value in table.values():
                    if value is None or not value.is_floating_point() or value.dtype == dtype:
                        continue
                    key = (value.data_ptr(), value.shape, value.stride())
                    if key not in done:
                        done[key] = value.data.to(dtype)
                    value.data = done[key]
    done.clear()


def load_folder(path: str | Path, device: str = "cpu", arch: str | None = None,
                opened=None, keep: str | None = None) -> Session:
    """A model folder from the hub (transformers ViT/DeiT/Swin/Marian/GPT-2/Llama/BERT, timm
    ViT/DeiT/Swin), or a bare timm weights file with its variant in `arch` or its name: its
    own config, labels, tokenizer and preprocessing; a CheckpointError says why one cannot
    be opened. `opened`: the folder already read (`checkpoints.registry.read_model`).
    A language model's weights stored in bf16/fp16 are computed in float32, unless
    `set_weights_dtype` (--dtype) or `keep` asked to keep them: meta["dtype"] says which."""
    from .checkpoints.registry import read_model

    opened = opened or read_model(path, arch)
    preset = Preset(f"opened:{opened.name}", opened.arch, opened.task,
                    f"{opened.family} from {opened.name}", "", opened.config)
    stored = stored_dtype(opened.tensors)
    dtype = compute_dtype(stored, str(device), keep)
    model = build_model(preset, opened.config, opened.name, opened.tensors, dtype)
    session = Session(preset, without_dropout(model.eval()), device, trained=True,
                      tokenizer=opened.tokenizer, labels=opened.labels,
                      preprocessing=opened.preprocessing,
                      limit_note=opened.limit_note)  # (a language model's)
    session.folder = Path(path)  # what else it holds: a language model's chat template
    session.dtypes = (stored, dtype)
    return session


def load_preset(name: str, device: str = "cpu", weights: str | Path | None = None,
                untrained: bool = False, ready: Any = None, keep: str | None = None
                ) -> Session:
    """The preset's model with its shipped weights, or `weights`; an opened model from its
    own folder or file. A shipped file that is missing or unreadable is a CheckpointError
    with its path and the fix, never a silently untrained model: random (seeded) weights
    only when asked for with `untrained`, to show what training changes. `ready`: an
    opened model's Session already built, or its folder already read (`read_model`);
    `keep`: the dtype an opened folder's weights are kept in (`compute_dtype`)."""
    preset = get_preset(name)
    if preset.source and weights is None:
        # an opened model is always its own checkpoint: `untrained` is for the presets
        if isinstance(ready, Session):
            session = ready
            session.to(device)
        else:
            session = load_folder(preset.source, device, preset.source_arch, ready, keep)
        session.preset = preset  # the name it was opened under
        return session
    if untrained:
        if weights is not None:
            raise InputError("untrained means random weights: it does not go with a weights "
                             "file")
        torch.manual_seed(0)
        return Session(preset, without_dropout(build_model(preset).eval()), device, False)
    path = Path(weights) if weights else preset.weights
    if weights:
        tensors, meta = read_checkpoint(path)
    else:
        try:
            tensors, meta = read_checkpoint(path)
        except CheckpointError as error:
            missing = not path.is_file()
            raise CheckpointError(resources.missing_weights(path, name) +
                                  ("" if missing else f" ({error})")) from None
    model = build_model(preset, meta.get("config", preset.config), path.name, tensors)
    return Session(preset, without_dropout(model.eval()), device, trained=True)


class Session:
    """One loaded model and the task around it: input -> Trace.

    What the model reads and writes with comes with it: `tokenizer` (an opened model's,
    or a word-level preset's; else the task's vocabularies), `labels` (image classes),
    `preprocessing` (an opened image model's processor settings), `limit_note` (why an
    opened language model takes fewer tokens than its positions). `generate`: how many
    greedy tokens a causal language model adds after the input (set per request)."""

    def __init__(self, preset: Preset, model: torch.nn.Module, device: str, trained: bool,
                 *, tokenizer=None, labels: list[str] | None = None, preprocessing=None,
                 limit_note: str = "") -> None:
        self.preset, self.model, self.trained = preset, model, trained
        self.tokenizer = tokenizer if tokenizer is not None else preset.tokenizer()
        self.labels = DIGIT_LABELS if labels is None else labels
        self.preprocessing, self.limit_note = preprocessing, limit_note
        self.generate = 0
        # told how far a run is (models/runs/lm.py): progress(stage, done, total); it may
        # raise to stop the run
        self.progress = None
        self.chat = False  # a causal language model: the input as a turn of its chat template
        self.folder: Path | None = None  # an opened model's folder (or file)
        self._description: str | None = None
        self.interventions: dict = {}  # what set_interventions switched on (in every trace)
        self.device = torch.device(device)
        self.model.to(self.device)
        self.task = preset.task_info
        if self.task.vocabularies is not None:  # a seq2seq preset: its own words or letters
            self.src_vocab, self.tgt_vocab = self.task.vocabularies()
        self.last_output: list[int] | None = None  # a seq2seq run's, to seed the next
        # (the weights' stored dtype, the one computed in): an opened folder's, else float32
        self.dtypes: tuple[torch.dtype, torch.dtype] = (torch.float32, torch.float32)

    @property
    def arch(self) -> str:
        return self.preset.arch

    def to(self, device: str) -> None:
        self.device = torch.device(device)
        self.model.to(self.device)

    def set_interventions(self, heads_off=(), no_mask: bool = False, no_bias: bool = False,
                          no_position: bool = False, bottleneck: bool = False,
                          heads_mean=(), mlps_off=()) -> None:
        """Live edits of the model: zero heads' outputs (`heads_off`), replace heads' outputs
        by their mean over the input's positions (`heads_mean`), zero MLPs' writes
        (`mlps_off`, residual points), drop the attention mask (decoder causal mask, Swin
        region mask), the relative position bias, the positional encoding; `bottleneck`: the
        decoder gets one context vector instead of attention (seq2seq)."""
        if bottleneck and not self.model.decodes:
            raise InputError("the bottleneck is a seq2seq intervention: this model has no "
                             "decoder")
        gated, mlps = self.model.gated_sites(), self.model.mlp_points()
        for site, head in [*heads_off, *heads_mean]:
            module = gated.get(site)
            if module is None or not 0 <= head < module.num_heads:
                raise InputError("no head {head} at '{site}'", head=head, site=site)
        for point in mlps_off:
            if point not in mlps:
                raise InputError("no MLP at '{point}'", point=point)
        if self.model.decodes:
            self.model.bottleneck = bool(bottleneck)
        self.interventions = {k: v for k, v in dict(
            heads_off=[list(h) for h in heads_off], no_mask=no_mask, no_bias=no_bias,
            no_position=no_position, bottleneck=bottleneck,
            heads_mean=[list(h) for h in heads_mean], mlps_off=list(mlps_off)).items() if v}
        for module in gated.values():
            module.head_gate = module.head_mean = None
        for point, module in mlps.items():
            module.switched_off = point in mlps_off
        self.model.set_switches(use_mask=not no_mask, use_bias=not no_bias,
                                use_position=not no_position)
        for site, head in heads_off:
            module = gated[site]
            if module.head_gate is None:
                module.head_gate = torch.ones(module.num_heads, device=self.device)
            module.head_gate[head] = 0.0
        for site, head in heads_mean:
            module = gated[site]
            if module.head_mean is None:
                module.head_mean = torch.zeros(module.num_heads, dtype=torch.bool,
                                               device=self.device)
            module.head_mean[head] = True

    def run(self, user_input: Any, trace: bool = True, residual: bool = True) -> Trace:
        """Run the model; with trace=False the fused path runs and only predictions are kept.
        `residual=False` leaves the residual stream out of the trace (what the logit lens and
        attribution read: `P/resid`, `P/write`, `S/o_weight`); the attention records stay."""
        with torch.inference_mode(), nullcontext() if residual else without_stream():
            result = RUNS[self.model.form](self, user_input, trace)
        result.meta.update(self.describe())
        result.materialize()  # a small model's N×N matrices now, here in the worker
        return result

    def describe(self) -> dict:
        """The `meta` fields that depend on the model only: preset, arch, config, sites
        (worked out once: the model's structure does not change; device and state may)."""
        if self._description is None:
            meta: dict[str, Any] = {
                "preset": self.preset.name, "arch": self.arch, "task": self.preset.task,
                "prediction_form": self.task.prediction, "config": self.model.cfg.to_dict(),
                "trained": self.trained, "device": str(self.device)}
            if self.preset.vocabulary:  # the word-level model's words, in id order
                meta["vocabulary"] = self.tokenizer.vocab.words
                meta["vocabulary_file"] = self.preset.vocabulary
            meta.update(self.model.extra_meta())
            meta["sites"] = self.model.describe_sites()
            self._description = json.dumps(meta)
        meta = json.loads(self._description)  # a fresh copy: callers may add to it
        meta.update(trained=self.trained, device=str(self.device),
                    interventions=self.interventions, **self.dtype_meta())
        return meta

    def recast(self, keep: str) -> bool:
        """Compute in what `keep` asks ("float32", "bfloat16", "float16"), by the rule of
        `compute_dtype`: weights stored in that dtype go back to it, others stay in float32.
        Whether the model changed; a device that cannot compute in it is a CheckpointError,
        and the model stays as it was. The weights are cast, not read again: bf16 and fp16
        numbers go to float32 and back exactly."""
        stored, current = self.dtypes
        wanted = DTYPES[keep] if keep in ("bfloat16", "float16") and DTYPES[keep] == stored \
            else torch.float32
        if wanted == current:
            return False
        why = dtype_refusal(wanted, str(self.device)) if wanted != torch.float32 else ""
        if why:
            raise CheckpointError("the device {device} cannot compute in {dtype} ({error})",
                                  device=str(self.device), dtype=keep, error=why)
        cast_shared(self.model, wanted)
        self.model.restore_buffers()  # (what is not a weight: RoPE's frequencies, in float32)
        self.model.to(self.device)  # (the buffers just made)
        self.dtypes = (stored, wanted)
        return True

    def dtype_meta(self) -> dict:
        """meta["dtype"]: what the model computes in ("float32", "bfloat16", "float16");
        meta["weights_dtype"]: what its weights were stored in (records are float32). Both
        absent where both are float32 (every preset: their meta stays as it was)."""
        stored, computed = (str(d).replace("torch.", "") for d in self.dtypes)
        if stored == computed == "float32":
            return {}
        return {"dtype": computed, "weights_dtype": stored}

    def dtype_note(self) -> str:
        """For the status bar: "bfloat16 weights computed in float32" ('' when the same)."""
        stored, computed = self.dtypes
        if stored == computed:
            return ""
        return f"{str(stored).replace('torch.', '')} weights computed in " \
               f"{str(computed).replace('torch.', '')}"
