"""A text model folder's tokenizer, read by Hugging Face's `tokenizers` package exactly as
the folder describes it (tokenizer.json; else BERT's vocab.txt or GPT-2's vocab.json and
merges.txt), and its tokens as the panels show them."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import CheckpointError, InputError, message
from .common import folder_json


@dataclass(frozen=True)
class TokenizerStyle:
    """What a family's tokenizer files may be beyond tokenizer.json: `wordpiece`, a BERT
    vocab.txt; `mask`, the mask token it must have (a masked LM), when its files name none."""
    wordpiece: bool = False
    mask: str | None = None


PLAIN = TokenizerStyle()


def _bytes_to_unicode() -> dict[int, str]:
    """GPT-2's byte-level alphabet: every byte as a printable character (printable Latin-1
    bytes as themselves, the rest shifted past 255), from the GPT-2 paper's released encoder;
    the inverse turns a byte-level token back into its bytes for display."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + \
        list(range(ord("®"), ord("ÿ") + 1))
    chars, extra = {}, 0
    for b in range(256):
        if b in keep:
            chars[b] = chr(b)
        else:
            chars[b] = chr(256 + extra)
            extra += 1
    return chars


BYTE_OF = {c: b for b, c in _bytes_to_unicode().items()}
SHOWN = {" ": "␣", "\n": "↵", "\t": "⇥", "\r": "␍"}


def readable(token: str, byte_level: bool) -> str:
    """A token as panels show it: spaces as ␣ (GPT-2's Ġ, sentencepiece's ▁), a newline as ↵,
    a byte that is not a whole character as <0xNN>; `##` continuations and sentencepiece's
    byte tokens (<0x0A>) as they are."""
    if byte_level and token and all(c in BYTE_OF for c in token):
        raw = bytes(BYTE_OF[c] for c in token)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:  # part of a multi-byte character
            text = "".join(chr(b) if b < 128 else f"<0x{b:02X}>" for b in raw)
    else:
        text = token.replace("▁", " ")
    return "".join(SHOWN.get(c, c if c.isprintable() else f"<0x{ord(c):02X}>") for c in text)


class TextTokenizer:
    """A folder's tokenizer through the `tokenizers` package: normaliser, pre-tokeniser,
    model and post-processor exactly as the folder describes them."""

    joiner = ""  # how decoded pieces join: they carry their own spaces

    def __init__(self, backend, vocab_size: int, source: str, mask_token: str | None = None,
                 add_bos: int | None = None) -> None:
        self.backend, self.vocab_size, self.source = backend, vocab_size, source
        self.mask_token = mask_token
        self.add_bos = add_bos  # tokenizer_config's add_bos_token, when the template lacks it
        self.byte_level = '"ByteLevel"' in backend.to_str()

    def encode(self, text: str) -> tuple[list[int], list[bool]]:
        """(ids with the special tokens the post-processor adds, special-token mask);
        InputError for an id the model has no embedding for."""
        if self.mask_token and self.mask_token != "[MASK]":
            text = text.replace("[MASK]", self.mask_token)
        encoding = self.backend.encode(text)
        ids, special = list(encoding.ids), [bool(s) for s in encoding.special_tokens_mask]
        if self.add_bos is not None and (not ids or ids[0] != self.add_bos):
            ids, special = [self.add_bos] + ids, [True] + special
        bad = [i for i in ids if i >= self.vocab_size]
        if bad:
            raise InputError("the tokenizer gave id {id}, but the model has only {size} "
                             "embeddings", id=bad[0], size=self.vocab_size)
        return ids, special

    def tokens(self, ids) -> list[str]:
        return [readable(self.backend.id_to_token(int(i)) or f"<{int(i)}>", self.byte_level)
                for i in ids]

    def text(self, ids) -> str:
        return self.backend.decode([int(i) for i in ids], skip_special_tokens=False)

    def id_of(self, token: str) -> int | None:
        return self.backend.token_to_id(token)


