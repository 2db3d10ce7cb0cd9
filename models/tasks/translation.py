"""A synthetic English -> "Toy French" language pair with gold word alignments, and its
rule-based reference translator.

Toy French borrows French words but has its own grammar, so that cross-attention must
reorder: the verb goes last (subject–object–verb) with an adverb just before it,
adjectives follow their noun, articles, adjectives and verbs agree with the noun's gender
and number (one English "the" -> le / la / les), "in front of" -> "devant" (many-to-one),
"does not V" -> "ne V pas" (one-to-many).

    the small cat sees the big dog              -> le chat petit le chien grand voit
    the girl does not sleep                     -> la fille ne dort pas
    the cats and the dog sleep                  -> les chats et le chien dorment
    the old man reads a book slowly and the girls sing
        -> le homme vieux un livre lentement lit et les filles chantent

One sentence is a tree (`Sentence`); `realize` lays out both languages and the alignment
from it, for the generator (random trees) and for the reference translator (trees parsed
from the user's words) alike, so the two cannot disagree about a rule.

Grammar (what the generator produces and the parser accepts, 1–24 words):
    sentence  := fragment | clause | clause "and" clause'
    fragment  := noun | noun-phrase                      (a title: "the old house")
    clause    := subjects verb-group [objects] [adverb]
    clause'   := a clause whose subject is one noun phrase (the first clause's object is
                 one noun phrase too): this keeps every sentence's reading unique
    subjects  := np | np "and" np                        (plural verb)
    np        := phrase [preposition phrase]
    phrase    := determiner adjective{0,2} noun           (a: singular; two, three: plural)
"""
from __future__ import annotations

import random
from dataclasses import dataclass

from ..errors import message

# English singular -> (English plural, Toy French singular, Toy French plural, gender)
NOUNS = {
    "cat": ("cats", "chat", "chats", "m"), "dog": ("dogs", "chien", "chiens", "m"),
    "bird": ("birds", "oiseau", "oiseaux", "m"), "horse": ("horses", "cheval", "chevaux", "m"),
    "boy": ("boys", "garcon", "garcons", "m"), "man": ("men", "homme", "hommes", "m"),
    "tree": ("trees", "arbre", "arbres", "m"), "book": ("books", "livre", "livres", "m"),
    "garden": ("gardens", "jardin", "jardins", "m"), "king": ("kings", "roi", "rois", "m"),
    "child": ("children", "enfant", "enfants", "m"),
    "teacher": ("teachers", "professeur", "professeurs", "m"),
    "boat": ("boats", "bateau", "bateaux", "m"), "cake": ("cakes", "gateau", "gateaux", "m"),
    "fox": ("foxes", "renard", "renards", "m"), "lion": ("lions", "lion", "lions", "m"),
    "duck": ("ducks", "canard", "canards", "m"),
    "girl": ("girls", "fille", "filles", "f"), "woman": ("women", "femme", "femmes", "f"),
    "mouse": ("mice", "souris", "souris", "f"), "cow": ("cows", "vache", "vaches", "f"),
    "house": ("houses", "maison", "maisons", "f"), "car": ("cars", "voiture", "voitures", "f"),
    "apple": ("apples", "pomme", "pommes", "f"), "table": ("tables", "table", "tables", "f"),
    "queen": ("queens", "reine", "reines", "f"), "river": ("rivers", "riviere", "rivieres", "f"),
    "flower": ("flowers", "fleur", "fleurs", "f"), "chair": ("chairs", "chaise", "chaises", "f"),
    "star": ("stars", "etoile", "etoiles", "f"), "moon": ("moons", "lune", "lunes", "f"),
    "ball": ("balls", "balle", "balles", "f"), "box": ("boxes", "boite", "boites", "f"),
    "road": ("roads", "route", "routes", "f"), "window": ("windows", "fenetre", "fenetres", "f"),
    "city": ("cities", "ville", "villes", "f"),
}
ADJECTIVES = {  # English -> (masculine, feminine, masculine plural, feminine plural)
    "small": ("petit", "petite", "petits", "petites"),
    "big": ("grand", "grande", "grands", "grandes"),
    "black": ("noir", "noire", "noirs", "noires"),
    "green": ("vert", "verte", "verts", "vertes"),
    "old": ("vieux", "vieille", "vieux", "vieilles"),
    "happy": ("content", "contente", "contents", "contentes"),
    "red": ("rouge", "rouge", "rouges", "rouges"),
    "young": ("jeune", "jeune", "jeunes", "jeunes"),
    "white": ("blanc", "blanche", "blancs", "blanches"),
    "lazy": ("paresseux", "paresseuse", "paresseux", "paresseuses"),
    "blue": ("bleu", "bleue", "bleus", "bleues"),
    "sad": ("triste", "triste", "tristes", "tristes"),
    "new": ("nouveau", "nouvelle", "nouveaux", "nouvelles"),
    "brown": ("brun", "brune", "bruns", "brunes"),
    "pretty": ("joli", "jolie", "jolis", "jolies"),
    "hungry": ("affame", "affamee", "affames", "affamees"),
}
# determiner -> Toy French (masculine, feminine, plural); None: that number is not allowed
DETERMINERS = {"the": ("le", "la", "les"), "a": ("un", "une", None),
               "two": (None, None, "deux"), "three": (None, None, "trois")}
