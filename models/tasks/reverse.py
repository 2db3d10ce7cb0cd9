"""Character-level reversal: "explorer" -> "rerolpxe". Its cross-attention is an anti-diagonal."""
from __future__ import annotations

import random
import string

ALPHABET = string.ascii_lowercase + string.digits
MIN_CHARS, MAX_CHARS = 2, 16


def sample_pair(rng: random.Random) -> tuple[list[str], list[str]]:
    chars = [rng.choice(ALPHABET) for _ in range(rng.randint(MIN_CHARS, MAX_CHARS))]
    return chars, chars[::-1]


def make_split(seed: int, n_train: int, n_heldout: int):
    rng = random.Random(seed)
    seen: dict[str, tuple[list[str], list[str]]] = {}
    while len(seen) < n_train + n_heldout:
        src, tgt = sample_pair(rng)
        seen.setdefault("".join(src), (src, tgt))
    pairs = list(seen.values())
    return pairs[:n_train], pairs[n_train:]