SPECIAL_KEYS = ("bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token",
                "mask_token")


def _special_tokens(folder: Path) -> dict[str, str]:
    """The special tokens transformers would register (tokenizer_config.json, then
    special_tokens_map.json): name -> token text."""
    found: dict[str, str] = {}
    for file in ("special_tokens_map.json", "tokenizer_config.json"):
        data = folder_json(folder, file, required=False)
        for key in SPECIAL_KEYS:
            value = data.get(key)
            if isinstance(value, dict):
                value = value.get("content")
            if isinstance(value, str):
                found[key] = value
    return found


def read_tokenizer(folder: Path, vocab_size: int, style: TokenizerStyle = PLAIN) -> TextTokenizer:
    """tokenizer.json; else BERT's vocab.txt (with `style.wordpiece`) or GPT-2's
    vocab.json + merges.txt, built with the `tokenizers` package's own WordPiece and
    byte-level BPE."""
    try:
        from tokenizers import AddedToken, Tokenizer
        from tokenizers.implementations import BertWordPieceTokenizer, ByteLevelBPETokenizer
    except ImportError:
        raise CheckpointError("text models need the tokenizers package: pip install -e "
                              "'.[real]'") from None
    name = folder.name
    settings = folder_json(folder, "tokenizer_config.json", required=False)
    special = _special_tokens(folder)
    try:
        if (folder / "tokenizer.json").is_file():
            backend = Tokenizer.from_file(str(folder / "tokenizer.json"))
        elif style.wordpiece and (folder / "vocab.txt").is_file():
            backend = BertWordPieceTokenizer(
                str(folder / "vocab.txt"), lowercase=bool(settings.get("do_lower_case", True)),
                strip_accents=settings.get("strip_accents"),
                handle_chinese_chars=bool(settings.get("tokenize_chinese_chars", True)))
            backend = Tokenizer.from_str(backend._tokenizer.to_str())
        elif (folder / "vocab.json").is_file() and (folder / "merges.txt").is_file():
            backend = ByteLevelBPETokenizer(
                str(folder / "vocab.json"), str(folder / "merges.txt"),
                add_prefix_space=bool(settings.get("add_prefix_space", False)))
            backend = Tokenizer.from_str(backend._tokenizer.to_str())
        else:
            spm = message(" (only tokenizer.model: save the tokenizer with transformers to get "
                          "a tokenizer.json)") if (folder / "tokenizer.model").is_file() else ""
            raise CheckpointError("{name}: no tokenizer: tokenizer.json, vocab.txt (BERT) or "
                                  "vocab.json and merges.txt (GPT-2) expected{spm}", name=name,
                                  spm=spm)
    except CheckpointError:
        raise
    except Exception as error:  # the tokenizers package's own parse errors
        raise CheckpointError("{name}: its tokenizer cannot be read ({error})", name=name,
                              error=str(error)) from None
    # transformers registers its special tokens with the backend, so typed "[MASK]" or
    # "<|endoftext|>" becomes that token; the same here
    known = [t for t in special.values() if backend.token_to_id(t) is not None]
    if known:
        backend.add_special_tokens([AddedToken(t, special=True, normalized=False)
                                    for t in dict.fromkeys(known)])
    add_bos = None
    bos = special.get("bos_token")
    if settings.get("add_bos_token") and bos is not None and backend.token_to_id(bos) is not None:
        add_bos = backend.token_to_id(bos)  # only used when the post-processor lacks it
        probe = backend.encode("a").ids
        if probe and probe[0] == add_bos:
            add_bos = None
    mask = special.get("mask_token") or style.mask
    if style.mask and (mask is None or backend.token_to_id(mask) is None):
        raise CheckpointError("{name}: the tokenizer has no mask token ([MASK])", name=name)
    return TextTokenizer(backend, vocab_size, name, mask, add_bos)
