"""Which reader opens which model folder: one table, `FAMILIES`, from config.json's
`model_type` to its reader (`Family`), from which `read_model` dispatches and every list of
the supported families is made. A timm folder (config.json with `architecture`) or a bare
timm weights file goes to `TIMM`.

A new family is one reader module and one entry: `register("my-type", Family(...))`
(tests/models/checkpoints/test_toy_family.py adds a decoder-only family that way).
"""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..errors import CheckpointError, message
from . import bert, gemma, gpt2, llama, marian, timm, vision
from .common import HubModel, folder_json, is_model_folder
from .tokenizer import PLAIN, TextTokenizer, TokenizerStyle, read_tokenizer


@dataclass(frozen=True)
class Family:
    """A format family: `read(folder, config)` -> HubModel (config: config.json's object;
    CheckpointError says why the folder cannot be opened); `task`, the task the app runs
    its models with (models/tasks/); `title`, its name in words for people ("GPT-2");
    `tokenizer`, what a language model's tokenizer files may be (models/checkpoints/
    tokenizer.py), None for the others."""
    read: Callable[[Path, dict], HubModel]
    task: str
    title: str
    tokenizer: TokenizerStyle | None = None


FAMILIES: dict[str, Family] = {  # config.json's model_type -> its family
    "vit": Family(vision.read_vit_folder, "image-classification", "ViT"),
    "deit": Family(vision.read_vit_folder, "image-classification", "DeiT"),
    "swin": Family(vision.read_swin_folder, "image-classification", "Swin"),
    "marian": Family(marian.read_marian_folder, "marian-translation", "Marian"),
    "gpt2": Family(gpt2.read_gpt2_folder, "causal-lm", "GPT-2", PLAIN),
    "llama": Family(llama.reader(llama.LLAMA), "causal-lm", "Llama", PLAIN),
    "mistral": Family(llama.reader(llama.MISTRAL), "causal-lm", "Mistral", PLAIN),
    "qwen2": Family(llama.reader(llama.QWEN2), "causal-lm", "Qwen2", PLAIN),
    "qwen3": Family(llama.reader(llama.QWEN3), "causal-lm", "Qwen3", PLAIN),
    "phi3": Family(llama.reader(llama.PHI3), "causal-lm", "Phi-3", PLAIN),
    "gemma3_text": Family(gemma.read_gemma3_folder, "causal-lm", "Gemma 3", PLAIN),
    "bert": Family(bert.read_bert_folder, "masked-lm", "BERT", bert.TOKENIZER),
}
# timm's folders say `architecture` (the variant) instead of a model_type
TIMM = Family(timm.read_timm_folder, "image-classification", "timm ViT, DeiT, Swin")

# model_types people will try whose reason for refusal is worth saying plainly
REFUSED_FAMILIES = {
    "bloom": "ALiBi position biases", "mpt": "ALiBi position biases",
    "falcon": "a parallel attention/MLP block (and ALiBi in some)",
    "mixtral": "mixture-of-experts layers", "qwen2_moe": "mixture-of-experts layers",
    "qwen3_moe": "mixture-of-experts layers", "deepseek_v2": "mixture-of-experts layers",
    "llava": "an image encoder (multimodal)", "qwen2_vl": "an image encoder (multimodal)",
    "mllama": "an image encoder (multimodal)", "roberta": "RoBERTa's offset positions",
    "gpt_neox": "parallel residuals and partial rotary", "gpt_neo": "local attention layers",
    "gemma": "scaled embeddings and its own norm", "gemma2": "logit soft-capping",
    "gemma3": "an image encoder (multimodal Gemma 3, 4B and larger; the text-only Gemma 3 "
              "folders, model_type gemma3_text, open)",
    "phi": "partial rotary and a parallel block", "opt": "OPT's offset positions",
    "distilbert": "different tensor names and no token types",
}


def register(model_type: str, family: Family) -> None:
    """Add (or replace) the reader of a model_type: folders of it open from now on, and it
    is in every list of the supported families."""
    FAMILIES[model_type] = family


def words(names: list[str]) -> str:
    """"a, b and c"."""
    return names[0] if len(names) == 1 else message("{names} and {last}",
                                                    names=", ".join(names[:-1]), last=names[-1])


def supported() -> str:
    """The model_types that open, as the refusal of another one says them."""
    return message("only {families} are, and timm folders", families=words(list(FAMILIES)))


def titles(task: str | None = None) -> str:
    """The families in words ("ViT, DeiT, …"), those of one task when `task` is given."""
    return ", ".join(f.title for f in FAMILIES.values() if task in (None, f.task))


def family_of(config: dict) -> tuple[str, Family]:
    """(the family's name, its entry) for a folder's config.json; CheckpointError for a
    model_type no reader opens."""
    if "architecture" in config:
        return "timm", TIMM
    model_type = config.get("model_type")
    if model_type in FAMILIES:
        return model_type, FAMILIES[model_type]
    known = supported()
    if model_type in REFUSED_FAMILIES:
        known = message("{feature} is not supported; {known}",
                        feature=REFUSED_FAMILIES[model_type], known=known)
    raise CheckpointError("model_type {model_type} cannot be opened ({known})",
                          model_type=json.dumps(model_type), known=known)


def read_model(path: str | Path, arch: str | None = None) -> HubModel:
    """A model folder, or a bare timm file (its variant in `arch` or its name)."""
    if Path(path).is_dir():
        return read_folder(path)
    opened = timm.read_timm_file(path, arch)
    opened.task = TIMM.task
    return opened


def read_folder(path: str | Path) -> HubModel:
    folder = Path(path)
    if not is_model_folder(folder):
        raise CheckpointError("{folder} is not a model folder: it has no config.json",
                              folder=folder)
    config = folder_json(folder, "config.json")
    try:
        _, family = family_of(config)
    except CheckpointError as error:
        raise CheckpointError("{folder}: {error}", folder=folder.name, error=error) from None
    opened = family.read(folder, config)
    opened.task = family.task
    return opened


def text_tokenizer(folder: Path, model_type: str, vocab_size: int) -> TextTokenizer:
    """The tokenizer of a language-model folder of `model_type`."""
    return read_tokenizer(folder, vocab_size, FAMILIES[model_type].tokenizer or PLAIN)