VERBS = {  # third person singular -> (base form, Toy French singular, plural, transitive)
    "sees": ("see", "voit", "voient", True), "eats": ("eat", "mange", "mangent", True),
    "likes": ("like", "aime", "aiment", True), "follows": ("follow", "suit", "suivent", True),
    "finds": ("find", "trouve", "trouvent", True),
    "watches": ("watch", "regarde", "regardent", True),
    "pushes": ("push", "pousse", "poussent", True), "takes": ("take", "prend", "prennent", True),
    "reads": ("read", "lit", "lisent", True), "holds": ("hold", "tient", "tiennent", True),
    "helps": ("help", "aide", "aident", True), "carries": ("carry", "porte", "portent", True),
    "hears": ("hear", "entend", "entendent", True), "loves": ("love", "adore", "adorent", True),
    "sleeps": ("sleep", "dort", "dorment", False), "runs": ("run", "court", "courent", False),
    "sings": ("sing", "chante", "chantent", False), "jumps": ("jump", "saute", "sautent", False),
    "waits": ("wait", "attend", "attendent", False), "swims": ("swim", "nage", "nagent", False),
    "plays": ("play", "joue", "jouent", False), "falls": ("fall", "tombe", "tombent", False),
    "laughs": ("laugh", "rit", "rient", False),
}
TRANSITIVE = {v: e for v, e in VERBS.items() if e[3]}
INTRANSITIVE = {v: e for v, e in VERBS.items() if not e[3]}
PREPOSITIONS = {"in": "dans", "under": "sous", "with": "avec", "behind": "derriere",
                "in front of": "devant", "near": "pres", "on": "sur", "without": "sans"}
ADVERBS = {"quickly": "vite", "slowly": "lentement", "often": "souvent",
           "today": "aujourdhui", "again": "encore", "quietly": "doucement",
           "now": "maintenant", "always": "toujours"}

MIN_WORDS, MAX_WORDS = 1, 24
LENGTH_BUCKETS = ((1, 8), (9, 16), (17, 24))  # sentences are drawn evenly from these


# -- the tree of one sentence -------------------------------------------------------

@dataclass(frozen=True)
class Phrase:
    determiner: str  # "" only for a one-word fragment ("cats")
    adjectives: tuple[str, ...]
    noun: str  # the singular English noun (a key of NOUNS)
    plural: bool


@dataclass(frozen=True)
class NounPhrase:
    head: Phrase
    preposition: str | None = None
    object: Phrase | None = None


@dataclass(frozen=True)
class Clause:
    subjects: tuple[NounPhrase, ...]
    verb: str  # third person singular (a key of VERBS)
    negated: bool
    objects: tuple[NounPhrase, ...] = ()
    adverb: str | None = None

    @property
    def plural(self) -> bool:
        return len(self.subjects) > 1 or self.subjects[0].head.plural


