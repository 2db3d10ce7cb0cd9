"""Named presets: an architecture, a config, a task and a shipped weights file.

`models.session.load_preset(name)` gives the `Session` that turns user input into a Trace.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

import torch

from . import resources
from .architectures import architecture
from .catalog import CATALOG
from .errors import InputError
from .tasks import induction
from .tasks.task import Task, get_task


@dataclass(frozen=True)
class Preset:
    name: str
    arch: str  # transformer | vit | swin | decoder | encoder
    task: str  # translation | reverse | digits; an opened model's: image-classification,
    # marian-translation, causal-lm, masked-lm
    description: str
    default_input: str
    config: dict = field(default_factory=dict)
    source: str | None = None  # an opened model: its folder or file (then `source_arch`)
    source_arch: str | None = None
    vocabulary: str | None = None  # a word-level language model's word list (shipped file)
    sample_file: str = ""  # its own sample inputs, where its task's would not do

    @property
    def task_info(self) -> Task:
        """What its task decides: samples, splitting and joining, the prediction's form."""
        return get_task(self.task)

    @property
    def samples(self) -> list[str]:
        """Its sample inputs, one a line (text models; none for an image model)."""
        return dataclasses.replace(self.task_info, sample_file=self.sample_file).samples() \
            if self.sample_file else self.task_info.samples()

    @property
    def input_kind(self) -> str:
        """What the user gives the model: "text" or "image" (its model class says: the
        input widget the app shows before a trace)."""
        return architecture(self.arch)[0].input_kind

    def config_values(self, config=None):
        """A config's values (the preset's own by default) with what the task decides: a
        text preset's vocabulary sizes."""
        config = self.config if config is None else config
        if self.task_info.vocabularies is not None and isinstance(config, dict):
            src, tgt = self.task_info.vocabularies()
            return {"src_vocab": len(src), "tgt_vocab": len(tgt), **config}
        if self.vocabulary and isinstance(config, dict):
            return {"vocab_size": len(induction.vocabulary()), **config}
        return dict(config) if isinstance(config, dict) else config

    def tokenizer(self):
        """A word-level language model's tokenizer (its words, space-separated), else None."""
        return induction.WordTokenizer() if self.vocabulary else None

    @property
    def weights(self) -> Path:
        """The shipped weights file (looked up where this copy is installed)."""
        return resources.resource_path(f"weights/{self.name}.safetensors")


PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset("translate", "transformer", "translation",
               "English -> Toy French: reordering, agreement, plurals, 'and', ne…pas",
               "the small cat sees the big dog",
               dict(d_model=64, num_heads=4, enc_layers=2, dec_layers=2, d_ff=256, max_len=48,
                    dropout=0.0)),
        Preset("reverse", "transformer", "reverse",
               "reverse a string of letters and digits, character by character",
               "transformer",
               dict(d_model=64, num_heads=4, enc_layers=2, dec_layers=2, d_ff=256, max_len=32)),
        Preset("vit-digits", "vit", "digits",
               "ViT on handwritten digits: 32×32 image, 4×4 patches (8×8 grid), 4 blocks",
               "resources/samples/digits/digit_3.png",
               dict(img_size=32, patch_size=4, embed_dim=64, depth=4, num_heads=4)),
        Preset("swin-digits", "swin", "digits",
               "Swin on handwritten digits: 16×16 tokens, 4×4 windows, 3 stages",
               "resources/samples/digits/digit_3.png",
               dict(img_size=32, patch_size=2, embed_dim=32, depths=[2, 2, 2],
                    num_heads=[2, 4, 8], window_size=4)),
        Preset("induction", "decoder", "causal-lm",
               "GPT-style decoder, 2 layers × 2 heads, attention only: copies a repeated "
               "stretch of random words (a previous-token head and an induction head)",
               induction.SAMPLE, induction.MODEL_CONFIG,
               vocabulary=f"resources/data/{induction.WORDS_FILE.name}",
               sample_file="induction.txt"),
    )
}
DEFAULT_PRESET = "translate"


def resolve_device(name: str) -> str:
    """cpu | cuda | mps | auto -> a usable torch device name, or InputError saying why not."""
    name = "auto" if name is None else name.strip().lower()
    if name == "auto":
        if torch.cuda.is_available():
            return "cuda"
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return "mps"
        return "cpu"
    if name == "cpu":
        return "cpu"
    if name == "cuda":
        if not torch.cuda.is_available():
            raise InputError(
                "CUDA is not available here (no NVIDIA GPU or a CPU-only torch build)")
        return "cuda"
    if name == "mps":
        if not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
            raise InputError("MPS is not available here (it needs Apple silicon and macOS)")
        return "mps"
    if not name:
        raise InputError("no device named: choose cpu, cuda, mps or auto")
    raise InputError("unknown device '{name}' (choose cpu, cuda, mps or auto)", name=name)


def preset_names() -> list[str]:
    """The shipped presets' names, then the opened models' (models/catalog.py)."""
    return list(PRESETS) + [n for n in CATALOG if n not in PRESETS]


def find(name: str) -> Preset | None:
    """A shipped preset or an opened model by its name; None when there is none."""
    return PRESETS.get(name) or CATALOG.get(name)


def get_preset(name: str) -> Preset:
    """A shipped preset or an opened model; InputError naming every one when unknown."""
    found = find(name)
    if found is None:
        raise InputError("unknown preset '{name}' (choose from: {names})", name=name,
                         names=", ".join(preset_names()))
    return found
