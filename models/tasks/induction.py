"""In-context copying: random words in which a random segment comes back later.

The task that grows induction heads (Elhage et al. 2021, "A Mathematical Framework for
Transformer Circuits"; Olsson et al. 2022, "In-context Learning and Induction Heads"): the
first time a segment appears its words are random, so no model can do better than chance;
when it comes back, each word says which word came after it last time, and a model that
looks that up predicts the rest of the repeat.

A sequence (one `Example`), every choice uniform and drawn from one seeded
`random.Random`:
    n words, 8 ≤ n ≤ 31 (with <bos>, the model's 32 positions);
    a segment of s words, 2 ≤ s ≤ n // 2 (so at most 15);
    its first occurrence at word a, 0 ≤ a ≤ n - 2s; its repeat at word b, a + s ≤ b ≤ n - s;
    the other n - s words distinct, and distinct from the segment's, drawn without
    replacement from the 300 words of resources/data/induction_words.txt, so a word of the
    repeat has exactly one earlier occurrence and the answer is never ambiguous.
The model reads `<bos>` and then the words (ids: `vocabulary()`). Training sequences come
from TRAIN_SEED, the held-out ones from HELDOUT_SEED (another stream).
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from functools import lru_cache

from ..errors import InputError
from ..resources import resource_path
from .text import Vocab, split_words

WORDS_FILE = resource_path("data/induction_words.txt")
MIN_WORDS, MAX_WORDS = 8, 31
MIN_SEGMENT, MAX_SEGMENT = 2, 15
TRAIN_SEED, HELDOUT_SEED = 19, 1019
# what the app first shows: a stretch of six words, four others, the six again
SAMPLE = "happy dog run park green tree big bird sing rain happy dog run park green tree"
BOS = 1  # models.tasks.text.SPECIALS: <pad> <bos> <eos> <unk>
PAD = 0


@lru_cache(maxsize=1)
def words() -> tuple[str, ...]:
    """The vocabulary's words (without the special tokens), in the file's order."""
    lines = WORDS_FILE.read_text(encoding="utf-8").splitlines()
    return tuple(w.strip() for w in lines if w.strip() and not w.startswith("#"))


@lru_cache(maxsize=1)
def vocabulary() -> Vocab:
    """<pad> <bos> <eos> <unk>, then the words sorted."""
    return Vocab.build(words())


class WordTokenizer:
    """Words separated by spaces -> <bos> and one id per word, for the app's language-model
    path (the interface of models/checkpoints/tokenizer.py's TextTokenizer). A word outside the
    vocabulary is refused with where the list is: the model never saw `<unk>`."""

    mask_token = None
    joiner = " "  # how its tokens join into text (a byte-level BPE's: "")

    def __init__(self) -> None:
        self.vocab = vocabulary()

    def encode(self, text: str) -> tuple[list[int], list[bool]]:
        found = split_words(text)
        unknown = [w for w in dict.fromkeys(found) if w not in self.vocab.index]
        if unknown:
            listed = ", ".join(f"'{w}'" for w in unknown[:5]) + (" …" if len(unknown) > 5
                                                                 else "")
            raise InputError("not among this model's {count} words: {listed} (the list: "
                             "resources/data/{file})", count=len(words()), listed=listed,
                             file=WORDS_FILE.name)
        return [BOS] + self.vocab.encode(found), [True] + [False] * len(found)

    def tokens(self, ids) -> list[str]:
        return self.vocab.decode(ids)

    def text(self, ids) -> str:
        return " ".join(self.tokens(ids))

    def id_of(self, token: str) -> int | None:
        return self.vocab.index.get(token)


@dataclass(frozen=True)
class Example:
    words: tuple[str, ...]
    first: int  # where the segment first appears (word index, <bos> not counted)
    repeat: int  # where it comes back
    length: int  # the segment's number of words

    def ids(self) -> list[int]:
        """<bos> and the words: the model's input."""
        return [BOS] + vocabulary().encode(list(self.words))


def sample(rng: random.Random) -> Example:
    """One sequence of the distribution in the module's docstring."""
    n = rng.randint(MIN_WORDS, MAX_WORDS)
    s = rng.randint(MIN_SEGMENT, min(MAX_SEGMENT, n // 2))
    a = rng.randint(0, n - 2 * s)
    b = rng.randint(a + s, n - s)
    fresh = iter(rng.sample(words(), n - s))
    seq = [""] * n
    for i in range(n):
        if not b <= i < b + s:
            seq[i] = next(fresh)
    seq[b:b + s] = seq[a:a + s]
    return Example(tuple(seq), a, b, s)


def examples(seed: int, count: int) -> list[Example]:
    rng = random.Random(seed)
    return [sample(rng) for _ in range(count)]


def heldout(count: int = 1000) -> list[Example]:
    return examples(HELDOUT_SEED, count)


def stream(seed: int = TRAIN_SEED):
    """Endless training sequences."""
    rng = random.Random(seed)
    while True:
        yield sample(rng)

# The model (models/decoder.py): two layers of attention only, so all copying is in the
# heads. Measured (2,000 steps each, held-out): rotary positions with base 100 (turns of a
# few tokens, so "one token back" is easy to express) grew clean heads where learned
# positions, or RoPE's usual base 10,000, had not left the plateau or found blurred
# solutions; with 3 or 4 heads a layer, two layer-0 heads shared the previous-token job, so
# switching one off still left 28-68% of the repeat; with 2 there is one, and without it the
# repeat is near chance.
MODEL_CONFIG = dict(d_model=64, num_layers=2, num_heads=2, max_len=MAX_WORDS + 1,
                    position="rope", rope_theta=100.0, mlp="none", tie_embeddings=False,
                    bos_id=BOS)
