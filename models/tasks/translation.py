"""A synthetic English -> "Toy French" language pair with gold word alignments.

Toy French borrows French words but has its own grammar, so that cross-attention
must reorder: the verb goes last (subject–object–verb), adjectives follow their noun,
articles and adjectives agree with the noun's gender (one English "the" -> le / la),
"in front of" -> "devant" (many-to-one), "does not V" -> "ne V pas" (one-to-many).

    the small cat sees the big dog        -> le chat petit le chien grand voit
    the girl does not sleep               -> la fille ne dort pas
"""
from __future__ import annotations

import random
from dataclasses import dataclass

# English noun -> (Toy French noun, gender)
NOUNS = {
    "cat": ("chat", "m"), "dog": ("chien", "m"), "bird": ("oiseau", "m"),
    "horse": ("cheval", "m"), "boy": ("garcon", "m"), "man": ("homme", "m"),
    "tree": ("arbre", "m"), "book": ("livre", "m"), "garden": ("jardin", "m"),
    "king": ("roi", "m"), "girl": ("fille", "f"), "woman": ("femme", "f"),
    "mouse": ("souris", "f"), "cow": ("vache", "f"), "house": ("maison", "f"),
    "car": ("voiture", "f"), "apple": ("pomme", "f"), "table": ("table", "f"),
    "queen": ("reine", "f"), "river": ("riviere", "f"),
}
ADJECTIVES = {  # English -> (masculine, feminine)
    "small": ("petit", "petite"), "big": ("grand", "grande"), "black": ("noir", "noire"),
    "green": ("vert", "verte"), "old": ("vieux", "vieille"), "happy": ("content", "contente"),
    "red": ("rouge", "rouge"), "young": ("jeune", "jeune"), "white": ("blanc", "blanche"),
    "lazy": ("paresseux", "paresseuse"),
}
ARTICLES = {"the": ("le", "la"), "a": ("un", "une")}
TRANSITIVE = {  # third person, base form, Toy French
    "sees": ("see", "voit"), "eats": ("eat", "mange"), "likes": ("like", "aime"),
    "follows": ("follow", "suit"), "finds": ("find", "trouve"), "watches": ("watch", "regarde"),
    "pushes": ("push", "pousse"), "takes": ("take", "prend"),
}
INTRANSITIVE = {
    "sleeps": ("sleep", "dort"), "runs": ("run", "court"), "sings": ("sing", "chante"),
    "jumps": ("jump", "saute"), "waits": ("wait", "attend"),
}
PREPOSITIONS = {"in": "dans", "under": "sous", "with": "avec", "behind": "derriere",
                "in front of": "devant"}

MIN_WORDS, MAX_WORDS = 3, 12


@dataclass
class Pair:
    source: list[str]
    target: list[str]
    alignment: list[list[int]]  # for each target word, the source positions it translates


def source_words() -> list[str]:
    words = set(NOUNS) | set(ADJECTIVES) | set(ARTICLES) | {"does", "not"}
    for verbs in (TRANSITIVE, INTRANSITIVE):
        for third, (base, _) in verbs.items():
            words |= {third, base}
    for prep in PREPOSITIONS:
        words |= set(prep.split())
    return sorted(words)


def target_words() -> list[str]:
    words = {fr for fr, _ in NOUNS.values()} | {"ne", "pas"} | set(PREPOSITIONS.values())
    for forms in list(ADJECTIVES.values()) + list(ARTICLES.values()):
        words |= set(forms)
    words |= {fr for _, fr in TRANSITIVE.values()} | {fr for _, fr in INTRANSITIVE.values()}
    return sorted(words)


class _Builder:
    """Appends aligned words to both sides."""

    def __init__(self) -> None:
        self.src: list[str] = []
        self.tgt: list[str] = []
        self.align: list[list[int]] = []

    def source(self, *words: str) -> list[int]:
        start = len(self.src)
        self.src.extend(words)
        return list(range(start, len(self.src)))

    def target(self, word: str, aligned: list[int]) -> None:
        self.tgt.append(word)
        self.align.append(aligned)


def _noun_phrase(rng: random.Random, b: _Builder, p_adj: float, p_pp: float):
    """Emit the English NP now; return a function that emits its Toy French later."""
    article = rng.choice(list(ARTICLES))
    adjective = rng.choice(list(ADJECTIVES)) if rng.random() < p_adj else None
    noun = rng.choice(list(NOUNS))
    fr_noun, gender = NOUNS[noun]
    g = 0 if gender == "m" else 1
    i_art = b.source(article)
    i_adj = b.source(adjective) if adjective else None
    i_noun = b.source(noun)
    inner = None
    if p_pp and rng.random() < p_pp:
        prep = rng.choice(list(PREPOSITIONS))
        i_prep = b.source(*prep.split())
        emit_inner = _noun_phrase(rng, b, p_adj, 0.0)
        inner = (prep, i_prep, emit_inner)

    def emit() -> None:
        b.target(ARTICLES[article][g], i_art)
        b.target(fr_noun, i_noun)
        if adjective:
            b.target(ADJECTIVES[adjective][g], i_adj)
        if inner:
            prep, i_prep, emit_inner = inner
            b.target(PREPOSITIONS[prep], i_prep)
            emit_inner()

    return emit


def sample_pair(rng: random.Random) -> Pair:
    """One random sentence pair of MIN_WORDS..MAX_WORDS English words."""
    while True:
        b = _Builder()
        subject = _noun_phrase(rng, b, p_adj=0.45, p_pp=0.25)
        negate = rng.random() < 0.25
        transitive = rng.random() < 0.65
        verbs = TRANSITIVE if transitive else INTRANSITIVE
        third = rng.choice(list(verbs))
        base, fr_verb = verbs[third]
        if negate:
            i_does, i_not = b.source("does")[0], b.source("not")[0]
            i_verb = b.source(base)
        else:
            i_verb = b.source(third)
        obj = _noun_phrase(rng, b, p_adj=0.45, p_pp=0.2) if transitive else None
        if not MIN_WORDS <= len(b.src) <= MAX_WORDS:
            continue
        subject()
        if obj:
            obj()
        if negate:
            b.target("ne", [i_does, i_not])
        b.target(fr_verb, i_verb)
        if negate:
            b.target("pas", [i_not])
        return Pair(b.src, b.tgt, b.align)


def make_split(seed: int, n_train: int, n_heldout: int) -> tuple[list[Pair], list[Pair]]:
    """Distinct training pairs and held-out pairs whose sentences never occur in training."""
    rng = random.Random(seed)
    seen: dict[str, Pair] = {}
    while len(seen) < n_train + n_heldout:
        pair = sample_pair(rng)
        seen.setdefault(" ".join(pair.source), pair)
    pairs = list(seen.values())
    return pairs[:n_train], pairs[n_train:]
