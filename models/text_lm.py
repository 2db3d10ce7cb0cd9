"""Moved: models/runs/lm.py runs an opened language model. Its helpers stay importable from
here for the modules that import them by this name."""
from .runs.lm import MAX_GENERATE, TOP_K, encode, probabilities, run, top_tokens

__all__ = ["MAX_GENERATE", "TOP_K", "encode", "probabilities", "run", "top_tokens"]
