"""Session: one loaded model and its task, user input -> Trace; and the loaders.

`load_preset(name)` gives the Session of a named preset (its shipped weights, or a file
of the user's), `load_folder(path)` the Session of a model folder from the hub;
`open_model(path)` checks a folder and adds it to PRESETS for the app to switch to.
"""
from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

import torch

from . import resources, text_lm
from . import trace as tracing
from .checkpoints.common import check_fit, make_config
from .checkpoints.ours import read_checkpoint
from .decoder import Decoder, DecoderConfig
from .encoder import Encoder, EncoderConfig
from .errors import CheckpointError, InputError
from .presets import PRESETS, Preset, get_preset
from .swin import Swin, SwinConfig
from .tasks import induction
from .tasks.digits import prepare_digit
from .tasks.task import get_task
from .trace import Trace
from .transformer import BOS, EOS, Transformer, TransformerConfig
from .vit import ViT, ViTConfig

IGNORED_QUIETLY = "'.,!?;:-\"()"  # punctuation the word splitter drops as a reader would
DIGIT_LABELS = [str(d) for d in range(10)]

MODELS = {"transformer": (Transformer, TransformerConfig), "vit": (ViT, ViTConfig),
          "swin": (Swin, SwinConfig), "decoder": (Decoder, DecoderConfig),
          "encoder": (Encoder, EncoderConfig)}


def smallest_input(arch: str, cfg: Any) -> tuple[torch.Tensor, ...]:
    """A smallest input of the right shape: source ids (EOS) and target ids (BOS), or an
    empty image."""
    if arch == "transformer":
        return torch.tensor([[EOS]]), torch.tensor([[BOS]])
    if arch in text_lm.TEXT_ARCHS:
        return (torch.tensor([[0]]),)
    return (torch.zeros(1, cfg.in_chans, cfg.img_size, cfg.img_size),)


def config_values(preset: Preset, config):
    """A config's values with what the task decides (text presets: vocabulary sizes)."""
    if preset.task_info.vocabularies is not None and isinstance(config, dict):
        src, tgt = preset.task_info.vocabularies()
        return {"src_vocab": len(src), "tgt_vocab": len(tgt), **config}
    if preset.vocabulary and isinstance(config, dict):
        return {"vocab_size": len(induction.vocabulary()), **config}
    return dict(config) if isinstance(config, dict) else config


def build_model(preset: Preset, config: dict | None = None, source: str = "the preset",
                tensors: dict[str, torch.Tensor] | None = None) -> torch.nn.Module:
    """The preset's model; `config` (from a weights file) is checked before anything is
    built, and a config that builds no model is a CheckpointError, not a traceback. With
    `tensors`, they must fit the model before any memory is spent on it (names, shapes,
    finite values: checked once, here), and the model returned holds them."""
    values = config_values(preset, preset.config if config is None else config)
    model_class, config_class = MODELS[preset.arch]
    cfg = make_config(config_class, values, source)
    if tensors is not None:
        check_layers(preset.arch, cfg, tensors, source)
    try:
        with torch.device("meta"):  # no memory yet: names and shapes only
            shapes = model_class(cfg)
    except Exception as error:
        raise CheckpointError(f"{source}: its config builds no {preset.arch} model "
                              f"({type(error).__name__}: {error})") from None
    if tensors is not None:
        check_fit(shapes, tensors, f"in {source}")
    if tensors is not None and hasattr(shapes, "restore_buffers"):
        # a language model's weights become its parameters as they are: no random copy
        # beside them (~500 MB for GPT-2 small) while it loads
        shapes.load_state_dict({k: v.float() if v.is_floating_point() else v
                                for k, v in tensors.items()}, assign=True)
        model = shapes.eval()
        model.restore_buffers()
    else:
        model = model_class(cfg).eval()
        if tensors is not None:
            model.load_state_dict(tensors)
    try:
        with torch.inference_mode():  # the smallest forward pass checks every shape
            model(*smallest_input(preset.arch, cfg))
    except Exception as error:  # e.g. heads that do not divide the width
        raise CheckpointError(f"{source}: its config builds no working {preset.arch} model "
                              f"({type(error).__name__}: {error})") from None
    return model


