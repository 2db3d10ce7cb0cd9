"""What every checkpoint reader shares: bounded config values, a model folder's JSON and
weights files, the checks a state dict must pass before it is loaded, `HubModel` (what a
reader hands back) and `rename`, which maps a file's tensor names onto ours through a
declarative table (`Renames`, rows of `Rule`)."""
from __future__ import annotations

import dataclasses
import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..errors import CheckpointError
from .ours import read_checkpoint

WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
SHARD_INDEX = "model.safetensors.index.json"  # a model saved in shards: which file holds what

LARGEST_DIMENSION = 100_000  # no config number of a model this app can show is larger
# ... except these: real vocabularies (Llama 3: 128,256; Qwen2: 151,936) and RoPE's base;
# and sizes that no weight's shape bounds (a sinusoid table, a Swin's grid): bounded on their
# own, so that a config cannot ask for gigabytes before the shapes are compared.
LARGEST_VALUE = {"vocab_size": 1_000_000, "rope_theta": 1e9, "img_size": 1024, "max_len": 8192}


@dataclass
class HubModel:
    """A model folder (or timm file) read: our architecture, config values and tensor names."""
    arch: str  # our architecture: "vit", "swin", "transformer", "decoder" or "encoder"
    family: str  # the folder's model_type ("timm" for timm's)
    config: dict  # our config dataclass's values
    tensors: dict[str, torch.Tensor]  # under our names
    labels: list[str]
    preprocessing: Any  # images.Preprocessing of a vision model, else None
    name: str
    tokenizer: Any = None  # marian.MarianTokenizer, tokenizer.TextTokenizer, or None
    task: str = ""  # the task the app runs it with: the registry's entry for the family
    limit_note: str = ""  # why the input is shorter than the positions (a sliding window)


# -- config values ---------------------------------------------------------------------------

def whole(value, key: str, name: str, low: int = 1, high: int = LARGEST_DIMENSION) -> int:
    """A whole-number config value, or a CheckpointError that names the key."""
    if type(value) is not int or not low <= value <= high:
        raise CheckpointError("{name}: '{key}' must be a whole number from {low} to {high:,}, "
                              "not {value}", name=name, key=key, low=low, high=high,
                              value=json.dumps(value)[:40])
    return value


def real(value, key: str, name: str, low: float, high: float) -> float:
    """A number config value in [low, high] (finite), or a CheckpointError naming the key."""
    if type(value) not in (int, float) or not low <= value <= high:
        raise CheckpointError("{name}: '{key}' must be a number from {low:g} to {high:g}, not "
                              "{value}", name=name, key=key, low=low, high=high,
                              value=json.dumps(value)[:40])
    return float(value)


def numbers(value, key: str, name: str, positive: bool = False) -> list[float]:
    """1 to 4 per-channel numbers (mean, std)."""
    if not isinstance(value, list) or not 1 <= len(value) <= 4:
        raise CheckpointError("{name}: '{key}' must be a list of 1 to 4 numbers, not {value}",
                              name=name, key=key, value=json.dumps(value)[:40])
    return [real(v, key, name, 1e-6 if positive else -1e3, 1e3) for v in value]


