"""What differs per prediction form: each module turns a user's input into a Trace.

A model class names its form (`form`, models/protocol.py); `RUNS[form]` is the function
`run(session, user_input, trace) -> Trace` that the Session calls:

    seq2seq  translate, reverse, an opened Marian model: greedy decoding, then one
             teacher-forced pass (models/runs/seq2seq.py)
    lm       an opened or shipped language model's next or masked tokens (lm.py)
    image    a picture classified (image.py)
"""
from __future__ import annotations

from . import image, lm, seq2seq

RUNS = {"seq2seq": seq2seq.run, "lm": lm.run, "image": image.run}