def check_layers(arch: str, cfg: Any, tensors: dict[str, torch.Tensor], source: str) -> None:
    """The layers a config asks for are the layers the weights hold, checked before any model
    is built: even on the meta device 100,000 of them took minutes and gigabytes."""
    def present(pattern: str) -> int:
        return len({m.group(1) for k in tensors if (m := re.match(pattern, k))})

    if arch == "swin":
        wanted = {"depths": list(cfg.depths)}
        held = {"depths": [present(rf"layers\.{s}\.blocks\.(\d+)\.")
                           for s in range(present(r"layers\.(\d+)\."))]}
    elif arch == "vit":
        wanted, held = {"depth": cfg.depth}, {"depth": present(r"blocks\.(\d+)\.")}
    elif arch in ("decoder", "encoder"):  # the language models: layers.{i}.…
        wanted = {"num_layers": cfg.num_layers}
        held = {"num_layers": present(r"layers\.(\d+)\.")}
    else:
        wanted = {"enc_layers": cfg.enc_layers, "dec_layers": cfg.dec_layers}
        held = {"enc_layers": present(r"encoder\.layers\.(\d+)\."),
                "dec_layers": present(r"decoder\.layers\.(\d+)\.")}
    for key, value in wanted.items():
        if value != held[key]:
            names = sorted(tensors)
            raise CheckpointError(
                f"weights in {source} do not fit the model: its config asks for {key} {value}, "
                f"the weights hold {held[key]} (they hold {', '.join(names[:4])}"
                f"{' …' if len(names) > 4 else ''})")


def site_names(name: str) -> list[str]:
    """A preset's attention sites, from a model on the meta device (no memory, no weights):
    to check a session file's site before anything runs."""
    return list(site_heads(name))


def site_heads(name: str) -> dict[str, int]:
    """A preset's attention sites and their numbers of heads (a model on the meta device)."""
    preset = get_preset(name)
    model_class, config_class = MODELS[preset.arch]
    with torch.device("meta"):
        model = model_class(config_class(**config_values(preset, preset.config)))
    return {name: module.num_heads for name, module in model.named_modules()
            if hasattr(module, "head_gate")}


def load_folder(path: str | Path, device: str = "cpu", arch: str | None = None,
                opened=None) -> Session:
    """A model folder from the hub (transformers ViT/DeiT/Swin/Marian, timm ViT/DeiT/Swin),
    or a bare timm weights file with its variant in `arch` or its name: its own config,
    labels and preprocessing; a CheckpointError says why one cannot be opened. `opened`: the
    folder already read (`hub.read_model`)."""
    from .checkpoints.registry import read_model

    opened = opened or read_model(path, arch)
    preset = Preset(f"opened:{opened.name}", opened.arch, opened_task(opened),
                    f"{opened.family} from {opened.name}", "", opened.config)
    model = build_model(preset, opened.config, opened.name, opened.tensors)
    session = Session(preset, without_dropout(model.eval()), device, trained=True)
    session.labels, session.preprocessing = opened.labels, opened.preprocessing
    session.tokenizer = opened.tokenizer
    session.limit_note = getattr(opened, "limit_note", "")
    return session


def opened_task(opened) -> str:
    """The task of a folder read (`hub.read_model`)."""
    if getattr(opened, "task", None):  # the registry says it (models/checkpoints)
        return opened.task
    return "marian-translation" if opened.tokenizer is not None else "image-classification"


def open_model(path: str | Path, arch: str | None = None) -> Preset:
    """Check a model folder or timm file (CheckpointError says why it cannot be opened: it
    is read and its model built, so one that reads but cannot build is refused too) and
    add it to PRESETS, under the folder's name, for the app to switch to like a preset."""
    return open_model_ready(path, arch)[0]


