"""Running a sequence-to-sequence model: translate, reverse, an opened Marian (OPUS-MT) model.

The output is decoded greedily (untraced), then one teacher-forced pass over [BOS] + output
is traced: row t of every decoder matrix is the decoder as it was when it chose output[t].
The meta says what a reader needs beside it: the tokens of each side, each step's top five,
the grammar's own reference translation (a preset whose task has one), and notices (no
causal mask, an output cut at its limit, the bottleneck, characters the splitter dropped).
"""
from __future__ import annotations

import dataclasses
import re

import torch

from .. import trace as tracing
from ..errors import InputError, message
from ..trace import Trace

IGNORED_QUIETLY = "'.,!?;:-\"()"  # punctuation the word splitter drops as a reader would


def output_limit(source_length: int) -> int:
    """The most tokens a translation may have: twice the source (with its end token), plus
    ten."""
    return 2 * source_length + 10


def encode_text(session, text: str) -> tuple[list[str], list[str]]:
    """(tokens, unknown words); InputError when empty or too long."""
    if session.tokenizer is not None:
        tokens, unknown = session.tokenizer.pieces(text)
    else:
        tokens = session.task.split(text)
    if not tokens:
        raise InputError(session.task.empty_message)
    limit = session.model.cfg.max_len - 1
    if len(tokens) > limit:
        raise InputError("the input has {n} tokens; this model takes at most {limit}",
                         n=len(tokens), limit=limit)
    if session.tokenizer is None:
        unknown = [t for t in tokens if t not in session.src_vocab.index]
    return tokens, unknown


def words(session, ids: list[int]) -> list[str]:
    """Target ids as words (a preset's vocabulary) or pieces (an opened model's tokenizer)."""
    if session.tokenizer:
        return session.tokenizer.decode_pieces(ids)
    return session.tgt_vocab.decode(ids)


def prediction_text(session, output: list[int], out_words: list[str]) -> str:
    """The output as text: an opened model's tokenizer decodes its ids; a preset's words
    are joined (without the end token)."""
    if session.tokenizer:
        return session.tokenizer.text(output)
    return session.task.joiner.join(w for w in out_words if w != "<eos>")


def plain(session) -> bool:
    """Whether the model runs without an intervention that mixes positions (no causal
    mask, a head's mean over every position, the bottleneck's mean over the source): then
    inputs may share a padded batch, each row's numbers its own."""
    model = session.model
    return model.decoder.use_mask and not model.bottleneck and not any(
        getattr(m, "head_mean", None) is not None for m in model.modules())


def source(session, text: str) -> tuple[torch.Tensor, list[str], list[str]]:
    """(source ids (1, S) with the end token, on the session's device; tokens; unknown
    words): the encoder's input for `text` (a run, activation patching)."""
    tokens, unknown = encode_text(session, text)
    ids = session.tokenizer.ids(tokens) if session.tokenizer else session.src_vocab.encode(tokens)
    return torch.tensor([ids + [session.model.cfg.eos_id]], device=session.device), tokens, \
        unknown