@dataclass(frozen=True)
class Sentence:
    clauses: tuple[Clause, ...] = ()
    fragment: NounPhrase | None = None


@dataclass
class Pair:
    source: list[str]
    target: list[str]
    alignment: list[list[int]]  # for each target word, the source positions it translates


# -- laying a tree out in both languages ------------------------------------------------

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


def _phrase(b: _Builder, p: Phrase):
    """Emit the English phrase now; return a function that emits its Toy French later."""
    plural_en, fr, fr_plural, gender = NOUNS[p.noun]
    form = (2 if p.plural else 0) + (gender == "f")  # index into the adjective forms
    i_det = b.source(english_determiner(p)) if p.determiner else None
    i_adjs = [b.source(a) for a in p.adjectives]
    i_noun = b.source(plural_en if p.plural else p.noun)

    def emit() -> None:
        if i_det:
            forms = DETERMINERS[p.determiner]
            b.target(forms[2] if p.plural else forms[gender == "f"], i_det)
        b.target(fr_plural if p.plural else fr, i_noun)
        for adjective, i_adj in zip(p.adjectives, i_adjs):
            b.target(ADJECTIVES[adjective][form], i_adj)
    return emit


def english_determiner(p: Phrase) -> str:
    """"a" is written "an" before a vowel: "an old tree", "an apple"."""
    first = p.adjectives[0] if p.adjectives else p.noun
    return "an" if p.determiner == "a" and first[0] in "aeiou" else p.determiner


def _noun_phrase(b: _Builder, np: NounPhrase):
    emit_head = _phrase(b, np.head)
    if np.preposition is None:
        return emit_head
    i_prep = b.source(*np.preposition.split())
    emit_object = _phrase(b, np.object)

    def emit() -> None:
        emit_head()
        b.target(PREPOSITIONS[np.preposition], i_prep)
        emit_object()
    return emit


def _coordinated(b: _Builder, phrases: tuple[NounPhrase, ...]):
    emits, joints = [_noun_phrase(b, phrases[0])], []
    for np in phrases[1:]:
        joints.append(b.source("and"))
        emits.append(_noun_phrase(b, np))

    def emit() -> None:
        emits[0]()
        for joint, emit_next in zip(joints, emits[1:]):
            b.target("et", joint)
            emit_next()
    return emit


def _clause(b: _Builder, c: Clause) -> None:
    base, fr_singular, fr_plural, _ = VERBS[c.verb]
    emit_subjects = _coordinated(b, c.subjects)
    if c.negated:
        i_do, i_not = b.source("do" if c.plural else "does"), b.source("not")
        i_verb = b.source(base)
    else:
        i_verb = b.source(base if c.plural else c.verb)
    emit_objects = _coordinated(b, c.objects) if c.objects else None
    i_adverb = b.source(c.adverb) if c.adverb else None
    emit_subjects()
    if emit_objects:
        emit_objects()
    if i_adverb:
        b.target(ADVERBS[c.adverb], i_adverb)
    if c.negated:
        b.target("ne", i_do + i_not)
    b.target(fr_plural if c.plural else fr_singular, i_verb)
    if c.negated:
        b.target("pas", i_not)


def realize(sentence: Sentence) -> Pair:
    """Both languages and the gold alignment of one tree."""
    b = _Builder()
    if sentence.fragment is not None:
        _noun_phrase(b, sentence.fragment)()
    for k, clause in enumerate(sentence.clauses):
        if k:
            b.target("et", b.source("and"))
        _clause(b, clause)
    return Pair(b.src, b.tgt, b.align)


# -- random trees -------------------------------------------------------------------------

def _random_phrase(rng: random.Random, richness: float) -> Phrase:
    determiner = rng.choices(list(DETERMINERS), weights=(6, 2, 1, 1))[0]
    plural = determiner in ("two", "three") or (determiner == "the" and rng.random() < 0.4)
    count = rng.choices((0, 1, 2), weights=(1.2 - richness, 0.5, 0.2 + 0.6 * richness))[0]
    return Phrase(determiner, tuple(rng.sample(list(ADJECTIVES), count)),
                  rng.choice(list(NOUNS)), plural)


