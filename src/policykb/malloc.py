"""Keeping a long-running server's resident memory flat under glibc's allocator (issue 16: +4 MB per upload).

glibc gives each new thread its own malloc arena (up to eight per core). A server's worker threads, and the
thread that embeds while an upload is tagged, then leave freed memory spread over many arenas, where no later
allocation of another thread reuses it, and the resident size creeps up with every commit. Two arenas suffice
for the few threads a 2-core server runs, and after a commit the freed top of each heap is handed back.
Elsewhere (musl, macOS) both calls are skipped.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
from functools import cache
from typing import Any

log = logging.getLogger(__name__)

M_ARENA_MAX = -8  # mallopt parameter number in glibc's malloc.h
SERVER_ARENAS = 2


@cache
def _libc() -> Any:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None
    return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None


def limit_arenas(arenas: int = SERVER_ARENAS) -> bool:
    """Cap the number of malloc arenas for threads started from now on; True when glibc took it."""
    libc = _libc()
    return bool(libc is not None and libc.mallopt(M_ARENA_MAX, int(arenas)) == 1)


def release_freed() -> None:
    """Return freed heap pages to the system (after a commit has dropped the previous build's objects)."""
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)