def make_config(cls: type, values: Any, source: str) -> Any:
    """The config dataclass `cls` from a checkpoint's JSON `config`, every value checked:
    unknown keys, wrong types, zero or negative sizes are a CheckpointError that says so."""
    name = cls.__name__
    if not isinstance(values, dict):
        raise CheckpointError("{source}: the config must be a JSON object, not {kind}",
                              source=source, kind=type(values).__name__)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise CheckpointError("{source}: unknown config key(s) for {name}: {unknown} (known: "
                              "{fields})", source=source, name=name,
                              unknown=', '.join(map(str, unknown)), fields=', '.join(fields))
    for key, value in values.items():
        kind = str(fields[key].type)
        if kind.endswith(" | None"):  # optional: None, or a value of the type
            if value is None:
                continue
            kind = kind[: -len(" | None")]
        largest = LARGEST_VALUE.get(key, LARGEST_DIMENSION)
        if kind == "int":  # sizes from 1; token ids (…_id) from 0
            ok = type(value) is int and int(not key.endswith("_id")) <= value <= largest
        elif kind == "float":
            ok = type(value) in (int, float) and 0 <= value <= largest and \
                (key != "dropout" or value < 1)
        elif kind == "bool":
            ok = type(value) is bool
        elif kind == "str":
            ok = isinstance(value, str)
        elif kind == "dict":
            ok = isinstance(value, dict)
        elif kind == "list[int]":
            ok = isinstance(value, list) and 0 < len(value) <= 64 and all(
                type(v) is int and 1 <= v <= LARGEST_DIMENSION for v in value)
        else:
            ok = True
        if not ok:
            want = {"int": f"a whole number from 1 to {largest:,}",
                    "float": "a number of at least 0" + (" and below 1" if key == "dropout"
                                                         else ""),
                    "list[int]": "a list of whole numbers of at least 1",
                    "bool": "true or false"}.get(kind, kind)
            raise CheckpointError("{source}: config '{key}' must be {want}, not {value}",
                                  source=source, key=key, want=want, value=json.dumps(value)[:40])
    try:
        return cls(**values)
    except TypeError as error:  # e.g. a required field left out
        raise CheckpointError("{source}: the config does not describe a {name} ({error})",
                              source=source, name=name, error=str(error)) from None


# -- a model folder's files ------------------------------------------------------------------

def is_model_folder(path: str | Path) -> bool:
    return Path(path).is_dir() and (Path(path) / "config.json").is_file()


def folder_json(folder: Path, file: str, required: bool = True) -> dict:
    """A JSON object from one of a model folder's files ({} for an optional file that is not
    there); CheckpointError when it is missing, not readable JSON or not an object."""
    path = folder / file
    if not required and not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text())
    except RecursionError:
        raise CheckpointError("{folder}/{file} is nested too deeply to be a configuration",
                              folder=folder.name, file=file) from None
    except (OSError, ValueError) as error:
        raise CheckpointError("{folder}/{file} is missing or not readable JSON ({error})",
                              folder=folder.name, file=file, error=str(error)) from None
    if not isinstance(data, dict):
        raise CheckpointError("{folder}/{file} is not a JSON object", folder=folder.name,
                              file=file)
    return data


def folder_weights(folder: Path) -> dict[str, torch.Tensor]:
    weights = next((folder / n for n in WEIGHT_FILES if (folder / n).is_file()), None)
    if weights is None and (folder / SHARD_INDEX).is_file():
        return sharded_weights(folder)
    if weights is None:
        raise CheckpointError("{folder} has no weights: expected {files} or {index} with its "
                              "shards", folder=folder.name, files=' or '.join(WEIGHT_FILES),
                              index=SHARD_INDEX)
    return read_checkpoint(weights)[0]


def shard_map(folder: Path) -> dict[str, list[str]]:
    """{shard file: the tensor names the index puts in it}, from model.safetensors.index.json,
    checked before any shard is read: a `weight_map` of names to plain file names of this
    folder, every shard there."""
    index = folder_json(folder, SHARD_INDEX)
    mapping = index.get("weight_map")
    if not isinstance(mapping, dict) or not mapping:
        raise CheckpointError("{folder}/{index} has no weight_map of tensor names to shard "
                              "files", folder=folder.name, index=SHARD_INDEX)
    shards: dict[str, list[str]] = {}
    for name, file in mapping.items():
        if not isinstance(file, str) or Path(file).name != file or \
                not file.endswith(".safetensors"):
            raise CheckpointError("{folder}/{index}: tensor '{name}' is mapped to {file}, "
                                  "not a .safetensors file of the folder", folder=folder.name,
                                  index=SHARD_INDEX, name=name, file=json.dumps(file)[:60])
        shards.setdefault(file, []).append(name)
    missing = sorted(f for f in shards if not (folder / f).is_file())
    if missing:
        if len(missing) > 1:
            raise CheckpointError("{folder}: shard {file} named in {index} is missing (and "
                                  "{more} more)", folder=folder.name, file=missing[0],
                                  index=SHARD_INDEX, more=len(missing) - 1)
        raise CheckpointError("{folder}: shard {file} named in {index} is missing",
                              folder=folder.name, file=missing[0], index=SHARD_INDEX)
    return shards


