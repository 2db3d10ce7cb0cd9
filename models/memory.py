"""Memory that a run gives back to the system (glibc on Linux; elsewhere nothing).

A long input's trace is hundreds of arrays of 1–5 MB (q, k, v, outputs of each site), and
its forward makes and frees many more. Kept in glibc's heaps, what a dropped trace and the
forward's temporaries freed stayed in the process (~250 MB after a 512-token run of a
GPT-2-small-size model). Two settings, measured on that model:
- blocks of 8 MB and over (a [N, vocabulary] logits block, an N × N per head) are mapped on
  their own and unmapped when freed; smaller ones are reused from the heap. At 1 MB, every
  temporary of the forward was a fresh mapping, and its page faults made the traced
  forward 20–30% slower at 1,024 tokens;
- before each run of a big model, `give_back_freed` returns the free pages inside the heaps
  (malloc_trim: ~30 ms), so that the run's peak does not stand on the last one's leftovers.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import functools
import sys

M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter
HEAP_BLOCKS_UNDER = 8 << 20


@functools.cache
def _glibc():
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None
    except OSError:  # not glibc (musl has no mallopt)
        return None


def return_large_blocks() -> bool:
    """Blocks of HEAP_BLOCKS_UNDER and over: mapped on their own, unmapped when freed;
    smaller ones reused from the heap (glibc; elsewhere nothing). True if set."""
    libc = _glibc()
    return bool(libc and libc.mallopt(M_MMAP_THRESHOLD, HEAP_BLOCKS_UNDER))


def give_back_freed() -> None:
    """The free pages inside glibc's heaps back to the system (malloc_trim: ~30 ms after a
    512-token GPT-2-small run, which left ~250 MB of them); elsewhere nothing."""
    libc = _glibc()
    if libc:
        libc.malloc_trim(0)