def open_model_ready(path: str | Path, arch: str | None = None) -> tuple[Preset, Session]:
    """`open_model`, with the Session it built: handed to `load_preset(…, ready=)` (the
    app's request carries it), the first load does not read the files again."""
    from .checkpoints.registry import read_model

    opened = read_model(Path(path).resolve(), arch)
    session = build_opened(path, arch, opened)
    return register_opened(path, arch, opened), session


def build_opened(path: str | Path, arch: str | None, opened) -> Session:
    """The model of a folder already read, built and loaded on CPU (any thread): every check
    of a build (heads that divide, finite weights, a smallest forward pass) before the
    folder is offered anywhere; CheckpointError says why it cannot be."""
    return load_folder(Path(path).resolve(), "cpu", arch, opened)


def register_opened(path: str | Path, arch: str | None, opened) -> Preset:
    """Add a model folder already read (`hub.read_model`, which may run on any thread) to
    PRESETS; `load_preset(name, ready=…)` with the Session built (`build_opened`) or the
    folder read loads it without reading the files again."""
    path = Path(path).resolve()
    name, n = opened.name, 2
    while name in PRESETS and PRESETS[name].source != str(path):
        name, n = f"{opened.name} ({n})", n + 1
    task = opened_task(opened)
    preset = Preset(name, opened.arch, task, f"{opened.family} {opened.arch} from {path}",
                    get_task(task).first_input, opened.config, source=str(path),
                    source_arch=arch)
    PRESETS[name] = preset
    return preset


def load_preset(name: str, device: str = "cpu", weights: str | Path | None = None,
                untrained: bool = False, ready: Any = None) -> Session:
    """The preset's model with its shipped weights, or `weights`; an opened model from its
    own folder or file. A shipped file that is missing or unreadable is a CheckpointError
    with its path and the fix, never a silently untrained model: random (seeded) weights
    only when asked for with `untrained`, to show what training changes. `ready`: an
    opened model's Session already built, or its folder already read (`hub.read_model`)."""
    preset = get_preset(name)
    if preset.source and weights is None:
        # an opened model is always its own checkpoint: `untrained` is for the presets
        if isinstance(ready, Session):
            session = ready
            session.to(device)
        else:
            session = load_folder(preset.source, device, preset.source_arch, ready)
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


def output_limit(source_length: int) -> int:
    """The most tokens a translation may have: twice the source (with its end token), plus
    ten."""
    return 2 * source_length + 10


def without_dropout(model: torch.nn.Module) -> torch.nn.Module:
    """For inference only: dropout modules (identities in eval mode) replaced by nothing
    at all, which saves a module call each (a run of the small text models makes ~60)."""
    for module in list(model.modules()):
        for name, child in list(module.named_children()):
            if isinstance(child, torch.nn.Dropout):
                setattr(module, name, torch.nn.Identity())
    return model