def sharded_weights(folder: Path) -> dict[str, torch.Tensor]:
    """Every tensor of a sharded folder, read one shard at a time into one dictionary (one
    copy of the model, never two): each shard must hold exactly the names the index gives
    it, and no name may come twice."""
    tensors: dict[str, torch.Tensor] = {}
    for file, names in shard_map(folder).items():
        part = read_checkpoint(folder / file)[0]
        twice = sorted(set(part) & set(tensors))
        if twice:
            raise CheckpointError("{folder}: tensor '{name}' is in more than one shard ({file} "
                                  "and another)", folder=folder.name, name=twice[0], file=file)
        if set(part) != set(names):
            unlisted = sorted(set(part) - set(names))
            absent = sorted(set(names) - set(part))
            if unlisted:
                raise CheckpointError("{folder}: shard {file} holds '{name}', which {index} "
                                      "does not map to it", folder=folder.name, file=file,
                                      name=unlisted[0], index=SHARD_INDEX)
            raise CheckpointError("{folder}: shard {file} lacks '{name}', which {index} maps "
                                  "to it", folder=folder.name, file=file, name=absent[0],
                                  index=SHARD_INDEX)
        tensors.update(part)
        del part
    return tensors


# -- state dicts -----------------------------------------------------------------------------

# a floating dtype's exponent bits, all set for inf and NaN only, read as the integer of its size
EXPONENT = {torch.float32: (torch.int32, 0x7F800000), torch.bfloat16: (torch.int16, 0x7F80),
            torch.float16: (torch.int16, 0x7C00),
            torch.float64: (torch.int64, 0x7FF0000000000000)}


def all_finite(tensor: torch.Tensor, block: int = 1 << 20) -> bool:
    """Every value finite, checked a million values at a time: isfinite's temporaries for a
    whole 50,257-word embedding at once were ~250 MB of the opening's peak. A value is inf or
    NaN exactly when its exponent bits are all set: read as integers, that test is ~30 times
    faster than isfinite on this CPU (bf16: 90 s of opening a 0.6B model, now ~3)."""
    flat = tensor.reshape(-1)
    if tensor.dtype in EXPONENT:
        kind, bits = EXPONENT[tensor.dtype]
        return not any(bool(((part.view(kind) & bits) == bits).any())
                       for part in flat.split(block))
    return all(bool(torch.isfinite(part).all()) for part in flat.split(block))


class Renamed(dict):
    """Tensors under our names (what `rename` returns), remembering each one's name in the
    file (`sources`), so that a tensor missing from the file is said by the file's name."""
    sources: dict[str, str]


def file_names(missing: list[str], tensors: dict) -> list[str]:
    """Our missing names as the file would have named them: from a tensor of the same name
    in another layer (its file name, with that layer's numbers put back), else our own."""
    sources = getattr(tensors, "sources", {})
    shapes: dict[str, tuple[str, str]] = {}  # our name with its numbers as # -> one example
    for ours, theirs in sources.items():
        shapes.setdefault(re.sub(r"\d+", "#", ours), (ours, theirs))
    said = []
    for name in missing:
        example = shapes.get(re.sub(r"\d+", "#", name))
        if example is not None:
            name = _renumbered(example[1], re.findall(r"\d+", example[0]),
                               re.findall(r"\d+", name)) or name
        if name not in said:
            said.append(name)
    return said