def _random_noun_phrase(rng: random.Random, richness: float) -> NounPhrase:
    head = _random_phrase(rng, richness)
    if rng.random() < 0.1 + 0.35 * richness:
        return NounPhrase(head, rng.choice(list(PREPOSITIONS)), _random_phrase(rng, richness))
    return NounPhrase(head)


def _random_phrases(rng: random.Random, richness: float, may_join: bool):
    count = 2 if may_join and rng.random() < 0.1 + 0.3 * richness else 1
    return tuple(_random_noun_phrase(rng, richness) for _ in range(count))


def _random_clause(rng: random.Random, richness: float, join_subjects: bool,
                   join_objects: bool) -> Clause:
    verb = rng.choice(list(VERBS))
    objects = _random_phrases(rng, richness, join_objects) if VERBS[verb][3] else ()
    return Clause(_random_phrases(rng, richness, join_subjects), verb,
                  negated=rng.random() < 0.25, objects=objects,
                  adverb=rng.choice(list(ADVERBS)) if rng.random() < 0.25 else None)


def sample_sentence(rng: random.Random) -> Sentence:
    """One random tree; `richness` (drawn per sentence) makes long sentences common enough."""
    richness = rng.random()
    if rng.random() < 0.06:
        if rng.random() < 0.35:  # one word: "cat", "cats"
            return Sentence(fragment=NounPhrase(Phrase("", (), rng.choice(list(NOUNS)),
                                                       rng.random() < 0.5)))
        return Sentence(fragment=_random_noun_phrase(rng, richness))
    if rng.random() < 0.1 + 0.6 * richness:
        return Sentence((_random_clause(rng, richness, True, False),
                         _random_clause(rng, richness, False, True)))
    return Sentence((_random_clause(rng, richness, True, True),))


def sample_pair(rng: random.Random, bucket: tuple[int, int] | None = None) -> Pair:
    """One random sentence pair of MIN_WORDS..MAX_WORDS English words (within `bucket`)."""
    low, high = bucket or (MIN_WORDS, MAX_WORDS)
    while True:
        pair = realize(sample_sentence(rng))
        if low <= len(pair.source) <= high:
            return pair


def sample_balanced(rng: random.Random) -> Pair:
    """A pair from a length bucket chosen evenly: long sentences are as common as short."""
    return sample_pair(rng, rng.choice(LENGTH_BUCKETS))


def heldout_pairs(seed: int, n: int) -> list[Pair]:
    """A fixed held-out set of n distinct sentences, even across the length buckets."""
    rng, seen = random.Random(seed), {}
    for _ in range(n * 50):
        pair = sample_pair(rng, LENGTH_BUCKETS[len(seen) % len(LENGTH_BUCKETS)])
        seen.setdefault(" ".join(pair.source), pair)
        if len(seen) == n:
            break
    return list(seen.values())


def training_stream(seed: int, excluded: set[str]):
    """Endless training pairs (balanced lengths) that never repeat a held-out sentence."""
    rng = random.Random(seed)
    while True:
        pair = sample_balanced(rng)
        if " ".join(pair.source) not in excluded:
            yield pair


def make_split(seed: int, n_train: int, n_heldout: int) -> tuple[list[Pair], list[Pair]]:
    """(training pairs, held-out pairs): disjoint sentences, both from `seed`."""
    held = heldout_pairs(seed, n_heldout)
    stream = training_stream(seed + 1, {" ".join(p.source) for p in held})
    return [next(stream) for _ in range(n_train)], held


# -- vocabularies ---------------------------------------------------------------------------

def source_words() -> list[str]:
    words = {"and", "an", "do", "does", "not"} | set(DETERMINERS) | set(ADJECTIVES) | set(ADVERBS)
    for singular, (plural, _, _, _) in NOUNS.items():
        words |= {singular, plural}
    for third, (base, _, _, _) in VERBS.items():
        words |= {third, base}
    for preposition in PREPOSITIONS:
        words |= set(preposition.split())
    return sorted(words)