class Session:
    """One loaded model and the task around it: input -> Trace."""

    def __init__(self, preset: Preset, model: torch.nn.Module, device: str, trained: bool):
        self.preset, self.model, self.trained = preset, model, trained
        self._description: str | None = None
        self.interventions: dict = {}  # what set_interventions switched on (in every trace)
        self.labels = DIGIT_LABELS  # image classes (an opened checkpoint has its own)
        self.tokenizer = None  # an opened translation model's sentencepiece tokenizer
        self.preprocessing = None  # an opened checkpoint's processor settings
        self.generate = 0  # a causal language model: greedy tokens to add after the input
        self.limit_note = ""  # why an opened language model takes fewer tokens than usual
        if preset.vocabulary:  # a word-level language model: its words, space-separated
            self.tokenizer = induction.WordTokenizer()
        self.device = torch.device(device)
        self.model.to(self.device)
        self.task = preset.task_info
        if self.task.vocabularies is not None:  # a seq2seq preset: its own words or letters
            self.src_vocab, self.tgt_vocab = self.task.vocabularies()
        self._last_output: list[int] | None = None  # a seq2seq model's, to seed the next

    @property
    def arch(self) -> str:
        return self.preset.arch

    def to(self, device: str) -> None:
        self.device = torch.device(device)
        self.model.to(self.device)

    def set_interventions(self, heads_off=(), no_mask: bool = False, no_bias: bool = False,
                          no_position: bool = False, bottleneck: bool = False) -> None:
        """Live edits of the model: zero heads' outputs, drop the attention mask (decoder
        causal mask, Swin region mask), the relative position bias, the positional encoding;
        `bottleneck`: the decoder gets one context vector instead of attention (seq2seq)."""
        if bottleneck and not hasattr(self.model, "bottleneck"):
            raise InputError("the bottleneck is a seq2seq intervention: this model has no "
                             "decoder")
        if hasattr(self.model, "bottleneck"):
            self.model.bottleneck = bool(bottleneck)
        self.interventions = {k: v for k, v in dict(
            heads_off=[list(h) for h in heads_off], no_mask=no_mask, no_bias=no_bias,
            no_position=no_position, bottleneck=bottleneck).items() if v}
        modules = dict(self.model.named_modules())
        for module in modules.values():
            if hasattr(module, "head_gate"):
                module.head_gate = None
            for flag, value in (("use_mask", not no_mask), ("use_bias", not no_bias),
                                ("use_position", not no_position)):
                if hasattr(module, flag):
                    setattr(module, flag, value)
        for site, head in heads_off:
            module = modules.get(site)
            if module is None or not 0 <= head < module.num_heads:
                raise InputError("no head {head} at '{site}'", head=head, site=site)
            if module.head_gate is None:
                module.head_gate = torch.ones(module.num_heads, device=self.device)
            module.head_gate[head] = 0.0

    def run(self, user_input: Any, trace: bool = True) -> Trace:
        """Run the model; with trace=False the fused path runs and only predictions are kept."""
        with torch.inference_mode():
            if self.arch in text_lm.TEXT_ARCHS:
                result = text_lm.run(self, str(user_input), trace)
            elif self.arch == "transformer":
                result = self._run_text(str(user_input), trace)
            else:
                result = self._run_image(user_input, trace)
        result.meta.update(self.describe())
        result.materialize()  # a small model's N×N matrices now, here in the worker
        return result

    # -- text ------------------------------------------------------------------
    def encode_text(self, text: str) -> tuple[list[str], list[str]]:
        """(tokens, unknown words); InputError when empty or too long."""
        if self.tokenizer is not None:
            tokens, unknown = self.tokenizer.pieces(text)
        else:
            tokens = self.task.split(text)
        if not tokens:
            raise InputError(self.task.empty_message)
        limit = self.model.cfg.max_len - 1
        if len(tokens) > limit:
            raise InputError("the input has {n} tokens; this model takes at most {limit}",
                             n=len(tokens), limit=limit)
        if self.tokenizer is None:
            unknown = [t for t in tokens if t not in self.src_vocab.index]
        return tokens, unknown

    def _words(self, ids: list[int]) -> list[str]:
        return self.tokenizer.decode_pieces(ids) if self.tokenizer else self.tgt_vocab.decode(ids)

    def _run_text(self, text: str, trace: bool) -> Trace:
        tokens, unknown = self.encode_text(text)
        cfg = self.model.cfg
        ids = self.tokenizer.ids(tokens) if self.tokenizer else self.src_vocab.encode(tokens)
        src = torch.tensor([ids + [cfg.eos_id]], device=self.device)
        result = Trace()
        with tracing.recording(result) if trace else tracing.paused():
            encoded = self.model.encode(src)  # once, recorded, for decoding and the trace
            # At most 2 × the source + 10 tokens: every preset's outputs fit with room to spare,
            # and a model that never ends (an untrained one, a real one on odd input) costs a
            # short trace, not the 512 positions of an OPUS-MT model (~400 MB of records).
            limit = min(cfg.max_len - 1, output_limit(src.shape[1]))
            with tracing.paused():
                # the last output seeds parallel decoding: typing changes it only a little
                output = self.model.greedy(src, max_new=limit, guess=self._last_output,
                                           encoded=encoded)[0].tolist()
            self._last_output = output
            if cfg.eos_id in output:
                output = output[: output.index(cfg.eos_id) + 1]
            # One teacher-forced pass over [BOS] + output: because of the causal mask, row t
            # of every decoder matrix is exactly the decoder as it was when it chose output[t].
            decoder_in = torch.tensor([[cfg.bos_id] + output[:-1]], device=self.device)
            logits = self.model.decode(decoder_in, *encoded)[0]  # (T, V)
        probs = logits.float().softmax(-1)
        top = probs.topk(min(5, probs.shape[-1]), dim=-1)
        out_words = self._words(output)
        notice = ""
        if not self.model.decoder.use_mask:
            # Without the causal mask, row t of the teacher-forced pass also sees the words
            # after t, so its choice is no longer the greedy one: show each row's own choice.
            out_words = self._words(probs.argmax(-1).tolist())
            notice = ("no causal mask: each decoder row also sees the words after it, so it "
                      "may copy the next word; decoding word by word is unchanged")
        if not notice and cfg.eos_id not in output and len(output) >= limit:
            notice = (f"the output was cut after {limit} tokens (twice the input's, plus 10): "
                      f"the model had not ended it")
        if self.model.bottleneck:
            notice = ("seq2seq bottleneck: every decoding step sees one context vector (the "
                      "mean of the encoder states), so cross-attention is uniform")
        result.add("prediction", "probs", probs)  # (T, V): every decoding step
        # the ids exactly as the model saw and chose them, to check against another library
        result.add("input", "ids", src[0])  # source ids, end token included
        result.add("input", "decoder_ids", decoder_in[0])  # start token + output[:-1]
        result.add("prediction", "ids", torch.tensor(output))  # greedy output, to the end token
        prediction = self.tokenizer.text(output) if self.tokenizer else self.task.joiner.join(
            w for w in out_words if w != "<eos>")
        if self.task.by_word and self.tokenizer is None:
            # what the word splitter dropped (emoji, other scripts) is said, not lost silently
            ignored = "".join(dict.fromkeys(
                c for c in text if not c.isspace() and not (c.isascii() and (
                    c.isalnum() or c in IGNORED_QUIETLY))))
            if ignored:
                notice = " · ".join(n for n in (notice, f"ignored: {ignored} (this model reads "
                                                         f"words of letters and digits)") if n)
        if self.task.reference is not None:
            # the grammar's own rule-based translation, or why the sentence is outside it
            reference = self.task.reference(tokens)
            # its words as the user spelled them ('I', not the model's 'i')
            typed = {w.lower(): w for w in re.findall(r"[A-Za-z0-9']+", text)}
            if reference.outside:
                for word, spelled in typed.items():
                    if spelled != word:
                        reference = dataclasses.replace(reference, outside=reference.outside
                                                        .replace(f"'{word}'", f"'{spelled}'"))
            unknown = [typed.get(w, w) for w in unknown]
            result.meta.update(
                reference=" ".join(reference.translation) if reference.translation else None,
                reference_tokens=reference.translation, outside=reference.outside,
                matches_reference=(None if reference.translation is None else
                                   prediction.split() == reference.translation))
        result.meta.update(
            input=text,
            source_tokens=tokens + [self._words([cfg.eos_id])[0]],
            target_tokens=self._words(decoder_in[0].tolist()),
            output_tokens=out_words,
            unknown=unknown,
            notice=notice,
            prediction=prediction,
            top5=[[[w, float(p)] for p, w in zip(ps.tolist(), self._words(ids.tolist()))]
                  for ps, ids in zip(top.values, top.indices)],
        )
        return result

    # -- images ----------------------------------------------------------------
    def _run_image(self, source: Any, trace: bool) -> Trace:
        rgb = None
        if self.preprocessing is None:
            image, notes = prepare_digit(source)
            x = torch.from_numpy(image)[None, None].to(self.device)
        else:
            from .checkpoints.images import prepare_photo

            pixels, notes, rgb = prepare_photo(source, self.preprocessing, self.model.cfg)
            image = rgb.mean(-1)  # panels show the picture, not the normalised pixels
            x = torch.from_numpy(pixels)[None].to(self.device)
        result = Trace()
        with tracing.recording(result) if trace else tracing.paused():
            logits = self.model(x)[0]
        probs = logits.float().softmax(-1)
        result.add("prediction", "probs", probs)
        result.add("input", "image", image)  # (H, W) in [0, 1], traced or not
        if rgb is not None:
            result.add("input", "rgb", rgb)  # (H, W, 3): the colours, for the pictures
        best = int(probs.argmax())
        result.meta.update(
            input=str(source) if isinstance(source, (str, Path)) else "<image>",
            image=notes, labels=self.labels, prediction=self.labels[best],
            confidence=float(probs[best]), probs=[float(p) for p in probs],
        )
        return result

    # -- description -----------------------------------------------------------
    def describe(self) -> dict:
        """The `meta` fields that depend on the model only: preset, arch, config, sites
        (worked out once: the model's structure does not change; device and state may)."""
        if self._description is None:
            self._description = self._describe_structure()
        meta = json.loads(self._description)  # a fresh copy: callers may add to it
        meta.update(trained=self.trained, device=str(self.device),
                    interventions=self.interventions)
        return meta

    def _describe_structure(self) -> str:
        cfg = self.model.cfg
        meta: dict[str, Any] = {"preset": self.preset.name, "arch": self.arch,
                                "task": self.preset.task,
                                "prediction_form": self.task.prediction, "config": cfg.to_dict(),
                                "trained": self.trained, "device": str(self.device)}
        if self.preset.vocabulary:  # the word-level model's words, in id order
            meta["vocabulary"] = self.tokenizer.vocab.words
            meta["vocabulary_file"] = self.preset.vocabulary
        sites: dict[str, dict] = {}
        if hasattr(self.model, "sites"):  # a model that describes its own sites
            sites = self.model.sites()
        elif self.arch == "transformer":
            for name, m in self.model.named_modules():
                if hasattr(m, "head_gate"):
                    kind = ("cross" if "cross" in name else
                            "encoder_self" if name.startswith("encoder") else "decoder_self")
                    sites[name] = {"kind": kind, "heads": m.num_heads,
                                   "head_dim": cfg.d_model // m.num_heads}
        elif self.arch == "vit":
            g = cfg.grid
            meta["patch_grid"] = [g, g]
            meta["tokens"] = ["CLS"] + (["DIST"] if cfg.distilled else []) + [
                str(i) for i in range(g * g)]
            meta["prefix_tokens"] = cfg.prefix_tokens
            for i in range(len(self.model.blocks)):
                sites[f"blocks.{i}.attn"] = {"kind": "self", "heads": cfg.num_heads,
                                             "head_dim": cfg.embed_dim // cfg.num_heads,
                                             "cls_token": True, "grid": [g, g]}
        else:
            g = cfg.stage_resolution(0)
            meta["patch_grid"] = [g, g]
            for s, stage in enumerate(self.model.layers):
                for b, block in enumerate(stage.blocks):
                    res = block.resolution
                    sites[f"layers.{s}.blocks.{b}.attn"] = {
                        "kind": "window", "stage": s, "heads": block.attn.num_heads,
                        "head_dim": block.norm1.normalized_shape[0] // block.attn.num_heads,
                        "window_size": block.window, "shift": block.shift,
                        "resolution": [res, res],
                        "num_windows": (res // block.window) ** 2,
                    }
        meta["sites"] = sites
        return json.dumps(meta)