def _renumbered(theirs: str, old: list[str], new: list[str]) -> str | None:
    """`theirs` with the numbers `old` (found in it in this order) replaced by `new`; None
    where they are not all there."""
    found = list(re.finditer(r"\d+", theirs))
    out, at, i = [], 0, 0
    for value, replacement in zip(old, new):
        while i < len(found) and found[i].group() != value:
            i += 1
        if i == len(found):
            return None
        out += [theirs[at:found[i].start()], replacement]
        at, i = found[i].end(), i + 1
    return "".join(out) + theirs[at:]


def check_fit(model: nn.Module, tensors: dict[str, torch.Tensor], source: str = "") -> None:
    """Same names and shapes (a model on the meta device will do), finite values. Missing
    tensors are named as the file would name them, where `tensors` came from `rename`."""
    own = model.state_dict()
    missing = file_names(sorted(set(own) - set(tensors)), tensors)
    extra = sorted(set(tensors) - set(own))
    wrong = sorted(k for k in set(own) & set(tensors) if own[k].shape != tensors[k].shape)
    if missing or extra or wrong:
        parts = [f"{name}: {', '.join(keys[:4])}{' …' if len(keys) > 4 else ''}"
                 for name, keys in (("missing", missing), ("unexpected", extra),
                                    ("wrong shape", wrong)) if keys]
        raise CheckpointError("weights {source} do not fit the model ({parts})", source=source,
                              parts='; '.join(parts))
    broken = [k for k, v in tensors.items() if v.is_floating_point() and not all_finite(v)]
    if broken:
        raise CheckpointError("weights {source} hold NaN or infinite values in {count} "
                              "tensor(s): {broken}{more}", source=source, count=len(broken),
                              broken=', '.join(sorted(broken)[:4]),
                              more=' …' if len(broken) > 4 else '')


def load_weights(model: nn.Module, tensors: dict[str, torch.Tensor], source: str = "") -> None:
    """Strict load: same names and shapes, or a CheckpointError that lists the differences."""
    check_fit(model, tensors, source)
    model.load_state_dict(tensors)


# -- renaming: a file's tensor names onto ours, as tables --------------------------------------

@dataclass(frozen=True)
class Rule:
    """One row of a renaming table: a tensor whose whole name matches `pattern` becomes
    `to` (a name with \\1, \\2 … for the pattern's groups; several names: the same tensor
    under each, or its parts with `split`; None: not used, dropped).

    transpose: a 2-D weight stored [in, out] (GPT-2's Conv1D) is turned to [out, in].
    split: a config size (a key of `rename`'s `sizes`): the tensor is len(to) blocks of that
        many rows, one per name (GPT-2's c_attn holds q, k and v); or one such key per name,
        for blocks of different sizes (Phi-3's qkv_proj with fewer key/value heads).
    join: the values of the pattern's group named `part`, in order: the tensors that match
        with each value are concatenated along rows into the one name (q, k, v -> qkv).
    flatten: stored with extra axes ([1, n]): kept as a vector.
    add: (group, n) pairs: that group, a number, is n higher in our name (a stage's patch
        merging is our next stage's downsample)."""
    pattern: str
    to: str | tuple[str, ...] | None
    transpose: bool = False
    split: str | tuple[str, ...] = ""
    join: tuple[str, ...] = ()
    flatten: bool = False
    add: tuple[tuple[int, int], ...] = ()

    @property
    def targets(self) -> tuple[str, ...]:
        return () if self.to is None else (self.to,) if isinstance(self.to, str) else self.to


@dataclass(frozen=True)
class Renames:
    """A family's table. Before a name is matched, the first of `strip` it starts with is
    taken off (`transformer.`, `bert.`) and each (pattern, replacement) of `aliases` is
    substituted (older spellings of the same tensor); the first rule that matches decides.
    Where two rules give one name, the later rule's tensor is kept. A name no rule matches
    is refused: "unexpected tensor", with `unexpected` after it."""
    rules: tuple[Rule, ...]
    strip: tuple[str, ...] = ()
    aliases: tuple[tuple[str, str], ...] = ()
    unexpected: str = ""


