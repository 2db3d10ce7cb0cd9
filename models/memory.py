"""Memory that a finished run gives back to the system (glibc on Linux; elsewhere nothing).

A long input's trace is hundreds of arrays of 1–5 MB (q, k, v, outputs of each site), made
on the worker thread. glibc serves blocks that size from its heaps once its adaptive mmap
threshold has risen, and a heap keeps what is freed: at 1,024 tokens of a GPT-2-small-size
model the previous run's ~400 MB stayed in the process after its trace was dropped. With a
fixed 1 MB threshold every large block is its own mapping, returned the moment it is freed.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import sys

M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter
LARGE_BLOCK = 1 << 20


def return_large_blocks() -> bool:
    """Blocks of 1 MB and over: mapped on their own, unmapped when freed. True if set."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return bool(libc.mallopt(M_MMAP_THRESHOLD, LARGE_BLOCK))
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return False