def target_words() -> list[str]:
    words = {"et", "ne", "pas"} | set(PREPOSITIONS.values()) | set(ADVERBS.values())
    for _, fr, fr_plural, _ in NOUNS.values():
        words |= {fr, fr_plural}
    for forms in list(ADJECTIVES.values()) + list(DETERMINERS.values()):
        words |= {f for f in forms if f}
    for _, singular, plural, _ in VERBS.values():
        words |= {singular, plural}
    return sorted(words)


# -- the reference translator: parse the English, lay the tree out again ----------------------

_NOUN_FORMS = {}  # English word -> (singular key, plural?)
for _singular, (_plural, *_rest) in NOUNS.items():
    _NOUN_FORMS[_singular] = (_singular, False)
    _NOUN_FORMS[_plural] = (_singular, True)
_VERB_FORMS = {}  # English word -> [(third-person key, form)], form: third | base
for _third, (_base, *_rest) in VERBS.items():
    _VERB_FORMS.setdefault(_third, []).append((_third, "third"))
    _VERB_FORMS.setdefault(_base, []).append((_third, "base"))


class _Parser:
    """Every reading of a word list under the grammar above (backtracking; sentences are
    short). `furthest` is how far any reading got: where a failed sentence went wrong."""

    def __init__(self, words: list[str]) -> None:
        self.words = words
        self.furthest = 0
        self.hint: tuple[int, str] | None = None  # (position, what is wrong there)

    def _wrong(self, i: int, why: str) -> None:
        """A near miss at word i: the reason given if no reading gets further."""
        self.furthest = max(self.furthest, i)
        self.hint = (self.furthest, why)

    def _at(self, i: int, *choices: str) -> bool:
        ok = i < len(self.words) and self.words[i] in choices
        if ok:
            self.furthest = max(self.furthest, i + 1)
        return ok

    def phrase(self, i: int):
        if not self._at(i, *DETERMINERS, "an"):
            return
        determiner = "a" if self.words[i] == "an" else self.words[i]
        j, adjectives = i + 1, []
        while len(adjectives) < 2 and self._at(j, *ADJECTIVES):
            if self.words[j] in adjectives:
                return
            adjectives.append(self.words[j])
            j += 1
        if not self._at(j, *_NOUN_FORMS):
            return
        noun, plural = _NOUN_FORMS[self.words[j]]
        if DETERMINERS[determiner][2 if plural else 0] is None:
            self._wrong(j, message("'{determiner}' does not go with the plural '{noun}'"
                                   if plural else
                                   "'{determiner}' does not go with the singular '{noun}'",
                                   determiner=self.words[i], noun=self.words[j]))
            return
        phrase = Phrase(determiner, tuple(adjectives), noun, plural)
        if english_determiner(phrase) != self.words[i]:
            self._wrong(i, message("write '{determiner}' before '{word}'",
                                   determiner=english_determiner(phrase),
                                   word=self.words[i + 1]))
            return
        yield phrase, j + 1

    def noun_phrase(self, i: int):
        for head, j in self.phrase(i):
            yield NounPhrase(head), j
            for preposition in PREPOSITIONS:
                parts = preposition.split()
                if all(self._at(j + k, part) for k, part in enumerate(parts)):
                    for obj, end in self.phrase(j + len(parts)):
                        yield NounPhrase(head, preposition, obj), end

    def phrases(self, i: int, may_join: bool):
        for first, j in self.noun_phrase(i):
            yield (first,), j
            if may_join and self._at(j, "and"):
                for second, end in self.noun_phrase(j + 1):
                    yield (first, second), end

    def clause(self, i: int, join_subjects: bool, join_objects: bool):
        for subjects, j in self.phrases(i, join_subjects):
            plural = len(subjects) > 1 or subjects[0].head.plural
            negated = self._at(j, "do" if plural else "does") and self._at(j + 1, "not")
            if not negated and j < len(self.words) and self.words[j] in ("do", "does"):
                self._wrong(j, message("'{word}' does not agree with its plural subject"
                                       if plural else
                                       "'{word}' does not agree with its singular subject",
                                       word=self.words[j]))
            k = j + 2 if negated else j
            wanted = "base" if plural or negated else "third"
            word = self.words[k] if k < len(self.words) else ""
            verbs = [verb for verb, form in _VERB_FORMS.get(word, []) if form == wanted]
            if word in _VERB_FORMS and not verbs:
                self._wrong(k, message("after 'not' the verb is written '{verb}'",
                                       verb=VERBS.get(word, [word])[0]) if negated else
                            message("'{word}' does not agree with its plural subject"
                                    if plural else
                                    "'{word}' does not agree with its singular subject",
                                    word=word))
            if not verbs:
                continue
            self._at(k, word)
            for verb in verbs:
                if VERBS[verb][3]:
                    for objects, end in self.phrases(k + 1, join_objects):
                        yield from self._adverb(Clause(subjects, verb, negated, objects), end)
                else:
                    yield from self._adverb(Clause(subjects, verb, negated), k + 1)

    def _adverb(self, clause: Clause, i: int):
        yield clause, i
        if self._at(i, *ADVERBS):
            yield Clause(clause.subjects, clause.verb, clause.negated, clause.objects,
                         self.words[i]), i + 1

    def sentences(self):
        n = len(self.words)
        if n == 1 and self._at(0, *_NOUN_FORMS):
            noun, plural = _NOUN_FORMS[self.words[0]]
            yield Sentence(fragment=NounPhrase(Phrase("", (), noun, plural)))
        for np, end in self.noun_phrase(0):
            if end == n:
                yield Sentence(fragment=np)
        for clause, end in self.clause(0, True, True):
            if end == n:
                yield Sentence((clause,))
        for first, j in self.clause(0, True, False):
            if self._at(j, "and"):
                for second, end in self.clause(j + 1, False, True):
                    if end == n:
                        yield Sentence((first, second))


