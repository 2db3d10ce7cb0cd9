"""Task: what differs from one task to another, in one place.

A preset or an opened model names its task ("translation", "causal-lm", …); everything that
depends on that name — the sample inputs, how typed text is split and an output joined,
what an empty input is told, whether the model generates — is read from its `Task` here,
so the window, `bench`, `soak` and the command line never branch on a task's name.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..resources import resource_path
from . import reverse, translation
from .text import Vocab, split_chars, split_words


@dataclass(frozen=True)
class Task:
    name: str
    prediction: str  # the prediction's form (trace meta "prediction_form"): sentence |
    # characters | digit (one of ten, all shown) | class | next-token | masked-token
    sample_file: str = ""  # resources/samples/<file>: sample inputs, one a line (text tasks)
    sample_folder: str = "digits"  # resources/samples/<folder>: sample pictures (image tasks)
    first: str = ""  # what an opened model first sees, where not its first sample
    by_word: bool = True  # text is typed (and an output joined) word by word, else by character
    empty_message: str = "the input is empty: type a sentence"
    generates: bool = False  # a causal language model: can continue its input greedily
    language_model: bool = False  # an opened language model: inputs measured in tokens
    vocabularies: Callable[[], tuple[Vocab, Vocab]] | None = None  # a seq2seq preset's
    reference: Callable | None = None  # words -> the task's own rule-based answer

    @property
    def joiner(self) -> str:
        """What goes between the output's words: a space, or nothing between characters."""
        return " " if self.by_word else ""

    def split(self, text: str) -> list[str]:
        """The tokens a seq2seq preset reads: lower-case words, or characters."""
        return split_words(text) if self.by_word else split_chars(text)

    def samples(self) -> list[str]:
        """The sample inputs of a text task (none for an image task)."""
        if not self.sample_file:
            return []
        text = resource_path("samples/" + self.sample_file).read_text(encoding="utf-8")
        return [line.strip() for line in text.splitlines() if line.strip()]

    @property
    def first_input(self) -> str:
        """What an opened model of this task first sees: its first sample, or a picture."""
        return self.first or self.samples()[0]

    def typing(self, line: str) -> list[str]:
        """`line` as a user types it: each word (or character) added in turn."""
        pieces = line.split() if self.by_word else list(line)
        return [self.joiner.join(pieces[: i + 1]) for i in range(len(pieces))]


def _translation_vocabs() -> tuple[Vocab, Vocab]:
    return Vocab.build(translation.source_words()), Vocab.build(translation.target_words())


def _character_vocabs() -> tuple[Vocab, Vocab]:
    chars = Vocab.build(reverse.ALPHABET)
    return chars, chars


TASKS: dict[str, Task] = {t.name: t for t in (
    Task("translation", "sentence", "sentences.txt", vocabularies=_translation_vocabs,
         reference=translation.reference_translation),
    Task("reverse", "characters", "reverse.txt", by_word=False,
         empty_message="the input is empty: type some characters",
         vocabularies=_character_vocabs),
    Task("digits", "digit"),
    Task("image-classification", "class", sample_folder="photos",
         first="resources/samples/photos/cat.jpg"),
    # plain English: any en-xx OPUS-MT model reads it
    Task("marian-translation", "sentence", "sentences.txt",
         first="The small cat sees the big dog."),
    Task("causal-lm", "next-token", "causal_lm.txt", generates=True, language_model=True),
    Task("masked-lm", "masked-token", "masked_lm.txt", language_model=True),
)}


def get_task(name: str) -> Task:
    return TASKS[name]
