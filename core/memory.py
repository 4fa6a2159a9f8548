"""Giving memory back to the operating system after a crowd arrives.

A thousand members arriving at a room make a thousand `hello` frames (the room's whole
presence and latest messages, tens of KB each), built on several threads and freed a moment
later. glibc's allocator keeps what was freed for reuse, in one arena per thread, so the web
process kept that peak as resident memory for good: the room socket bench measured most of
a process's growth per idle socket there, not in live objects. `malloc_trim` hands the free
pages back. Elsewhere (another C library) it does nothing.
"""

import ctypes
import logging
import time
from typing import Any

logger = logging.getLogger(__name__)

_trim: Any
try:
    # The C library the process already has loaded (no `ldconfig` subprocess to find it).
    _trim = ctypes.CDLL(None).malloc_trim
    _trim.argtypes = [ctypes.c_size_t]
    _trim.restype = ctypes.c_int
except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to do
    _trim = None


def release_free_memory() -> bool:
    """Return the allocator's free pages to the system; True if it could try. It takes the
    allocator's locks for a few milliseconds: call it off the event loop."""
    if _trim is None:
        return False
    started = time.monotonic()
    _trim(0)
    logger.info("Gave free memory back in %.1f ms", (time.monotonic() - started) * 1000)
    return True
