"""Running an opened language model: GPT-2 / Llama-family next-token prediction
("causal-lm") and BERT's masked-word prediction ("masked-lm").

The trace records the ids exactly as the model saw them (`input/ids`, special tokens
included) and `prediction/probs` [N, V]: for a causal model row i is the distribution of the
token after token i, for BERT row i is its guess for the word at i. With `generate` > 0 a
causal model's greedy continuation (untraced, one token at a time with a key/value cache, as
transformers' greedy `generate` does) is recorded as `prediction/ids`; the trace stays the
input's.

`session.progress`, when set, is told how far a run is: `progress("forward", layers done,
layers)` after each block of the input's forward pass, `progress("generate", tokens done,
tokens)` after each generated token. It may raise to stop the run there.
"""
from __future__ import annotations

from contextlib import contextmanager

import torch

from .. import chat as chats
from .. import trace as tracing
from ..errors import InputError, message
from ..trace import Trace

TOP_K = 5
MAX_GENERATE = 200  # the most tokens a continuation may have
BLOCK_VALUES = 1 << 23  # the most logits top_tokens computes at once (32 MB of float32)


def check_generate(steps: int) -> int:
    """A continuation's length, 0 to MAX_GENERATE tokens, else InputError: the one bound for
    the window's box, the API, sessions and `--generate`."""
    if type(steps) is not int or not 0 <= steps <= MAX_GENERATE:
        raise InputError("generate {extra} tokens? choose 0 to {most}", extra=steps,
                         most=MAX_GENERATE)
    return steps


def encode(session, text: str) -> tuple[list[int], list[bool]]:
    """(ids, special-token mask) of `text`; InputError when it is empty or too long."""
    ids, special, _ = encode_turn(session, text)
    return ids, special


def encode_turn(session, text: str) -> tuple[list[int], list[bool], list[int]]:
    """(ids, special-token mask, the chat template's tokens) of `text`: as typed, or with
    `session.chat` as one user message in the folder's chat template."""
    if not text.strip():
        raise InputError("the input is empty: type a sentence")
    if getattr(session, "chat", False):
        template, why = chats.template_of(session)
        if template is None:
            raise InputError("no chat turn: {why}", why=why)
        rendered, content = chats.render(template, text)
        ids, special, wrapped = chats.encode(session.tokenizer, rendered, content)
    else:
        (ids, special), wrapped = session.tokenizer.encode(text), []
    if not ids or all(special):
        raise InputError("the input is empty: type a sentence")
    limit = session.model.cfg.max_len
    extra = session.generate if session.preset.task_info.generates else 0
    check_generate(extra)
    if len(ids) + extra > limit:
        note = session.limit_note
        raise InputError("the input has {n} tokens" + (" plus {extra} to generate" if extra
                                                       else "") +
                         "; this model takes at most {limit}" + (" ({note})" if note else ""),
                         n=len(ids), extra=extra, limit=limit, note=note)
    return ids, special, wrapped


def probabilities(head: torch.nn.Module, hidden: torch.Tensor) -> torch.Tensor:
    """(N, V): row i is the distribution the output head gives position i."""
    with torch.inference_mode():
        device = next(head.parameters()).device  # (the session may have moved since)
        return head(hidden.to(device)).float().softmax(-1)


def top_tokens(head: torch.nn.Module, hidden: torch.Tensor, rows: int = 128):
    """Each position's TOP_K most likely tokens, a block of rows at a time: the (N, V)
    probabilities (~200 MB at 1,024 tokens of a 50,257-word vocabulary) never exist whole.
    A big vocabulary takes fewer rows at a time (a block's logits ≤ BLOCK_VALUES numbers):
    128 rows of Gemma 3's 262,144 logits, soft-capped then softmaxed, were ~0.5 GB of
    temporaries at the end of the run."""
    vocabulary = max(1, head(hidden[:0]).shape[-1])
    while rows > 8 and rows * vocabulary > BLOCK_VALUES:
        rows //= 2
    values, indices = [], []
    for block in hidden.split(rows):
        probs = head(block).float().softmax(-1)
        top = probs.topk(min(TOP_K, probs.shape[-1]), dim=-1)
        values.append(top.values)
        indices.append(top.indices)
    return torch.return_types.topk((torch.cat(values), torch.cat(indices)))