def run(session, user_input, trace: bool) -> Trace:
    """Translate (or reverse) the text; with trace=False only the prediction is kept."""
    text = str(user_input)
    src, tokens, unknown = source(session, text)
    cfg = session.model.cfg
    result = Trace()
    with tracing.recording(result) if trace else tracing.paused():
        encoded = session.model.encode(src)  # once, recorded, for decoding and the trace
        # At most 2 × the source + 10 tokens: every preset's outputs fit with room to spare,
        # and a model that never ends (an untrained one, a real one on odd input) costs a
        # short trace, not the 512 positions of an OPUS-MT model (~400 MB of records).
        limit = min(cfg.max_len - 1, output_limit(src.shape[1]))
        with tracing.paused():
            # the last output seeds parallel decoding: typing changes it only a little
            output = session.model.greedy(src, max_new=limit, guess=session.last_output,
                                          encoded=encoded)[0].tolist()
        session.last_output = output
        if cfg.eos_id in output:
            output = output[: output.index(cfg.eos_id) + 1]
        # One teacher-forced pass over [BOS] + output: because of the causal mask, row t
        # of every decoder matrix is exactly the decoder as it was when it chose output[t].
        decoder_in = torch.tensor([[cfg.bos_id] + output[:-1]], device=session.device)
        logits = session.model.decode(decoder_in, *encoded)[0]  # (T, V)
    probs = logits.float().softmax(-1)
    top = probs.topk(min(5, probs.shape[-1]), dim=-1)
    out_words = words(session, output)
    notice = ""
    if not session.model.decoder.use_mask:
        # Without the causal mask, row t of the teacher-forced pass also sees the words
        # after t, so its choice is no longer the greedy one: show each row's own choice.
        out_words = words(session, probs.argmax(-1).tolist())
        notice = message("no causal mask: each decoder row also sees the words after it, so "
                         "it may copy the next word; decoding word by word is unchanged")
    elif any(getattr(m, "head_mean", None) is not None
             for m in session.model.decoder.modules()):
        # a head's mean over every output position: row t reads the words after t too
        out_words = words(session, probs.argmax(-1).tolist())
        notice = message("a decoder head is replaced by its mean over every output position, "
                         "so each row also reads the words after it; the output was decoded "
                         "word by word")
    if not notice and cfg.eos_id not in output and len(output) >= limit:
        notice = message("the output was cut after {limit} tokens (twice the input's, plus "
                         "10): the model had not ended it", limit=limit)
    if session.model.bottleneck:
        notice = message("seq2seq bottleneck: every decoding step sees one context vector "
                         "(the mean of the encoder states), so cross-attention is uniform")
    result.add("prediction", "probs", probs)  # (T, V): every decoding step
    # the ids exactly as the model saw and chose them, to check against another library
    result.add("input", "ids", src[0])  # source ids, end token included
    result.add("input", "decoder_ids", decoder_in[0])  # start token + output[:-1]
    result.add("prediction", "ids", torch.tensor(output))  # greedy output, to the end token
    prediction = prediction_text(session, output, out_words)
    if session.task.by_word and session.tokenizer is None:
        # what the word splitter dropped (emoji, other scripts) is said, not lost silently
        ignored = "".join(dict.fromkeys(
            c for c in text if not c.isspace() and not (c.isascii() and (
                c.isalnum() or c in IGNORED_QUIETLY))))
        if ignored:
            notice = " · ".join(n for n in (notice, message(
                "ignored: {characters} (this model reads words of letters and digits)",
                characters=ignored)) if n)
    if session.task.reference is not None:
        # the grammar's own rule-based translation, or why the sentence is outside it
        reference = session.task.reference(tokens)
        # its words as the user spelled them ('I', not the model's 'i')
        typed = {w.lower(): w for w in re.findall(r"[A-Za-z0-9']+", text)}
        if reference.outside:
            for word, spelled in typed.items():
                if spelled != word:
                    reference = dataclasses.replace(reference, outside=reference.outside
                                                    .replace(f"'{word}'", f"'{spelled}'"))
        unknown = [typed.get(w, w) for w in unknown]
        result.meta.update(
            reference=" ".join(reference.translation) if reference.translation else None,
            reference_tokens=reference.translation, outside=reference.outside,
            matches_reference=(None if reference.translation is None else
                               prediction.split() == reference.translation))
    result.meta.update(
        input=text,
        source_tokens=tokens + [words(session, [cfg.eos_id])[0]],
        target_tokens=words(session, decoder_in[0].tolist()),
        output_tokens=out_words,
        unknown=unknown,
        notice=notice,
        prediction=prediction,
        top5=[[[w, float(p)] for p, w in zip(ps.tolist(), words(session, ids.tolist()))]
              for ps, ids in zip(top.values, top.indices)],
    )
    return result