@dataclass
class Reference:
    """The rule-based translation of a sentence, or why there is none."""
    translation: list[str] | None
    alignment: list[list[int]] | None
    outside: str | None  # None when the sentence is inside the grammar


def reference_translation(words: list[str]) -> Reference:
    """Translate by the grammar's own rules; outside the grammar, say why in a few words."""
    if not words:
        return Reference(None, None, message("empty"))
    known = set(source_words())
    unknown = [w for w in words if w not in known]
    if unknown:
        listed = ", ".join(f"'{w}'" for w in dict.fromkeys(unknown))
        return Reference(None, None, message("unknown words: {listed}" if len(unknown) > 1
                                             else "unknown word: {listed}", listed=listed))
    if len(words) > MAX_WORDS:
        return Reference(None, None, message(
            "{n} words: longer than any training sentence ({most})", n=len(words),
            most=MAX_WORDS))
    parser = _Parser(words)
    readings = {tuple(realize(s).target): realize(s) for s in parser.sentences()}
    if len(readings) == 1:
        pair = next(iter(readings.values()))
        return Reference(pair.target, pair.alignment, None)
    if readings:
        return Reference(None, None,
                         message("ambiguous: the grammar reads it in more than one way"))
    at = parser.furthest
    if parser.hint and parser.hint[0] == at:
        return Reference(None, None, message("not a sentence of the grammar: {why}",
                                             why=parser.hint[1]))
    if at >= len(words):
        return Reference(None, None, message(
            "not a sentence of the grammar: it stops too early after '{word}'", word=words[-1]))
    # where it goes wrong, in words a student can act on: what may not follow what
    if at == 0:
        return Reference(None, None, message(
            "not a sentence of the grammar: a sentence cannot start with '{word}'",
            word=words[0]))
    return Reference(None, None, message(
        "not a sentence of the grammar: '{word}' cannot follow '{previous}' (word {n})",
        word=words[at], previous=words[at - 1], n=at + 1))