@contextmanager
def told_by_layer(model: torch.nn.Module, progress):
    """progress("forward", i, L) after each of the model's L blocks, for the block."""
    layers = list(getattr(model, "layers", None) or []) if progress is not None else []
    hooks = [layer.register_forward_hook(
        lambda *_, done=i + 1: progress("forward", done, len(layers)))
        for i, layer in enumerate(layers)]
    try:
        yield
    finally:
        for hook in hooks:
            hook.remove()


def run(session, text, trace: bool) -> Trace:
    """Run the language model on `text`; with trace=False only the prediction is kept."""
    text = str(text)
    ids, special, wrapped = encode_turn(session, text)
    tokenizer, model, task = session.tokenizer, session.model, session.preset.task_info
    x = torch.tensor([ids], device=session.device)
    result = Trace()
    progress = getattr(session, "progress", None)
    with tracing.recording(result) if trace else tracing.paused(), \
            told_by_layer(model, progress):
        hidden = model.hidden(x)[0]  # (N, D)
    head = model.output_head()
    top = top_tokens(head, hidden)
    result.add("input", "ids", x[0])
    result.add_derived("prediction", "probs", lambda: probabilities(head, hidden))
    tokens = tokenizer.tokens(ids)
    topk = [[[w, float(p)] for w, p in zip(tokenizer.tokens(i.tolist()), ps.tolist())]
            for ps, i in zip(top.values, top.indices)]
    meta = dict(input=text, tokens=tokens, special=[i for i, s in enumerate(special) if s],
                joiner=tokenizer.joiner,  # a word-level tokenizer's: " "
                topk=topk, notice="", continuation=[], unknown=[])
    if task.generates:  # the chat turn: whether it can be taken, and its template's tokens
        template, why = chats.template_of(session) if hasattr(tokenizer, "backend") \
            else (None, "a preset has no chat template")
        meta["chat"] = {"available": template is not None, "why": why,
                        "used": bool(getattr(session, "chat", False)),
                        "template_tokens": wrapped}
    cfg = session.model.cfg
    if getattr(cfg, "rope_scaling", None):  # how the rotary frequencies were rescaled
        meta["rope_scaling"] = {**cfg.rope_scaling, "rope_theta": float(cfg.rope_theta)}
    if task.generates:  # a causal model: the next token, and a continuation if asked
        continuation: list[int] = []
        if session.generate:
            told = None if progress is None else (
                lambda done, total: progress("generate", done, total))
            with tracing.paused():
                continuation = model.generate(x, session.generate, progress=told)[0].tolist()
            result.add("prediction", "ids", torch.tensor(continuation, dtype=torch.long))
        meta["continuation"] = tokenizer.tokens(continuation)
        meta["continuation_text"] = tokenizer.text(continuation)  # as the tokenizer decodes it
        # the answer as panels show it: the continuation, or the next token, readably
        meta["prediction"] = meta["joiner"].join(meta["continuation"]) or topk[-1][0][0]
        if session.generate and len(continuation) < session.generate:
            meta["notice"] = message("the continuation ended after {n} tokens: the model "
                                     "wrote its end token", n=len(continuation))
    else:
        mask_id = tokenizer.id_of(tokenizer.mask_token)
        masked = [i for i, t in enumerate(ids) if t == mask_id]
        meta["masked"] = masked
        # the sentence with each [MASK] replaced by its most likely word
        filled = [int(top.indices[i, 0]) if i in masked else t for i, t in enumerate(ids)
                  if i in masked or not special[i]]
        meta["prediction"] = tokenizer.text(filled) if masked else ""
        if not masked:
            meta["notice"] = message("no {mask} in the input: type one where a word should "
                                     "be guessed (every position's guesses are below)",
                                     mask=tokenizer.mask_token)
    result.meta.update(meta)
    return result
