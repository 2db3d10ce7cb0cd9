"""Word- or character-level vocabularies and tokenisation shared by the text tasks."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

SPECIALS = ["<pad>", "<bos>", "<eos>", "<unk>"]  # ids 0..3, as in models.transformer


@dataclass
class Vocab:
    words: list[str]  # specials first
    index: dict[str, int] = field(init=False)

    def __post_init__(self) -> None:
        self.index = {w: i for i, w in enumerate(self.words)}

    @classmethod
    def build(cls, words) -> Vocab:
        return cls(SPECIALS + sorted(set(words) - set(SPECIALS)))

    def __len__(self) -> int:
        return len(self.words)

    def encode(self, tokens: list[str]) -> list[int]:
        return [self.index.get(t, 3) for t in tokens]

    def decode(self, ids) -> list[str]:
        return [self.words[int(i)] for i in ids]


def split_words(text: str) -> list[str]:
    """Lower-case words, in any script (a word the model does not know is read as <unk>
    and said, never dropped: "the 猫 sleeps" has three words); punctuation is dropped."""
    return re.findall(r"(?:[^\W_]|')+", text.lower())


def split_chars(text: str) -> list[str]:
    return [c for c in text.lower() if not c.isspace()]