@functools.lru_cache(maxsize=64)
def _compiled(table: Renames) -> tuple[list[re.Pattern], list[tuple[re.Pattern, str]]]:
    return ([re.compile(rule.pattern) for rule in table.rules],
            [(re.compile(p), r) for p, r in table.aliases])


def _expand(template: str, match: re.Match, add: tuple[tuple[int, int], ...]) -> str:
    groups = [match.group(0), *match.groups()]
    for group, n in add:
        groups[group] = str(int(groups[group]) + n)
    return re.sub(r"\\(\d+)", lambda g: groups[int(g.group(1))] or "", template)


def rename(tensors: dict[str, torch.Tensor], table: Renames, name: str,
           sizes: dict | None = None) -> dict[str, torch.Tensor]:
    """`tensors` under our names, as `table` says (CheckpointError for a name it does not
    know, a split of the wrong size or a join that lacks a part). The tensors are taken out
    of `tensors` as they are renamed: a file's copy goes as its transposed one comes."""
    patterns, aliases = _compiled(table)
    ours = Renamed()
    ours.sources = {}  # our name -> the file's (for saying what is missing)
    rank: dict[str, int] = {}  # our name -> the rule that gave it
    joins: dict[tuple[int, str], dict[str, tuple[str, torch.Tensor]]] = {}

    def put(target: str, value: torch.Tensor, index: int) -> None:
        if rank.get(target, -1) <= index:
            ours[target], rank[target] = value, index

    for key in list(tensors):
        value = tensors.pop(key)
        inner = next((key[len(p):] for p in table.strip if key.startswith(p)), key)
        for pattern, replacement in aliases:
            inner = pattern.sub(replacement, inner)
        found = next(((i, m) for i, p in enumerate(patterns) if (m := p.fullmatch(inner))),
                     None)
        if found is None:
            raise CheckpointError("{name}: unexpected tensor '{key}'{unexpected}", name=name,
                                  key=key, unexpected=table.unexpected)
        index, match = found
        rule = table.rules[index]
        targets = [_expand(t, match, rule.add) for t in rule.targets]
        if not targets:
            continue
        if rule.transpose and value.dim() == 2:
            value = value.t().contiguous()
        if rule.flatten:
            value = value.reshape(-1)
        if rule.join:
            joins.setdefault((index, targets[0]), {})[match.group("part")] = (key, value)
            continue
        parts = [value] * len(targets)
        if rule.split:
            keys = rule.split if isinstance(rule.split, tuple) else (rule.split,) * len(targets)
            widths = [(sizes or {})[k] for k in keys]
            if value.shape[0] != sum(widths):
                raise CheckpointError("{name}: '{key}' has shape {shape}, not {count} wide",
                                      name=name, key=key, shape=list(value.shape),
                                      count=sum(widths))
            parts = [part.contiguous() for part in value.split(widths, 0)]
        for target, part in zip(targets, parts):
            put(target, part, index)
            ours.sources[target] = key
    for (index, target), found_parts in joins.items():
        order = table.rules[index].join
        if any(p not in found_parts for p in order):
            key = next(found_parts[p][0] for p in order if p in found_parts)
            raise CheckpointError("{name}: '{key}' lacks its key or value projection", name=name,
                                  key=key)
        put(target, torch.cat([found_parts[p][1] for p in order], 0), index)
        ours.sources[target] = found_parts[order[0]][0]
    return ours


def tie(ours: dict, tied: bool, name: str, embed: str, head: str) -> dict:
    """A tied output layer is the embedding (transformers ties it whatever the file holds);
    an untied one must be in the file."""
    if embed not in ours:
        raise CheckpointError("{name}: the weights have no token embedding", name=name)
    if tied:
        ours[head] = ours[embed]
    elif head not in ours:
        raise CheckpointError("{name}: no {head} in the weights, and tie_word_embeddings is "
                              "false", name=name, head=head.replace('decoder.', ''))
    return ours
